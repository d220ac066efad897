"""The console adapter: one member, in a terminal or fed a script on stdin."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from core.app import Unblend
from core.model import Choice, Event, Reply, Space

PLATFORM = "console"
PROMPT = "> "
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def parse_line(line: str, user_id: str, choices: list[Choice]) -> Event:
    """A command, a choice (by label first, then by number) or free text."""
    text = line.strip()
    base = {"platform": PLATFORM, "user_id": user_id, "space": Space.private(user_id)}
    if text.startswith("/"):
        name, *args = text.split()
        return Event(**base, command=name, args=tuple(args))  # type: ignore[arg-type]
    folded = text.casefold()
    for choice in choices:
        if folded and folded == choice.label.casefold():
            return Event(**base, choice=choice.id)  # type: ignore[arg-type]
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(choices):
        return Event(**base, choice=choices[int(text) - 1].id)  # type: ignore[arg-type]
    return Event(**base, text=line.rstrip("\r\n"))  # type: ignore[arg-type]


def render(
    replies: list[Reply], saved: Mapping[int, Path] | None = None
) -> tuple[str, list[Choice]]:
    """Text for the terminal, with every choice in this turn numbered in one sequence.

    `saved` maps a reply's index to where its file was written.
    """
    out: list[str] = []
    choices: list[Choice] = []
    for i, reply in enumerate(replies):
        if reply.text:
            out.append(reply.text)
        if reply.image is not None:
            # A terminal shows no pictures: the description stands in for it.
            out.append(f"[picture: {reply.image_alt}]")
        if reply.file is not None:
            where = (saved or {}).get(i)
            out.append(f"[file saved: {where}]" if where else f"[file: {reply.file_name}]")
        for choice in reply.choices:
            choices.append(choice)
            out.append(f"[{len(choices)}] {choice.label}")
        out.append("")
    return "\n".join(out), choices


class ConsoleAdapter:
    def __init__(
        self,
        app: Unblend,
        stdin: TextIO,
        stdout: TextIO,
        user_id: str = "console",
        interactive: bool = False,
        files_dir: Path | None = None,
    ) -> None:
        self.app = app
        # Where files (a member's /export) are written, readable only by this user.
        self.files_dir = files_dir
        self.stdin = stdin
        self.stdout = stdout
        self.user_id = user_id
        self.interactive = interactive
        self.choices: list[Choice] = []

    def _write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _prompt(self) -> None:
        # In a pipe the prompt is a line of its own, so a script can wait for exactly "> ".
        self._write(PROMPT if self.interactive else PROMPT + "\n")

    async def send(self, platform: str, user_id: str, replies: list[Reply]) -> None:
        """Paced steps arrive between inputs: shown like any reply, then a fresh prompt."""
        text, self.choices = render(replies, self._save_files(replies))
        self._write(("\n" if self.interactive else "") + text + "\n")
        self._prompt()

    async def run(self, banner: bool = True) -> int:
        loop = asyncio.get_running_loop()
        self.app.outbound.register(PLATFORM, self)
        if banner:
            self._write(self.app.library.catalog().text("console.banner") + "\n\n")
        while True:
            self._prompt()
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                if self.interactive:
                    self._write("\n")
                return 0
            event = parse_line(line, self.user_id, self.choices)
            replies = await self.app.handle(event)
            text, self.choices = render(replies, self._save_files(replies))
            self._write(text + "\n")

    def _save_files(self, replies: list[Reply]) -> dict[int, Path]:
        saved: dict[int, Path] = {}
        if self.files_dir is None:
            return saved
        for i, reply in enumerate(replies):
            if reply.file is None:
                continue
            self.files_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            name = SAFE_NAME.sub("_", reply.file_name)[:100].strip("._") or "unblend-file"
            path = self.files_dir / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(reply.file)
            saved[i] = path
        return saved
