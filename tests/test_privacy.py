"""/privacy and PRIVACY.md: what is stored, where, who sees it, how long; filled from config."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.cli import privacy_policy
from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.config import ConfigError, load_config
from core.kernel.model import Event, Space
from core.kernel.settings import Settings
from core.repos import in_memory_repos
from tests.chat import Chat
from tests.conftest import detector, library
from tests.launch import unblend

REPO = Path(__file__).resolve().parent.parent


def app_with(clock: FakeClock, **settings: object) -> Unblend:
    return Unblend(
        in_memory_repos(),
        library(),
        detector(),
        clock,
        Settings(**settings),  # type: ignore[arg-type]
    )


async def test_privacy_works_before_the_welcome_and_says_what_where_who_how_long(
    chat: Chat,
) -> None:
    await chat.send("/privacy")
    text = chat.text()
    for heading in ("What:", "Where:", "Who can see it:", "How long:", "Your choices:"):
        assert heading in text
    assert "365 days" in text and "the admins of your group" in text
    assert "/export" in text and "/forget" in text
    # It answered; no welcome flow was started in its place.
    assert "I'm Unblend" not in text
    await chat.send("/stop")
    assert "nothing in progress" in chat.text()


async def test_privacy_names_the_configured_contact_and_retention(clock: FakeClock) -> None:
    app = app_with(clock, privacy_contact="privacy@circle.example", retention_days=90)
    chat = Chat(app)
    await chat.welcome()
    await chat.send("/privacy")
    assert "90 days" in chat.text() and "privacy@circle.example" in chat.text()


async def test_retention_never_goes_above_the_hard_cap(clock: FakeClock) -> None:
    app = app_with(clock, retention_days=900, retention_days_max=30)
    chat = Chat(app)
    await chat.send("/privacy")
    assert "30 days" in chat.text() and "900" not in chat.text()


async def test_privacy_in_a_group_opens_the_private_chat(app: Unblend) -> None:
    [reply] = await app.handle(Event("test", "u1", Space.group("g"), command="/privacy"))
    assert reply.private is False and reply.private_link == "privacy"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[privacy]\nretention_days = 0\n", "[privacy] retention_days: must be from 1 to 3650"),
        ("[privacy]\nretention_days_max = 5000\n", "must be from 1 to 3650"),
        (
            "[privacy]\nretention_days = 400\nretention_days_max = 200\n",
            "is 400, above the hard cap retention_days_max = 200",
        ),
        ('[privacy]\ncontact = "a\\nb"\n', "[privacy] contact: must be one line"),
        ("[privacy]\nretention_days = '30'\n", "must be a whole number"),
    ],
)
def test_privacy_config_problems_are_explained(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert expected in str(caught.value)


def test_the_policy_is_filled_from_the_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[storage]\npath = 'db/bot.sqlite'\n"
        "[privacy]\ncontact = 'dpo@circle.example'\nretention_days = 90\n"
    )
    policy = privacy_policy(load_config(path, env={}), env={})
    assert "**Questions and requests:** dpo@circle.example" in policy
    assert "**90 days**" in policy and "never longer than 365 days" in policy
    assert f"`{tmp_path / 'db' / 'bot.sqlite'}`" in policy
    assert f"`{tmp_path / 'db' / 'bot.key'}`" in policy
    assert "$" not in policy
    with_env = privacy_policy(load_config(path, env={}), env={"UNBLEND_DATA_KEY": "x"})
    assert "environment variable UNBLEND_DATA_KEY" in with_env and "bot.key" not in with_env


def test_the_published_privacy_md_matches_the_default_config() -> None:
    """PRIVACY.md is `unblend privacy` with the defaults: regenerate it when the policy changes."""
    expected = privacy_policy(load_config(None, env={}), env={})
    assert (REPO / "PRIVACY.md").read_text(encoding="utf-8") == expected


def test_unblend_privacy_prints_the_policy(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[privacy]\ncontact = '@circle_admins'\n")
    result = unblend("privacy", "--config", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Privacy policy for Unblend")
    assert "@circle_admins" in result.stdout
