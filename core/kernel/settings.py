"""The app's settings, from the config: what every capability may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Settings:
    default_country: str = "INTL"
    idle_timeout: timedelta = timedelta(hours=1)
    # The cold-water (TIPP) exercise has medical cautions: off unless the config turns it on.
    cold_water: bool = False
    # Anything longer is cut before any other work; steps have their own, smaller caps.
    max_input_chars: int = 20_000
    # Privacy (issue 7): who members can write to about their data, and how long check-ins,
    # exercises and slips are kept (a default, under a hard cap nobody can raise).
    privacy_contact: str = ""
    retention_days: int = 365
    retention_days_max: int = 365
    # Commands per member: a burst of `rate_limit_events` within `rate_limit_seconds`
    # (0 events: no limit). /crisis, /sos and crisis language are never held back.
    rate_limit_events: int = 20
    rate_limit_seconds: float = 10.0
    # Taps and typed text in a private chat, counted apart from commands (issue 12): a flow is
    # answered tap by tap, so more of them; each one is a database write. The crisis reply's
    # own buttons and crisis language always pass; a group's conversation is never held back.
    rate_limit_inputs: int = 30
    # How long a reach-out request waits for a volunteer or moderator before the member is
    # told kindly and shown crisis lines ([schedule] reach_out_timeout_minutes, issue 6).
    reach_out_timeout: timedelta = timedelta(hours=2)
