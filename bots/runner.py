"""Runs the platform adapters side by side in one process, with the pacing loop.

Each adapter has `start()` (returns once it is receiving) and `stop()` (finishes what is in
flight). SIGTERM or SIGINT stops pacing first, then every adapter, then closes the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from typing import Protocol

from bots.bootstrap import Runtime
from bots.health import HealthServer, Vitals
from bots.instance import AlreadyRunningError, instance_lock
from bots.roles import (
    LoopRole,
    Role,
    RoleKeeper,
    adapter_role,
    adapter_role_name,
    is_receiver,
    receiver_role,
    sender_role,
)
from core.api import PacingLoop, PurgeLoop, ScheduleService
from core.kernel.failures import log_failure
from core.storage.database import RUN_LOCK

log = logging.getLogger(__name__)


class AdapterStartError(Exception):
    """An adapter cannot start for a reason the operator can fix; the message says how."""


class Adapter(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def run_adapters(
    runtime: Runtime, adapters: Sequence[Adapter], stop: asyncio.Event | None = None
) -> int:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    started: list[Adapter] = []
    held = contextlib.ExitStack()
    vitals = Vitals(runtime.app, runtime.db, adapters)
    listen = str(runtime.config.get("health", "listen"))
    health = HealthServer(listen, vitals.status) if listen else None
    keeper: RoleKeeper | None = None
    roles_task: asyncio.Task[None] | None = None
    try:
        # Several bots may share a PostgreSQL database (issue 17): each holds the run lock
        # shared, and the work that must run once is held per role (bots/roles.py). SQLite
        # stays one process: its lock file is exclusive.
        shared = runtime.db.dialect == "postgresql"
        try:
            held.enter_context(instance_lock(runtime.config.db_path, shared=shared))
        except AlreadyRunningError as exc:
            raise AdapterStartError(str(exc)) from None
        if not await runtime.db.try_lock(RUN_LOCK, shared=True):
            raise AdapterStartError(
                f"a key rotation or a copy into {runtime.config.storage.shown} is under way "
                "(it holds the database alone). Start the bot once it has finished."
            )
        if health is not None:
            await _start_health(health)
        schedules = ScheduleService.from_config(runtime.app, runtime.config)
        whole: list[Adapter] = []  # shared: adapters that run in one process at a time
        for adapter in adapters:
            if shared and is_receiver(adapter):
                adapter.receive_on_start = False
            elif shared:
                whole.append(adapter)
                continue
            await adapter.start()
            started.append(adapter)
            vitals.started.append(adapter)
        pacing = LoopRole("pacing", lambda: PacingLoop(runtime.app))
        purge = LoopRole("purge", lambda: PurgeLoop(runtime.app))  # the daily clean-up
        keeper = kept = RoleKeeper(
            runtime.db,
            _roles(runtime, started, whole, schedules, pacing, purge, shared, vitals),
            shared=[RUN_LOCK],
        )
        vitals.last_pacing_round = lambda: pacing.loop.last_round if pacing.loop else None
        vitals.paces = lambda: "pacing" in kept.held
        vitals.roles = lambda: list(kept.held)
        vitals.elsewhere = lambda: {a.name for a in whole if adapter_role_name(a) not in kept.held}
        await keeper.round()  # on SQLite every role, as one process has always run them
        vitals.ready = True
        roles_task = asyncio.create_task(kept.run())
        # Group check-ins: APScheduler jobs rebuilt from our tables (every process fires them:
        # a run is claimed once); the outbox is drained by the senders' roles.
        await schedules.start(send=False)
        log.info("Unblend is running (%s)", ", ".join(a.name for a in started))
        await stop.wait()
        vitals.ready = False
        log.info("stopping: finishing what is in flight")
        await schedules.stop()
        kept.halt()
        await roles_task
        return 0
    finally:
        if health is not None:
            await health.close()
        if roles_task is not None and not roles_task.done():
            roles_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await roles_task
        if keeper is not None:
            await keeper.stop()  # the roles this process holds, the last taken first
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                log_failure(log, "%s did not stop cleanly", adapter.name)
        for sig in signals:
            loop.remove_signal_handler(sig)
        await runtime.close()
        held.close()
        log.info("stopped; the database is closed")


def _roles(
    runtime: Runtime,
    started: Sequence[Adapter],
    whole: Sequence[Adapter],
    schedules: ScheduleService,
    pacing: LoopRole[PacingLoop],
    purge: LoopRole[PurgeLoop],
    shared: bool,
    vitals: Vitals,
) -> list[Role]:
    """The work that runs once per database, in the order one process starts it."""
    drainer = schedules.drainer
    roles = [pacing.role(), purge.role()]
    roles += [receiver_role(a) for a in started if shared and is_receiver(a)]
    roles += [sender_role(drainer, p) for p in runtime.app.outbound.platforms()]
    for adapter in [*whole, *started]:
        # A process holding part of Discord's shards sends at its part of the bot's rate.
        drainer.send_share(adapter.name.lower(), float(getattr(adapter, "rate_share", 1.0)))
    for adapter in whole:
        platform = adapter.name.lower()
        role = adapter_role(adapter, drainer, [platform])

        async def start(adapter: Adapter = adapter, role: Role = role) -> None:
            await role.start()
            vitals.started.append(adapter)

        async def stop(adapter: Adapter = adapter, role: Role = role) -> None:
            vitals.started.remove(adapter)
            await role.stop()

        roles.append(Role(role.name, start, stop))
    return roles


async def _start_health(health: HealthServer) -> None:
    try:
        await health.start()
    except OSError as exc:
        raise AdapterStartError(
            f"[health] listen: cannot listen on {health.host}:{health.port} ({exc.strerror}). "
            'Pick a free port, or set listen = "" for no health port.'
        ) from None
