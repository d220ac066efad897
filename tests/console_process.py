"""Drives the real `unblend` command through a pipe, as a script on stdin would."""

from __future__ import annotations

import os
import selectors
from pathlib import Path

from tests.launch import unblend_process

# A safety net against a hung child, not a wait for time: reads return as soon as a prompt comes.
READ_TIMEOUT_S = 60


class ConsoleProcess:
    def __init__(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = unblend_process(*args, cwd=cwd, env={**os.environ, **(env or {})})
        assert self.proc.stdout is not None
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)
        self._buffer = b""

    def read_until_prompt(self) -> str:
        """Everything printed up to the next line that is exactly "> "."""
        assert self.proc.stdout is not None
        while b"\n> \n" not in b"\n" + self._buffer:
            if not self._selector.select(timeout=READ_TIMEOUT_S):
                raise TimeoutError(f"no prompt; got so far: {self._buffer.decode()!r}")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise EOFError(f"process ended; output: {self._buffer.decode()!r}")
            self._buffer += chunk
        text = b"\n" + self._buffer
        cut = text.index(b"\n> \n")
        before, self._buffer = text[1 : cut + 1], text[cut + 4 :]
        return before.decode()

    def say(self, line: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        return self.read_until_prompt()

    def close(self) -> tuple[int, str]:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        rest = self.proc.stdout.read() if self.proc.stdout else b""
        code = self.proc.wait(timeout=READ_TIMEOUT_S)
        self._selector.close()
        return code, (self._buffer + rest).decode()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=READ_TIMEOUT_S)
        self._selector.close()

    def stderr(self) -> str:
        return self.proc.stderr.read().decode() if self.proc.stderr else ""
