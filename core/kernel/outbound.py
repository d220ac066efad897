"""Sends that no member event asked for, routed to the adapter of each platform."""

from __future__ import annotations

import logging

from core.kernel.model import Reply
from core.kernel.ports import Outbound

log = logging.getLogger(__name__)


class OutboundRouter:
    def __init__(self) -> None:
        self._by_platform: dict[str, Outbound] = {}

    def register(self, platform: str, sender: Outbound) -> None:
        self._by_platform[platform] = sender

    def sender(self, platform: str) -> Outbound | None:
        """The adapter registered for `platform` (the outbox asks it to post, issue 6)."""
        return self._by_platform.get(platform)

    def platforms(self) -> list[str]:
        return list(self._by_platform)

    async def send(self, platform: str, user_id: str, replies: list[Reply]) -> None:
        sender = self._by_platform.get(platform)
        if sender is None:
            # The adapter is not running now (e.g. restarted with another platform only).
            log.warning("no adapter for platform=%s; paced step not delivered", platform)
            return
        await sender.send(platform, user_id, replies)


class RecordingOutbound:
    """An outbound port that keeps what was sent: for tests and the benchmarks."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[Reply]]] = []

    async def send(self, platform: str, user_id: str, replies: list[Reply]) -> None:
        self.sent.append((platform, user_id, replies))
