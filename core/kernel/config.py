"""The one config file: parsed strictly, with errors that say file, key, problem and an example."""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.kernel.config_shards import check_shards
from core.kernel.problems import Problems
from core.kernel.storage_url import StorageUrl, StorageUrlError, parse_storage_url

DEFAULT_DB = "./data/unblend.sqlite"
ENV_SECRETS = {
    # A PostgreSQL URL may hold a password: it can come from the environment instead.
    ("storage", "url"): "UNBLEND_STORAGE_URL",
    ("telegram", "token"): "UNBLEND_TELEGRAM_TOKEN",
    ("telegram", "webhook_secret"): "UNBLEND_TELEGRAM_WEBHOOK_SECRET",
    ("discord", "token"): "UNBLEND_DISCORD_TOKEN",
}


@dataclass(frozen=True)
class _Key:
    kind: type
    default: Any
    example: str


# section -> key -> what it holds. Also the source for config.example.toml's checks.
SCHEMA: dict[str, dict[str, _Key]] = {
    "storage": {
        "path": _Key(str, DEFAULT_DB, f'path = "{DEFAULT_DB}"'),
        # Empty: the SQLite file at `path`. With PostgreSQL, `path` still names where the key
        # file (beside it), the run lock and caches live (core/storage/engines.py).
        "url": _Key(str, "", 'url = "postgresql://unblend@localhost:5432/unblend"'),
    },
    "content": {"override_dir": _Key(str, "", 'override_dir = "./my-group-content"')},
    "safety": {"default_country": _Key(str, "INTL", 'default_country = "GB"')},
    "flows": {"idle_timeout_minutes": _Key(int, 60, "idle_timeout_minutes = 60")},
    "practices": {"cold_water": _Key(bool, False, "cold_water = false")},
    "schedule": {
        "grace_minutes": _Key(int, 120, "grace_minutes = 120"),
        # How long a reach-out request waits before the member is told and shown lines.
        "reach_out_timeout_minutes": _Key(int, 120, "reach_out_timeout_minutes = 120"),
    },
    "privacy": {
        "contact": _Key(str, "", 'contact = "privacy@example.org"'),
        "retention_days": _Key(int, 365, "retention_days = 365"),
        "retention_days_max": _Key(int, 365, "retention_days_max = 365"),
    },
    "logging": {
        "level": _Key(str, "INFO", 'level = "INFO"'),
        "json": _Key(bool, False, "json = false"),
    },
    "health": {"listen": _Key(str, "", 'listen = "127.0.0.1:8080"')},
    "telegram": {
        "token": _Key(str, "", 'token = "123456:ABC-your-token-from-BotFather"'),
        "base_url": _Key(str, "", 'base_url = "https://api.telegram.org/bot"'),
        "webhook_url": _Key(str, "", 'webhook_url = "https://bot.example.org/telegram"'),
        "webhook_listen": _Key(str, "0.0.0.0:8443", 'webhook_listen = "127.0.0.1:8443"'),
        "webhook_path": _Key(str, "", 'webhook_path = "/telegram"'),
        "webhook_secret": _Key(str, "", 'webhook_secret = "a-long-random-string"'),
        # Group posts per second from the outbox: just under Telegram's 30/s (issue 6).
        "outbox_rate": _Key(int, 28, "outbox_rate = 28"),
    },
    "discord": {
        "token": _Key(str, "", 'token = "your-bot-token"'),
        "api_base_url": _Key(str, "", 'api_base_url = "https://discord.com/api/v10"'),
        "gateway_url": _Key(str, "", 'gateway_url = "wss://gateway.discord.gg/"'),
        "dev_guild_id": _Key(int, 0, "dev_guild_id = 123456789012345678"),
        "moderator_role": _Key(int, 0, "moderator_role = 123456789012345678"),
        # Read servers' conversation, for groups that turned screening on (needs the
        # privileged Message Content intent switched on in the Developer Portal; issue 7).
        "read_messages": _Key(bool, False, "read_messages = false"),
        # Group posts per second from the outbox: just under Discord's global 50/s (issue 6).
        "outbox_rate": _Key(int, 47, "outbox_rate = 47"),
        # Shards across processes (issue 17, core/kernel/config_shards.py): 0, no shards.
        "shard_count": _Key(int, 0, "shard_count = 4"),
        # This process's shards; empty: all of them (0 to shard_count - 1).
        "shard_ids": _Key(list, [], "shard_ids = [0, 1]"),
    },
}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
OUTBOX_RATE_MAX = 1000  # Telegram's paid broadcasts; the free limits are 30/s and 50/s


@dataclass(frozen=True)
class Config:
    source: Path | None = None
    values: Mapping[tuple[str, str], Any] = field(default_factory=dict)
    base_dir: Path = Path()

    def get(self, section: str, key: str) -> Any:
        return self.values.get((section, key), SCHEMA[section][key].default)

    @property
    def storage(self) -> StorageUrl:
        """The database: the SQLite file, or the PostgreSQL URL (checked at load)."""
        return parse_storage_url(
            str(self.get("storage", "url")),
            self._path(str(self.get("storage", "path"))),
            self.base_dir,
        )

    @property
    def db_path(self) -> Path:
        """The SQLite database file; with PostgreSQL, the `[storage] path` that places the key
        file, the run lock and caches on this machine (the file itself is not used)."""
        return self.storage.path or self._path(str(self.get("storage", "path")))

    @property
    def override_dir(self) -> Path | None:
        raw = str(self.get("content", "override_dir"))
        return self._path(raw) if raw else None

    @property
    def telegram_token(self) -> str:
        return str(self.get("telegram", "token"))

    @property
    def discord_token(self) -> str:
        return str(self.get("discord", "token"))

    def _path(self, raw: str) -> Path:
        path = Path(raw).expanduser()
        return path if path.is_absolute() or raw == ":memory:" else self.base_dir / path


class ConfigError(Exception):
    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        super().__init__("\n".join(problems.lines()))


def load_config(path: Path | None, env: Mapping[str, str] | None = None) -> Config:
    """Reads and checks a config file (or the defaults when `path` is None)."""
    env = os.environ if env is None else env
    problems = Problems()
    data: dict[str, Any] = {}
    base = Path()
    if path is not None:
        where = str(path)
        base = path.parent
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            problems.add(
                where, "", "was not found. Copy config.example.toml to start from a working file."
            )
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.add(
                where,
                "",
                f'is not valid TOML: {exc}. Example: a line [storage], then path = "{DEFAULT_DB}"',
            )
        except OSError as exc:
            problems.add(where, "", f"cannot be read ({exc.strerror})")
    values = _check(data, str(path or "defaults"), problems)
    for (section, key), var in ENV_SECRETS.items():
        if env.get(var):
            values[(section, key)] = env[var]
    from_env = bool(env.get(ENV_SECRETS["storage", "url"]))
    _check_storage(values, str(path or "defaults"), base, from_env, problems)
    check_shards(values, str(path or "defaults"), env, problems)
    if problems:
        raise ConfigError(problems)
    # Relative paths are relative to the config file, so `--config /etc/unblend/x.toml` works
    # from any folder; without a file they are relative to where the bot is started.
    return Config(path, values, base)


def _check(data: dict[str, Any], where: str, problems: Problems) -> dict[tuple[str, str], Any]:
    values: dict[tuple[str, str], Any] = {}
    for section, table in data.items():
        if section not in SCHEMA:
            problems.add(
                where, f"[{section}]", f"is not a known section{_suggest(section, SCHEMA)}"
            )
            continue
        if not isinstance(table, dict):
            problems.add(where, section, f"must be a table, written [{section}] on its own line")
            continue
        for key, value in table.items():
            spec = SCHEMA[section].get(key)
            if spec is None:
                problems.add(
                    where,
                    f"[{section}] {key}",
                    f"is not a known key{_suggest(key, SCHEMA[section])}",
                )
            elif not isinstance(value, spec.kind) or (spec.kind is int and isinstance(value, bool)):
                got = type(value).__name__
                want = {
                    str: "text in quotes",
                    int: "a whole number",
                    bool: "true or false",
                    list: "a list in [ ]",
                }[spec.kind]
                problems.add(
                    where,
                    f"[{section}] {key}",
                    f"must be {want}, got {got}. Example: {spec.example}",
                )
            else:
                values[(section, key)] = value
    _check_values(values, where, problems)
    return values


def _check_values(values: dict[tuple[str, str], Any], where: str, problems: Problems) -> None:
    level = values.get(("logging", "level"))
    if level is not None and str(level).upper() not in LOG_LEVELS:
        problems.add(
            where,
            "[logging] level",
            f'must be one of {", ".join(LOG_LEVELS)}. Example: level = "INFO"',
        )
    idle = values.get(("flows", "idle_timeout_minutes"))
    if idle is not None and not 1 <= idle <= 7 * 24 * 60:
        problems.add(
            where,
            "[flows] idle_timeout_minutes",
            "must be from 1 to 10080 (a week). Example: idle_timeout_minutes = 60",
        )
    country = values.get(("safety", "default_country"))
    if country is not None and not (str(country).isalpha() and len(str(country)) in (2, 4)):
        problems.add(
            where,
            "[safety] default_country",
            'must be a two-letter country code or "INTL". Example: default_country = "GB"',
        )
    _check_webhook(values, where, problems)
    health = str(values.get(("health", "listen"), ""))
    if health and not _is_host_port(health):
        problems.add(
            where,
            "[health] listen",
            'must be host:port, or "" for none. Example: listen = "127.0.0.1:8080"',
        )
    _check_privacy(values, where, problems)
    grace = values.get(("schedule", "grace_minutes"))
    if grace is not None and not 0 <= grace <= 1440:
        problems.add(
            where,
            "[schedule] grace_minutes",
            "must be from 0 to 1440 (a day). Example: grace_minutes = 120",
        )
    timeout = values.get(("schedule", "reach_out_timeout_minutes"))
    if timeout is not None and not 5 <= timeout <= 1440:
        problems.add(
            where,
            "[schedule] reach_out_timeout_minutes",
            "must be from 5 to 1440 (a day). Example: reach_out_timeout_minutes = 120",
        )
    for section in ("telegram", "discord"):
        rate = values.get((section, "outbox_rate"))
        if rate is not None and not 1 <= rate <= OUTBOX_RATE_MAX:
            problems.add(
                where,
                f"[{section}] outbox_rate",
                f"must be from 1 to {OUTBOX_RATE_MAX} messages a second. "
                f"Example: {SCHEMA[section]['outbox_rate'].example}",
            )
        token = values.get((section, "token"), "")
        if token and (token != token.strip() or any(c.isspace() for c in token)):
            problems.add(
                where,
                f"[{section}] token",
                "contains spaces or line breaks; paste the token exactly as given",
            )


def _check_storage(
    values: dict[tuple[str, str], Any],
    where: str,
    base: Path,
    from_env: bool,
    problems: Problems,
) -> None:
    """`[storage] url` (from the file or UNBLEND_STORAGE_URL), never repeating its password."""
    url = values.get(("storage", "url"))
    if not url:
        return
    where_from = f"${ENV_SECRETS['storage', 'url']}" if from_env else where
    try:
        target = parse_storage_url(str(url), Path(DEFAULT_DB), base)
    except StorageUrlError as exc:
        problems.add(where_from, "[storage] url", str(exc))
        return
    path = values.get(("storage", "path"))
    in_base = None if not path else Path(path).expanduser()
    if in_base is not None and not in_base.is_absolute():
        in_base = base / in_base
    if target.path is not None and in_base is not None and in_base != target.path:
        problems.add(
            where_from,
            "[storage] url",
            f"names the SQLite file {target.path}, and [storage] path names {path}: keep one "
            "(url wins over path only when path is left out)",
        )


def _check_webhook(values: dict[tuple[str, str], Any], where: str, problems: Problems) -> None:
    url = str(values.get(("telegram", "webhook_url"), ""))
    if url and not url.startswith("https://"):
        problems.add(
            where,
            "[telegram] webhook_url",
            "must start with https:// (Telegram only calls HTTPS webhooks). "
            'Example: webhook_url = "https://bot.example.org/telegram"',
        )
    listen = str(values.get(("telegram", "webhook_listen"), "0.0.0.0:8443"))
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        problems.add(
            where,
            "[telegram] webhook_listen",
            'must be host:port. Example: webhook_listen = "127.0.0.1:8443"',
        )
    secret = str(values.get(("telegram", "webhook_secret"), ""))
    if secret and not (
        len(secret) <= 256 and all(c.isascii() and (c.isalnum() or c in "_-") for c in secret)
    ):
        problems.add(
            where,
            "[telegram] webhook_secret",
            "may hold only letters, digits, _ and -, up to 256. "
            'Example: webhook_secret = "a-long-random-string"',
        )


def _check_privacy(values: dict[tuple[str, str], Any], where: str, problems: Problems) -> None:
    limit = 3650
    for key in ("retention_days", "retention_days_max"):
        days = values.get(("privacy", key))
        if days is not None and not 1 <= days <= limit:
            problems.add(
                where,
                f"[privacy] {key}",
                f"must be from 1 to {limit} days. Example: {SCHEMA['privacy'][key].example}",
            )
    days = values.get(("privacy", "retention_days"), 365)
    cap = values.get(("privacy", "retention_days_max"), 365)
    if days > cap:
        problems.add(
            where,
            "[privacy] retention_days",
            f"is {days}, above the hard cap retention_days_max = {cap}. "
            f"Example: retention_days = {cap}",
        )
    contact = str(values.get(("privacy", "contact"), ""))
    if len(contact) > 200 or any(not ch.isprintable() for ch in contact):
        problems.add(
            where,
            "[privacy] contact",
            'must be one line of up to 200 characters. Example: contact = "privacy@example.org"',
        )


def _is_host_port(text: str) -> bool:
    host, _, port = text.rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536


def _suggest(word: str, known: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f'; did you mean "{close[0]}"?' if close else f"; known: {', '.join(known)}"


def readable_by_others(path: Path) -> bool:
    """A config holding tokens should be private to its owner."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRGRP | stat.S_IROTH))
