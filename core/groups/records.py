"""What group check-ins store, as plain frozen records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any

ALL_DAYS = frozenset(range(7))  # Monday = 0


@dataclass(frozen=True)
class Group:
    """A group chat / server the bot is in, with the settings its moderators chose."""

    id: int
    platform: str
    space_id: str
    timezone: str = "UTC"
    country: str = ""  # crisis-resource country; "" = the bot's default
    summary_time: str = "21:00"  # HH:MM in the group's timezone; "" = no summary
    mod_channel: str = ""  # where reach-out requests go when no volunteer is on
    volunteers: bool = False
    holidays: frozenset[date] = frozenset()
    language: str = ""  # what the bot posts here in (a shipped locale); "" = English


# The settings a group's record carries as fields, by the name each is kept under (the table
# group_settings, where every declared setting is kept: migration 0020), shown in the audit log
# and typed after `/group settings`. A setting declared later is read by name and needs no field.
SETTING_FIELDS: Mapping[str, str] = {
    "timezone": "timezone",
    "country": "country",
    "summary": "summary_time",
    "modchannel": "mod_channel",
    "volunteers": "volunteers",
    "language": "language",
}
_FLAGS = frozenset(f.name for f in fields(Group) if f.type in (bool, "bool"))


def kept_settings(group: Group) -> dict[str, str]:
    """The group's settings as they are kept by name: text, "on"/"off" for a flag."""
    return {name: _text(getattr(group, field)) for name, field in SETTING_FIELDS.items()}


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def with_kept(group: Group, kept: Mapping[str, str]) -> Group:
    """The group with the settings kept by name read into its fields; a setting never kept
    keeps the field's default, and names that are not fields are left to whoever declared them."""
    changes: dict[str, Any] = {}
    for name, value in kept.items():
        field = SETTING_FIELDS.get(name)
        if field is not None:
            changes[field] = value == "on" if field in _FLAGS else value
    return replace(group, **changes)


@dataclass(frozen=True)
class Schedule:
    id: int
    group_id: int
    at: str  # HH:MM, local wall time in `timezone`
    timezone: str
    days: frozenset[int] = ALL_DAYS
    prompt_key: str = "default"  # a prompt from content, or "" when `prompt_text` is set
    prompt_text: str = ""  # the group's own words (encrypted at rest)
    target: str = ""  # channel / thread / topic inside the group; "" = the main chat
    paused: bool = False
    skip_dates: frozenset[date] = frozenset()
    created_at: datetime | None = None


@dataclass(frozen=True)
class Post:
    """One scheduled prompt as posted (or waiting in the outbox) on one local date."""

    id: int
    group_id: int
    schedule_id: int | None
    local_date: date
    due_at: datetime
    message_ref: str = ""
    token: str = ""  # the random name its link carries ("" for posts made before issue 12)


@dataclass(frozen=True)
class Response:
    """A member's private answer to a post: numbers only, for the group's totals."""

    post_id: int
    member_id: int
    mood: int | None
    urge: int | None
    reach_out: bool = False


@dataclass(frozen=True)
class Reminder:
    id: int
    member_id: int
    at: str
    timezone: str
    paused: bool = False
    quiet_days: frozenset[int] = frozenset()


@dataclass(frozen=True)
class SharedItem:
    id: int
    post_id: int
    member_id: int
    kind: str  # "mood" or "line"
    line: str = ""
    state: str = "preview"  # "preview" until the member says post; then "posted" or "dropped"
    message_ref: str = ""  # the platform's id of the posted message, once sent
    posted_at: datetime | None = None
    at: datetime | None = None
