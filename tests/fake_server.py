"""What the fake platforms share: a real HTTP server on 127.0.0.1 (a free port), and a bounded
wait for the bot's answer (real I/O only, never the clock)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web


class FakeServer:
    def __init__(self) -> None:
        # Set whenever the bot did something a test may be waiting for.
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def _serve(self, app: web.Application) -> int:
        """Serves `app` on 127.0.0.1; the port it got."""
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return int(self._runner.addresses[0][1])

    async def _stop_serving(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, check: Any, within: float = 10.0) -> Any:
        """Waits until `check()` returns something truthy; real I/O only, bounded."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            self._changed.clear()
            found = check()
            if found:
                return found
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError("the bot did not answer in time")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
