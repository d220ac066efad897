"""The console adapter: one member, in a terminal or fed a script on stdin.

A member's files (their /export) are written under `files_dir`, in a folder of their own whose
name says nothing about whose it is (a keyed hash of the member's id; the key is a private file
beside it), readable only by this user; /forget removes that folder (issue 12). The /history
chart is saved there too.

It runs the app's timed-step loop itself, so paced exercises move on over time. In a terminal
a paced step's count ("Breathe in… 1, 2, 3, 4") appears one number a second; in a pipe the
steps still come over time, and at the end of the script a running exercise plays out before
the console leaves. Pictures (the /history chart) are saved as files, and reminders and other
scheduled messages arrive through `post`, like on the other platforms.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import re
import secrets
import shutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from core.api import (
    Choice,
    Delivery,
    Event,
    Member,
    Reply,
    SendResult,
    SendStatus,
    Space,
    Unblend,
    log_failure,
    parse_number,
)

log = logging.getLogger(__name__)

PLATFORM = "console"
PROMPT = "> "
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
CHART_NAME = "history-chart.png"
FOLDER_KEY = ".folders.key"
# What versions before issue 12 wrote straight into `files_dir`, one name for every member.
SHARED_EXPORTS = ("unblend-export-*", "unblend-checkins-*")
# A paced step's text that ends in a count: "Round 1 of 3. Breathe in… 1, 2, 3, 4".
COUNT = re.compile(r"(?P<head>.*?)(?P<count>\b1(?:, \d{1,2})+)\s*$", re.S)
# Where a counted reply's count goes while the rest is rendered around it.
_MARK = "\x00"
# How often the timed-step loop looks for a step that is due (a step is never under 1 s).
TICK_S = 1.0

Sleep = Callable[[float], Awaitable[None]]
ReadLine = Callable[[], Awaitable[str]]


def parse_line(line: str, user_id: str, choices: list[Choice], locale: str = "") -> Event:
    """A command, a choice (by label first, then by number) or free text.

    Where the choices are a scale's numbers, a typed number is a value, never an option's
    position: in a 0-10 scale `7` means 7, and `11` is not Skip but out of range (the core
    then says which numbers fit).
    """
    text = line.strip()
    base = {"platform": PLATFORM, "user_id": user_id, "space": Space.private(user_id)}
    base["locale"] = locale  # what --locale said, as a platform's language would
    if text.startswith("/"):
        name, *args = text.split() or ["/"]
        return Event(**base, command=name, args=tuple(args))  # type: ignore[arg-type]
    folded = text.casefold()
    for choice in choices:
        if folded and folded == choice.label.casefold():
            return Event(**base, choice=choice.id)  # type: ignore[arg-type]
    scale = any(c.label.isascii() and c.label.isdigit() for c in choices)
    number = None if scale else parse_number(text, max_digits=3)
    if number is not None and 1 <= number <= len(choices):
        return Event(**base, choice=choices[number - 1].id)  # type: ignore[arg-type]
    return Event(**base, text=line.rstrip("\r\n"))  # type: ignore[arg-type]


def render(
    replies: list[Reply],
    saved: Mapping[int, Path] | None = None,
    pictures: Mapping[int, Path] | None = None,
) -> tuple[str, list[Choice]]:
    """Text for the terminal, with every choice in this turn numbered in one sequence (or, in a
    turn with a 0-10 or 1-5 scale, none numbered: a typed number is a value there).

    `saved` maps a reply's index to where its file was written, `pictures` to where its
    picture was.
    """
    out: list[str] = []
    choices: list[Choice] = []
    on_scale = any(_is_number(c.label) for r in replies for c in r.choices)
    for i, reply in enumerate(replies):
        if reply.text:
            out.append(reply.text)
        if reply.image is not None:
            # A terminal shows no pictures: it is saved, and the description stands in for it.
            where = (pictures or {}).get(i)
            shown = f"[picture saved: {where}]" if where else "[picture]"
            out.append(f"{shown} {reply.image_alt}".strip())
        if reply.file is not None:
            where = (saved or {}).get(i)
            out.append(f"[file saved: {where}]" if where else f"[file: {reply.file_name}]")
        if on_scale:
            # On a scale a typed number is its value (parse_line), so nothing is numbered in
            # this turn: "[8] 7" would say that 8 means 7. Other choices are typed as words.
            scale = [c.label for c in reply.choices if _is_number(c.label)]
            words = [c.label for c in reply.choices if not _is_number(c.label)]
            if scale:
                out.append(" · ".join(scale))
            if words:
                out.append(("(or type: " if scale else "(type: ") + ", ".join(words) + ")")
            choices.extend(reply.choices)
        else:
            for choice in reply.choices:
                choices.append(choice)
                out.append(f"[{len(choices)}] {choice.label}")
        out.append("")
    return "\n".join(out), choices


def _is_number(label: str) -> bool:
    return label.isascii() and label.isdigit()


def split_count(replies: list[Reply]) -> tuple[list[Reply], list[str]]:
    """The replies with a paced step's trailing count cut out (marked), and that count."""
    for i in range(len(replies) - 1, -1, -1):
        reply = replies[i]
        found = COUNT.fullmatch(reply.text) if reply.replace_key.startswith("pace:") else None
        if found is None:
            continue
        numbers = found.group("count").split(", ")
        if numbers != [str(n) for n in range(1, len(numbers) + 1)]:
            return replies, []
        cut = replace(reply, text=found.group("head") + _MARK)
        return [*replies[:i], cut, *replies[i + 1 :]], numbers
    return replies, []


class ConsoleAdapter:
    def __init__(
        self,
        app: Unblend,
        stdin: TextIO,
        stdout: TextIO,
        user_id: str = "console",
        interactive: bool = False,
        files_dir: Path | None = None,
        *,
        sleep: Sleep | None = None,
        read_line: ReadLine | None = None,
        locale: str = "",
    ) -> None:
        self.app = app
        # `unblend console --locale es`: the terminal's "platform language" (issue 16).
        self.locale = locale
        # Where files (a member's /export) are written, readable only by this user.
        self.files_dir = files_dir
        # Where pictures (the /history chart) are kept: one file per member, replaced each time.
        self.stdin = stdin
        self.stdout = stdout
        self.user_id = user_id
        self.interactive = interactive
        self.choices: list[Choice] = []
        app.erase_hooks.append(self._erase_files)
        # Injected in tests, which move a fake clock instead of waiting.
        self._sleep: Sleep = sleep or asyncio.sleep
        self._read_line: ReadLine = read_line or self._read_stdin
        self._counting: asyncio.Task[None] | None = None

    # -- output -------------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _prompt(self) -> None:
        # In a pipe the prompt is a line of its own, so a script can wait for exactly "> ".
        self._write(PROMPT if self.interactive else PROMPT + "\n")

    async def _show(self, replies: list[Reply], lead: str = "") -> None:
        """Writes replies and a fresh prompt; in a terminal a paced count comes over time."""
        await self._stop_counting()
        counted, numbers = split_count(replies) if self.interactive else (replies, [])
        text, self.choices = render(
            counted, self._save_files(replies), self._save_pictures(replies)
        )
        if not numbers:
            self._write(lead + text + "\n")
            self._prompt()
            return
        before, _, after = text.partition(_MARK)
        self._write(lead + before)
        self._counting = asyncio.create_task(self._count(numbers, after))

    async def _count(self, numbers: list[str], after: str) -> None:
        """One number a second, as the step paces the breath; then the buttons and prompt."""
        shown = 0
        try:
            for number in numbers:
                if shown:
                    await self._sleep(1.0)
                self._write(number if not shown else f", {number}")
                shown += 1
        finally:
            # Cut short (the member typed, or the next step came): the rest at once.
            rest = "".join(n if not i else f", {n}" for i, n in enumerate(numbers) if i >= shown)
            self._write(rest + after + "\n")
            self._prompt()

    async def _stop_counting(self) -> None:
        task, self._counting = self._counting, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def send(self, platform: str, user_id: str, replies: list[Reply]) -> None:
        """Paced steps arrive between inputs: shown like any reply, then a fresh prompt."""
        await self._show(replies, lead="\n" if self.interactive else "")

    async def post(self, delivery: Delivery) -> SendResult:
        """The outbox's way in: a reminder (or anything scheduled) for this member."""
        if not delivery.private or delivery.target != self.user_id:
            return SendResult(SendStatus.GONE)  # only one member sits at this console
        await self.send(delivery.platform, delivery.target, [delivery.reply])
        return SendResult(SendStatus.SENT, "console")

    # -- the conversation ---------------------------------------------------------------------

    async def _read_stdin(self) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.stdin.readline)

    async def run(self, banner: bool = True) -> int:
        self.app.outbound.register(PLATFORM, self)
        if banner:
            me = Event(PLATFORM, self.user_id, Space.private(self.user_id), locale=self.locale)
            catalog = await self.app.catalog_for(me)
            self._write(catalog.text("console.banner") + "\n\n")
        pacer = asyncio.create_task(self.pace())
        try:
            self._prompt()
            while True:
                line = await self._read_line()
                if not line:
                    if self.interactive:
                        self._write("\n")  # Ctrl-D: leave now
                    else:
                        await self._play_out()
                    return 0
                await self._stop_counting()
                event = parse_line(line, self.user_id, self.choices, self.locale)
                await self._show(await self.app.handle(event))
        finally:
            pacer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pacer
            await self._stop_counting()

    async def pace(self) -> None:
        """The app's timed-step loop: paced steps move on while the member reads or waits."""
        while True:
            try:
                await self.app.run_due()
            except Exception:
                log_failure(log, "a pacing round failed; trying again")
            await self._sleep(TICK_S)

    async def _play_out(self) -> None:
        """A script ended mid-exercise: its timed steps still come, over time, then we leave."""
        while await self.app.timed_step_running(PLATFORM, self.user_id):
            await self._sleep(TICK_S)
        await self._stop_counting()

    # -- files ----------------------------------------------------------------------------------

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
            name = SAFE_NAME.sub("_", reply.file_name)[:100].strip("._") or "unblend-file"
            saved[i] = _write_private(folder, name, reply.file)
        return saved

    def _save_pictures(self, replies: list[Reply]) -> dict[int, Path]:
        """Charts go to the member's own folder too (one file, replaced by the next chart), so
        /forget takes them with the rest and their name says nothing about whose they are."""
        saved: dict[int, Path] = {}
        for i, reply in enumerate(replies):
            if reply.image is None:
                continue
            folder = self._member_folder(self.user_id, create=True)
            if folder is None:
                break
            saved[i] = _write_private(folder, CHART_NAME, reply.image)
        return saved


def _write_private(folder: Path, name: str, data: bytes) -> Path:
    """Writes `data` to folder/name, readable only by this user (mode 0600)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    path.chmod(0o600)  # an older file of that name keeps no wider mode
    return path.absolute()  # said in full, so the member finds it from anywhere
