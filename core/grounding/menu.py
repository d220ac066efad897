"""The grounding menu, shared by /ground and the check-in's "Ground now".

A rating the member gave a moment ago (a check-in's urge) rides on the menu's buttons, so the
exercise they pick starts with it instead of asking again.
"""

from __future__ import annotations

from core.kernel.catalog import Catalog
from core.kernel.model import Choice, Reply
from core.kernel.turn import Turn

# Menu order of the exercises shipped. Each id has the flow `ground_<id>` and the messages
# ground.label.<id>, ground.about.<id>.
EXERCISES: tuple[str, ...] = ("senses", "paced", "box", "sigh", "sober", "surf", "orient", "cold")
COLD = "cold"
FLOW_PREFIX = "ground_"
CHOICE_PREFIX = "ground"


def flow_id(exercise: str) -> str:
    return f"{FLOW_PREFIX}{exercise}"


def exercises(cat: Catalog) -> tuple[str, ...]:
    """Every exercise content has: those above in their order, then any other `ground_<id>`
    flow by its id. A new exercise is its flow file and two texts (ground.label.<id>,
    ground.about.<id>, which the content check asks for): no code."""
    found = [f.removeprefix(FLOW_PREFIX) for f in cat.flows if f.startswith(FLOW_PREFIX)]
    return (*(e for e in EXERCISES if e in found), *sorted(set(found) - set(EXERCISES)))


def offered_in(cat: Catalog, cold_water: bool) -> tuple[str, ...]:
    """The exercises this bot offers: cold water only when the config turns it on."""
    return tuple(e for e in exercises(cat) if e != COLD or cold_water)


def offered(turn: Turn) -> tuple[str, ...]:
    return offered_in(turn.cat, turn.app.settings.cold_water)


def parse_level(raw: str) -> int | None:
    """A 0-10 rating carried on a button; anything else is none."""
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) <= 10 else None


def menu(turn: Turn, leave_out: str = "", carried: int | None = None) -> Reply:
    ids = [e for e in offered(turn) if e != leave_out]
    cat = turn.cat
    items = "\n".join(
        cat.text(
            "ground.item",
            label=cat.text(f"ground.label.{e}"),
            id=e,
            about=cat.text(f"ground.about.{e}"),
        )
        for e in ids
    )
    tail = "" if carried is None else f":{carried}"
    choices = tuple(
        Choice(f"{CHOICE_PREFIX}:{e}{tail}", cat.text(f"ground.label.{e}")) for e in ids
    )
    return Reply(cat.text("ground.menu", items=items), choices=choices)
