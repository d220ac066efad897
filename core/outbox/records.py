"""What waits in the outbox, as plain frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class OutboxItem:
    """A proactive send waiting its turn. `payload` is JSON-ready (see core.outbox.drainer)."""

    id: int
    platform: str
    target: str
    payload: dict[str, Any]
    state: OutboxState = OutboxState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    post_id: int | None = None  # a post's prompt: its message id is written back to the post
    message_ref: str = ""
    member_id: int | None = None
    share_id: int | None = None


@dataclass(frozen=True)
class NewOutboxItem:
    platform: str
    target: str
    payload: dict[str, Any]
    post_id: int | None = None
    # Who the item is about or addressed to (a reminder, a shared line): /forget erases it.
    member_id: int | None = None
    share_id: int | None = None  # a shared item: its message id is written back to it
