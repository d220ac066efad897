"""Runs the platform adapters side by side in one process, with the pacing loop.

Each adapter has `start()` (returns once it is receiving) and `stop()` (finishes what is in
flight). SIGTERM or SIGINT stops pacing first, then every adapter, then closes the database.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from typing import Protocol

from bots.bootstrap import Runtime
from core.pacing import PacingLoop

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
    try:
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
        pacing = PacingLoop(runtime.app)
        pacing_task = asyncio.create_task(pacing.run())
        log.info("Unblend is running (%s)", ", ".join(a.name for a in started))
        await stop.wait()
        log.info("stopping: finishing what is in flight")
        pacing.stop()
        await pacing_task
        return 0
    finally:
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("%s did not stop cleanly", adapter.name)
        for sig in signals:
            loop.remove_signal_handler(sig)
        await runtime.close()
        log.info("stopped; the database is closed")
