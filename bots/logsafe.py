"""Logging that never shows a token: noisy HTTP loggers kept quiet, secrets masked."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

# httpx logs every request URL at INFO, and the Bot API URL holds the token; PTB logs whole
# updates (member text) at DEBUG. Whatever our level, these stay at WARNING.
QUIET_LOGGERS = ("httpx", "httpcore", "telegram", "apscheduler", "tornado")
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


def setup_logging(level: int, secrets: Iterable[str] = ()) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    mask = SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(mask)
