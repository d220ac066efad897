"""The docs agree with the bot: one list of Discord permissions, every command documented,
and the operator commands say what they mean."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bots.cli import _parser
from bots.doctor import Status, diagnose
from tests.launch import unblend

REPO = Path(__file__).resolve().parent.parent
PERMISSIONS = re.compile(r"bot permissions \([^)]*\):\s*((?:\*[^*]+\*[,\s]*)+)\.")


def permissions(doc: Path) -> list[list[str]]:
    flat = " ".join(doc.read_text(encoding="utf-8").split())
    return [re.findall(r"\*([^*]+)\*", m.group(1)) for m in PERMISSIONS.finditer(flat)]


def test_discord_permissions_are_listed_once_and_the_same_in_both_docs() -> None:
    [readme] = permissions(REPO / "README.md")
    [deploy] = permissions(REPO / "docs" / "deploy.md")
    assert readme == deploy
    assert "Create Public Threads" in readme and "Send Messages in Threads" in readme
    # No second, different list anywhere else in the README.
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "no bot permissions are needed" not in text
    assert text.count("*Create Public Threads*") == 1


def test_the_readme_lists_every_command_line_command() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text[text.index("## Command line") : text.index("## Telegram")]
    sub = next(a for a in _parser()._actions if a.dest == "command")
    choices = getattr(sub, "choices", {}) or {}
    for name in choices:
        assert f"`unblend {name}" in table, name
    for name in ("doctor", "backup", "restore"):
        assert f"`unblend {name}" in table


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return unblend(*args, cwd=REPO, env=env, timeout=120)


def test_doctor_notes_a_missing_platform_token(tmp_path: Path) -> None:
    """An admin on a VPS forgot the token: `unblend run` would start the console and exit 0,
    and the service would look fine. doctor says so, with the fix."""
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "bot.sqlite"\n')
    config.chmod(0o600)
    result = cli(tmp_path, "doctor", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[note] platforms: no Telegram or Discord token is set" in result.stdout
    assert "UNBLEND_TELEGRAM_TOKEN" in result.stdout
    assert "the notes above may still need a look" in result.stdout


async def test_doctor_names_the_platforms_that_have_a_token(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "bot.sqlite"\n')
    found = await diagnose(config, {"UNBLEND_DISCORD_TOKEN": "x.y.z"})
    [platforms] = [f for f in found if f.check == "platforms"]
    assert (platforms.status, platforms.detail) == (Status.OK, "Discord")


def test_config_check_says_it_found_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[storage]\npth = 'x'\n")
    result = cli(tmp_path, "config", "check", str(bad))
    assert result.returncode == 2
    assert "found problems" in result.stderr
    assert "could not start" not in result.stderr


@pytest.mark.parametrize("command", ["run", "console"])
def test_starting_with_a_bad_config_still_says_could_not_start(
    tmp_path: Path, command: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[storage]\npth = 'x'\n")
    result = cli(tmp_path, command, "--config", str(bad))
    assert result.returncode == 2 and "could not start" in result.stderr
