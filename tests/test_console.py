"""The console adapter end to end: the real `unblend` command fed a script on stdin."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from bots.console import ConsoleAdapter, parse_line
from core.app import Unblend
from core.kernel.model import Choice
from tests.console_process import ConsoleProcess
from tests.launch import unblend

SCRIPT = """/start
1
Yes, keep them
/checkin
4
3
Not sure
Tired
a calm evening after the meeting
/history
"""


def test_run_with_a_script_completes_start_checkin_and_history(tmp_path: Path) -> None:
    result = unblend("run", cwd=tmp_path, stdin=SCRIPT, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "not a therapist" in out
    assert "[1] Okay" in out
    assert "How is your mood right now?" in out
    assert "Thank you for checking in. I've kept it privately." in out
    assert "Last 7 days · check-ins: 1 · average mood 4.0 of 5 · average urge 3.0 of 10" in out
    assert out.count("\n> \n") >= SCRIPT.count("\n")
    assert (tmp_path / "data" / "unblend.sqlite").exists()
    assert b"calm evening" not in (tmp_path / "data" / "unblend.sqlite").read_bytes()


def test_killed_mid_checkin_continues_at_the_same_step(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "state/bot.sqlite"\n')
    args = ("console", "--config", str(config))
    first = ConsoleProcess(tmp_path, *args)
    first.read_until_prompt()
    first.say("/start")
    first.say("Okay")
    first.say("Yes, keep them")
    first.say("/checkin")
    assert "How strong is any urge" in first.say("2")
    first.kill()  # SIGKILL: no clean-up at all

    second = ConsoleProcess(tmp_path, *args)
    second.read_until_prompt()
    assert "part of you" in second.say("5")
    code, _ = second.close()
    assert code == 0


def test_choices_are_numbered_and_answered_by_number_or_label() -> None:
    choices = [Choice("s:urge:0", "0"), Choice("s:urge:1", "1"), Choice("nav:skip", "Skip")]
    # On a scale a number is a value, never an option's position (issue 13): 3 is not Skip.
    assert parse_line("3", "me", choices).text == "3"
    assert parse_line("1", "me", choices).choice == "s:urge:1"  # a label wins over a number
    options = [Choice("s:need:tired", "Tired"), Choice("nav:skip", "Skip")]
    assert parse_line("2", "me", options).choice == "nav:skip"  # elsewhere, numbers pick
    assert parse_line("skip", "me", choices).choice == "nav:skip"
    assert parse_line("hello", "me", choices).text == "hello"
    event = parse_line("/checkin now", "me", choices)
    assert (event.command, event.args) == ("/checkin", ("now",))


async def test_adapter_prints_prompt_lines_and_exits_zero_at_end(app: Unblend) -> None:
    out = StringIO()
    code = await ConsoleAdapter(app, StringIO("/help\n\n"), out).run()
    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines.count("> ") == 3
    assert any("/checkin" in line for line in lines)
    assert "didn't catch anything" in out.getvalue()


async def test_the_console_marks_its_own_commands_so_stop_works_in_a_text_step(
    app: Unblend,
) -> None:
    """The core never reads text as a command (issue 12): the console, whose syntax is "/",
    marks a line starting with "/" as a command itself, so /stop still stops a text step."""
    script = "/start\nOkay\nYes, keep them\n/checkin\n3\n4\nNot sure\nTired\n/stop\n"
    out = StringIO()
    assert await ConsoleAdapter(app, StringIO(script), out).run() == 0
    said = out.getvalue()
    assert "in your own words" in said and "we've stopped" in said
