"""A member's own request that a moderator be told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
