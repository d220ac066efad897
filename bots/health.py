"""`GET /healthz` for uptime monitors, on asyncio's own server (no web framework needed).

200 when the bot is ready and every adapter is connected, else 503; the body is JSON with the
details. It says nothing about members: only states, times and counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from core.api import Unblend
from core.storage.database import Database

log = logging.getLogger(__name__)

Status = Callable[[], Awaitable[dict[str, Any]]]
READ_TIMEOUT_S = 5.0
MAX_HEADER_LINES = 100
# The pacing loop runs every second; a minute without a round means it is stuck.
PACING_STALE_S = 60.0


class Named(Protocol):
    name: str


class Vitals:
    """What /healthz reports; the runner marks adapters started and the bot ready."""

    def __init__(self, app: Unblend, db: Database, adapters: Sequence[Named]) -> None:
        self.app = app
        self.db = db
        self.adapters = list(adapters)
        self.started: list[Named] = []
        self.ready = False
        self.last_pacing_round: Callable[[], datetime | None] = lambda: None
        # With several processes on one database (bots/roles.py): the roles this one holds.
        # Work another process holds (the pacing loop, an adapter) is not this one's to report.
        self.roles: Callable[[], list[str]] = lambda: []
        self.paces: Callable[[], bool] = lambda: True
        self.elsewhere: Callable[[], set[str]] = set

    async def status(self) -> dict[str, Any]:
        elsewhere = self.elsewhere()
        connected = {
            a.name: any(a is s for s in self.started) and _connected(a)
            for a in self.adapters
            if a.name not in elsewhere
        }
        last = self.last_pacing_round()
        age = None if last is None else (self.app.clock.now() - last).total_seconds()
        pacing_ok = not self.paces() or (age is not None and age <= PACING_STALE_S)
        schedule = getattr(self.app, "last_schedule_run", None)
        return {
            "ready": self.ready and all(connected.values()) and pacing_ok,
            "adapters": connected,
            "last_pacing_round": None if last is None else last.isoformat(),
            "pacing_age_s": None if age is None else round(age, 1),
            "last_schedule_run": schedule.isoformat() if isinstance(schedule, datetime) else None,
            "outbox_depth": await self._outbox_depth(),
            "roles": self.roles(),
        }

    async def _outbox_depth(self) -> int:
        """Sends waiting to go out. A database that cannot answer (a PostgreSQL server gone
        away) fails the whole status: /healthz says 503 with the error's type."""
        row = await self.db.fetchone("SELECT count(*) FROM outbox WHERE state='pending'")
        return int(row[0]) if row else 0


def _connected(adapter: Named) -> bool:
    """An adapter may say whether it is connected (`is_connected()`); else: once started."""
    probe = getattr(adapter, "is_connected", None)
    return bool(probe()) if callable(probe) else True


class HealthServer:
    def __init__(self, listen: str, status: Status) -> None:
        host, _, port = listen.rpartition(":")
        self.host = host.strip("[]") or "127.0.0.1"
        self.port = int(port)
        self._status = status
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("health: http://%s:%d/healthz", self.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                request = (await reader.readline()).decode("latin-1").split()
                for _ in range(MAX_HEADER_LINES):
                    if (await reader.readline()).strip() in (b"", b"\r\n"):
                        break
            await self._answer(writer, request)
        except (TimeoutError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, writer: asyncio.StreamWriter, request: list[str]) -> None:
        method, path = [*request, "", ""][:2]
        body: dict[str, Any]
        if not path.startswith("/"):
            code, body = 400, {"error": "bad request"}
        elif method not in ("GET", "HEAD"):
            code, body = 405, {"error": "only GET"}
        elif path.split("?")[0] != "/healthz":
            code, body = 404, {"error": "not found; try /healthz"}
        else:
            try:
                body = await self._status()
                code = 200 if body.get("ready") else 503
            except Exception as exc:
                log.warning("health: status failed (%s)", type(exc).__name__)
                code, body = 503, {"ready": False, "error": type(exc).__name__}
        payload = json.dumps(body).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}.get(
            code, "Service Unavailable"
        )
        head = (
            f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nCache-Control: no-store\r\n"
            "Connection: close\r\n\r\n"
        )
        writer.write(head.encode() + (b"" if method == "HEAD" else payload))
        await writer.drain()
