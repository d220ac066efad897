"""/checkin: the private check-in and its reflection (/history is core/history/feature.py)."""

from __future__ import annotations

from core.checkin.content import FLOWS, MESSAGES
from core.checkin.logic import answered, build_checkin, part_option_id, reflection
from core.checkin.ports import stores
from core.grounding.menu import menu
from core.kernel.feature import Command, Feature
from core.kernel.flows.engine import FlowState
from core.kernel.flows.schema import Option
from core.kernel.model import Choice, Reply
from core.kernel.turn import Turn

OFFER_LABELS = {"ground": "checkin.offer_ground", "history": "checkin.offer_history"}


async def start_checkin(turn: Turn, args: tuple[str, ...]) -> None:
    await turn.start_flow("checkin")


async def finish_checkin(turn: Turn, state: FlowState) -> None:
    checkin = build_checkin(turn.member.id, state.answers, turn.now)
    if not answered(checkin) and state.answers.get("urge_now") != "ground":
        # Every question skipped: nothing to keep, and not counted as a check-in.
        turn.say("checkin.nothing_answered")
        return
    if turn.member.consent:
        await stores(turn.repos).checkins.add(checkin)
        lines = [turn.cat.text("checkin.saved")]
    else:
        lines = [turn.cat.text("checkin.not_saved")]
    if state.answers.get("urge_now") == "ground":
        # A very strong urge: what was answered is kept and grounding starts at once.
        turn.add(Reply(lines[0]))
        # The urge they just rated rides along: the exercise they pick doesn't ask again.
        urge = state.answers.get("urge")
        turn.add(menu(turn, carried=urge if isinstance(urge, int) else None))
        return
    parts = await stores(turn.repos).parts.list(turn.member.id)
    text, offers = reflection(turn.cat, state.answers, parts)
    if text:
        lines.append(text)
    lines.append(turn.cat.text("checkin.closing"))
    # "See my history" only when there is some to see.
    kept = turn.member.consent or await stores(turn.repos).checkins.count(turn.member.id) > 0
    choices = tuple(
        Choice(f"cmd:{offer}", turn.cat.text(OFFER_LABELS[offer]))
        for offer in offers
        if offer in OFFER_LABELS and (offer != "history" or kept)
    )
    turn.add(Reply("\n\n".join(lines), choices=choices))


async def part_options(turn: Turn) -> tuple[Option, ...]:
    parts = await stores(turn.repos).parts.list(turn.member.id)
    return tuple(Option(part_option_id(p), p.name) for p in parts)


FEATURE = Feature(
    name="checkin",
    order=20,
    commands={"checkin": Command(start_checkin, takes_args=False)},
    buttons=frozenset({"checkin"}),
    finishers={"checkin": finish_checkin},
    option_sources={"parts": part_options},
    messages=MESSAGES,
    flows=FLOWS,
    member_data=("checkins",),
)
