"""Telegram's limits, kept: PTB's AIORateLimiter plus a per-chat pace and network retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import httpx
from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

# Calls that change nothing when repeated: safe to retry even after a read timeout.
IDEMPOTENT = frozenset(
    {
        "getMe",
        "editMessageText",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
        "setMyCommands",
        "deleteWebhook",
        "setWebhook",
        "getChatAdministrators",
    }
)
DEFAULT_BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)

Callback = Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]]


def _retryable(exc: NetworkError, endpoint: str) -> bool:
    """A dead connection or a 5xx: nothing was done, so trying again cannot send twice."""
    if isinstance(exc, BadRequest):
        return False
    if isinstance(exc, TimedOut):
        # A read timeout may come after Telegram already sent the message: retry only calls
        # that are safe to repeat, or timeouts that happened before anything was sent.
        return endpoint in IDEMPOTENT or isinstance(
            exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout
        )
    return True


class TelegramLimiter(AIORateLimiter):
    """30 messages/s overall and 20/min per group (AIORateLimiter, which also honours 429
    `retry_after`), about 1/s per chat with short bursts, and retries with backoff for
    network errors and 5xx answers."""

    def __init__(
        self,
        max_retries: int = 5,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        chat_rate: float = 1.0,
        chat_burst: int = 3,
        overall_rate: float = 30.0,
        group_rate: float = 20.0,
        group_period: float = 60.0,
    ) -> None:
        # overall_rate and group_rate/group_period: Telegram's limits (tests scale them).
        super().__init__(
            overall_max_rate=overall_rate,
            overall_time_period=1,
            group_max_rate=group_rate,
            group_time_period=group_period,
            max_retries=max_retries,
        )
        self._backoff = tuple(backoff)
        self._chat_rate = chat_rate
        self._chat_burst = chat_burst
        self._chats: dict[str, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: object) -> AsyncLimiter:
        key = str(chat_id)
        if len(self._chats) > 1024:
            for old, limiter in list(self._chats.items()):
                if old != key and limiter.has_capacity(limiter.max_rate):
                    del self._chats[old]
        if key not in self._chats:
            self._chats[key] = AsyncLimiter(self._chat_burst, self._chat_burst / self._chat_rate)
        return self._chats[key]

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        for attempt in range(len(self._backoff) + 1):
            try:
                if chat_id is None:
                    return await super().process_request(
                        callback, args, kwargs, endpoint, data, rate_limit_args
                    )
                async with self._chat_limiter(chat_id):
                    return await super().process_request(
                        callback, args, kwargs, endpoint, data, rate_limit_args
                    )
            except NetworkError as exc:
                if attempt == len(self._backoff) or not _retryable(exc, endpoint):
                    raise
                delay = self._backoff[attempt]
                log.warning(
                    "telegram %s failed (%s); trying again in %.1f s",
                    endpoint,
                    type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
        raise AssertionError("the loop returns or raises")
