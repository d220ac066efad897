"""The moderators' audit log, as plain frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
