"""Group check-ins: moderators' /schedule and /group settings, the private check-in a group's
prompt opens (/start gcheckin-<token>), the share choice with its preview, and /remind.

Who moderates is the adapter's call (Event.is_moderator). A group sees the prompt, what a
member chose to share (under their name), and totals; nothing else a member answered.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.checkin.logic import answered, build_checkin
from core.crisis.reply import resources_text
from core.groups.audit.log import record, show_audit
from core.groups.audit.records import Action
from core.groups.checkins.content import FLOWS, MESSAGES
from core.groups.checkins.engine import LINK_COMMAND, POST_TOKEN, prompt_reply
from core.groups.checkins.ports import host, stores
from core.groups.declared import setting_value
from core.groups.moderators import refused_moderator
from core.groups.reachouts.logic import after_group_checkin, offer_reach_out, tell_gone
from core.groups.records import ALL_DAYS, Group, Reminder, Response, Schedule, kept_settings
from core.groups.screening import settings as group_safety
from core.groups.times import (
    Rule,
    days_text,
    hhmm,
    next_run,
    parse_date,
    parse_days,
    parse_hhmm,
    parse_tz,
    suggest_tz,
)
from core.kernel.catalog import Catalog
from core.kernel.feature import Command, Feature, GroupSetting, Where
from core.kernel.flows.engine import FlowState
from core.kernel.membership import Check
from core.kernel.model import Choice, Reply, SpaceKind
from core.kernel.names import NAME_LIMIT, name_slot, naming
from core.kernel.numbers import parse_number
from core.kernel.shown import echo, one_line
from core.kernel.turn import Host, Turn
from core.outbox.drainer import payload
from core.outbox.records import NewOutboxItem

MAX_SCHEDULES = 10
PROMPT_LIMIT = 300
# A group's prompt stays open for check-ins this long after it was posted.
POST_OPEN = timedelta(hours=36)
MAX_AHEAD_DAYS = 2 * 366
CHANNEL = re.compile(r"[A-Za-z0-9_-]{1,64}")
SHARE_PREFIX = "gshare"
EX_ADD = "/schedule add 09:00 Europe/Berlin weekdays"
EX_REMIND = "/remind 08:30 Europe/Berlin"


def _public(turn: Turn, key: str, **params: str | int) -> None:
    turn.add(Reply(turn.cat.text(key, **params), private=False))


def _when(due: datetime | None, tz: str, turn: Turn) -> str:
    if due is None:
        return turn.cat.text("schedule.next_none")
    return due.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y, %H:%M")


async def _group(turn: Turn) -> Group:
    return await stores(turn.repos).groups.get_or_create(
        turn.event.platform, turn.event.space.id, turn.now
    )


def _rule(schedule: Schedule, group: Group) -> Rule | None:
    at, tz = parse_hhmm(schedule.at), parse_tz(schedule.timezone)
    if at is None or tz is None:
        return None
    return Rule(at, tz, schedule.days, schedule.skip_dates | group.holidays)


def _next(turn: Turn, schedule: Schedule, group: Group) -> str:
    rule = _rule(schedule, group)
    due = next_run(rule, turn.now) if rule is not None and not schedule.paused else None
    return _when(due, schedule.timezone, turn)


def _tz_problem(turn: Turn, typed: str, example: str) -> str:
    suggestion = suggest_tz(typed)
    if suggestion:
        return turn.cat.text(
            "schedule.tz_suggest", got=echo(typed), suggestion=suggestion, example=example
        )
    return turn.cat.text("schedule.tz_invalid", got=echo(typed), example=example)


def _looks_like_tz(word: str) -> bool:
    return "/" in word or parse_tz(word) is not None or "/" in suggest_tz(word)


def _date_problem(turn: Turn, typed: str | None, today: date, example: str) -> date | str:
    if not typed:
        return turn.cat.text("schedule.date_missing", example=example)
    day = parse_date(typed)
    if day is None:
        return turn.cat.text("schedule.date_invalid", got=echo(typed), example=example)
    if day < today:
        return turn.cat.text("schedule.date_past", date=day.isoformat(), example=example)
    if day > today + timedelta(days=MAX_AHEAD_DAYS):
        return turn.cat.text("schedule.date_too_far", date=day.isoformat(), example=example)
    return day


# -- /schedule ------------------------------------------------------------------------------


async def schedule_command(turn: Turn, args: tuple[str, ...]) -> None:
    if turn.event.space.kind is not SpaceKind.GROUP:
        turn.say("schedule.group_only")
        return
    if refused_moderator(turn, "schedule.not_moderator"):
        return
    group = await _group(turn)
    await tell_gone(turn, group)  # a schedule paused because its channel is gone, once
    sub, rest = (args[0].casefold(), args[1:]) if args else ("", ())
    handlers = {
        "add": _add,
        "list": _list,
        "preview": _preview,
        "pause": _pause,
        "resume": _resume,
        "remove": _remove,
        "skip": _skip,
        "holiday": _holiday,
        "holidays": _holidays,
    }
    handler = handlers.get(sub)
    if handler is None:
        if sub:
            _public(turn, "schedule.unknown", got=echo(sub))
        _public(turn, "schedule.usage")
        return
    await handler(turn, group, rest)


async def _add(turn: Turn, group: Group, rest: tuple[str, ...]) -> None:
    if not rest:
        _public(turn, "schedule.time_missing", example=EX_ADD)
        return
    at = parse_hhmm(rest[0])
    if at is None:
        _public(turn, "schedule.time_invalid", got=echo(rest[0]), example=EX_ADD)
        return
    i, tz = 1, group.timezone
    # "tz:" and "days:" name their value outright (Discord's options): checked, never a prompt.
    named_tz = len(rest) > i and rest[i].casefold().startswith("tz:")
    if named_tz or (len(rest) > i and _looks_like_tz(rest[i])):
        typed = rest[i][3:] if named_tz else rest[i]
        if parse_tz(typed) is None:
            turn.add(Reply(_tz_problem(turn, typed, EX_ADD), private=False))
            return
        tz, i = typed, i + 1
    days = ALL_DAYS
    if len(rest) > i and rest[i].casefold().startswith("days:"):
        if (named := parse_days(rest[i][5:])) is None:
            example = "/schedule add 09:00 Europe/Berlin mon,wed,fri"
            _public(turn, "remind.days_invalid", got=echo(rest[i][5:]), example=example)
            return
        days, i = named, i + 1
    elif len(rest) > i and (chosen := parse_days(rest[i])):
        days, i = chosen, i + 1
    target = ""
    if len(rest) > i and rest[i].casefold().startswith("in:"):
        target, i = rest[i][3:], i + 1
        if not CHANNEL.fullmatch(target):
            example = "/schedule add 09:00 Europe/Berlin daily in:12345"
            _public(turn, "group.channel_invalid", example=example)
            return
        # Only a place inside this group, as the platform says (issue 12).
        check = await turn.app.membership.channel_in_group(group.platform, group.space_id, target)
        if check is not Check.YES:
            unchecked = check is Check.UNKNOWN
            _public(turn, "trust.modchannel_unchecked" if unchecked else "schedule.channel_refused")
            return
    text = one_line(" ".join(rest[i:]))  # the group's own prompt, posted for all to see
    if len(text) > PROMPT_LIMIT:
        _public(turn, "schedule.prompt_too_long", got=len(text), limit=PROMPT_LIMIT)
        return
    if len(await stores(turn.repos).groups.schedules(group.id)) >= MAX_SCHEDULES:
        _public(turn, "schedule.too_many", limit=MAX_SCHEDULES)
        return
    first = not await stores(turn.repos).groups.schedules(group.id)
    new = Schedule(0, group.id, hhmm(at), tz, days, "" if text else "default", text, target)
    schedule = await stores(turn.repos).groups.add_schedule(new, turn.now)
    await record(turn, group, Action.SCHEDULE_ADD, schedule.id, new=_described(schedule))
    _public(
        turn,
        "schedule.added",
        id=schedule.id,
        time=schedule.at,
        tz=tz,
        days=days_text(days),
        next=_next(turn, schedule, group),
    )
    if first and tz != group.timezone and group.timezone == "UTC":
        # The group's first check-in names its timezone: the summary keeps to it too.
        old_tz, group = group.timezone, replace(group, timezone=tz)
        await stores(turn.repos).groups.put_setting(group.id, "timezone", tz, turn.now)
        await record(turn, group, Action.SETTING, "timezone", old_tz, tz)
        _public(turn, "schedule.tz_default", tz=tz)


def _described(schedule: Schedule) -> str:
    """A schedule as the audit log keeps it: time, timezone, days, its own prompt, topic."""
    text = f"{schedule.at} {schedule.timezone}, {days_text(schedule.days)}"
    if schedule.prompt_text:
        text += f', "{schedule.prompt_text}"'
    return text + (f", in:{schedule.target}" if schedule.target else "")


async def _list(turn: Turn, group: Group, rest: tuple[str, ...]) -> None:
    schedules = await stores(turn.repos).groups.schedules(group.id)
    if not schedules:
        _public(turn, "schedule.list_empty")
        return
    lines = [turn.cat.text("schedule.list_head")]
    for s in schedules:
        state = turn.cat.text("schedule.state_paused" if s.paused else "schedule.state_active")
        lines.append(
            turn.cat.text(
                "schedule.list_line",
                id=s.id,
                time=s.at,
                tz=s.timezone,
                days=days_text(s.days),
                state=state,
                next=_next(turn, s, group),
            )
        )
    turn.add(Reply("\n".join(lines), private=False))


async def _find(turn: Turn, group: Group, rest: tuple[str, ...], example: str) -> Schedule | None:
    wanted = parse_number(rest[0]) if rest else None
    if wanted is None:
        _public(turn, "schedule.id_missing", example=example)
        return None
    for schedule in await stores(turn.repos).groups.schedules(group.id):
        if schedule.id == wanted:
            return schedule
    _public(turn, "schedule.not_found", id=wanted)
    return None


async def _preview(turn: Turn, group: Group, rest: tuple[str, ...]) -> None:
    schedule = await _find(turn, group, rest, "/schedule preview 1")
    if schedule is not None:
        _public(turn, "schedule.preview", id=schedule.id)
        turn.add(prompt_reply(turn.cat, schedule, "preview"))


async def _pause(turn: Turn, group: Group, rest: tuple[str, ...]) -> None:
    schedule = await _find(turn, group, rest, "/schedule pause 1")
    if schedule is not None:
        await stores(turn.repos).groups.update_schedule(_with(schedule, paused=True), turn.now)
        if not schedule.paused:
            await record(turn, group, Action.SCHEDULE_PAUSE, schedule.id, "on", "paused")
        _public(turn, "schedule.paused", id=schedule.id)


async def _resume(turn: Turn, group: Group, rest: tuple[str, ...]) -> None:
    schedule = await _find(turn, group, rest, "/schedule resume 1")
    if schedule is not None:
        resumed = _with(schedule, paused=False)
        await stores(turn.repos).groups.update_schedule(resumed, turn.now)
        if schedule.paused:
            await record(turn, group, Action.SCHEDULE_RESUME, schedule.id, "paused", "on")
        _public(turn, "schedule.resumed", id=schedule.id, next=_next(turn, resumed, group))


async def _remove(turn: Turn, group: Group, rest: tuple[str, ...]) -> None:
    schedule = await _find(turn, group, rest, "/schedule remove 1")
    if schedule is not None and await stores(turn.repos).groups.remove_schedule(
        group.id, schedule.id
    ):
        await record(turn, group, Action.SCHEDULE_REMOVE, schedule.id, old=_described(schedule))
        _public(turn, "schedule.removed", id=schedule.id)


def _today(turn: Turn, tz: str) -> date:
    zone = parse_tz(tz)
    return turn.now.astimezone(zone).date() if zone is not None else turn.now.date()


async def _skip(turn: Turn, group: Group, rest: tuple[str, ...]) -> None:
    schedule = await _find(turn, group, rest, "/schedule skip 1 2026-12-24")
    if schedule is None:
        return
    today = _today(turn, schedule.timezone)
    example = f"/schedule skip {schedule.id} {(today + timedelta(days=1)).isoformat()}"
    day = _date_problem(turn, rest[1] if len(rest) > 1 else None, today, example)
    if isinstance(day, str):
        turn.add(Reply(day, private=False))
        return
    skipping = _with(schedule, skip_dates=schedule.skip_dates | {day})
    await stores(turn.repos).groups.update_schedule(skipping, turn.now)
    if day not in schedule.skip_dates:
        await record(turn, group, Action.SCHEDULE_SKIP, schedule.id, new=day.isoformat())
    _public(turn, "schedule.skipped", id=schedule.id, date=day.isoformat())


async def _holiday(turn: Turn, group: Group, rest: tuple[str, ...]) -> None:
    action = rest[0].casefold() if rest else ""
    today = _today(turn, group.timezone)
    example = f"/schedule holiday add {(today + timedelta(days=1)).isoformat()}"
    if action not in ("add", "remove"):
        _public(turn, "schedule.usage")
        return
    day = _date_problem(turn, rest[1] if len(rest) > 1 else None, today, example)
    if isinstance(day, str):
        turn.add(Reply(day, private=False))
        return
    changed = await stores(turn.repos).groups.set_holiday(group.id, day, action == "add")
    if changed and action == "add":
        await record(turn, group, Action.HOLIDAY_ADD, new=day.isoformat())
    elif changed:
        await record(turn, group, Action.HOLIDAY_REMOVE, old=day.isoformat())
    key = {"add": "schedule.holiday_added", "remove": "schedule.holiday_removed"}[action]
    _public(turn, key if changed or action == "add" else "schedule.holiday_none", date=str(day))


async def _holidays(turn: Turn, group: Group, rest: tuple[str, ...]) -> None:
    if not group.holidays:
        _public(turn, "schedule.holidays_empty")
        return
    dates = ", ".join(d.isoformat() for d in sorted(group.holidays))
    _public(turn, "schedule.holidays_list", dates=dates)


def _with(schedule: Schedule, **changes: object) -> Schedule:
    return replace(schedule, **changes)  # type: ignore[arg-type]


# -- /group settings --------------------------------------------------------------------------

# What clears a group's language (then: English).
LANGUAGE_DEFAULT = ("default", "off", "none")


async def group_command(turn: Turn, args: tuple[str, ...]) -> None:
    if turn.event.space.kind is not SpaceKind.GROUP:
        turn.say("group.group_only")
        return
    group = await _group(turn)
    await tell_gone(turn, group)  # moderators only: a schedule paused because it was gone
    if args and args[0].casefold() == "audit":
        await show_audit(turn, group)
        return
    if args and args[0].casefold() == "terms":
        await group_safety.terms_command(turn, group, args[1:])
        return
    if len(args) < 2:
        _public(turn, "group.settings", **_settings_view(turn, group))
        turn.replies[-1] = replace(
            turn.replies[-1], text=f"{turn.replies[-1].text}\n{_language_line(turn, group)}"
        )
        await group_safety.add_settings_view(turn, group)
        await _add_declared_view(turn, group)
        return
    if refused_moderator(turn, "group.not_moderator"):
        return
    name, value = args[1].casefold(), " ".join(args[2:]).strip()
    # Every feature's settings, as declared (screening and retention are issue 7's).
    setting = host(turn.app).registry.group_settings.get(name)
    if setting is None:
        _public(turn, "group.unknown_setting", got=echo(name))
        return
    if setting.change is None:
        await keep_declared(turn, group, setting, value)
    else:
        await setting.change(turn, group, name, value)


async def _add_declared_view(turn: Turn, group: Group) -> None:
    """A line in the overview for each setting kept by name without a change of its own."""
    groups = stores(turn.repos).groups
    lines = [
        turn.cat.text(
            "group.declared_line",
            name=s.name,
            value=echo(await setting_value(groups, group.id, s)),
            example=s.example,
        )
        for s in host(turn.app).registry.group_settings.values()
        if s.change is None
    ]
    if lines and turn.replies:
        last = turn.replies[-1]
        turn.replies[-1] = replace(last, text="\n".join((last.text, *lines)))


# A value kept by name is one line of at most this many characters.
DECLARED_VALUE_LIMIT = 64


async def keep_declared(turn: Turn, group: Group, setting: GroupSetting, value: str) -> None:
    """A declared setting without storage of its own: checked against what it takes, kept by
    name, audited."""
    kept = _declared_value(turn, setting, value)
    if kept is None:
        _public(turn, "group.value_missing", name=setting.name, example=setting.example)
        return
    groups = stores(turn.repos).groups
    old = await setting_value(groups, group.id, setting)
    await groups.put_setting(group.id, setting.name, kept, turn.now)
    if old != kept:
        await record(turn, group, Action.SETTING, setting.name, old, kept)
    _public(turn, "group.saved", name=setting.name, value=kept)


def _declared_value(turn: Turn, setting: GroupSetting, value: str) -> str | None:
    """The value as it is kept, or None when the setting does not take it."""
    if not value:
        return None
    if isinstance(setting.values, tuple):
        word = value.casefold()
        return word if word in setting.values else None
    if setting.values == "timezone":
        return value if parse_tz(value) is not None else None
    if setting.values == "country":
        code = value.upper()
        return code if code in turn.cat.countries else None
    if setting.values == "language":
        return host(turn.app).languages.find(value)
    shown = one_line(value)
    return shown if 0 < len(shown) <= DECLARED_VALUE_LIMIT else None


async def change_group_setting(turn: Turn, group: Group, name: str, value: str) -> None:
    """One of the group's own settings (stored with the group): checked, kept, audited."""
    if not value:
        _public(turn, "group.value_missing", name=name, example=SETTING_EXAMPLES[name])
        return
    changed = _change(turn, group, name, value)
    if isinstance(changed, str):
        turn.add(Reply(changed, private=False))
        return
    if name == "modchannel" and changed.mod_channel:
        # Only a place that belongs to this group, as the platform says (issue 12).
        check = await turn.app.membership.mod_channel(
            group.platform, group.space_id, changed.mod_channel, turn.event.user_id
        )
        if check is not Check.YES:
            unchecked = check is Check.UNKNOWN
            _public(turn, "trust.modchannel_unchecked" if unchecked else "trust.modchannel_refused")
            return
    # Only the setting changed is written: another moderator's change meanwhile stays.
    old, new = kept_settings(group)[name], kept_settings(changed)[name]
    await stores(turn.repos).groups.put_setting(group.id, name, new, turn.now)
    if old != new:
        await record(turn, group, Action.SETTING, name, old, new)
    if name == "language":
        # Said in the group's new language, like everything posted here from now on.
        languages = host(turn.app).languages
        languages.group_changed((changed.platform, changed.space_id), changed.language)
        turn.cat = languages.catalog(changed.language)
    view = _settings_view(turn, changed)
    shown = {"modchannel": "mods"}.get(name, name)
    _public(turn, "group.saved", name=name, value=view[shown])


def _change(turn: Turn, group: Group, name: str, value: str) -> Group | str:
    example = SETTING_EXAMPLES[name]
    off = value.casefold() in ("off", "none", "no")
    if name == "timezone":
        if parse_tz(value) is None:
            return _tz_problem(turn, value, example)
        return replace(group, timezone=value)
    if name == "country":
        code = value.upper()
        if code in ("DEFAULT", "OFF"):
            return replace(group, country="")
        if code not in turn.cat.countries:
            return turn.cat.text("group.country_invalid", got=echo(value), example=example)
        return replace(group, country=code)
    if name == "language":
        if value.casefold() in LANGUAGE_DEFAULT:
            return replace(group, language="")
        language = host(turn.app).languages.find(value)
        if language is None:
            return turn.cat.text(
                "group.language_invalid",
                got=echo(value),
                example=example,
                languages=", ".join(
                    f"{host(turn.app).languages.name(c)} ({c})"
                    for c in host(turn.app).languages.shipped
                ),
            )
        return replace(group, language=language)
    if name == "summary":
        if off:
            return replace(group, summary_time="")
        at = parse_hhmm(value)
        if at is None:
            return turn.cat.text("schedule.time_invalid", got=echo(value), example=example)
        return replace(group, summary_time=hhmm(at))
    if name == "modchannel":
        if off:
            return replace(group, mod_channel="")
        if not CHANNEL.fullmatch(value):
            return turn.cat.text("group.channel_invalid", example=example)
        return replace(group, mod_channel=value)
    if value.casefold() not in ("on", "off", "yes", "no"):
        return turn.cat.text("group.on_off_invalid", example=example)
    return replace(group, volunteers=value.casefold() in ("on", "yes"))


def _settings_view(turn: Turn, group: Group) -> dict[str, str | int]:
    c = turn.cat
    country = group.country or c.text(
        "group.country_default", country=turn.app.settings.default_country
    )
    summary = (
        c.text("group.summary_at", time=group.summary_time)
        if group.summary_time
        else c.text("group.off")
    )
    return {
        "timezone": group.timezone,
        "country": country,
        "summary": summary,
        "mods": group.mod_channel or c.text("group.mods_none"),
        "volunteers": c.text("group.on" if group.volunteers else "group.off"),
        "language": _language_value(turn, group),
    }


def _language_value(turn: Turn, group: Group) -> str:
    languages = host(turn.app).languages
    if group.language in languages.shipped:
        return languages.name(group.language)
    return turn.cat.text("group.language_default", language=languages.name("en"))


def _language_line(turn: Turn, group: Group) -> str:
    return turn.cat.text("group.language_line", language=_language_value(turn, group))


# -- the private check-in a group's prompt opens ------------------------------------------------


async def open_group_checkin(turn: Turn, args: tuple[str, ...]) -> None:
    """`/start gcheckin-<token>`: the link names its post by a random token; a post number or
    a wrong token opens nothing, and the platform is asked whether the member may open it."""
    token = args[0] if args else ""
    post = (
        await stores(turn.repos).groups.post_by_token(token)
        if POST_TOKEN.fullmatch(token)
        else None
    )
    group = await stores(turn.repos).groups.by_id(post.group_id) if post is not None else None
    if (
        post is None
        or group is None
        or group.platform != turn.event.platform
        or turn.now - post.due_at > POST_OPEN
    ):
        turn.say("gcheckin.unknown_post")
        return
    check = await turn.app.membership.opens_from(group.space_id, turn.event)
    if check is not Check.YES:
        unchecked = check is Check.UNKNOWN
        turn.say("trust.checkin_unchecked" if unchecked else "trust.checkin_members_only")
        return
    await turn.start_flow("group_checkin", {"post": str(post.id)})
    await offer_reach_out(turn, group)  # asked only where the group can take one


async def _membership(turn: Turn, group_id: int) -> Check:
    """Asked of the platform right before anything reaches the group: is the member still in
    it? One who left is forgotten there (nothing of the group reaches them, volunteering
    included)."""
    question = f"in_group:{group_id}"
    if question in turn.asked:
        return turn.asked[question]
    group = await stores(turn.repos).groups.by_id(group_id)
    if group is None:
        return Check.NO
    check = await turn.app.membership.in_group(group.platform, group.space_id, turn.event.user_id)
    if check is Check.NO:
        await stores(turn.repos).reachouts.left(group.id, turn.member.id)
    turn.asked[question] = check
    return check


async def ask_before_finishing(turn: Turn, state: FlowState) -> None:
    """Before a group check-in's writes begin: the platform is asked whether the member is still
    in the group, so the finisher reads the answer without a network call under the lock."""
    post_id = parse_number(state.context.get("post", ""))
    post = await stores(turn.repos).groups.post(post_id) if post_id is not None else None
    if post is not None:
        await _membership(turn, post.group_id)


def _refuse(turn: Turn, check: Check, what: str) -> None:
    turn.say(f"trust.{what}_{'unchecked' if check is Check.UNKNOWN else 'not_member'}")


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


async def finish_group_checkin(turn: Turn, state: FlowState) -> None:
    post_id = parse_number(state.context.get("post", ""))
    post = await stores(turn.repos).groups.post(post_id) if post_id is not None else None
    if post is None:
        turn.say("gcheckin.unknown_post")
        return
    answers = state.answers
    mood = _int(answers.get("mood"))
    editing = state.context.get("editing") == "1"  # a changed line: the answers stand
    kept = build_checkin(turn.member.id, answers, turn.now)
    if not editing and turn.member.consent and answered(kept):
        # The member's own check-in is theirs, whatever the group: kept as they chose (one
        # with every question skipped is no check-in).
        await stores(turn.repos).checkins.add(kept)
    # Everything below reaches the group (its totals, what is shared, a reach-out request):
    # only while the platform says the member is still in it.
    check = await _membership(turn, post.group_id)
    if check is not Check.YES:
        _refuse(turn, check, "finish")
        if not editing and answers.get("reach") == "yes":
            turn.add(Reply(resources_text(turn.cat, turn.country)))  # asked; nobody can be
        return
    if not editing:
        reach = answers.get("reach") == "yes"  # counted in the summary's totals
        response = Response(post.id, turn.member.id, mood, _int(answers.get("urge")), reach)
        await stores(turn.repos).groups.put_response(response, turn.now)
    share = "line" if editing else answers.get("share")
    line = answers.get("line")
    if share == "mood" and mood is None:
        turn.say("gcheckin.no_mood")
    elif share == "mood":
        name = await _name_slot(turn)
        posted = await _group_cat(turn, post.group_id)  # the group's language (issue 16)
        text = posted.text("gcheckin.shared_mood", name=name, mood=mood or 0)
        item = await _share_item(turn, post.id, text)
        shared = await stores(turn.repos).groups.add_share(
            post.id, turn.member.id, "mood", "", turn.now
        )
        await stores(turn.repos).groups.settle_share(shared.id, "posted", item, turn.now)
        turn.say("gcheckin.mood_shared")
    elif share == "line" and isinstance(line, str) and one_line(line):
        # Kept and shown as the group will see it: one line (issue 12).
        shown = one_line(line)
        shared = await stores(turn.repos).groups.add_share(
            post.id, turn.member.id, "line", shown, turn.now
        )
        _preview_share(turn, shared.id, shown, await _group_cat(turn, post.group_id))
    else:
        turn.say("gcheckin.thanks_nothing")
    if not editing:
        await after_group_checkin(turn, post, answers)  # belonging, and a reach-out if asked


def _name(turn: Turn, posted: Catalog) -> str:
    return one_line(turn.event.display_name, NAME_LIMIT) or posted.text("gcheckin.someone")


async def _group_cat(turn: Turn, group_id: int) -> Catalog:
    """The language of what reaches a group: the group's own (issue 16)."""
    return host(turn.app).languages.for_group(await stores(turn.repos).groups.by_id(group_id))


async def _name_slot(turn: Turn) -> str:
    """The member's name in what the group is sent, filled in when it goes out
    (core.kernel.names)."""
    return await name_slot(turn.repos.names, turn.member.id, turn.event.display_name, turn.now)


def _preview_share(turn: Turn, share_id: int, line: str, posted: Catalog) -> None:
    """The line as the group will see it (in the group's language), with the member's choices."""
    shown = posted.text("gcheckin.shared_line", name=_name(turn, posted), line=line)
    choices = tuple(
        Choice(f"{SHARE_PREFIX}:{action}:{share_id}", turn.cat.text(f"gcheckin.{label}"))
        for action, label in (("post", "post_it"), ("edit", "change_it"), ("keep", "keep_private"))
    )
    turn.say("gcheckin.preview", choices, line=shown)


async def _share_item(turn: Turn, post_id: int, text: str) -> NewOutboxItem | None:
    post = await stores(turn.repos).groups.post(post_id)
    group = await stores(turn.repos).groups.by_id(post.group_id) if post is not None else None
    if post is None or group is None:
        return None
    thread = ""
    for schedule in await stores(turn.repos).groups.schedules(group.id):
        if schedule.id == post.schedule_id:
            thread = schedule.target
    posted = host(turn.app).languages.for_group(group)
    reply = Reply(text, private=False, meta={"locale": posted.locale})
    data = payload(reply, thread=thread, reply_to_post=post.id)
    data = naming(data, [turn.member.id], posted.text("gcheckin.someone"))
    return NewOutboxItem(group.platform, group.space_id, data)


async def share_choice(turn: Turn, rest: str) -> None:
    action, _, raw = rest.partition(":")
    share_id = parse_number(raw)
    share = (
        None
        if share_id is None
        else await stores(turn.repos).groups.share(turn.member.id, share_id)
    )
    if share is None or action not in ("post", "edit", "keep"):
        turn.say("flow.stale")
        return
    post = await stores(turn.repos).groups.post(share.post_id)
    check = Check.NO
    if share.state == "preview" and action == "post" and post is not None:
        check = await _membership(turn, post.group_id)
    if share.state != "preview":
        turn.say("gcheckin.already")
    elif action == "post" and post is not None and check is not Check.YES:
        # Not in the group (any more): nothing is posted. One who left has the line dropped;
        # when the platform could not be asked, it waits in the preview for another tap.
        if check is Check.NO:
            await stores(turn.repos).groups.settle_share(share.id, "dropped", None, turn.now)
        _refuse(turn, check, "share")
    elif action == "post":
        line = one_line(share.line)  # a line kept before lines were cleaned is cleaned here
        group_cat = await _group_cat(turn, post.group_id) if post else turn.cat
        text = group_cat.text("gcheckin.shared_line", name=await _name_slot(turn), line=line)
        item = await _share_item(turn, share.post_id, text)
        posted = item is not None and await stores(turn.repos).groups.settle_share(
            share.id, "posted", item, turn.now
        )
        turn.say("gcheckin.shared" if posted else "gcheckin.already")
    elif action == "keep":
        await stores(turn.repos).groups.settle_share(share.id, "dropped", None, turn.now)
        turn.say("gcheckin.kept_private")
    else:
        await stores(turn.repos).groups.settle_share(share.id, "dropped", None, turn.now)
        context = {"post": str(share.post_id), "editing": "1"}
        await turn.start_flow("group_checkin", context, at="line")


# -- /remind ----------------------------------------------------------------------------------


async def remind_command(turn: Turn, args: tuple[str, ...]) -> None:
    current = await stores(turn.repos).reminders.get(turn.member.id)
    sub = args[0].casefold() if args else ""
    if not sub:
        _remind_status(turn, current)
    elif sub == "off":
        await stores(turn.repos).reminders.delete(turn.member.id)
        turn.say("remind.off")
    elif sub in ("pause", "resume") and current is None:
        turn.say("remind.none")
    elif sub in ("pause", "resume") and current is not None:
        await stores(turn.repos).reminders.put(replace(current, paused=sub == "pause"), turn.now)
        turn.say("remind.paused" if sub == "pause" else "remind.resumed")
    elif sub == "quiet":
        await _remind_quiet(turn, current, " ".join(args[1:]))
    else:
        await _remind_set(turn, current, args)


def _remind_status(turn: Turn, current: Reminder | None) -> None:
    if current is None:
        turn.say("remind.none")
        return
    c = turn.cat
    turn.say(
        "remind.status",
        time=current.at,
        tz=current.timezone,
        state=c.text("remind.state_paused" if current.paused else "remind.state_on"),
        quiet=days_text(current.quiet_days) if current.quiet_days else c.text("remind.quiet_none"),
    )


async def _remind_quiet(turn: Turn, current: Reminder | None, typed: str) -> None:
    if current is None:
        turn.say("remind.none")
        return
    if typed.casefold() in ("none", "off", ""):
        days: frozenset[int] | None = frozenset()
    else:
        days = parse_days(typed)
    if days is None:
        turn.say("remind.days_invalid", got=echo(typed), example="/remind quiet sat,sun")
        return
    await stores(turn.repos).reminders.put(replace(current, quiet_days=days), turn.now)
    shown = days_text(days) if days else turn.cat.text("remind.quiet_none")
    turn.say("remind.quiet_set", days=shown)


async def _remind_set(turn: Turn, current: Reminder | None, args: tuple[str, ...]) -> None:
    at = parse_hhmm(args[0])
    if at is None:
        turn.say("schedule.time_invalid", got=echo(args[0]), example=EX_REMIND)
        return
    if len(args) > 1:
        if parse_tz(args[1]) is None:
            turn.add(Reply(_tz_problem(turn, args[1], EX_REMIND)))
            return
        tz = args[1]
    elif current is not None:
        tz = current.timezone
    else:
        turn.say("remind.tz_needed", example=f"/remind {hhmm(at)} Europe/Berlin")
        return
    quiet = current.quiet_days if current is not None else frozenset()
    await stores(turn.repos).reminders.put(
        Reminder(0, turn.member.id, hhmm(at), tz, False, quiet), turn.now
    )
    turn.say("remind.set", time=hhmm(at), tz=tz)


GROUP_SETTINGS = (
    GroupSetting(
        "timezone", "/group settings timezone Europe/Berlin", change_group_setting, "timezone"
    ),
    GroupSetting("country", "/group settings country GB", change_group_setting, "country"),
    GroupSetting(
        "summary", "/group settings summary 21:00", change_group_setting, ("21:00", "off")
    ),
    GroupSetting("modchannel", "/group settings modchannel 12345", change_group_setting),
    GroupSetting(
        "volunteers", "/group settings volunteers on", change_group_setting, ("on", "off")
    ),
    GroupSetting("language", "/group settings language es", change_group_setting, "language"),
)
SETTING_EXAMPLES = {s.name: s.example for s in GROUP_SETTINGS}


async def purge(app: Host, now: datetime) -> int:
    """Each group's check-in data (posts, private answers, shared items, its sent messages)
    after that group's own retention, under the hard cap; members' own data follows theirs."""
    settings = app.settings
    return await host(app).group_safety.purge(
        await stores(app.repos).groups.all(),
        now,
        settings.retention_days,
        settings.retention_days_max,
    )


FEATURE = Feature(
    name="group_checkins",
    order=120,
    commands={
        "schedule": Command(schedule_command, where=Where.MODERATOR),
        "group": Command(group_command, where=Where.MODERATOR),
        # A group's prompt opens its private side with a button: no menu, no slash command.
        LINK_COMMAND: Command(open_group_checkin, button_only=True),
        # About a group's check-ins, but the member's own: where a platform can answer in
        # place, it does, as if typed privately.
        "remind": Command(remind_command, own_anywhere=True),
    },
    choices={SHARE_PREFIX: share_choice},
    finishers={"group_checkin": finish_group_checkin},
    preflights={"group_checkin": ask_before_finishing},
    group_settings=(*GROUP_SETTINGS, *group_safety.GROUP_SETTINGS),
    messages=MESSAGES,
    flows=FLOWS,
    member_data=("groups", "reminders", "audit"),
    purge=purge,
)
