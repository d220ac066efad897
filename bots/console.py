"""The console adapter: one member, in a terminal or fed a script on stdin.

A member's files (their /export) are written under `files_dir`, in a folder of their own whose
name says nothing about whose it is (a keyed hash of the member's id; the key is a private file
beside it), readable only by this user; /forget removes that folder (issue 12).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import re
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from core.app import Unblend
from core.model import Choice, Event, Reply, Space
from core.numbers import parse_number
from core.records import Member

PLATFORM = "console"
PROMPT = "> "
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
FOLDER_KEY = ".folders.key"
# What versions before issue 12 wrote straight into `files_dir`, one name for every member.
SHARED_EXPORTS = ("unblend-export-*", "unblend-checkins-*")


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
    number = parse_number(text, max_digits=3)
    if number is not None and 1 <= number <= len(choices):
        return Event(**base, choice=choices[number - 1].id)  # type: ignore[arg-type]
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
        app.erase_hooks.append(self._erase_files)

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

    def _folder_key(self, files_dir: Path, create: bool) -> bytes | None:
        path = files_dir / FOLDER_KEY
        if create and not path.exists():
            files_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            files_dir.chmod(0o700)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another run made it first: use theirs
            else:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(secrets.token_bytes(32))
        return path.read_bytes() if path.is_file() else None

    def _member_folder(self, user_id: str, create: bool = False) -> Path | None:
        """The member's own folder under `files_dir`: the same for every run of this user."""
        if self.files_dir is None:
            return None
        key = self._folder_key(self.files_dir, create)
        if not key:
            return None
        digest = hmac.new(key, f"{PLATFORM}:{user_id}".encode(), hashlib.sha256).hexdigest()
        return self.files_dir / digest[:32]

    async def _erase_files(self, member: Member) -> None:
        """/forget: the member's exported files go with the rest of their data."""
        if member.platform != PLATFORM or self.files_dir is None:
            return
        folder = self._member_folder(member.user_id)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        # An export from before files had a folder per member may be this member's: it goes.
        for pattern in SHARED_EXPORTS:
            for old in self.files_dir.glob(pattern):
                old.unlink(missing_ok=True)

    def _save_files(self, replies: list[Reply]) -> dict[int, Path]:
        saved: dict[int, Path] = {}
        for i, reply in enumerate(replies):
            if reply.file is None:
                continue
            folder = self._member_folder(self.user_id, create=True)
            if folder is None:
                break
            folder.mkdir(exist_ok=True, mode=0o700)
            name = SAFE_NAME.sub("_", reply.file_name)[:100].strip("._") or "unblend-file"
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)  # also when an older copy was left with another mode
            with os.fdopen(fd, "wb") as handle:
                handle.write(reply.file)
            saved[i] = path
        return saved
