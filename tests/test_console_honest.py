"""The console is honest: scale numbers are values, paced counts come over time, the chart is
a file it names, /remind reminds, leaving at once is quiet, and words at the welcome are not
a yes. In-process stories move a fake clock (virtual time); process stories run `unblend`."""

from __future__ import annotations

import asyncio
import heapq
import io
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bots.console import ConsoleAdapter, parse_line, render
from core.app import Unblend
from core.groups.checkins.service import ScheduleService
from core.kernel.clock import FakeClock
from core.kernel.model import Choice, Reply
from tests.console_process import ConsoleProcess

MON_0630_UTC = datetime(2026, 6, 8, 6, 30, tzinfo=UTC)  # 08:30 in Berlin


async def settle() -> None:
    """Lets every task that can run, run (no waiting for time)."""
    for _ in range(100):
        await asyncio.sleep(0)


class VirtualTime:
    """`sleep` for the console that only ends when the test moves the fake clock on."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self._order = itertools.count()
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []

    async def sleep(self, seconds: float) -> None:
        wake = self.clock.now() + timedelta(seconds=seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (wake, next(self._order), future))
        await future

    async def advance(self, seconds: float) -> None:
        target = self.clock.now() + timedelta(seconds=seconds)
        while self._sleepers and self._sleepers[0][0] <= target:
            wake, _, future = heapq.heappop(self._sleepers)
            self.clock.set(max(wake, self.clock.now()))
            if not future.done():
                future.set_result(None)
            await settle()
        self.clock.set(target)
        await settle()


class Lines:
    """A member typing: each line is handed over once the console asks for the next one."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.waiting = asyncio.Event()

    async def readline(self) -> str:
        self.waiting.set()
        return await self.queue.get()

    async def say(self, line: str) -> None:
        self.waiting.clear()
        await self.queue.put(line + "\n")
        await self.waiting.wait()
        await settle()

    async def end(self) -> None:
        await self.queue.put("")


class Screen(io.StringIO):
    """The terminal, remembering when each piece was written."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.writes: list[tuple[datetime, str]] = []

    def write(self, text: str) -> int:
        self.writes.append((self.clock.now(), text))
        return super().write(text)

    def since(self, start: datetime) -> list[tuple[float, str]]:
        return [((t - start).total_seconds(), s) for t, s in self.writes if t >= start]


class Console:
    def __init__(self, app: Unblend, clock: FakeClock, interactive: bool) -> None:
        self.time = VirtualTime(clock)
        self.lines = Lines()
        self.screen = Screen(clock)
        self.adapter = ConsoleAdapter(
            app,
            io.StringIO(),
            self.screen,
            "me",
            interactive=interactive,
            sleep=self.time.sleep,
            read_line=self.lines.readline,
        )
        self.task = asyncio.create_task(self.adapter.run(banner=False))

    async def start(self) -> None:
        await settle()
        for line in ("/start", "Okay", "Yes, keep them"):
            await self.lines.say(line)


async def test_in_a_terminal_the_count_comes_one_number_a_second(
    app: Unblend, clock: FakeClock
) -> None:
    """Noor starts paced breathing. "Breathe in…" appears, then 1, 2, 3, 4 a second apart,
    and at four seconds the out-breath begins."""
    console = Console(app, clock, interactive=True)
    await console.start()
    await console.lines.say("/ground paced")
    start = clock.now()
    await console.lines.say("5")
    shown = console.screen.getvalue()
    assert shown.rstrip().endswith("Breathe in gently, through your nose if that's comfortable… 1")
    for _ in range(4):
        await console.time.advance(1)
    written = console.screen.since(start)
    assert (0.0, "1") in written
    counts = [w for w in written if w[1].startswith(", ")]
    assert counts[:3] == [(1.0, ", 2"), (2.0, ", 3"), (3.0, ", 4")]
    breathe_out = [t for t, s in written if "And breathe out slowly… " in s]
    assert breathe_out == [4.0]
    await console.lines.end()
    assert await console.task == 0


async def test_typing_during_a_count_shows_the_rest_at_once(app: Unblend, clock: FakeClock) -> None:
    console = Console(app, clock, interactive=True)
    await console.start()
    await console.lines.say("/ground box")
    await console.lines.say("4")
    await console.lines.say("/stop")
    assert "Breathe in… 1, 2, 3, 4\n" in console.screen.getvalue()
    assert "we've stopped" in console.screen.getvalue()
    await console.lines.end()
    assert await console.task == 0


async def test_a_script_that_ends_mid_exercise_plays_it_out_over_time(
    app: Unblend, clock: FakeClock
) -> None:
    """A script starts paced breathing and ends. The steps still come, each at its time,
    and the console leaves once the exercise waits for the after-rating."""
    console = Console(app, clock, interactive=False)
    await console.start()
    await console.lines.say("/ground paced")
    start = clock.now()
    await console.lines.say("5")
    await console.lines.end()
    await settle()
    assert not console.task.done(), "still pacing"
    for _ in range(100):
        if console.task.done():
            break
        await console.time.advance(1)
    assert await console.task == 0
    steps = {s.split("…")[0]: t for t, s in console.screen.since(start) if s.startswith("Round")}
    assert steps["Round 1 of 3. And breathe out slowly"] == 4.0
    assert steps["Round 2 of 3. Breathe in"] == 10.0
    assert steps["Round 3 of 3. And out"] == 24.0
    assert "How strong is any distress or urge now" in console.screen.getvalue()


async def test_a_reminder_comes_to_the_console(app: Unblend, clock: FakeClock) -> None:
    """Ivo sets /remind 08:30 Europe/Berlin. At 08:30 Berlin time the nudge appears."""
    clock.set(MON_0630_UTC - timedelta(hours=1))
    console = Console(app, clock, interactive=False)
    app.outbound.register("console", console.adapter)
    await console.start()
    await console.lines.say("/remind 08:30 Europe/Berlin")
    assert "a gentle reminder every day at 08:30 (Europe/Berlin)" in console.screen.getvalue()
    service = ScheduleService(app, platforms=("console",))
    clock.set(MON_0630_UTC)
    await service.fire()
    await service.drainer.drain("console")
    out = console.screen.getvalue()
    assert "A gentle reminder, if you'd like a moment for yourself" in out
    assert out.endswith("> \n"), "and a fresh prompt"
    await console.lines.say("Check in now")
    assert "How is your mood right now?" in console.screen.getvalue()
    await console.lines.end()
    assert await console.task == 0


def test_console_scale_numbers_are_values(tmp_path: Path) -> None:
    """Ada answers mood 7 on a 1-5 scale: she hears the range, not "skipped". Urge 7 is 7."""
    console = ConsoleProcess(tmp_path, "console")
    try:
        console.read_until_prompt()
        console.say("/start")
        console.say("Okay")
        console.say("Yes, keep them")
        console.say("/checkin")
        out = console.say("7")
        assert "I was hoping for a number from 1 to 5" in out
        assert "How strong is any urge" not in out
        assert "How strong is any urge" in console.say("4")
        out = console.say("13")
        assert "a number from 0 to 10" in out
        assert "stopped" not in out
        assert "part of you" in console.say("7")
        console.say("Not sure")
        console.say("Tired")
        console.say("Skip")
        assert "average urge 7.0 of 10" in console.say("/history")
        code, _ = console.close()
        assert code == 0
    except BaseException:
        console.kill()
        raise


def test_console_history_saves_its_chart_and_says_where(tmp_path: Path) -> None:
    console = ConsoleProcess(tmp_path, "console", "--user", "ada")
    try:
        console.read_until_prompt()
        console.say("/start")
        console.say("Okay")
        console.say("Yes, keep them")
        console.say("/checkin")
        for answer in ("4", "3", "Not sure", "Tired", "Skip"):
            console.say(answer)
        out = console.say("/history")
        exports = tmp_path / "data" / "exports"
        charts = list(exports.glob("*/history-chart.png"))
        assert len(charts) == 1  # in the member's own folder, whose name doesn't say whose
        chart = charts[0]
        assert "ada" not in str(chart.relative_to(tmp_path))
        assert f"[picture saved: {chart}]" in out
        assert "A chart of your mood and urge" in out
        assert chart.read_bytes().startswith(b"\x89PNG")
        assert chart.stat().st_mode & 0o777 == 0o600
        assert chart.parent.stat().st_mode & 0o077 == 0
        console.say("/history")
        assert [p.name for p in chart.parent.iterdir()] == [chart.name]
        console.say("/forget")
        console.say("Yes, erase everything")
        assert not chart.exists()  # /forget takes the chart with the rest
        code, _ = console.close()
        assert code == 0
    except BaseException:
        console.kill()
        raise


def test_console_leaving_at_once_is_quiet(tmp_path: Path) -> None:
    for _ in range(3):
        console = ConsoleProcess(tmp_path, "console")
        console.read_until_prompt()
        code, _ = console.close()
        assert code == 0
        errors = console.stderr()
        assert "Traceback" not in errors and "ERROR" not in errors, errors


def test_console_words_at_the_welcome_are_not_a_yes(tmp_path: Path) -> None:
    console = ConsoleProcess(tmp_path, "console")
    try:
        console.read_until_prompt()
        console.say("/start")
        out = console.say("hello?")
        assert "I'll go on when you choose “Okay”" in out
        assert "[1] Okay" in out
        assert "keep your check-ins" not in out
        assert "keep your check-ins" in console.say("Okay")
        console.say("Yes, keep them")
        assert "Done: a gentle reminder" in console.say("/remind 08:30 Europe/Berlin")
        code, _ = console.close()
        assert code == 0
    except BaseException:
        console.kill()
        raise


def test_a_scale_is_shown_as_values_never_as_numbered_options() -> None:
    """ "[8] 7" would tell a member that typing 8 means 7: a scale's numbers stand alone and
    the other choices are named, to be typed as words."""
    scale = tuple(Choice(f"s:urge:{n}", str(n)) for n in range(11))
    nav = (Choice("nav:skip", "Skip"), Choice("nav:stop", "Stop"))
    text, choices = render([Reply("How strong is any urge right now?", scale + nav)])
    assert "0 · 1 · 2 · 3 · 4 · 5 · 6 · 7 · 8 · 9 · 10" in text
    assert "(or type: Skip, Stop)" in text
    assert "[" not in text
    # Typing 7 is the value 7, and a word picks its choice.
    assert parse_line("7", "ada", choices).choice == "s:urge:7"
    assert parse_line("skip", "ada", choices).choice == "nav:skip"
    # Elsewhere choices keep their numbers.
    menu, picked = render([Reply("Which one?", nav)])
    assert "[1] Skip" in menu and "[2] Stop" in menu
    assert parse_line("2", "ada", picked).choice == "nav:stop"
