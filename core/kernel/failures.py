"""Logging a failure without its message: an exception's text can hold what a member wrote
(`int("²")` puts the "²" in its ValueError), and logs never carry that.

`log_failure` logs the exception's type and where it was raised (file, line and function of
each frame: enough to find the bug), never its message, its arguments or the source lines.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType


class LoggableError(Exception):
    """An error whose message is built only from ids and fixed words, never from member input
    (a value's place in the database, say): logs show its message, so an admin can act on it."""


def _described(exc: BaseException) -> str:
    name = type(exc).__name__
    return f"{name}: {exc}" if isinstance(exc, LoggableError) else name


def failure_where(tb: TracebackType | None) -> str:
    """The frames of a traceback as "folder/file.py:line function", outermost first."""
    frames = traceback.extract_tb(tb)
    return " > ".join(
        f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno} {f.name}"
        for f in frames
    )


def failure_text(exc: BaseException) -> str:
    """An exception as a log may show it: its type and frames, and the types of what caused it."""
    text = f"{_described(exc)} at {failure_where(exc.__traceback__) or 'unknown'}"
    cause = exc.__cause__ or exc.__context__
    seen = {id(exc)}
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        text += f"; from {_described(cause)} at {failure_where(cause.__traceback__)}"
        cause = cause.__cause__ or cause.__context__
    return text


def log_failure(log: logging.Logger, message: str, *args: object) -> None:
    """In an `except` block: `message` (with `args`) at ERROR, then the failure's type and
    frames. Never the exception's message."""
    exc = sys.exc_info()[1]
    if exc is None:
        log.error(message, *args)
        return
    log.error(message + " (%s)", *args, failure_text(exc))
