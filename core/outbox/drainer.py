"""The persistent outbox: every proactive send waits here and is drained per platform.

An item is marked sent only after the platform accepted it, so a crash between the two
leaves it pending: after a restart it is sent again, and nothing is ever lost. With the
default `window` of 1 a platform has one send in flight at a time, so a crash repeats at most
one message; a larger window sends faster over a slow link, at up to `window` duplicates per
crash. Failures are retried with backoff. `rates` paces each platform (messages per second,
`[telegram] outbox_rate`, `[discord] outbox_rate`) just under the platform's own limit, so a
fan-out to many groups goes out at that rate without meeting a 429; a 429 that comes anyway
pauses the whole platform for its `retry_after` and the item waits, neither lost nor doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from core.kernel.clock import Clock
from core.kernel.failures import log_failure
from core.kernel.model import Choice, Reply
from core.kernel.names import render_payload
from core.kernel.outbound import OutboundRouter
from core.kernel.records import Member
from core.outbox.ports import OutboxRepo, OutboxStores
from core.outbox.records import NewOutboxItem, OutboxItem

log = logging.getLogger(__name__)

# Where a prompt queued before issue 12 named its post: filled in at send time with the post's
# number, which no longer opens anything (a prompt's link now carries the post's token).
POST_MARK = "{post}"
DEFAULT_BACKOFF = (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)


class SendStatus(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # a hiccup (network, 5xx, 429): try again later
    GONE = "gone"  # the chat is gone or the bot was removed/blocked: never retried


class SendNotice(StrEnum):
    """Sent, but the group's moderators should hear of something about it (once)."""

    NO_THREAD = "no_thread"  # a shared line went beside the prompt: no thread could start


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    message_ref: str = ""  # the platform's id of the sent message
    retry_after: float = 0.0
    notice: SendNotice | None = None


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


@runtime_checkable
class Holder(Protocol):
    """Optional, next to Poster: a process that runs only part of a platform (Discord shards,
    issue 17) says which deliveries are its own. The others stay pending, untouched, for the
    process that holds them: neither sent, nor retried, nor failed here."""

    def holds(self, delivery: Delivery) -> bool: ...


class DeleteStatus(StrEnum):
    DELETED = "deleted"
    GONE = "gone"  # no longer there (someone deleted it already): nothing left to do
    TOO_OLD = "too_old"  # the platform no longer lets the bot delete it
    FAILED = "failed"  # refused or a hiccup: it may still be there


@runtime_checkable
class Unposter(Protocol):
    """Optional, next to Poster: an adapter that can take back a message the bot posted.

    `delete_window` is how long after posting the platform allows it (Telegram: 48 hours),
    None for no limit: older messages are not even tried.
    """

    delete_window: timedelta | None

    async def delete(
        self, platform: str, target: str, message_ref: str, thread: str = ""
    ) -> DeleteStatus: ...


# What a reply's meta may carry through the outbox: a link button's label, (a reach-out the
# member asked for) how to reach that member: their platform user id and the button's label,
# and the language the message is in, for the words an adapter adds (a thread's name).
CARRIED_META = ("link_label", "contact_user", "contact_label", "locale")


def payload(
    reply: Reply, *, private: bool = False, thread: str = "", reply_to_post: int | None = None
) -> dict[str, Any]:
    """A reply as the outbox stores it (JSON, encrypted at rest)."""
    data: dict[str, Any] = {"text": reply.text, "private": private}
    if reply.choices:
        data["choices"] = [[c.id, c.label] for c in reply.choices]
    if reply.private_link:
        data["link"] = reply.private_link
    for key in CARRIED_META:
        if reply.meta.get(key):
            data[key] = reply.meta[key]
    if thread:
        data["thread"] = thread
    if reply_to_post is not None:
        data["reply_to_post"] = reply_to_post
    return data


async def queue_private(
    outbox: OutboxRepo, member: Member, replies: list[Reply], now: datetime
) -> None:
    """Replies to a member's direct messages, sent by whichever process sends for their
    platform."""
    for reply in replies:
        data = payload(reply, private=True)
        item = NewOutboxItem(member.platform, member.user_id, data, member_id=member.id)
        await outbox.enqueue(item, now)


def delivery_of(item: OutboxItem, reply_to: str = "") -> Delivery:
    data = item.payload
    link = str(data.get("link", ""))
    if POST_MARK in link:
        link = link.replace(POST_MARK, str(item.post_id or 0))
    choices = tuple(Choice(str(i), str(label)) for i, label in data.get("choices", []))
    private = bool(data.get("private", False))
    meta = {key: str(data[key]) for key in CARRIED_META if data.get(key)}
    reply = Reply(str(data.get("text", "")), choices, private=private, private_link=link, meta=meta)
    return Delivery(
        item.platform, item.target, reply, private, str(data.get("thread", "")), reply_to
    )


Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """Spaces one platform's sends `1 / rate` seconds apart, without drift.

    Each send takes the next slot: the previous slot plus the interval, so small delays in
    between never add up to a slower rate (after a stall of up to `catch_up` seconds the
    missed slots are used at once: a burst well inside what the platforms allow), or now when
    the platform was idle longer, so a pause is never made up for by a big burst.
    Time comes from the injected clock; waiting is
    `sleep` (real in production; tests pass one that moves a FakeClock). `hold` keeps every
    send back until a 429's `retry_after` has passed.
    """

    def __init__(self, rate: float, clock: Clock, sleep: Sleep, catch_up: float = 0.5) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.catch_up = max(self.interval, catch_up)
        self.clock, self._sleep = clock, sleep
        self._next: datetime | None = None
        self._longest = self.interval  # the longest wait that can be right

    async def wait(self) -> None:
        now = self.clock.now()
        late = now - _s(self.catch_up)
        slot = self._next if self._next is not None and self._next > late else now
        if (slot - now).total_seconds() > self._longest:
            slot = now  # the wall clock was set back: start again from now
        self._next = slot + _s(self.interval)
        self._longest = self.interval
        delay = (slot - now).total_seconds()
        if delay > 0:
            await self._sleep(delay)

    def hold(self, seconds: float) -> None:
        """The platform said "too many requests, retry after `seconds`": nobody sends before."""
        until = self.clock.now() + _s(seconds)
        if self._next is None or self._next < until:
            self._next = until
            self._longest = max(self.interval, seconds)


class OutboxDrainer:
    def __init__(
        self,
        repos: OutboxStores,
        router: OutboundRouter,
        clock: Clock,
        *,
        batch: int = 200,
        window: int = 1,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        rates: Mapping[str, float] | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.repos, self.router, self.clock = repos, router, clock
        self.batch, self.window = batch, max(1, window)
        self.backoff = tuple(backoff)
        self.rates = {p: float(r) for p, r in (rates or {}).items() if r and r > 0}
        self._sleep: Sleep = sleep or self._nap
        self._pacers: dict[str, Pacer] = {}
        self._kicks: dict[str, asyncio.Event] = {}  # one per platform loop in `run`
        self._locks: dict[str, asyncio.Lock] = {}
        self._stopping = asyncio.Event()
        self._halted: dict[str, asyncio.Event] = {}  # a platform's sender stopped on its own
        # Who takes the items this drainer sends (OutboxRepo.claim), and for how long: a claim
        # outlives a whole batch at the slowest pace, and lapses if this process dies.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.lease = timedelta(seconds=max(120.0, 2 * batch / min(self.rates.values(), default=1)))
        # Told of every item the platform says can never be delivered (the chat is gone or the
        # bot was removed): issue 6 pauses the schedule whose post it was.
        self.on_gone: list[Callable[[OutboxItem], Awaitable[None]]] = []
        # Told of an item sent with a notice for the group's moderators (no thread for it).
        self.on_notice: list[Callable[[OutboxItem, SendNotice], Awaitable[None]]] = []

    def send_share(self, platform: str, share: float) -> None:
        """This process sends only `share` of the platform's traffic (some of Discord's shards),
        so it keeps that part of the platform's rate. Before the platform's first send."""
        if platform in self.rates:
            self.rates[platform] *= share

    def pacer(self, platform: str) -> Pacer:
        """The platform's pace, kept across rounds so the rate holds from one to the next."""
        if platform not in self._pacers:
            rate = self.rates.get(platform, 0.0)
            self._pacers[platform] = Pacer(rate, self.clock, self._sleep)
        return self._pacers[platform]

    async def _nap(self, seconds: float) -> None:
        """Waits `seconds`, or less when asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

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
        pacer = self.pacer(platform)
        halted = self._halted.setdefault(platform, asyncio.Event())
        holder = poster if isinstance(poster, Holder) else None
        others: set[int] = set()  # due items another process holds: looked past, left alone
        try:
            while not (self._stopping.is_set() or halted.is_set()):
                now = self.clock.now()
                found = await self.repos.outbox.claim(
                    platform, now, self.batch + len(others), self.owner, now + self.lease
                )
                fresh = [item for item in found if item.id not in others]
                items = _own(fresh, holder, others) if holder is not None else fresh
                # Another shard's items go back at once, for the process that holds them.
                if theirs := [item.id for item in found if item.id in others]:
                    await self.repos.outbox.release_items(theirs, self.owner)
                if not fresh:
                    return sent
                sent += await self._send_all(poster, pacer, gate, broken, halted, items)
        finally:
            # What this drainer took and did not send is free for the next round (or another
            # process) at once, not only when the claim lapses.
            with contextlib.suppress(Exception):
                await self.repos.outbox.release(platform, self.owner)
        return sent

    async def _send_all(
        self,
        poster: Poster,
        pacer: Pacer,
        gate: asyncio.Semaphore,
        broken: asyncio.Event,
        halted: asyncio.Event,
        items: list[OutboxItem],
    ) -> int:
        async def one(item: OutboxItem) -> bool:
            async with gate:
                # Paced inside the window: a slow send is never followed by a burst.
                await pacer.wait()
                if broken.is_set() or self._stopping.is_set() or halted.is_set():
                    return False  # stays pending for the next round
                try:
                    return await self._send(poster, item)
                except BaseException:
                    broken.set()
                    raise

        tasks = [asyncio.create_task(one(item)) for item in items]
        try:
            return sum(await asyncio.gather(*tasks))
        except BaseException:
            # Stopping (or dying) mid fan-out: what was not sent stays pending.
            for task in tasks:
                task.cancel()
            raise

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
        # Names are filled in now, from each member's own data (core.kernel.names).
        item = replace(item, payload=await render_payload(item.payload, self.repos.names))
        try:
            result = await poster.post(delivery_of(item, reply_to))
        except Exception:
            log_failure(log, "outbox: sending item %s failed (platform=%s)", item.id, item.platform)
            result = SendResult(SendStatus.RETRY)
        attempts = item.attempts + 1
        if result.status is SendStatus.SENT:
            await self.repos.outbox.mark_sent(item.id, result.message_ref, self.clock.now())
            if result.notice is not None:
                await self._notice(item, result.notice)
            return True
        if result.status is SendStatus.RETRY and result.retry_after > 0:
            # "Too many requests, retry after N": not a failure, so it uses up no attempt and
            # never makes an item fail; the whole platform waits, and this item with it.
            self.pacer(item.platform).hold(result.retry_after)
            wait = max(result.retry_after, self.backoff[0] if self.backoff else 0.0)
            await self.repos.outbox.retry_later(item.id, item.attempts, now + _s(wait))
            log.info("outbox: %s asked to wait %.2f s (item %s)", item.platform, wait, item.id)
            return False
        if result.status is SendStatus.GONE or attempts > len(self.backoff):
            await self.repos.outbox.mark_failed(item.id, attempts)
            log.warning(
                "outbox: item %s not delivered (platform=%s, %s after %d attempts)",
                item.id,
                item.platform,
                result.status.value,
                attempts,
            )
            if result.status is SendStatus.GONE:
                await self._gone(item)
            return False
        delay = max(result.retry_after, self.backoff[attempts - 1])
        await self.repos.outbox.retry_later(item.id, attempts, now + _s(delay))
        return False

    async def _gone(self, item: OutboxItem) -> None:
        """The chat is gone for good: each `on_gone` hook hears of it (a schedule is paused)."""
        for hook in self.on_gone:
            try:
                await hook(item)
            except Exception:
                log_failure(log, "outbox: a gone hook failed (item %s)", item.id)

    async def _notice(self, item: OutboxItem, notice: SendNotice) -> None:
        for hook in self.on_notice:
            try:
                await hook(item, notice)
            except Exception:
                log_failure(log, "outbox: a notice hook failed (item %s)", item.id)

    def kick(self) -> None:
        """Something was queued: drain now rather than at the next round."""
        for kick in self._kicks.values():
            kick.set()

    async def run(self, platforms: Sequence[str], interval_s: float = 1.0) -> None:
        """Production loop: one per platform, side by side, so each keeps its own pace and
        none waits for another's fan-out; each drains, then waits for a kick or the next round.
        """
        await asyncio.gather(*(self.run_platform(p, interval_s) for p in platforms))

    async def run_platform(
        self, platform: str, interval_s: float = 1.0, take_over: bool = True
    ) -> None:
        """One platform's sender until `stop()` or `stop_platform(platform)`. Only one process
        sends for a platform at a time (bots/roles.py), so one that starts takes over whatever a
        sender that died had claimed, rather than wait for those claims to lapse. `take_over`
        False: other processes send for the platform too (Discord shards), so a dead one's
        claims are left to lapse."""
        self._halted[platform] = asyncio.Event()
        if take_over:
            await self.repos.outbox.release(platform)
        await self._run_one(platform, interval_s)

    def stop_platform(self, platform: str) -> None:
        """Ends `platform`'s sender after the send in flight; the rest stays pending."""
        self._halted.setdefault(platform, asyncio.Event()).set()
        kick = self._kicks.get(platform)
        if kick is not None:
            kick.set()

    async def _run_one(self, platform: str, interval_s: float) -> None:
        kick = self._kicks.setdefault(platform, asyncio.Event())
        halted = self._halted.setdefault(platform, asyncio.Event())
        while not (self._stopping.is_set() or halted.is_set()):
            kick.clear()
            try:
                await self.drain(platform)
            except Exception:
                log_failure(log, "outbox: draining %s failed; trying again", platform)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(kick.wait(), interval_s)

    def stop(self) -> None:
        self._stopping.set()
        self.kick()


def _own(items: list[OutboxItem], holder: Holder, others: set[int]) -> list[OutboxItem]:
    """The items this process sends; the ids of the rest join `others`."""
    own = []
    for item in items:
        if holder.holds(delivery_of(item)):
            own.append(item)
        else:
            others.add(item.id)
    return own


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
