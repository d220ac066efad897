"""Logging that never shows a token, nor an exception's message: noisy HTTP loggers kept quiet,
secrets masked, tracebacks cut down to the exception's type and frames."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from core.kernel.failures import failure_text

# httpx logs every request URL at INFO, and the Bot API URL holds the token; PTB logs whole
# updates (member text) at DEBUG, and so does discord.py (gateway events, interaction tokens).
# Whatever our level, these stay at WARNING.
QUIET_LOGGERS = ("httpx", "httpcore", "telegram", "apscheduler", "tornado", "discord")
MASK = "<secret>"


class SecretFilter(logging.Filter):
    """Replaces each secret in a record's message and traceback with a mask."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        record.msg = self._mask(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self._mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class ExceptionTypeOnly(logging.Filter):
    """A traceback logged by anyone (a library, asyncio) shows the exception's type and frames,
    never its message: the message can hold what a member wrote (issue 12)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = failure_text(record.exc_info[1])
            record.exc_info = None
        return True


class OneLineFormatter(logging.Formatter):
    """Plain text, one line an event: a traceback's line breaks become " | "."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", " | ")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    level: int, secrets: Iterable[str] = (), json_lines: bool = False, stream: TextIO | None = None
) -> None:
    out = logging.StreamHandler(sys.stderr if stream is None else stream)
    out.setFormatter(JsonFormatter() if json_lines else OneLineFormatter())
    logging.basicConfig(level=level, handlers=[out])
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    mask = SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(ExceptionTypeOnly())
        handler.addFilter(mask)
