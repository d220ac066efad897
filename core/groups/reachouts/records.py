"""What reach-outs, volunteers and gone channels store, as plain frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Volunteer:
    """A member who opted in to be asked to reach out to peers of one group."""

    group_id: int
    member_id: int
    quiet_from: str = ""  # HH:MM in `timezone`; "" = no quiet hours
    quiet_to: str = ""
    timezone: str = "UTC"


@dataclass(frozen=True)
class ReachOut:
    """A member's own request for a peer to reach out. state: open, acked or expired."""

    id: int
    group_id: int
    member_id: int
    post_id: int | None
    token: str
    sent_to: str  # "volunteers" or "moderators"
    created_at: datetime
    expires_at: datetime
    state: str = "open"
    acked_by: int | None = None
    acked_at: datetime | None = None


@dataclass(frozen=True)
class NewReachOut:
    group_id: int
    member_id: int
    post_id: int | None
    token: str
    sent_to: str
    expires_at: datetime


@dataclass(frozen=True)
class GoneSchedule:
    """A schedule paused because its channel is gone (`reason` "gone"), or a notice about its
    posts (a `SendNotice`, e.g. "no_thread"); `told` once its moderators heard."""

    schedule_id: int
    group_id: int
    reason: str
    at: datetime
    told: bool = False
