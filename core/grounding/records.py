"""A finished grounding exercise, kept for members who keep history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Practice:
    """One finished grounding exercise: which one, and distress/urge 0-10 before and after."""

    member_id: int
    at: datetime
    exercise: str
    before: int | None = None
    after: int | None = None
