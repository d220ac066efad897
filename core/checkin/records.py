"""A member's kept check-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
