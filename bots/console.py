"""The console adapter: one member, in a terminal or fed a script on stdin."""

from __future__ import annotations

import asyncio
from typing import TextIO

from core.app import Unblend
from core.model import Choice, Event, Reply, Space

PLATFORM = "console"
PROMPT = "> "


def parse_line(line: str, user_id: str, choices: list[Choice]) -> Event:
    """A command, a choice (by label first, then by number) or free text."""
    text = line.strip()
    base = {"platform": PLATFORM, "user_id": user_id, "space": Space.private(user_id)}
    if text.startswith("/") and len(text) > 1:
        name, *args = text.split()
        return Event(**base, command=name, args=tuple(args))  # type: ignore[arg-type]
    folded = text.casefold()
    for choice in choices:
        if folded and folded == choice.label.casefold():
            return Event(**base, choice=choice.id)  # type: ignore[arg-type]
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(choices):
        return Event(**base, choice=choices[int(text) - 1].id)  # type: ignore[arg-type]
    return Event(**base, text=line.rstrip("\r\n"))  # type: ignore[arg-type]


def render(replies: list[Reply]) -> tuple[str, list[Choice]]:
    """Text for the terminal, with every choice in this turn numbered in one sequence."""
    out: list[str] = []
    choices: list[Choice] = []
    for reply in replies:
        if reply.text:
            out.append(reply.text)
        if reply.image is not None:
            # A terminal shows no pictures: the description stands in for it.
            out.append(f"[picture: {reply.image_alt}]")
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
    ) -> None:
        self.app = app
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
        text, self.choices = render(replies)
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
            text, self.choices = render(await self.app.handle(event))
            self._write(text + "\n")
