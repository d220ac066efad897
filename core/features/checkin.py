"""/checkin and /history: the private check-in, its reflection, and looking back."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core import history
from core.charts import ChartData, ChartLabels, render_png
from core.checkin import build_checkin, part_option_id, reflection
from core.features.base import Feature
from core.flows.engine import FlowState
from core.flows.schema import Option
from core.grounding import menu
from core.model import Choice, Reply
from core.records import Checkin
from core.turn import Turn

OFFER_LABELS = {"ground": "checkin.offer_ground", "history": "checkin.offer_history"}


async def start_checkin(turn: Turn, args: tuple[str, ...]) -> None:
    await turn.start_flow("checkin")


async def finish_checkin(turn: Turn, state: FlowState) -> None:
    checkin = build_checkin(turn.member.id, state.answers, turn.now)
    if turn.member.consent:
        await turn.repos.checkins.add(checkin)
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
    parts = await turn.repos.parts.list(turn.member.id)
    text, offers = reflection(turn.cat, state.answers, parts)
    if text:
        lines.append(text)
    lines.append(turn.cat.text("checkin.closing"))
    choices = tuple(
        Choice(f"cmd:{offer}", turn.cat.text(OFFER_LABELS[offer]))
        for offer in offers
        if offer in OFFER_LABELS
    )
    turn.add(Reply("\n\n".join(lines), choices=choices))


async def show_history(turn: Turn, args: tuple[str, ...]) -> None:
    if not turn.member.consent:
        turn.say("history.not_kept")
        return
    checkins = await turn.repos.checkins.since(turn.member.id, turn.now - timedelta(days=30))
    text = history.history_text(turn.cat, checkins, turn.now)
    if checkins:
        names = await part_names(turn)
        text += "\n\n" + history.strong_urge_parts(turn.cat, checkins, names)
    turn.add(Reply(text))
    if checkins:
        turn.add(await _chart(turn, checkins))


async def part_names(turn: Turn) -> dict[str, str]:
    """Every answer the part step can hold, with the name the member knows it by."""
    step = turn.cat.flows["checkin"].step("part")
    names = {o.id: o.label for o in step.options if o.id != "unsure"}
    names.update({part_option_id(p): p.name for p in await turn.repos.parts.list(turn.member.id)})
    return names


async def _chart(turn: Turn, checkins: list[Checkin]) -> Reply:
    end = turn.now.date()
    window_start = turn.now - timedelta(days=30)
    slips = await turn.repos.counters.slips_between(turn.member.id, end - timedelta(days=29), end)
    practices = await turn.repos.practices.since(turn.member.id, window_start)
    data = ChartData(
        end=end,
        checkins=[(c.at, c.mood, c.urge) for c in checkins],
        slips=sorted({s.on for s in slips}),
        practices=[p.at for p in practices],
    )
    c = turn.cat
    labels = ChartLabels(
        c.text("history.chart_title"),
        c.text("history.chart_mood"),
        c.text("history.chart_urge"),
        c.text("history.chart_slip"),
        c.text("history.chart_grounding"),
    )
    # Drawing takes a moment of CPU: a worker thread keeps other members' replies flowing.
    png = await asyncio.to_thread(render_png, data, labels)
    return Reply("", image=png, image_alt=c.text("history.chart_alt"))


async def part_options(turn: Turn) -> tuple[Option, ...]:
    parts = await turn.repos.parts.list(turn.member.id)
    return tuple(Option(part_option_id(p), p.name) for p in parts)


FEATURE = Feature(
    name="checkin",
    commands={"checkin": start_checkin, "history": show_history},
    buttons=frozenset({"checkin", "history"}),
    finishers={"checkin": finish_checkin},
    option_sources={"parts": part_options},
)
