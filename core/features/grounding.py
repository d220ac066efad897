"""/ground: a menu of grounding exercises. Each exercise is a flow (content/en/flows/ground_*.toml)
that asks distress or urge 0-10 before and after; the finisher here names the change, keeps a
practice log for members who chose to keep history, and offers a next step."""

from __future__ import annotations

from core.features.base import Feature
from core.flows.engine import FlowState
from core.model import Choice, Reply
from core.records import Practice
from core.shown import echo
from core.turn import Turn

# Menu order. Each id has the flow `ground_<id>` and the messages ground.label.<id>,
# ground.about.<id>.
EXERCISES: tuple[str, ...] = ("senses", "paced", "box", "sigh", "sober", "surf", "orient", "cold")
COLD = "cold"
FLOW_PREFIX = "ground_"
CHOICE_PREFIX = "ground"
MENU = "menu"
FINISHER = "grounding"
# At or above this after an exercise, the ending points gently to people and /crisis too.
STILL_HIGH = 8


def flow_id(exercise: str) -> str:
    return f"{FLOW_PREFIX}{exercise}"


def offered(turn: Turn) -> tuple[str, ...]:
    """The exercises this bot offers: cold water only when the config turns it on."""
    return tuple(e for e in EXERCISES if e != COLD or turn.app.settings.cold_water)


def menu(turn: Turn, leave_out: str = "") -> Reply:
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
    choices = tuple(Choice(f"{CHOICE_PREFIX}:{e}", cat.text(f"ground.label.{e}")) for e in ids)
    return Reply(cat.text("ground.menu", items=items), choices=choices)


async def open_exercise(turn: Turn, raw: str) -> None:
    wanted = raw.strip().casefold().removeprefix(FLOW_PREFIX)
    if wanted in offered(turn):
        await turn.start_flow(flow_id(wanted))
        return
    if wanted == COLD:
        turn.say("ground.cold_off")
    elif shown := echo(wanted, fallback=""):
        turn.say("ground.unknown", name=shown)
    else:
        turn.say("ground.unknown_plain")
    turn.add(menu(turn))


async def start_grounding(turn: Turn, args: tuple[str, ...]) -> None:
    if args and args[0].strip():
        await open_exercise(turn, args[0])
    else:
        turn.add(menu(turn))


async def ground_choice(turn: Turn, rest: str) -> None:
    if rest == MENU:
        turn.add(menu(turn))
    else:
        await open_exercise(turn, rest)


def _level(value: object) -> int | None:
    return value if isinstance(value, int) and 0 <= value <= 10 else None


def change_text(turn: Turn, before: int | None, after: int | None) -> str:
    if before is None or after is None:
        return turn.cat.text("ground.change_unknown")
    if after < before:
        return turn.cat.text("ground.change_down", before=before, after=after)
    if after == before:
        return turn.cat.text("ground.change_same", before=before)
    return turn.cat.text("ground.change_up", before=before, after=after)


async def finish_grounding(turn: Turn, state: FlowState) -> None:
    exercise = state.flow_id.removeprefix(FLOW_PREFIX)
    if state.answers.get("cautions", "go") != "go":
        # The cold-water cautions were declined (or skipped): nothing started, nothing kept.
        turn.say("ground.pick_another")
        turn.add(menu(turn, leave_out=exercise))
        return
    before, after = _level(state.answers.get("before")), _level(state.answers.get("after"))
    lines = [change_text(turn, before, after)]
    if after is not None and after >= STILL_HIGH:
        lines.append(turn.cat.text("ground.still_high"))
    if turn.member.consent:
        await turn.repos.practices.add(Practice(turn.member.id, turn.now, exercise, before, after))
        lines.append(turn.cat.text("ground.kept"))
    lines.append(turn.cat.text("ground.next"))
    choices = (
        Choice("cmd:ground", turn.cat.text("ground.another")),
        Choice("cmd:checkin", turn.cat.text("ground.checkin")),
    )
    turn.add(Reply("\n\n".join(lines), choices=choices))


FEATURE = Feature(
    name="grounding",
    commands={"ground": start_grounding},
    buttons=frozenset({"ground"}),
    choices={CHOICE_PREFIX: ground_choice},
    finishers={FINISHER: finish_grounding},
)
