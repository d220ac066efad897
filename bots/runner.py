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
    try:
        try:
            held.enter_context(instance_lock(runtime.config.db_path))
        except AlreadyRunningError as exc:
            raise AdapterStartError(str(exc)) from None
        # A shared database (PostgreSQL) may be reached from other machines too: one bot runs
        # on it until several processes share the work (issue 17). Let go when it closes.
        if not await runtime.db.try_lock(RUN_LOCK):
            raise AdapterStartError(
                f"another Unblend is already running on {runtime.config.storage.shown}. "
                "Stop it first (on whichever machine runs it), or give this one its own "
                "database."
            )
        if health is not None:
            await _start_health(health)
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
            vitals.started.append(adapter)
        pacing = PacingLoop(runtime.app)
        vitals.last_pacing_round = lambda: pacing.last_round
        pacing_task = asyncio.create_task(pacing.run())
        vitals.ready = True
        purge = PurgeLoop(runtime.app)  # the daily clean-up of expired data
        purge_task = asyncio.create_task(purge.run())
        # Group check-ins: APScheduler jobs rebuilt from our tables, and the outbox drained.
        schedules = ScheduleService.from_config(runtime.app, runtime.config)
        await schedules.start()
        log.info("Unblend is running (%s)", ", ".join(a.name for a in started))
        await stop.wait()
        vitals.ready = False
        log.info("stopping: finishing what is in flight")
        await schedules.stop()
        pacing.stop()
        purge.stop()
        await pacing_task
        await purge_task
        return 0
    finally:
        if health is not None:
            await health.close()
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


async def _start_health(health: HealthServer) -> None:
    try:
        await health.start()
    except OSError as exc:
        raise AdapterStartError(
            f"[health] listen: cannot listen on {health.host}:{health.port} ({exc.strerror}). "
            'Pick a free port, or set listen = "" for no health port.'
        ) from None
