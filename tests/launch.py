"""`unblend ...` as an operator runs it: the real command line, in a child process. One place
for every test that starts the bot or one of its commands."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO

UNBLEND = (sys.executable, "-m", "bots.cli")


def unblend(
    *args: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = False,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Runs `unblend <args>` to its end; its output as text."""
    return subprocess.run(
        [*UNBLEND, *args],
        input=stdin,
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


def unblend_process(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Starts `unblend <args>` with pipes to talk to it (the console)."""
    return subprocess.Popen(
        [*UNBLEND, *args],
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=None if env is None else dict(env),
    )


async def start_unblend(
    *args: str,
    cwd: Path,
    env: Mapping[str, str],
    stdout: int | IO[bytes] = asyncio.subprocess.PIPE,
    stderr: int | IO[bytes] = asyncio.subprocess.PIPE,
) -> asyncio.subprocess.Process:
    """Starts `unblend <args>` (`run`, usually) without waiting for it."""
    return await asyncio.create_subprocess_exec(
        *UNBLEND, *args, cwd=cwd, env=dict(env), stdout=stdout, stderr=stderr
    )
