"""A fan-out: N groups due in the same minute, claimed, drained through the outbox to a fake.

Shared by tests/test_fanout.py and bench/fanout.py. The real adapter (python-telegram-bot or
discord.py) talks to the fake server with the platform's limits switched on and scaled
(tests/fake_limits.py); the drainer paces at the configured default outbox rate, scaled the
same. What was achieved is measured from the fake's own receive times; lost and duplicated
posts from what the fake accepted.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.app import Unblend
from core.groups.checkins.engine import GroupEngine
from core.groups.records import Schedule
from core.kernel.config import SCHEMA
from core.outbox.drainer import DEFAULT_BACKOFF, OutboxDrainer
from core.outbox.records import OutboxState
from tests.fake_limits import Limiter

# Monday 5 January 2026, 09:00 UTC: every group's check-in is due at this minute.
DUE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class RunningClock:
    """An injected clock that starts at a chosen moment and then runs in real time.

    The fakes keep real-time limits, so the drainer's pacing must see real seconds pass;
    the date stays the test's own.
    """

    def __init__(self, start: datetime) -> None:
        self.start, self._t0 = start, time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._t0)


def default_rate(platform: str) -> float:
    """The shipped `[<platform>] outbox_rate` (messages per second)."""
    return float(SCHEMA[platform]["outbox_rate"].default)


def telegram_group(i: int) -> str:
    return str(-1_001_000_000_000 - i)


def discord_server(i: int) -> str:
    return str(810_000_000_000_000_000 + i)


def discord_channel(i: int) -> str:
    return str(820_000_000_000_000_000 + i)


async def seed(
    app: Unblend, platform: str, spaces: Iterable[str], targets: Iterable[str] | None = None
) -> int:
    """One group per space, each with a daily check-in at 09:00 UTC (made that night), posted
    in the space's main chat, or in the matching channel of `targets` (Discord)."""
    made = DUE - timedelta(hours=12)
    count = 0
    for space, target in zip(spaces, targets or itertools.repeat(""), strict=False):
        group = await app.repos.groups.get_or_create(platform, space, made)
        schedule = Schedule(0, group.id, "09:00", "UTC", target=target)
        await app.repos.groups.add_schedule(schedule, made)
        count += 1
    return count


@dataclass(frozen=True)
class FanoutResult:
    platform: str
    groups: int
    queued: int  # claimed and put in the outbox
    delivered: int  # groups that got their post
    lost: int
    duplicates: int
    refused_429: int  # answered "too many requests" by the fake (then retried)
    allowed_per_s: float  # the fake's limit
    paced_per_s: float  # the drainer's outbox rate
    achieved_per_s: float  # from the fake's receive times, first post to last
    ratio: float  # achieved / allowed
    seconds: float  # first post to last, by the fake's clock
    pending: int  # outbox items not sent at the end

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def fan_out(
    app: Unblend,
    platform: str,
    spaces: list[str],
    limiter: Limiter,
    allowed: float,
    rate: float,
    sent_to: Callable[[], Iterable[str]] | None = None,
    backoff: Sequence[float] = DEFAULT_BACKOFF,
    within: float = 120.0,
) -> FanoutResult:
    """Runs the engine at DUE (every group claimed once), drains `platform`, measures.

    `spaces` are where the posts should land: a group's chat, or its schedule's channel.
    Items a 429 sent back to the outbox are drained again when their time comes (bounded by
    `within` seconds). `sent_to` lists where each group post landed (one entry per message
    the fake accepted); by default the limiter's own record.
    """
    clock = app.clock
    assert isinstance(clock, RunningClock), "the drainer must see real seconds pass"
    engine = GroupEngine(app.repos, app.library.catalog(), clock)
    report = await engine.run_due_posts(clock.now())
    drainer = OutboxDrainer(app.repos, app.outbound, clock, rates={platform: rate}, backoff=backoff)
    deadline = time.monotonic() + within
    while True:
        await drainer.drain(platform)
        waiting = [
            i.next_attempt_at
            for i in await app.repos.outbox.items(platform)
            if i.state is OutboxState.PENDING and i.next_attempt_at is not None
        ]
        if not waiting or time.monotonic() > deadline:
            break
        # Real I/O: the fake's buckets refill in real time; bounded by `within`.
        await asyncio.sleep(max(0.0, (min(waiting) - clock.now()).total_seconds()))
    wanted = set(spaces)
    where = sent_to() if sent_to is not None else [r.chat for r in limiter.received]
    landed = [s for s in where if s in wanted]
    counts = Counter(landed)
    times = [r.at for r in limiter.received if r.chat in wanted]
    achieved = limiter.rate(wanted)
    items = await app.repos.outbox.items(platform)
    return FanoutResult(
        platform=platform,
        groups=len(spaces),
        queued=report.posted,
        delivered=len(counts),
        lost=len(wanted - set(counts)),
        duplicates=sum(n - 1 for n in counts.values()),
        refused_429=limiter.refused,
        allowed_per_s=round(allowed, 1),
        paced_per_s=round(rate, 1),
        achieved_per_s=round(achieved, 1),
        ratio=round(achieved / allowed, 3),
        seconds=round(times[-1] - times[0], 2) if len(times) > 1 else 0.0,
        pending=sum(1 for i in items if i.state is OutboxState.PENDING),
    )
