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
