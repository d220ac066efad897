"""/days: optional, private day counters; a slip is noted without wiping anything."""

from __future__ import annotations

from datetime import date, timedelta

from core.days import (
    MAX_COUNTERS,
    MILESTONES,
    NAME_MAX,
    YEAR,
    Counter,
    DateProblem,
    NameProblem,
    Stats,
    check_name,
    clean_name,
    milestone_due,
    parse_start,
    stats,
)
from core.features.base import Feature
from core.flows.engine import FlowState
from core.model import Choice, Reply
from core.numbers import parse_number
from core.reopen import open_at
from core.safetyplan import pack
from core.turn import Turn

PREFIX = "days"
ADD_FLOW = "days_add"
SLIP_FLOW = "days_slip"
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
    slips = await turn.repos.counters.slips(turn.member.id, counter.id)
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
        label = c.text("days.remove", name=counter.name)
        choices.append(Choice(f"{PREFIX}:rm:{counter.id}", label))
    if len(counters) < MAX_COUNTERS:
        choices.append(Choice(f"{PREFIX}:add", c.text("days.add")))
    return tuple(choices)


async def show_counters(turn: Turn, heading: str = "days.heading") -> None:
    counters = await turn.repos.counters.for_member(turn.member.id)
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
            await turn.repos.counters.set_celebrated(turn.member.id, counter.id, due)
    messages = pack(blocks)
    for text in milestones:
        turn.add(Reply(text))
    for text in messages[:-1]:
        turn.add(Reply(text))
    turn.add(Reply(messages[-1], choices=_menu(turn, counters)))


async def days_command(turn: Turn, args: tuple[str, ...]) -> None:
    sub = args[0].casefold() if args else ""
    if sub == "add":
        await start_add(turn)
    elif sub == "slip":
        await slip_by_name(turn, " ".join(args[1:]))
    else:
        if sub:
            turn.say("days.usage")
        await show_counters(turn)


async def start_add(turn: Turn) -> None:
    counters = await turn.repos.counters.for_member(turn.member.id)
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
    name = clean_name(raw)
    counters = await turn.repos.counters.for_member(member)
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
    await turn.repos.counters.add(member, name, started, turn.now)
    turn.say("days.started", name=name, since=started.isoformat())
    await show_counters(turn)


async def _find(turn: Turn, counter_id: str) -> Counter | None:
    wanted = parse_number(counter_id)
    if wanted is None:
        return None
    counters = await turn.repos.counters.for_member(turn.member.id)
    return next((c for c in counters if c.id == wanted), None)


async def record_slip(turn: Turn, counter: Counter) -> None:
    slip = await turn.repos.counters.add_slip(turn.member.id, counter.id, today(turn), turn.now)
    st = await counter_stats(turn, counter)
    text = turn.cat.text("days.slip_noted", name=counter.name)
    turn.add(Reply(f"{text}\n{counter_text(turn, counter, st)}"))
    await turn.start_flow(SLIP_FLOW, {"slip": str(slip.id)})


async def slip_by_name(turn: Turn, typed: str) -> None:
    counters = await turn.repos.counters.for_member(turn.member.id)
    if not counters:
        turn.say("days.none_yet")
        return
    name = clean_name(typed).casefold()
    match = next((c for c in counters if c.name.casefold() == name), None)
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
        saved = slip_id is not None and await turn.repos.counters.set_slip_note(
            turn.member.id, slip_id, text.strip()
        )
        turn.say("days.reflect_saved" if saved else "days.reflect_lost")


async def days_choice(turn: Turn, rest: str) -> None:
    action, _, arg = rest.partition(":")
    if action == "add" and not arg:
        await start_add(turn)
        return
    if action == "keep" and not arg:
        turn.say("days.kept")
        return
    counter = await _find(turn, arg) if action in ("slip", "rm", "rmyes") else None
    if counter is None:
        turn.say("days.not_found")
        await show_counters(turn)
    elif action == "slip":
        await record_slip(turn, counter)
    elif action == "rm":
        choices = (
            Choice(f"{PREFIX}:rmyes:{counter.id}", turn.cat.text("days.remove_yes")),
            Choice(f"{PREFIX}:keep", turn.cat.text("days.remove_no")),
        )
        turn.say("days.confirm_remove", choices, name=counter.name)
    elif await turn.repos.counters.remove(turn.member.id, counter.id):
        turn.say("days.removed", name=counter.name)
    else:
        turn.say("days.not_found")


FEATURE = Feature(
    name="days",
    commands={"days": days_command},
    buttons=frozenset({"days"}),
    choices={PREFIX: days_choice},
    finishers={ADD_FLOW: finish_add, SLIP_FLOW: finish_slip},
)
