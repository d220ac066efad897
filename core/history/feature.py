"""/history: looking back, and control over what is kept (as in I Am Sober or Daylio).

`/history` shows the last 7 and 30 days with a chart; `/history notes` the kept check-ins with
their notes, newest first, a page at a time, each one open to change (mood, urge, note) or to
delete; `/history clear` deletes the kept check-ins and exercises. Every deletion asks first,
and every id a button carries is looked up among this member's own check-ins only.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from core.checkin.logic import part_option_id
from core.checkin.records import Checkin
from core.history import summary as history
from core.history.charts import ChartData, ChartLabels, render_png
from core.history.content import FLOWS, MESSAGES
from core.history.ports import stores
from core.kernel.feature import Command, Feature
from core.kernel.flows.engine import FlowState
from core.kernel.model import Choice, Reply
from core.kernel.turn import Turn
from core.safety_plan.plan import pack

PREFIX = "hist"
EDIT_FLOW = "history_edit"
FIELDS = ("mood", "urge", "note")
PAGE_SIZE = 5
MAX_ID_DIGITS = 12


def _id(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS else None


def when(checkin: Checkin) -> str:
    return checkin.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


async def kept_counts(turn: Turn) -> tuple[int, int]:
    """How many check-ins and exercises are kept for this member."""
    checkins = await stores(turn.repos).checkins.count(turn.member.id)
    practices = await stores(turn.repos).practices.since(
        turn.member.id, datetime.min.replace(tzinfo=UTC)
    )
    return checkins, len(practices)


# -- the last 30 days -------------------------------------------------------------------------


async def show_history(turn: Turn) -> None:
    checkins_kept, exercises_kept = await kept_counts(turn)
    if not turn.member.consent and not checkins_kept:
        turn.say("history.not_kept")
        return
    checkins = await stores(turn.repos).checkins.since(
        turn.member.id, turn.now - timedelta(days=30)
    )
    lines = []
    if not turn.member.consent:
        # Said plainly: choosing not to keep new ones did not delete the earlier ones.
        lines.append(turn.cat.text("history.kept_earlier", count=checkins_kept))
    lines.append(history.history_text(turn.cat, checkins, turn.now))
    if checkins:
        names = await part_names(turn)
        lines.append(history.strong_urge_parts(turn.cat, checkins, names))
    choices: list[Choice] = []
    if checkins_kept:
        choices.append(Choice(f"{PREFIX}:page:0", turn.cat.text("history.notes_button")))
    if checkins_kept or exercises_kept:
        choices.append(Choice(f"{PREFIX}:clear", turn.cat.text("history.clear_button")))
    turn.add(Reply("\n\n".join(lines), choices=tuple(choices)))
    if checkins:
        turn.add(await _chart(turn, checkins))


async def part_names(turn: Turn) -> dict[str, str]:
    """Every answer the part step can hold, with the name the member knows it by."""
    step = turn.cat.flows["checkin"].step("part")
    names = {o.id: o.label for o in step.options if o.id != "unsure"}
    names.update(
        {part_option_id(p): p.name for p in await stores(turn.repos).parts.list(turn.member.id)}
    )
    return names


async def _chart(turn: Turn, checkins: list[Checkin]) -> Reply:
    end = turn.now.date()
    window_start = turn.now - timedelta(days=30)
    slips = await stores(turn.repos).counters.slips_between(
        turn.member.id, end - timedelta(days=29), end
    )
    practices = await stores(turn.repos).practices.since(turn.member.id, window_start)
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


# -- past check-ins with their notes ---------------------------------------------------------


async def entry_text(turn: Turn, checkin: Checkin, names: dict[str, str] | None = None) -> str:
    c = turn.cat
    names = names if names is not None else await part_names(turn)
    needs = {o.id: o.label for o in c.flows["checkin"].step("need").options}
    details = []
    if checkin.mood is not None:
        details.append(c.text("history.entry_mood", mood=checkin.mood))
    if checkin.urge is not None:
        details.append(c.text("history.entry_urge", urge=checkin.urge))
    if checkin.part and checkin.part in names:
        details.append(names[checkin.part])
    if checkin.need and checkin.need in needs:
        details.append(needs[checkin.need])
    if details:
        text = c.text("history.entry", when=when(checkin), details=" · ".join(details))
    else:
        text = c.text("history.entry_nothing", when=when(checkin))
    if checkin.note:
        text += "\n" + c.text("history.entry_note", note=checkin.note)
    return text


async def show_page(turn: Turn, page: int) -> None:
    total = await stores(turn.repos).checkins.count(turn.member.id)
    if not total:
        turn.say("history.notes_none")
        return
    last_page = (total - 1) // PAGE_SIZE
    page = min(max(0, page), last_page)
    rows = await stores(turn.repos).checkins.page(turn.member.id, page * PAGE_SIZE, PAGE_SIZE)
    names = await part_names(turn)
    first = page * PAGE_SIZE + 1
    head = turn.cat.text("history.notes_head", first=first, last=first + len(rows) - 1, total=total)
    blocks = [head, *[await entry_text(turn, c, names) for c in rows]]
    choices = [
        Choice(f"{PREFIX}:open:{c.id}", turn.cat.text("history.open", when=when(c))) for c in rows
    ]
    if page < last_page:
        choices.append(Choice(f"{PREFIX}:page:{page + 1}", turn.cat.text("history.older")))
    if page > 0:
        choices.append(Choice(f"{PREFIX}:page:{page - 1}", turn.cat.text("history.newer")))
    messages = pack(blocks)
    for text in messages[:-1]:
        turn.add(Reply(text))
    turn.add(Reply(messages[-1], choices=tuple(choices)))


async def show_one(turn: Turn, checkin: Checkin) -> None:
    c = turn.cat
    text = c.text("history.one_head", when=when(checkin)) + "\n" + await entry_text(turn, checkin)
    note_label = "history.change_note" if checkin.note else "history.add_note"
    choices = (
        Choice(f"{PREFIX}:edit:{checkin.id}:mood", c.text("history.change_mood")),
        Choice(f"{PREFIX}:edit:{checkin.id}:urge", c.text("history.change_urge")),
        Choice(f"{PREFIX}:edit:{checkin.id}:note", c.text(note_label)),
        Choice(f"{PREFIX}:del:{checkin.id}", c.text("history.delete")),
        Choice(f"{PREFIX}:page:0", c.text("history.back_to_list")),
    )
    turn.add(Reply(pack([text])[0], choices=choices))


async def find(turn: Turn, raw: str) -> Checkin | None:
    """The member's own check-in a button or flow names; None for anyone else's."""
    checkin_id = _id(raw)
    if checkin_id is None:
        return None
    return await stores(turn.repos).checkins.get(turn.member.id, checkin_id)


async def _not_found(turn: Turn) -> None:
    turn.say("history.not_found")
    await show_page(turn, 0)


# -- clearing ----------------------------------------------------------------------------------


async def ask_clear(turn: Turn) -> None:
    checkins, exercises = await kept_counts(turn)
    if not checkins and not exercises:
        turn.say("history.nothing_to_clear")
        return
    choices = (
        Choice(f"{PREFIX}:clearyes", turn.cat.text("history.clear_yes")),
        Choice(f"{PREFIX}:keep", turn.cat.text("history.clear_no")),
    )
    turn.say("history.clear_confirm", choices, checkins=checkins, exercises=exercises)


async def clear_history(turn: Turn) -> tuple[int, int]:
    """Deletes the member's check-ins and exercises, nothing else; how many of each."""
    checkins = await stores(turn.repos).checkins.erase(turn.member.id)
    exercises = await stores(turn.repos).practices.erase(turn.member.id)
    return checkins, exercises


# -- commands, buttons, the edit flow ---------------------------------------------------------


async def history_command(turn: Turn, args: tuple[str, ...]) -> None:
    sub = args[0].casefold() if args else ""
    if sub == "notes":
        await show_page(turn, 0)
    elif sub == "clear":
        await ask_clear(turn)
    else:
        if sub:
            turn.say("history.usage")
        await show_history(turn)


async def history_choice(turn: Turn, rest: str) -> None:
    action, _, arg = rest.partition(":")
    raw_id, _, field = arg.partition(":")
    if action == "page" and _id(arg) is not None:
        await show_page(turn, int(arg))
    elif action == "clear" and not arg:
        await ask_clear(turn)
    elif action == "clearyes" and not arg:
        checkins, exercises = await kept_counts(turn)
        if not checkins and not exercises:
            turn.say("history.nothing_to_clear")
            return
        checkins, exercises = await clear_history(turn)
        turn.say("history.cleared", checkins=checkins, exercises=exercises)
    elif action == "keep" and not arg:
        turn.say("history.kept")
    elif action in ("open", "edit", "del", "delyes"):
        checkin = await find(turn, raw_id)
        if checkin is None or (action == "edit") != bool(field) or field not in ("", *FIELDS):
            await _not_found(turn)
        elif action == "open":
            await show_one(turn, checkin)
        elif action == "edit":
            turn.say("history.edit_intro", when=when(checkin))
            await turn.start_flow(EDIT_FLOW, {"checkin": str(checkin.id)}, at=field)
        elif action == "del":
            choices = (
                Choice(f"{PREFIX}:delyes:{checkin.id}", turn.cat.text("history.delete_yes")),
                Choice(f"{PREFIX}:keep", turn.cat.text("history.delete_no")),
            )
            turn.say("history.delete_confirm", choices, when=when(checkin))
        elif await stores(turn.repos).checkins.delete(turn.member.id, checkin.id):
            turn.say("history.deleted", when=when(checkin))
        else:
            await _not_found(turn)
    else:
        turn.say("flow.stale")


async def finish_edit(turn: Turn, state: FlowState) -> None:
    checkin = await find(turn, state.context.get("checkin", ""))
    if checkin is None:
        await _not_found(turn)
        return
    field = state.step
    value = state.answers.get(field)
    if field not in FIELDS or value is None:
        turn.say("history.unchanged")
        return
    if field == "note":
        changed = replace(checkin, note=str(value).strip())
    elif isinstance(value, int) and field == "mood":
        changed = replace(checkin, mood=value)
    elif isinstance(value, int):
        changed = replace(checkin, urge=value)
    else:
        turn.say("history.unchanged")
        return
    if not await stores(turn.repos).checkins.update(changed):
        await _not_found(turn)
        return
    turn.say("history.updated", when=when(changed))
    await show_one(turn, changed)


FEATURE = Feature(
    name="history",
    order=30,
    commands={"history": Command(history_command, takes_args=False)},
    buttons=frozenset({"history"}),
    choices={PREFIX: history_choice},
    finishers={EDIT_FLOW: finish_edit},
    messages=MESSAGES,
    flows=FLOWS,
)
