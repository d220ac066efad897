"""The moderators' audit log (issue 7): who changed a group's schedules or settings, what, when.

Recorded by the moderators' commands (core/groups/checkins/feature.py); shown with
`/group audit` to moderators only, privately, newest first, in the group's timezone. It keeps
no member content except the group's own prompt text (encrypted at rest with the rest of each
value). /forget of a moderator keeps the change and drops who made it ("a former member").
Entries older than the retention hard cap are purged with the daily clean-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.groups.audit.ports import stores
from core.groups.audit.records import AuditEntry
from core.groups.moderators import refused_moderator
from core.kernel.model import Reply
from core.kernel.shown import one_line

if TYPE_CHECKING:
    from core.groups.records import Group
    from core.kernel.turn import Turn

SHOWN = 20
NAME_LIMIT = 64
VALUE_LIMIT = 400


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
    await stores(turn.repos).audit.add(entry)


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
    entries = await stores(turn.repos).audit.recent(group.id, SHOWN)
    fallback = Reply(turn.cat.text("audit.start_bot"), private=False)
    turn.add(Reply(audit_text(turn, group, entries), group_fallback=fallback))
