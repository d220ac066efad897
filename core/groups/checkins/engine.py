"""What is due when: scheduled prompts, daily summaries and personal reminders.

`run_due_posts(now)` is the whole firing logic. It asks the pure `due_runs` which runs have
come, and claims each (schedule, local date) once, in the same transaction as its outbox row,
so a run is never posted twice (not on the fall-back DST day, not after a restart, not by two
triggers). Runs missed while the bot was down are posted within the grace window, otherwise
skipped and logged. APScheduler only decides when to call it in production (service.py);
tests call it with a FakeClock.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from core.groups.checkins.ports import GroupCheckinStores
from core.groups.records import ALL_DAYS, Group, Reminder, Response, Schedule
from core.groups.times import Rule, Run, due_runs, parse_hhmm, parse_tz
from core.kernel.catalog import Catalog
from core.kernel.clock import Clock
from core.kernel.model import Choice, Reply
from core.outbox.drainer import payload
from core.outbox.records import NewOutboxItem

if TYPE_CHECKING:
    from core.kernel.records import Member
    from core.language.languages import Languages

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(minutes=120)
# Totals are shown only when at least this many members checked in (privacy).
SUMMARY_MIN = 3
LINK_COMMAND = "gcheckin"
# A post's link names it by a random token (128 bits), never by its sequential id: a link can
# be neither guessed nor walked. Lower-case hex: deep-link payloads are case-folded on the way
# in, and it fits Telegram's 64 characters of [A-Za-z0-9_-] with "gcheckin-" in front.
POST_TOKEN = re.compile(r"[0-9a-f]{32}")
URGE_BANDS = ((0, 3), (4, 6), (7, 10))


@dataclass
class DueReport:
    posted: int = 0
    missed: int = 0
    summaries: int = 0
    reminders: int = 0


def schedule_rule(schedule: Schedule, group: Group | None) -> Rule | None:
    at, tz = parse_hhmm(schedule.at), parse_tz(schedule.timezone)
    if at is None or tz is None:
        return None
    holidays = group.holidays if group is not None else frozenset()
    return Rule(at, tz, schedule.days, schedule.skip_dates | holidays, schedule.created_at)


def summary_rule(group: Group) -> Rule | None:
    at, tz = parse_hhmm(group.summary_time), parse_tz(group.timezone)
    if at is None or tz is None:
        return None
    return Rule(at, tz, ALL_DAYS, group.holidays)


def reminder_rule(reminder: Reminder) -> Rule | None:
    at, tz = parse_hhmm(reminder.at), parse_tz(reminder.timezone)
    if at is None or tz is None or reminder.paused:
        return None
    return Rule(at, tz, ALL_DAYS - reminder.quiet_days)


def prompt_text(cat: Catalog, schedule: Schedule) -> str:
    if schedule.prompt_text:
        return schedule.prompt_text
    key = f"gcheckin.prompt.{schedule.prompt_key}"
    return cat.text(key if key in cat.messages else "gcheckin.prompt.default")


def prompt_reply(cat: Catalog, schedule: Schedule, token: str) -> Reply:
    """The group's prompt with its "Check in privately" entry (a deep link / a button)."""
    return Reply(
        prompt_text(cat, schedule),
        private=False,
        private_link=f"{LINK_COMMAND}-{token}",
        meta={"link_label": cat.text("gcheckin.open_button"), "locale": cat.locale},
    )


def new_post_token() -> str:
    return secrets.token_hex(16)


def urge_band(urge: int) -> int:
    return next(i for i, (low, high) in enumerate(URGE_BANDS) if low <= urge <= high)


def summary_text(cat: Catalog, responses: list[Response]) -> str | None:
    """Totals only, and only when at least SUMMARY_MIN members checked in."""
    latest: dict[int, Response] = {r.member_id: r for r in responses}
    if len(latest) < SUMMARY_MIN:
        return None
    bands = [0, 0, 0]
    for r in latest.values():
        if r.urge is not None:
            bands[urge_band(r.urge)] += 1
    reach = sum(1 for r in latest.values() if r.reach_out)
    return cat.text(
        "gcheckin.summary",
        count=len(latest),
        low=bands[0],
        middle=bands[1],
        high=bands[2],
        reach=reach,
    )


class GroupEngine:
    """`catalog` is what is said when `languages` is not given (a test's single language); with
    it, a group's posts are in the group's language and a reminder in the member's (issue 16)."""

    def __init__(
        self,
        repos: GroupCheckinStores,
        catalog: Catalog,
        clock: Clock,
        grace: timedelta = DEFAULT_GRACE,
        *,
        languages: Languages | None = None,
    ) -> None:
        self.repos, self.cat, self.clock, self.grace = repos, catalog, clock, grace
        self.languages = languages

    def _group_cat(self, group: Group) -> Catalog:
        return self.languages.for_group(group) if self.languages is not None else self.cat

    def _member_cat(self, member: Member) -> Catalog:
        return self.languages.for_member(member) if self.languages is not None else self.cat

    async def run_due_posts(self, now: datetime | None = None) -> DueReport:
        now = now or self.clock.now()
        report = DueReport()
        since = (now - timedelta(days=3)).date()
        groups = {g.id: g for g in await self.repos.groups.all()}
        claimed = await self.repos.groups.claimed(since)
        for schedule in await self.repos.groups.schedules():
            group = groups.get(schedule.group_id)
            rule = schedule_rule(schedule, group)
            if schedule.paused or group is None or rule is None:
                continue
            for run in due_runs(rule, now, self.grace):
                if (schedule.id, run.local_date) in claimed:
                    continue
                if run.late:
                    await self._missed(schedule, run, now)
                    report.missed += 1
                elif await self._post(group, schedule, run, now):
                    report.posted += 1
        report.summaries = await self._summaries(list(groups.values()), now, since)
        report.reminders = await self._reminders(now, since)
        return report

    async def _missed(self, schedule: Schedule, run: Run, now: datetime) -> None:
        if await self.repos.groups.claim_missed(schedule.id, run.local_date, now):
            late = (now - run.due_at).total_seconds() / 60
            log.warning(
                "schedule %s: the run of %s was missed while the bot was down (%.0f min late, "
                "grace %.0f min); skipped",
                schedule.id,
                run.local_date.isoformat(),
                late,
                self.grace.total_seconds() / 60,
            )

    async def _post(self, group: Group, schedule: Schedule, run: Run, now: datetime) -> bool:
        token = new_post_token()
        reply = prompt_reply(self._group_cat(group), schedule, token)
        item = NewOutboxItem(
            group.platform,
            group.space_id,
            payload(reply, thread=schedule.target),
        )
        post = await self.repos.groups.claim_post(
            schedule, run.local_date, run.due_at, now, item, token
        )
        if post is not None:
            log.info("schedule %s: post %s queued for %s", schedule.id, post.id, run.local_date)
        return post is not None

    async def _summaries(self, groups: list[Group], now: datetime, since: date) -> int:
        done = await self.repos.groups.daily_claimed("summary", since)
        queued = 0
        for group in groups:
            rule = summary_rule(group)
            if rule is None:
                continue
            for run in due_runs(rule, now, self.grace):
                if (group.id, run.local_date) in done:
                    continue
                posts = await self.repos.groups.posts_on(group.id, run.local_date)
                if not posts:
                    continue  # nothing was posted that day: nothing to sum up
                text = None
                if not run.late:
                    responses = await self.repos.groups.responses([p.id for p in posts])
                    text = summary_text(self._group_cat(group), responses)
                item = None
                if text is not None:
                    thread = await self._thread_of(posts[0].schedule_id)
                    item = NewOutboxItem(
                        group.platform,
                        group.space_id,
                        payload(Reply(text, private=False), thread=thread),
                    )
                outcome = "missed" if run.late else ("posted" if item else "too_few")
                if await self.repos.groups.claim_daily(
                    "summary", group.id, run.local_date, now, outcome, item
                ):
                    log.info("group %s: summary for %s %s", group.id, run.local_date, outcome)
                    queued += item is not None
        return queued

    async def _thread_of(self, schedule_id: int | None) -> str:
        for schedule in await self.repos.groups.schedules():
            if schedule.id == schedule_id:
                return schedule.target
        return ""

    async def _reminders(self, now: datetime, since: date) -> int:
        done = await self.repos.groups.daily_claimed("reminder", since)
        queued = 0
        for reminder in await self.repos.reminders.all():
            rule = reminder_rule(reminder)
            if rule is None:
                continue
            for run in due_runs(rule, now, self.grace):
                if (reminder.id, run.local_date) in done:
                    continue
                member = await self.repos.members.by_id(reminder.member_id)
                item = None
                if member is not None and not run.late:
                    cat = self._member_cat(member)
                    reply = Reply(
                        cat.text("remind.nudge"),
                        (Choice("cmd:checkin", cat.text("remind.checkin_now")),),
                    )
                    item = NewOutboxItem(
                        member.platform,
                        member.user_id,
                        payload(reply, private=True),
                        member_id=member.id,
                    )
                outcome = "posted" if item else "missed"
                if await self.repos.groups.claim_daily(
                    "reminder", reminder.id, run.local_date, now, outcome, item
                ):
                    queued += item is not None
        return queued

    async def triggers(self) -> dict[str, tuple[int, int, frozenset[int], str]]:
        """job id -> (hour, minute, days, timezone) for every active cron: APScheduler's jobs."""
        jobs: dict[str, tuple[int, int, frozenset[int], str]] = {}
        groups = {g.id: g for g in await self.repos.groups.all()}
        with_schedules: set[int] = set()
        for schedule in await self.repos.groups.schedules():
            rule = schedule_rule(schedule, groups.get(schedule.group_id))
            if rule is not None and not schedule.paused:
                with_schedules.add(schedule.group_id)
                jobs[f"schedule:{schedule.id}"] = _cron(rule, schedule.timezone)
        for group_id in with_schedules:
            group = groups.get(group_id)
            rule = summary_rule(group) if group is not None else None
            if group is not None and rule is not None:
                jobs[f"summary:{group_id}"] = _cron(rule, group.timezone)
        for reminder in await self.repos.reminders.all():
            rule = reminder_rule(reminder)
            if rule is not None and rule.days:
                jobs[f"reminder:{reminder.id}"] = _cron(rule, reminder.timezone)
        return jobs


def _cron(rule: Rule, tz: str) -> tuple[int, int, frozenset[int], str]:
    return (rule.at.hour, rule.at.minute, rule.days, tz)
