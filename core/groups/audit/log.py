"""The moderators' audit log (issue 7): who changed a group's schedules or settings, what, when.

Recorded by the moderators' commands (core/groups/checkins/feature.py); shown with
`/group audit` to moderators only, privately, newest first, in the group's timezone. It keeps
no member content except the group's own prompt text (encrypted at rest with the rest of each
value). /forget of a moderator keeps the change and drops who made it ("a former member").
Entries older than the retention hard cap are purged with the daily clean-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.kernel.membership import refused_moderator
from core.kernel.model import Reply
from core.kernel.shown import one_line

if TYPE_CHECKING:
    from core.groups.records import Group
    from core.kernel.turn import Turn

SHOWN = 20
NAME_LIMIT = 64
VALUE_LIMIT = 400


class Action:
    """What a moderator did; each has a message `audit.action.<value>`."""

    SCHEDULE_ADD = "schedule_add"
    SCHEDULE_PAUSE = "schedule_pause"
    SCHEDULE_RESUME = "schedule_resume"
    SCHEDULE_SKIP = "schedule_skip"
    SCHEDULE_REMOVE = "schedule_remove"
    HOLIDAY_ADD = "holiday_add"
    HOLIDAY_REMOVE = "holiday_remove"
    SETTING = "setting"  # subject: the setting's name

    ALL = frozenset(
        {
            SCHEDULE_ADD,
            SCHEDULE_PAUSE,
            SCHEDULE_RESUME,
            SCHEDULE_SKIP,
            SCHEDULE_REMOVE,
            HOLIDAY_ADD,
            HOLIDAY_REMOVE,
            SETTING,
        }
    )


@dataclass(frozen=True)
class AuditEntry:
    id: int
    group_id: int
    actor_id: int | None  # None once the moderator erased their data
    actor_name: str  # their handle at the time ("" once erased)
    action: str
    subject: str  # a schedule's number or a setting's name
    old: str
    new: str
    at: datetime


class AuditRepo(Protocol):
    """The audit log. Export and erase (MemberData) cover the changes a moderator made:
    erasing keeps each change and clears who made it."""

    async def add(self, entry: AuditEntry) -> AuditEntry: ...

    async def recent(self, group_id: int, limit: int) -> list[AuditEntry]:
        """The group's newest entries first."""
        ...

    async def purge(self, before: datetime) -> int:
        """Deletes entries older than `before`; how many."""
        ...

    async def export(self, member_id: int) -> dict[str, Any]: ...

    async def erase(self, member_id: int) -> int: ...


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "group": entry.group_id,
        "at": entry.at.isoformat(),
        "action": entry.action,
        "subject": entry.subject,
        "old": entry.old,
        "new": entry.new,
        "as": entry.actor_name,
    }


async def record(
    turn: Turn, group: Group, action: str, subject: object = "", old: str = "", new: str = ""
) -> None:
    """Records one moderator change, with the moderator's handle as it is now."""
    name = one_line(turn.event.display_name, NAME_LIMIT)
    entry = AuditEntry(
        0,
        group.id,
        turn.member.id or None,
        name,
        action,
        str(subject),
        old[:VALUE_LIMIT],
        new[:VALUE_LIMIT],
        turn.now,
    )
    await turn.repos.audit.add(entry)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def audit_text(turn: Turn, group: Group, entries: list[AuditEntry]) -> str:
    c = turn.cat
    if not entries:
        return c.text("audit.empty")
    zone = _zone(group.timezone)
    lines = [c.text("audit.head", count=len(entries), tz=group.timezone)]
    for e in entries:
        if e.actor_id is None:
            who = c.text("audit.former_member")
        else:
            who = e.actor_name or c.text("audit.member", id=e.actor_id)
        none = c.text("audit.none")
        key = f"audit.action.{e.action}"
        what = c.text(
            key if key in c.messages else "audit.action.unknown",
            subject=e.subject,
            old=e.old or none,
            new=e.new or none,
        )
        when = e.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        lines.append(c.text("audit.line", when=when, who=who, what=what))
    return "\n".join(lines)


async def show_audit(turn: Turn, group: Group) -> None:
    """`/group audit`: the last SHOWN changes, only to the moderator who asked (privately)."""
    if refused_moderator(turn, "audit.not_moderator"):
        return
    entries = await turn.repos.audit.recent(group.id, SHOWN)
    fallback = Reply(turn.cat.text("audit.start_bot"), private=False)
    turn.add(Reply(audit_text(turn, group, entries), group_fallback=fallback))
