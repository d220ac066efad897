"""What group check-ins store, as plain frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

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
