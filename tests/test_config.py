"""Config errors name the file, the key, what is wrong and an example of right."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.kernel.config import ConfigError, load_config
from tests.launch import unblend

REPO = Path(__file__).resolve().parent.parent


def test_example_config_is_valid() -> None:
    config = load_config(REPO / "config.example.toml", env={})
    assert config.db_path == REPO / "data" / "unblend.sqlite"
    assert config.telegram_token == ""


def test_defaults_without_a_file() -> None:
    config = load_config(None, env={})
    assert str(config.db_path) == "data/unblend.sqlite"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[storage]\npath = 5\n",
            "[storage] path: must be text in quotes, got int. Example: path =",
        ),
        ("[storag]\npath = 'x'\n", '[storag]: is not a known section; did you mean "storage"?'),
        ("[flows]\nidle_timeout = 5\n", 'did you mean "idle_timeout_minutes"?'),
        ("[flows]\nidle_timeout_minutes = 0\n", "must be from 1 to 10080"),
        ("[logging]\nlevel = 'LOUD'\n", "must be one of DEBUG, INFO, WARNING, ERROR"),
        ("[safety]\ndefault_country = 'Narnia!'\n", "two-letter country code"),
        ("[telegram]\ntoken = 'abc def'\n", "contains spaces"),
        ("[storage\npath = 'x'\n", "is not valid TOML"),
        ("[discord]\ndev_guild_id = true\n", "must be a whole number, got bool"),
    ],
)
def test_precise_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    config = load_config(
        None, env={"UNBLEND_TELEGRAM_TOKEN": "1:abc", "UNBLEND_DISCORD_TOKEN": "d"}
    )
    assert (config.telegram_token, config.discord_token) == ("1:abc", "d")


def test_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "unblend.toml"
    path.parent.mkdir()
    path.write_text("[storage]\npath = 'db/u.sqlite'\n")
    assert load_config(path, env={}).db_path == tmp_path / "etc" / "db" / "u.sqlite"


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return unblend(*args, stdin=stdin)


def test_config_check_command(tmp_path: Path) -> None:
    good = cli("config", "check", str(REPO / "config.example.toml"))
    assert good.returncode == 0 and "OK" in good.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[storage]\npth = 'x'\n")
    result = cli("config", "check", str(bad))
    assert result.returncode == 2
    assert f'{bad}: [storage] pth: is not a known key; did you mean "path"?' in result.stderr
    missing = cli("config", "check", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "was not found" in missing.stderr


def test_run_warns_when_config_is_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[storage]\npath = 'u.sqlite'\n")
    path.chmod(0o644)
    result = cli("run", "--config", str(path))
    assert result.returncode == 0
    assert "chmod 600" in result.stderr
