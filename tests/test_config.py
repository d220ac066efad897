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


# -- [storage] url (issue 17) -------------------------------------------------------------------

SECRET = "Pa55-w0rd-xyz"


def config_with(tmp_path: Path, storage: str) -> Path:
    path = tmp_path / "etc" / "unblend.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"[storage]\n{storage}\n")
    return path


def test_without_a_url_the_sqlite_file_at_path_is_the_database(tmp_path: Path) -> None:
    config = load_config(config_with(tmp_path, "path = 'db/u.sqlite'"), env={})
    assert config.storage.dialect == "sqlite"
    assert config.storage.path == config.db_path == tmp_path / "etc" / "db" / "u.sqlite"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///db/u.sqlite", "etc/db/u.sqlite"),  # relative to the config file
        ("sqlite:////var/lib/unblend/u.sqlite", "/var/lib/unblend/u.sqlite"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_a_sqlite_url_names_the_file(tmp_path: Path, url: str, expected: str) -> None:
    config = load_config(config_with(tmp_path, f"url = '{url}'"), env={})
    assert config.storage.dialect == "sqlite"
    if expected.startswith(("/", ":")):
        assert str(config.db_path) == expected
    else:
        assert config.db_path == tmp_path / expected


def test_a_postgresql_url_keeps_the_key_file_at_path(tmp_path: Path) -> None:
    url = f"postgresql://unblend:{SECRET}@db.internal:5432/unblend?sslmode=require"
    config = load_config(config_with(tmp_path, f"path = 'data/u.sqlite'\nurl = '{url}'"), env={})
    assert config.storage.dialect == "postgresql" and config.storage.url == url
    assert config.db_path == tmp_path / "etc" / "data" / "u.sqlite"  # where the key file goes
    assert SECRET not in config.storage.shown and "unblend:***@db.internal" in config.storage.shown
    socket_url = "postgresql:///unblend?host=/run/postgresql"
    assert load_config(config_with(tmp_path, f"url = '{socket_url}'"), env={}).storage.url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"mysql://root:{SECRET}@db/unblend", '"mysql:" is not a database Unblend can use'),
        ("./data/unblend.sqlite", "is not a database Unblend can use"),
        (f"postgresql://u:{SECRET}@db:port/unblend", "the port is a number"),
        (f"postgresql://u:{SECRET}@db:99999/unblend", "the port is a number"),
        (f"postgresql://u:{SECRET}@db:5432", "names no database"),
        (f"postgresql://u:{SECRET}@/unblend", "names no server"),
        (f"postgresql:u:{SECRET}@db/unblend", "two slashes"),
        ("sqlite://unblend.sqlite", "names no SQLite file"),
        ("sqlite:///", "names no SQLite file"),
        (f"postgresql://u:{SECRET}@db/unblend x", "contains spaces"),
    ],
)
def test_a_bad_url_is_explained_without_its_password(
    tmp_path: Path, url: str, expected: str
) -> None:
    path = config_with(tmp_path, f"url = '{url}'")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert f"{path}: [storage] url:" in message and expected in message
    assert SECRET not in message
    assert "Example:" in message or "e.g." in message or "as in" in message


def test_a_url_from_the_environment_is_checked_and_named_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"UNBLEND_STORAGE_URL": f"postgres://u:{SECRET}@db:x/u"})
    assert "$UNBLEND_STORAGE_URL: [storage] url:" in str(info.value)
    assert SECRET not in str(info.value)
    good = load_config(None, env={"UNBLEND_STORAGE_URL": f"postgres://u:{SECRET}@db/u"})
    assert good.storage.dialect == "postgresql"


def test_a_sqlite_url_and_another_path_are_refused(tmp_path: Path) -> None:
    path = config_with(tmp_path, "path = 'a.sqlite'\nurl = 'sqlite:///b.sqlite'")
    with pytest.raises(ConfigError, match="keep one"):
        load_config(path, env={})
    same = config_with(tmp_path, "path = 'a.sqlite'\nurl = 'sqlite:///a.sqlite'")
    assert load_config(same, env={}).db_path == tmp_path / "etc" / "a.sqlite"


def test_config_check_shows_a_postgresql_url_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql://unblend:{SECRET}@db.internal/unblend"
    result = cli("config", "check", str(config_with(tmp_path, f"url = '{url}'")))
    assert result.returncode == 0, result.stderr
    assert "database: postgresql://unblend:***@db.internal/unblend" in result.stdout
    assert "data key file:" in result.stdout
    assert SECRET not in result.stdout + result.stderr
