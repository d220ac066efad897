"""What the core stores about a member, as plain frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Member:
    id: int
    platform: str
    user_id: str
    # None until the member has answered the welcome question.
    consent: bool | None = None
    consent_at: datetime | None = None
    country: str | None = None
    # The language the member chose with /language (a shipped locale); None: the platform's.
    language: str | None = None

    @property
    def introduced(self) -> bool:
        return self.consent is not None


@dataclass(frozen=True)
class Checkin:
    member_id: int
    at: datetime
    mood: int | None = None
    urge: int | None = None
    part: str | None = None
    need: str | None = None
    protector: str | None = None
    note: str | None = None
    # The stored row's number (0 before it is stored): what a member's edit or delete names.
    id: int = 0


@dataclass(frozen=True)
class Part:
    id: int
    member_id: int
    name: str
    role: str = "unsure"
    # Optional notes, each the member's own words: anything else they want to keep,
    # where it shows up in the body, what it says, what it protects.
    notes: str = ""
    body: str = ""
    says: str = ""
    protects: str = ""


@dataclass(frozen=True)
class Practice:
    """One finished grounding exercise: which one, and distress/urge 0-10 before and after."""

    member_id: int
    at: datetime
    exercise: str
    before: int | None = None
    after: int | None = None


@dataclass(frozen=True)
class SupportRequest:
    """A member chose to tell a moderator they asked for support (after a crisis reply).

    `handle` is their name as the platform shows it, as one line (their platform id when it
    gives none). `words` is what the member wrote, only when they picked "include
    what I wrote"; else None.
    """

    platform: str
    user_id: str
    handle: str
    at: datetime
    words: str | None = None
