"""Platform rate limits for the fake servers: opt-in, and scaled so big fan-outs run in seconds.

Telegram allows a bot about 30 messages a second overall and 20 a minute in one group;
Discord 50 requests a second overall (interaction answers excepted) and 5 messages per 5
seconds in one channel. `TelegramLimits(scale=10)` is Telegram ten times faster: 300 a second,
20 per 6 seconds in a group; every rate is multiplied by `scale` and every period divided by
it. Each limit is a token bucket (a full bucket is one period's worth, refilled evenly), so a
client that paces itself just under the rate is never refused and one that goes faster gets
429 with the `retry_after` that would have been right. A fake with limits on records the
moment it received every message it accepted (`received`), so a test can measure the rate
that was achieved from the server's side.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class Bucket:
    """`limit` requests per `period` seconds: a token bucket, full at the start."""

    def __init__(self, limit: float, period: float, now: float) -> None:
        self.limit, self.period = limit, period
        self.tokens, self.at = limit, now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.limit, self.tokens + (now - self.at) * self.limit / self.period)
        self.at = now

    def wait(self, now: float) -> float:
        """Seconds until a request may go (0.0: now)."""
        self._refill(now)
        if self.tokens >= 1 - 1e-9:  # a token refilled to the last float bit counts
            return 0.0
        return (1 - self.tokens) * self.period / self.limit

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def reset_after(self, now: float) -> float:
        """Seconds until the bucket is full again (what Discord's headers say)."""
        self._refill(now)
        return (self.limit - self.tokens) * self.period / self.limit


@dataclass(frozen=True)
class Received:
    """A message the fake accepted: when (its own monotonic clock) and where to."""

    at: float
    chat: str


@dataclass
class Limiter:
    """The buckets of one fake: a global one and one per chat or channel."""

    overall: float  # requests per second
    per_chat: float  # requests per `chat_period` in one chat
    chat_period: float
    clock: Callable[[], float] = time.monotonic
    received: list[Received] = field(default_factory=list)
    refused: int = 0  # 429s answered
    _global: Bucket | None = None
    _chats: dict[str, Bucket] = field(default_factory=dict)

    def _buckets(self, chat: str | None, now: float) -> list[Bucket]:
        if self._global is None:
            self._global = Bucket(self.overall, 1.0, now)
        found = [self._global]
        if chat is not None:
            if chat not in self._chats:
                self._chats[chat] = Bucket(self.per_chat, self.chat_period, now)
            found.append(self._chats[chat])
        return found

    def admit(
        self, chat: str | None, record: str | None = None, counted: bool = True
    ) -> tuple[float, bool]:
        """May a request go now? `chat`: whose bucket it also takes from; `counted`: whether
        the global bucket applies; `record`: where it goes, kept in `received` when admitted.

        (0.0, False) with a token of each bucket taken, or (seconds to wait, is it global).
        """
        now = self.clock()
        everything = self._buckets(chat, now)
        buckets = everything if counted else everything[1:]
        waits = [b.wait(now) for b in buckets]
        if any(waits):
            self.refused += 1
            worst = max(waits)
            return worst, counted and waits[0] == worst
        for bucket in buckets:
            bucket.take(now)
        if record is not None:
            self.received.append(Received(now, record))
        return 0.0, False

    def chat_bucket(self, chat: str) -> Bucket:
        return self._buckets(chat, self.clock())[1]

    def rate(self, chats: set[str] | None = None) -> float:
        """Messages per second the fake received, first to last (to `chats`, when given)."""
        times = [r.at for r in self.received if chats is None or r.chat in chats]
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])


# Telegram methods that send or change a message: each counts towards the limits.
TELEGRAM_SENDS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)


@dataclass(frozen=True)
class TelegramLimits:
    scale: float = 1.0
    overall: float = 30.0  # messages a second, all chats together
    per_group: float = 20.0  # messages a minute in one group
    whole_seconds: bool = True  # retry_after as Telegram words it; off when scaled

    @property
    def overall_rate(self) -> float:
        return self.overall * self.scale

    @property
    def group_period(self) -> float:
        return 60.0 / self.scale

    def limiter(self, clock: Callable[[], float] = time.monotonic) -> Limiter:
        return Limiter(self.overall_rate, self.per_group, self.group_period, clock)

    def retry_after(self, seconds: float) -> float:
        if self.whole_seconds and self.scale == 1:
            return float(max(1, math.ceil(seconds)))
        return max(0.001, math.ceil(seconds * 1000) / 1000)


@dataclass(frozen=True)
class DiscordLimits:
    scale: float = 1.0
    overall: float = 50.0  # requests a second (interaction answers are not counted)
    per_channel: float = 5.0  # messages per `channel_period` seconds in one channel
    channel_period: float = 5.0

    @property
    def overall_rate(self) -> float:
        return self.overall * self.scale

    def limiter(self, clock: Callable[[], float] = time.monotonic) -> Limiter:
        return Limiter(self.overall_rate, self.per_channel, self.channel_period / self.scale, clock)


class TelegramGate:
    """What FakeTelegram asks before a call: may it go, or 429 with how long to wait."""

    def __init__(self, limits: TelegramLimits) -> None:
        self.limits = limits
        self.limiter = limits.limiter()

    def check(self, method: str, params: dict[str, object]) -> float:
        """0.0: go ahead (recorded in `received`); else the retry_after to answer with."""
        if method not in TELEGRAM_SENDS:
            return 0.0
        chat_id = params.get("chat_id")
        chat = str(chat_id)
        in_group = isinstance(chat_id, int) and chat_id < 0
        wait, _ = self.limiter.admit(chat if in_group else None, record=chat)
        return self.limits.retry_after(wait) if wait else 0.0


class DiscordGate:
    """What FakeDiscord asks before a REST call: the global and the per-channel buckets."""

    BUCKET = "channel-messages"

    def __init__(self, limits: DiscordLimits) -> None:
        self.limits = limits
        self.limiter = limits.limiter()

    @staticmethod
    def channel_of(method: str, path: str) -> str | None:
        parts = path.strip("/").split("/")
        if method in ("POST", "PATCH") and len(parts) >= 3 and parts[0] == "channels":
            return parts[1] if parts[2] == "messages" else None
        return None

    def check(
        self, method: str, path: str, webhook: bool
    ) -> tuple[dict[str, object] | None, dict[str, str]]:
        """(a 429 body, headers) when refused; (None, headers for the answer) when admitted."""
        channel = self.channel_of(method, path)
        # Interaction answers and follow-ups are not bound by the global limit.
        wait, is_global = self.limiter.admit(channel, record=channel, counted=not webhook)
        headers = self._headers(channel)
        if not wait:
            return None, headers
        retry_after = math.ceil(wait * 1000) / 1000
        body: dict[str, object] = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
            "code": 0,
        }
        headers.update(
            {
                "Retry-After": str(max(1, math.ceil(wait))),
                "X-RateLimit-Scope": "global" if is_global else "user",
                "Via": "1.1 google",
            }
        )
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        return body, headers

    def _headers(self, channel: str | None) -> dict[str, str]:
        if channel is None:
            return {}
        bucket = self.limiter.chat_bucket(channel)
        now = self.limiter.clock()
        reset_after = bucket.reset_after(now)
        return {
            "X-RateLimit-Limit": str(int(bucket.limit)),
            "X-RateLimit-Remaining": str(max(0, math.floor(bucket.tokens))),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": self.BUCKET,
        }
