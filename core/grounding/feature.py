"""/ground: a menu of grounding exercises. Each exercise is a flow (content/en/flows/ground_*.toml)
that asks distress or urge 0-10 before and after; the finisher here names the change, keeps a
practice log for members who chose to keep history, and offers a next step."""

from __future__ import annotations

from dataclasses import replace

from core.grounding.content import FLOWS, MESSAGES
from core.grounding.menu import (
    CHOICE_PREFIX,
    COLD,
    EXERCISES,
    FLOW_PREFIX,
    flow_id,
    menu,
    offered,
    parse_level,
)
from core.grounding.ports import stores
from core.grounding.records import Practice
from core.kernel.feature import Feature
from core.kernel.flows import engine
from core.kernel.flows.engine import FlowState
from core.kernel.flows.schema import Answer, StepKind
from core.kernel.model import Choice, Reply
from core.kernel.shown import echo
from core.kernel.turn import Turn

__all__ = ["EXERCISES", "FEATURE"]

MENU = "menu"
FINISHER = "grounding"
# The step every exercise opens with: 0-10 before (a rating carried in answers it).
BEFORE = "before"
# At or above this after an exercise, the ending points gently to people and /crisis too.
STILL_HIGH = 8


async def open_exercise(turn: Turn, raw: str, carried: int | None = None) -> None:
    wanted = raw.strip().casefold().removeprefix(FLOW_PREFIX)
    if wanted in offered(turn):
        if carried is None or not await _start_carried(turn, flow_id(wanted), carried):
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


async def _start_carried(turn: Turn, fid: str, level: int) -> bool:
    """Opens an exercise past its "how strong is it?" question, with the rating the member
    gave a moment ago; False when the exercise asks something else first (cold water's
    cautions), so it opens as usual."""
    flow = turn.cat.flows[fid]
    first = flow.step(flow.start)
    if flow.start != BEFORE or first.kind is not StepKind.SCALE:
        return False
    if turn.session is not None and turn.session.flow_id != fid:
        turn.say("flow.replaced", title=turn.flow().title)
    if first.intro:
        turn.add(Reply(first.intro))
    turn.say("ground.carried", level=level)
    answers: dict[str, Answer] = {BEFORE: level}
    started = engine.start(flow, turn.now, at=first.next_step(answers))
    turn.session = replace(started, answers=dict(answers), trail=(BEFORE,))
    await turn.repos.sessions.put(turn.member.id, turn.session)
    await turn.reshow()
    return True


async def ground_choice(turn: Turn, rest: str) -> None:
    exercise, _, level = rest.partition(":")
    if rest == MENU:
        turn.add(menu(turn))
    else:
        await open_exercise(turn, exercise, parse_level(level) if level else None)


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
        await stores(turn.repos).practices.add(
            Practice(turn.member.id, turn.now, exercise, before, after)
        )
        lines.append(turn.cat.text("ground.kept"))
    lines.append(turn.cat.text("ground.next"))
    choices = (
        Choice("cmd:ground", turn.cat.text("ground.another")),
        Choice("cmd:checkin", turn.cat.text("ground.checkin")),
    )
    turn.add(Reply("\n\n".join(lines), choices=choices))


FEATURE = Feature(
    name="grounding",
    order=40,
    commands={"ground": start_grounding},
    buttons=frozenset({"ground"}),
    choices={CHOICE_PREFIX: ground_choice},
    finishers={FINISHER: finish_grounding},
    messages=MESSAGES,
    flows=FLOWS,
    # A new exercise is a flow file `ground_<id>.toml` and these two texts: no code.
    flow_messages={FLOW_PREFIX: ("ground.label.{id}", "ground.about.{id}")},
    member_data=("practices",),
)
