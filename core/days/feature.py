"""/days: optional, private day counters; a slip is noted without wiping anything."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

from core.days.content import FLOWS, MESSAGES
from core.days.counting import (
    MAX_COUNTERS,
    MILESTONES,
    NAME_MAX,
    YEAR,
    Counter,
    DateProblem,
    NameProblem,
    Slip,
    Stats,
    check_name,
    milestone_due,
    milestones_reached,
    parse_start,
    stats,
)
from core.days.ports import stores
from core.kernel.feature import Feature
from core.kernel.flows.engine import FlowState
from core.kernel.model import Choice, Reply
from core.kernel.numbers import parse_number
from core.kernel.reopen import open_at
from core.kernel.shown import one_line
from core.kernel.turn import Turn
from core.safety_plan.plan import pack

PREFIX = "days"
ADD_FLOW = "days_add"
SLIP_FLOW = "days_slip"
EDIT_FLOW = "days_edit"
EDIT_STEPS = ("name", "start", "slip_date")
DATE_SHAPE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
DATE_KEYS = {
    DateProblem.UNREADABLE: "days.date_unreadable",
    DateProblem.FUTURE: "days.date_future",
    DateProblem.TOO_EARLY: "days.date_too_early",
}


def today(turn: Turn) -> date:
    # UTC for now: member time zones arrive with reminders.
    return turn.now.date()


def _days(turn: Turn, n: int) -> str:
    return turn.cat.text("days.one_day") if n == 1 else turn.cat.text("days.n_days", n=n)


def counter_text(turn: Turn, counter: Counter, st: Stats) -> str:
    return turn.cat.text(
        "days.counter",
        name=counter.name,
        since=counter.started_on.isoformat(),
        run=_days(turn, st.run) if st.run else turn.cat.text("days.run_new"),
        total=_days(turn, st.total),
        longest=_days(turn, st.longest),
    )


async def counter_stats(turn: Turn, counter: Counter) -> Stats:
    slips = await stores(turn.repos).counters.slips(turn.member.id, counter.id)
    return stats(counter.started_on, (s.on for s in slips), today(turn))


def milestone_text(turn: Turn, counter: Counter, days: int) -> str:
    if days in MILESTONES:
        return turn.cat.text(f"days.milestone_{days}", name=counter.name)
    return turn.cat.text("days.milestone_years", name=counter.name, years=days // YEAR)


def _menu(turn: Turn, counters: list[Counter]) -> tuple[Choice, ...]:
    c = turn.cat
    choices: list[Choice] = []
    for counter in counters:
        choices.append(
            Choice(f"{PREFIX}:slip:{counter.id}", c.text("days.slip", name=counter.name))
        )
    for counter in counters:
        label = c.text("days.change", name=counter.name)
        choices.append(Choice(f"{PREFIX}:edit:{counter.id}", label))
    for counter in counters:
        label = c.text("days.remove", name=counter.name)
        choices.append(Choice(f"{PREFIX}:rm:{counter.id}", label))
    if len(counters) < MAX_COUNTERS:
        choices.append(Choice(f"{PREFIX}:add", c.text("days.add")))
    return tuple(choices)


async def show_counters(turn: Turn, heading: str = "days.heading") -> None:
    counters = await stores(turn.repos).counters.for_member(turn.member.id)
    if not counters:
        turn.say("days.invite", (Choice(f"{PREFIX}:add", turn.cat.text("days.add")),))
        return
    blocks = [turn.cat.text(heading)]
    milestones: list[str] = []
    for counter in counters:
        st = await counter_stats(turn, counter)
        blocks.append(counter_text(turn, counter, st))
        due = milestone_due(st.run, counter.celebrated)
        if due is not None:
            milestones.append(milestone_text(turn, counter, due))
            await stores(turn.repos).counters.set_celebrated(turn.member.id, counter.id, due)
    messages = pack(blocks)
    for text in milestones:
        turn.add(Reply(text))
    for text in messages[:-1]:
        turn.add(Reply(text))
    turn.add(Reply(messages[-1], choices=_menu(turn, counters)))


async def days_command(turn: Turn, args: tuple[str, ...]) -> None:
    sub = args[0].casefold() if args else ""
    rest = " ".join(args[1:])
    if sub == "add":
        await start_add(turn)
    elif sub == "slip":
        await slip_by_name(turn, rest)
    elif sub == "milestones" and not rest:
        counters = await stores(turn.repos).counters.for_member(turn.member.id)
        for counter in counters:
            await show_milestones(turn, counter)
        if not counters:
            turn.say("days.none_yet")
    elif sub in NAMED_ACTIONS:
        named = await _by_name(turn, rest)
        if named is not None:
            await NAMED_ACTIONS[sub](turn, named)
    else:
        if sub:
            turn.say("days.usage")
        await show_counters(turn)


async def _by_name(turn: Turn, typed: str) -> Counter | None:
    """The member's counter called `typed`; else says which there are."""
    counters = await stores(turn.repos).counters.for_member(turn.member.id)
    if not counters:
        turn.say("days.none_yet")
        return None
    wanted = one_line(typed).casefold()
    match = next((c for c in counters if c.name.casefold() == wanted), None)
    if match is None:
        turn.say("days.not_found_name" if wanted else "days.usage")
        await show_counters(turn)
    return match


async def start_add(turn: Turn) -> None:
    counters = await stores(turn.repos).counters.for_member(turn.member.id)
    if len(counters) >= MAX_COUNTERS:
        turn.say("days.too_many", limit=MAX_COUNTERS)
        return
    await turn.start_flow(ADD_FLOW)


def _name_problem(turn: Turn, problem: NameProblem, name: str) -> None:
    if problem is NameProblem.EMPTY:
        turn.say("days.name_empty")
    elif problem is NameProblem.TOO_LONG:
        turn.say("days.name_too_long", got=len(name), limit=NAME_MAX)
    else:
        turn.say("days.name_taken", name=name)


async def finish_add(turn: Turn, state: FlowState) -> None:
    """The name is checked as soon as it is given; the date once it is given."""
    member = turn.member.id
    raw = state.answers.get("name")
    if not isinstance(raw, str):
        turn.say("days.add_skipped")
        return
    name = one_line(raw)
    counters = await stores(turn.repos).counters.for_member(member)
    if len(counters) >= MAX_COUNTERS:
        turn.say("days.too_many", limit=MAX_COUNTERS)
        return
    problem = check_name(name, [c.name for c in counters])
    if problem is not None:
        _name_problem(turn, problem, name)
        await open_at(turn, ADD_FLOW, "name")
        return
    if state.step == "name":
        await open_at(turn, ADD_FLOW, "when", answers={"name": name}, trail=("name",))
        return
    started = today(turn)
    typed = state.answers.get("date")
    if state.step == "date" and isinstance(typed, str):
        parsed = parse_start(typed, today(turn))
        if isinstance(parsed, DateProblem):
            example = (today(turn) - timedelta(days=30)).isoformat()
            # Only a date-shaped answer is repeated back; anything else is not echoed.
            shown = typed.strip()[:10]
            turn.say(DATE_KEYS[parsed], date=shown, example=example)
            await open_at(
                turn,
                ADD_FLOW,
                "date",
                answers={"name": name, "when": "earlier"},
                trail=("name", "when"),
            )
            return
        started = parsed
    await stores(turn.repos).counters.add(member, name, started, turn.now)
    turn.say("days.started", name=name, since=started.isoformat())
    await show_counters(turn)


async def _find_slip(turn: Turn, raw: str) -> Slip | None:
    """The member's own slip a button names; None for anyone else's."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        return None
    wanted = int(raw)
    for counter in await stores(turn.repos).counters.for_member(turn.member.id):
        for slip in await stores(turn.repos).counters.slips(turn.member.id, counter.id):
            if slip.id == wanted:
                return slip
    return None


async def _find(turn: Turn, counter_id: str) -> Counter | None:
    wanted = parse_number(counter_id)
    if wanted is None:
        return None
    counters = await stores(turn.repos).counters.for_member(turn.member.id)
    return next((c for c in counters if c.id == wanted), None)


def _undo_button(turn: Turn, slip: Slip) -> tuple[Choice, ...]:
    return (Choice(f"{PREFIX}:unslip:{slip.id}", turn.cat.text("days.undo_button")),)


async def record_slip(turn: Turn, counter: Counter) -> None:
    slip = await stores(turn.repos).counters.add_slip(
        turn.member.id, counter.id, today(turn), turn.now
    )
    st = await counter_stats(turn, counter)
    text = turn.cat.text("days.slip_noted", name=counter.name)
    # A tap by mistake is one tap to take back.
    turn.add(Reply(f"{text}\n{counter_text(turn, counter, st)}", choices=_undo_button(turn, slip)))
    await turn.start_flow(SLIP_FLOW, {"slip": str(slip.id)})


async def _record_slip_on(turn: Turn, counter: Counter, on: date) -> None:
    """A slip on an earlier day: noted on that day; milestones already reached stay shown."""
    slip = await stores(turn.repos).counters.add_slip(turn.member.id, counter.id, on, turn.now)
    st = await _settle_celebrated(turn, counter)
    text = turn.cat.text("days.slip_noted_on", name=counter.name, date=on.isoformat())
    turn.add(Reply(f"{text}\n{counter_text(turn, counter, st)}", choices=_undo_button(turn, slip)))


async def _settle_celebrated(turn: Turn, counter: Counter) -> Stats:
    """After a change to the past, the current stretch's milestones count as already shown:
    a correction is not a celebration."""
    st = await counter_stats(turn, counter)
    await stores(turn.repos).counters.set_celebrated(
        turn.member.id, counter.id, milestone_due(st.run, 0) or 0
    )
    return st


async def slip_by_name(turn: Turn, typed: str) -> None:
    counters = await stores(turn.repos).counters.for_member(turn.member.id)
    if not counters:
        turn.say("days.none_yet")
        return
    words = typed.split()
    on: date | None = None
    if words and DATE_SHAPE.fullmatch(words[-1]):
        # `/days slip <name> 2026-01-03`: a slip on an earlier day.
        parsed = parse_start(words[-1], today(turn))
        if isinstance(parsed, DateProblem):
            example = (today(turn) - timedelta(days=1)).isoformat()
            turn.say(DATE_KEYS[parsed], date=words[-1][:10], example=example)
            return
        on, typed = parsed, " ".join(words[:-1])
    name = one_line(typed).casefold()
    match = next((c for c in counters if c.name.casefold() == name), None)
    if match is not None and on is not None:
        if await _slip_fits(turn, match, on):
            await _record_slip_on(turn, match, on)
        return
    if match is not None:
        await record_slip(turn, match)
        return
    if name:
        turn.say("days.not_found_name")
    choices = tuple(
        Choice(f"{PREFIX}:slip:{c.id}", turn.cat.text("days.slip", name=c.name)) for c in counters
    )
    turn.say("days.slip_which", choices)


async def finish_slip(turn: Turn, state: FlowState) -> None:
    answers = state.answers
    text = answers.get("protect")
    if answers.get("offer") != "yes":
        turn.say("days.reflect_declined")
    elif not isinstance(text, str) or not text.strip():
        turn.say("days.reflect_skipped")
    elif answers.get("keep") != "keep":
        turn.say("days.reflect_not_saved")
    else:
        slip_id = parse_number(state.context.get("slip", ""))
        saved = slip_id is not None and await stores(turn.repos).counters.set_slip_note(
            turn.member.id, slip_id, text.strip()
        )
        turn.say("days.reflect_saved" if saved else "days.reflect_lost")


async def _slip_fits(turn: Turn, counter: Counter, on: date) -> bool:
    if on >= counter.started_on:
        return True
    example = max(counter.started_on, today(turn) - timedelta(days=1)).isoformat()
    turn.say(
        "days.slip_before_start",
        name=counter.name,
        since=counter.started_on.isoformat(),
        date=on.isoformat(),
        example=example,
    )
    return False


# -- changing a counter -------------------------------------------------------------------------


async def show_change_menu(turn: Turn, counter: Counter) -> None:
    c = turn.cat
    cid = counter.id
    choices = [
        Choice(f"{PREFIX}:slipon:{cid}", c.text("days.slip_earlier")),
        Choice(f"{PREFIX}:undo:{cid}", c.text("days.undo_last")),
        Choice(f"{PREFIX}:rename:{cid}", c.text("days.rename")),
        Choice(f"{PREFIX}:start:{cid}", c.text("days.change_start")),
        Choice(f"{PREFIX}:miles:{cid}", c.text("days.milestones")),
        Choice("cmd:days", c.text("days.back")),
    ]
    st = await counter_stats(turn, counter)
    text = c.text("days.change_menu", name=counter.name) + "\n" + counter_text(turn, counter, st)
    turn.add(Reply(text, choices=tuple(choices)))


async def undo_last(turn: Turn, counter: Counter) -> None:
    slips = await stores(turn.repos).counters.slips(turn.member.id, counter.id)
    if not slips:
        turn.say("days.nothing_to_undo", name=counter.name)
        return
    await _undo(turn, counter, max(slips, key=lambda s: s.id))


async def _undo(turn: Turn, counter: Counter, slip: Slip) -> None:
    if not await stores(turn.repos).counters.remove_slip(turn.member.id, slip.id):
        turn.say("days.not_found")
        return
    if turn.session is not None and turn.session.context.get("slip") == str(slip.id):
        # Its reflection has nothing left to belong to.
        await turn.repos.sessions.delete(turn.member.id)
        turn.session = None
    st = await _settle_celebrated(turn, counter)
    text = turn.cat.text("days.undone", name=counter.name, date=slip.on.isoformat())
    turn.add(Reply(f"{text}\n{counter_text(turn, counter, st)}"))


async def show_milestones(turn: Turn, counter: Counter) -> None:
    slips = await stores(turn.repos).counters.slips(turn.member.id, counter.id)
    reached = milestones_reached(counter.started_on, (s.on for s in slips), today(turn))
    if not reached:
        turn.say("days.milestones_none", name=counter.name)
        return
    lines = [turn.cat.text("days.milestones_head", name=counter.name)]
    lines += [
        turn.cat.text("days.milestones_line", length=_length(turn, m), date=d.isoformat())
        for m, d in reached
    ]
    for text in pack(["\n".join(lines)]):
        turn.add(Reply(text))


def _length(turn: Turn, days: int) -> str:
    if days >= YEAR and days % YEAR == 0:
        years = days // YEAR
        return (
            turn.cat.text("days.one_year") if years == 1 else turn.cat.text("days.n_years", n=years)
        )
    return _days(turn, days)


async def _open_edit(turn: Turn, counter: Counter, step: str) -> None:
    await turn.start_flow(EDIT_FLOW, {"counter": str(counter.id)}, at=step)


async def _rename(turn: Turn, counter: Counter) -> None:
    await _open_edit(turn, counter, "name")


async def _change_start(turn: Turn, counter: Counter) -> None:
    await _open_edit(turn, counter, "start")


async def _slip_on(turn: Turn, counter: Counter) -> None:
    await _open_edit(turn, counter, "slip_date")


NAMED_ACTIONS = {
    "undo": undo_last,
    "rename": _rename,
    "start": _change_start,
    "milestones": show_milestones,
    "edit": show_change_menu,
}
COUNTER_ACTIONS = {
    "edit": show_change_menu,
    "slipon": _slip_on,
    "undo": undo_last,
    "rename": _rename,
    "start": _change_start,
    "miles": show_milestones,
}


async def finish_edit(turn: Turn, state: FlowState) -> None:
    counter = await _find(turn, state.context.get("counter", ""))
    if counter is None:
        turn.say("days.not_found")
        await show_counters(turn)
        return
    step = state.step
    typed = state.answers.get(step)
    if step not in EDIT_STEPS or not isinstance(typed, str) or not typed.strip():
        turn.say("days.unchanged", name=counter.name)
        return
    again = {"counter": str(counter.id)}
    if step == "name":
        name = one_line(typed)
        others = [c.name for c in await stores(turn.repos).counters.for_member(turn.member.id)]
        problem = check_name(name, [n for n in others if n != counter.name])
        if problem is not None:
            _name_problem(turn, problem, name)
            await open_at(turn, EDIT_FLOW, "name", context=again)
        elif await stores(turn.repos).counters.rename(turn.member.id, counter.id, name):
            turn.say("days.renamed", old=counter.name, name=name)
        return
    parsed = parse_start(typed, today(turn))
    if isinstance(parsed, DateProblem):
        example = (today(turn) - timedelta(days=30)).isoformat()
        turn.say(DATE_KEYS[parsed], date=typed.strip()[:10], example=example)
        await open_at(turn, EDIT_FLOW, step, context=again)
    elif step == "slip_date":
        if await _slip_fits(turn, counter, parsed):
            await _record_slip_on(turn, counter, parsed)
        else:
            await open_at(turn, EDIT_FLOW, step, context=again)
    elif await stores(turn.repos).counters.set_start(turn.member.id, counter.id, parsed):
        moved = replace(counter, started_on=parsed)
        st = await _settle_celebrated(turn, moved)
        text = turn.cat.text("days.start_changed", name=counter.name, since=parsed.isoformat())
        turn.add(Reply(f"{text}\n{counter_text(turn, moved, st)}"))


async def days_choice(turn: Turn, rest: str) -> None:
    action, _, arg = rest.partition(":")
    if action == "add" and not arg:
        await start_add(turn)
        return
    if action == "keep" and not arg:
        turn.say("days.kept")
        return
    if action == "unslip":
        slip = await _find_slip(turn, arg)
        counter = await _find(turn, str(slip.counter_id)) if slip is not None else None
        if slip is None or counter is None:
            turn.say("days.not_found")
            await show_counters(turn)
        else:
            await _undo(turn, counter, slip)
        return
    counters_actions = ("slip", "rm", "rmyes", *COUNTER_ACTIONS)
    counter = await _find(turn, arg) if action in counters_actions else None
    if counter is None:
        turn.say("days.not_found")
        await show_counters(turn)
    elif action in COUNTER_ACTIONS:
        await COUNTER_ACTIONS[action](turn, counter)
    elif action == "slip":
        await record_slip(turn, counter)
    elif action == "rm":
        choices = (
            Choice(f"{PREFIX}:rmyes:{counter.id}", turn.cat.text("days.remove_yes")),
            Choice(f"{PREFIX}:keep", turn.cat.text("days.remove_no")),
        )
        turn.say("days.confirm_remove", choices, name=counter.name)
    elif await stores(turn.repos).counters.remove(turn.member.id, counter.id):
        turn.say("days.removed", name=counter.name)
    else:
        turn.say("days.not_found")


FEATURE = Feature(
    name="days",
    order=70,
    commands={"days": days_command},
    buttons=frozenset({"days"}),
    choices={PREFIX: days_choice},
    finishers={ADD_FLOW: finish_add, SLIP_FLOW: finish_slip, EDIT_FLOW: finish_edit},
    messages=MESSAGES,
    flows=FLOWS,
    member_data=("counters",),
)
