"""Work that one process runs at a time, when several `unblend run` share a database.

A role (the pacing loop, the daily purge, a platform's receiving of updates, a platform's
outbox sender, which keeps its global rate) belongs to whichever process holds its lock
(`Database.try_lock(role_lock(name))`, a PostgreSQL advisory lock). Every process tries each
role it does not hold every `retry_s` seconds, so when the holder dies (its session ends and
the server frees its locks) another process takes the role over within seconds. A holder that
finds its lock session gone stops the role's work at once: another process may have it now.

On SQLite one process owns the file and holds every lock already: every role starts in the
first round, in the order given, as one process has always run them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeGuard, TypeVar

from core.api import OutboxDrainer
from core.kernel.failures import log_failure
from core.kernel.loop import RoundLoop
from core.storage.database import Database, role_lock

L = TypeVar("L", bound=RoundLoop)


class Adapter(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


log = logging.getLogger(__name__)

# Every role a bot may hold, for `unblend doctor` (which names each lock's holder).
KNOWN_ROLES = (
    "pacing",
    "purge",
    "receive:telegram",
    "send:telegram",
    "send:discord",
    "adapter:discord",
    "adapter:telegram",
)

# How often a process tries the roles it lacks and checks the ones it holds: the longest a
# role stays without an owner after its holder died.
ROLE_RETRY_S = 0.5
# How long a process leaves a role alone after failing to start it.
START_RETRY_S = 60.0


@dataclass(frozen=True)
class Role:
    name: str
    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]]


class RoleKeeper:
    def __init__(
        self,
        db: Database,
        roles: Sequence[Role],
        retry_s: float = ROLE_RETRY_S,
        shared: Sequence[str] = (),
    ) -> None:
        self.db, self.roles, self.retry_s = db, tuple(roles), retry_s
        # Locks held shared for as long as the process runs (the run lock): taken again if
        # the lock session was lost (a server restart), so `keys rotate` still sees this bot.
        self.shared = tuple(shared)
        self.held: list[str] = []
        self._not_before: dict[str, float] = {}  # a role whose start failed rests a while
        self._stopping = asyncio.Event()
        self.changed = asyncio.Event()  # set after each round that took or lost a role

    async def round(self) -> None:
        """Takes the free roles, and stops the ones whose lock was lost."""
        before = list(self.held)
        for name in self.shared:
            if not await self.db.holds(name) and not await self.db.try_lock(name, shared=True):
                log.error("roles: could not take the %s lock again (held alone elsewhere)", name)
        now = asyncio.get_running_loop().time()
        for role in self.roles:
            if self._stopping.is_set():
                return
            if role.name in self.held:
                if not await self.db.holds(role_lock(role.name)):
                    log.warning("roles: lost %s (its lock session ended); stopping it", role.name)
                    self.held.remove(role.name)
                    await self._stop(role)
                continue
            if self._not_before.get(role.name, 0.0) > now:
                continue
            if await self.db.try_lock(role_lock(role.name)):
                try:
                    await role.start()
                except BaseException:
                    # Another process may do better (or this one later): never a tight loop of
                    # failing starts (a platform that refuses the token, a port in use).
                    self._not_before[role.name] = now + START_RETRY_S
                    await self.db.unlock(role_lock(role.name))
                    raise
                self.held.append(role.name)
                log.info("roles: this process now runs %s", role.name)
        if self.held != before:
            self.changed.set()

    async def run(self) -> None:
        """Rounds until `stop()`; a round that fails is logged and tried again."""
        while not self._stopping.is_set():
            try:
                await self.round()
            except Exception:
                log_failure(log, "roles: a round failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.retry_s)

    def halt(self) -> None:
        """Ends `run()` after its round: no role is taken any more."""
        self._stopping.set()

    async def stop(self) -> None:
        """Stops every held role (the last taken first) and lets go of its lock; after `run()`
        has ended."""
        self._stopping.set()
        for name in reversed(list(self.held)):
            role = next(r for r in self.roles if r.name == name)
            self.held.remove(name)
            await self._stop(role)
            with contextlib.suppress(Exception):
                await self.db.unlock(role_lock(name))

    async def _stop(self, role: Role) -> None:
        try:
            await role.stop()
        except Exception:
            log_failure(log, "roles: %s did not stop cleanly", role.name)


class Receiver(Protocol):
    """An adapter whose receiving of updates is a role of its own (Telegram: one client at a
    time may poll, and a webhook is one address); it sends from every process."""

    name: str
    receive_on_start: bool

    async def start_receiving(self) -> None: ...

    async def stop_receiving(self) -> None: ...


class LoopRole(Generic[L]):
    """A role that runs a fresh loop each time it is taken."""

    def __init__(self, name: str, make: Callable[[], L]) -> None:
        self.name, self._make = name, make
        self.loop: L | None = None
        self._task: asyncio.Task[None] | None = None

    def role(self) -> Role:
        return Role(self.name, self.start, self.stop)

    async def start(self) -> None:
        self.loop = self._make()
        self._task = asyncio.create_task(self.loop.run())

    async def stop(self) -> None:
        if self.loop is not None and self._task is not None:
            self.loop.stop()
            await self._task
        self._task = None


def sender_role(drainer: OutboxDrainer, platform: str, take_over: bool = True) -> Role:
    """A platform's outbox sender, which keeps the platform's global rate: one at a time (or,
    `take_over` False, one per set of Discord shards, each sending only its shards' items)."""
    task: list[asyncio.Task[None]] = []

    async def start() -> None:
        run = drainer.run_platform(platform, take_over=take_over)
        task[:] = [asyncio.create_task(run)]

    async def stop() -> None:
        drainer.stop_platform(platform)
        for running in task:
            await running
        task.clear()

    return Role(f"send:{platform}", start, stop)


def receiver_role(adapter: Receiver) -> Role:
    return Role(f"receive:{adapter.name.lower()}", adapter.start_receiving, adapter.stop_receiving)


def adapter_role_name(adapter: Adapter) -> str:
    """`adapter:<platform>`, or the adapter's own (Discord shards: one role per set of shards)."""
    return str(getattr(adapter, "role_name", f"adapter:{adapter.name.lower()}"))


def adapter_role(adapter: Adapter, drainer: OutboxDrainer, platforms: Sequence[str]) -> Role:
    """An adapter that cannot share its receiving (one gateway connection per token, or per
    shard): the whole adapter runs in one process at a time, with its outbox sender."""
    alone = bool(getattr(adapter, "sends_alone", True))
    senders = [sender_role(drainer, p, take_over=alone) for p in platforms]

    async def start() -> None:
        await adapter.start()
        for sender in senders:
            await sender.start()

    async def stop() -> None:
        for sender in senders:
            await sender.stop()
        await adapter.stop()

    return Role(adapter_role_name(adapter), start, stop)


def is_receiver(adapter: object) -> TypeGuard[Receiver]:
    return callable(getattr(adapter, "start_receiving", None)) and hasattr(
        adapter, "receive_on_start"
    )
