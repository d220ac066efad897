"""The persistent outbox: every proactive send waits here and is drained per platform.

An item is marked sent only after the platform accepted it, so a crash between the two
leaves it pending: after a restart it is sent again (at most one duplicate per item, per
crash), and nothing is ever lost. Failures are retried with backoff; an adapter's own limiter
keeps the platform's rate, and `rates` can pace a platform further.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from core.clock import Clock
from core.model import Choice, Reply
from core.outbound import OutboundRouter
from core.ports import Repos
from core.schedule.records import OutboxItem

log = logging.getLogger(__name__)

# Where a prompt's "Check in privately" link names its post: filled in at send time.
POST_MARK = "{post}"
DEFAULT_BACKOFF = (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)


class SendStatus(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # a hiccup (network, 5xx, 429): try again later
    GONE = "gone"  # the chat is gone or the bot was removed/blocked: never retried


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    message_ref: str = ""  # the platform's id of the sent message
    retry_after: float = 0.0


@dataclass(frozen=True)
class Delivery:
    """One proactive message, platform-neutral: where it goes and what it says."""

    platform: str
    target: str  # a group's space id, or a member's user id when `private`
    reply: Reply
    private: bool = False
    thread: str = ""  # a channel / thread / topic inside the group; "" = its main chat
    reply_to: str = ""  # a message id to answer (a post's prompt)


@runtime_checkable
class Poster(Protocol):
    """What an adapter offers the outbox: send one delivery, say how it went."""

    async def post(self, delivery: Delivery) -> SendResult: ...


def payload(
    reply: Reply, *, private: bool = False, thread: str = "", reply_to_post: int | None = None
) -> dict[str, Any]:
    """A reply as the outbox stores it (JSON, encrypted at rest)."""
    data: dict[str, Any] = {"text": reply.text, "private": private}
    if reply.choices:
        data["choices"] = [[c.id, c.label] for c in reply.choices]
    if reply.private_link:
        data["link"] = reply.private_link
    if reply.meta.get("link_label"):
        data["link_label"] = reply.meta["link_label"]
    if thread:
        data["thread"] = thread
    if reply_to_post is not None:
        data["reply_to_post"] = reply_to_post
    return data


def delivery_of(item: OutboxItem, reply_to: str = "") -> Delivery:
    data = item.payload
    link = str(data.get("link", ""))
    if POST_MARK in link:
        link = link.replace(POST_MARK, str(item.post_id or 0))
    choices = tuple(Choice(str(i), str(label)) for i, label in data.get("choices", []))
    private = bool(data.get("private", False))
    meta = {"link_label": str(data["link_label"])} if data.get("link_label") else {}
    reply = Reply(str(data.get("text", "")), choices, private=private, private_link=link, meta=meta)
    return Delivery(
        item.platform, item.target, reply, private, str(data.get("thread", "")), reply_to
    )


class OutboxDrainer:
    def __init__(
        self,
        repos: Repos,
        router: OutboundRouter,
        clock: Clock,
        *,
        batch: int = 200,
        window: int = 8,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        rates: Mapping[str, float] | None = None,
    ) -> None:
        self.repos, self.router, self.clock = repos, router, clock
        self.batch, self.window = batch, max(1, window)
        self.backoff = tuple(backoff)
        self.rates = dict(rates or {})
        self._kick = asyncio.Event()
        self._locks: dict[str, asyncio.Lock] = {}
        self._stopping = asyncio.Event()

    def poster(self, platform: str) -> Poster | None:
        sender = self.router.sender(platform)
        return sender if isinstance(sender, Poster) else None

    async def drain(self, platform: str) -> int:
        """Sends everything due now for `platform`; returns how many were sent."""
        # One drain per platform at a time: two would pick up the same pending items.
        lock = self._locks.setdefault(platform, asyncio.Lock())
        async with lock:
            return await self._drain(platform)

    async def _drain(self, platform: str) -> int:
        poster = self.poster(platform)
        if poster is None:
            return 0
        sent = 0
        gate = asyncio.Semaphore(self.window)
        broken = asyncio.Event()
        interval = 1.0 / self.rates[platform] if self.rates.get(platform) else 0.0
        while not self._stopping.is_set():
            items = await self.repos.outbox.due(platform, self.clock.now(), self.batch)
            if not items:
                return sent

            async def one(item: OutboxItem) -> bool:
                async with gate:
                    if broken.is_set():
                        return False  # stays pending for the next round
                    try:
                        return await self._send(poster, item)
                    except BaseException:
                        broken.set()
                        raise

            tasks = []
            for item in items:
                tasks.append(asyncio.create_task(one(item)))
                if interval:
                    await asyncio.sleep(interval)
            try:
                sent += sum(await asyncio.gather(*tasks))
            except BaseException:
                # Stopping (or dying) mid fan-out: what was not sent stays pending.
                for task in tasks:
                    task.cancel()
                raise
        return sent

    async def _send(self, poster: Poster, item: OutboxItem) -> bool:
        now = self.clock.now()
        reply_to = ""
        post_id = item.payload.get("reply_to_post")
        if isinstance(post_id, int):
            post = await self.repos.groups.post(post_id)
            if post is not None and not post.message_ref and item.attempts < 3:
                # The prompt is not out yet: the shared line waits for it (then goes anyway).
                await self.repos.outbox.retry_later(item.id, item.attempts + 1, now + _s(10))
                return False
            reply_to = post.message_ref if post is not None else ""
        try:
            result = await poster.post(delivery_of(item, reply_to))
        except Exception:
            log.exception("outbox: sending item %s failed (platform=%s)", item.id, item.platform)
            result = SendResult(SendStatus.RETRY)
        attempts = item.attempts + 1
        if result.status is SendStatus.SENT:
            await self.repos.outbox.mark_sent(item.id, result.message_ref, self.clock.now())
            return True
        if result.status is SendStatus.GONE or attempts > len(self.backoff):
            await self.repos.outbox.mark_failed(item.id, attempts)
            log.warning(
                "outbox: item %s not delivered (platform=%s, %s after %d attempts)",
                item.id,
                item.platform,
                result.status.value,
                attempts,
            )
            return False
        delay = max(result.retry_after, self.backoff[attempts - 1])
        await self.repos.outbox.retry_later(item.id, attempts, now + _s(delay))
        return False

    def kick(self) -> None:
        """Something was queued: drain now rather than at the next round."""
        self._kick.set()

    async def run(self, platforms: Sequence[str], interval_s: float = 1.0) -> None:
        """Production loop: drains every platform, then waits for a kick or the next round."""
        while not self._stopping.is_set():
            self._kick.clear()
            for platform in platforms:
                try:
                    await self.drain(platform)
                except Exception:
                    log.exception("outbox: draining %s failed; trying again", platform)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), interval_s)

    def stop(self) -> None:
        self._stopping.set()
        self._kick.set()


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


class RecordingPoster:
    """A poster that keeps what it sent: for core tests and the benchmarks."""

    def __init__(self) -> None:
        self.sent: list[Delivery] = []

    async def post(self, delivery: Delivery) -> SendResult:
        self.sent.append(delivery)
        return SendResult(SendStatus.SENT, f"m{len(self.sent)}")

    async def send(self, platform: str, user_id: str, replies: list[Reply]) -> None:
        for reply in replies:
            self.sent.append(Delivery(platform, user_id, reply, private=True))
