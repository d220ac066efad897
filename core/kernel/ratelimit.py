"""A per-member token bucket on the injected clock: bursts are fine, floods get a kind note."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

MAX_TRACKED = 50_000


class Verdict(Enum):
    ALLOW = "allow"
    NOTE = "note"  # the first refusal in a burst: the member is told, kindly
    QUIET = "quiet"  # later refusals in the same burst: no answer at all


@dataclass
class _Bucket:
    tokens: float
    at: datetime
    noted: bool = False


class RateLimiter:
    """`events` per `seconds` for each key, refilled continuously; 0 events turns it off."""

    def __init__(self, events: int, seconds: float) -> None:
        self.capacity = float(events)
        self.rate = events / seconds if seconds > 0 else 0.0
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()

    def check(self, key: tuple[str, str], now: datetime) -> Verdict:
        if self.capacity <= 0:
            return Verdict.ALLOW
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
            while len(self._buckets) > MAX_TRACKED:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(key)
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.noted = False
            return Verdict.ALLOW
        if bucket.noted:
            return Verdict.QUIET
        bucket.noted = True
        return Verdict.NOTE

    def unnote(self, key: tuple[str, str]) -> None:
        """The refusal that got NOTE was let through after all (crisis words): the member has
        not seen the note, so the next refusal gives it."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.noted = False
