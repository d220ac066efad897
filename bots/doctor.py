"""`unblend doctor`: checks what the bot needs to run, and says how to fix each problem.

It only reads: no migration runs, no key is made, nothing is written. The checks are the
config, the content, the database (integrity, schema version), the data key and the key file's
mode, every encrypted value (each must open in its own row: damaged or moved ones are listed
by place), a pending key rotation, free disk space and, when asked, each platform token.
On PostgreSQL the database checks are the connection, the schema version and whether a bot
holds the database (its run lock); the server looks after its own files.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import httpx

from bots.bootstrap import bundled_content_dir
from core.api import content_contract
from core.kernel.catalog import check_content
from core.kernel.config import Config, ConfigError, load_config, readable_by_others
from core.kernel.crypto import (
    KEY_ENV,
    LEGACY_FORMAT,
    Cipher,
    DataKeyError,
    key_path_for,
    value_format,
)
from core.storage.database import (
    RUN_LOCK,
    Dialect,
    StorageError,
    migration_scripts,
    role_lock,
)
from core.storage.engines import Reading, StorageUrl, reading
from core.storage.keyfile import key_source, read_keyring, too_open
from core.storage.keyring import cipher_opening
from core.storage.reseal import describe, read_key_check, read_marker, survey
from core.storage.sqlite import read_only_uri

TELEGRAM_API = "https://api.telegram.org/bot"
DISCORD_API = "https://discord.com/api/v10"
LOW_DISK_BYTES = 200 * 1024 * 1024
TOKEN_TIMEOUT_S = 10.0
# The application flags for the Developer Portal's Message Content switch (verified apps get
# the "limited" one); [discord] read_messages needs one of them.
MESSAGE_CONTENT_FLAGS = (1 << 18) | (1 << 19)
READ_MESSAGES_FIX = (
    "in the Discord Developer Portal open your application -> Bot and switch on Message "
    "Content Intent, or set [discord] read_messages = false"
)


class Status(Enum):
    OK = "ok"
    NOTE = "note"
    PROBLEM = "PROBLEM"


@dataclass(frozen=True)
class Finding:
    status: Status
    check: str
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        out = [f"[{self.status.value}] {self.check}: {self.detail}"]
        if self.fix:
            out.append(f"    fix: {self.fix}")
        return out


def ok(check: str, detail: str) -> Finding:
    return Finding(Status.OK, check, detail)


def note(check: str, detail: str, fix: str = "") -> Finding:
    return Finding(Status.NOTE, check, detail, fix)


def problem(check: str, detail: str, fix: str) -> Finding:
    return Finding(Status.PROBLEM, check, detail, fix)


async def diagnose(
    config_path: Path | None, env: Mapping[str, str], check_tokens: bool = False
) -> list[Finding]:
    """Every finding, in the order an admin would fix them."""
    try:
        config = load_config(config_path, env=env)
    except ConfigError as exc:
        found = [
            problem(
                "config",
                line,
                "edit the file as the message says, then run `unblend doctor` again",
            )
            for line in exc.problems.lines()
        ]
        found.append(note("other checks", "skipped until the config loads"))
        return found
    findings = [ok("config", str(config_path) if config_path else "none given: the defaults")]
    if config_path is not None and readable_by_others(config_path):
        findings.append(
            note(
                "config",
                f"other users of this machine can read {config_path}",
                f"chmod 600 {config_path}",
            )
        )
    findings.append(_platforms(config))
    findings.append(_content(config))
    findings.extend(await _database(config, env))
    if check_tokens:
        findings.extend(await _tokens(config))
    elif config.get("discord", "read_messages"):
        findings.append(
            note(
                "discord intents",
                "[discord] read_messages is on: the bot asks Discord for the Message Content "
                "intent, and Discord refuses to connect unless it is switched on "
                "(`unblend doctor --check-tokens` checks it)",
                READ_MESSAGES_FIX,
            )
        )
    return findings


def _platforms(config: Config) -> Finding:
    tokens = (("Telegram", config.telegram_token), ("Discord", config.discord_token))
    chosen = [name for name, token in tokens if token]
    if chosen:
        return ok("platforms", " and ".join(chosen))
    return note(
        "platforms",
        "no Telegram or Discord token is set, so `unblend run` starts the console; on a "
        "server with nobody typing it ends at once (exit 0) and the service seems to work",
        "set UNBLEND_TELEGRAM_TOKEN and/or UNBLEND_DISCORD_TOKEN in the service's environment "
        "(or [telegram] token / [discord] token in the config)",
    )


def _content(config: Config) -> Finding:
    base = bundled_content_dir()
    problems = check_content(base, config.override_dir, content_contract())
    if not problems:
        return ok("content", "all content is valid")
    shown = "; ".join(problems.lines()[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return problem(
        "content",
        f"{len(problems)} problem(s): {shown}{more}",
        'fix the files named, or set [content] override_dir back to ""; '
        "`unblend content check` lists every problem",
    )


async def _database(config: Config, env: Mapping[str, str]) -> list[Finding]:
    if config.storage.dialect == "postgresql":
        return await _postgresql(config.storage, config.db_path, env)
    path = config.db_path
    findings: list[Finding] = []
    if str(path) == ":memory:":
        return [note("database", "in memory: nothing is kept between runs")]
    folder = path.parent if path.parent.exists() else Path()
    free = shutil.disk_usage(folder).free
    if free < LOW_DISK_BYTES:
        findings.append(
            problem(
                "disk",
                f"only {free // (1024 * 1024)} MB free where the database lives ({folder})",
                "free some space (old backups, logs: journalctl --vacuum-size=100M)",
            )
        )
    findings.extend(_key_file(path, env))
    if not path.exists():
        findings.append(
            note("database", f"{path} does not exist yet; `unblend run` creates it with a new key")
        )
        return findings
    try:
        inspected, healthy, check = _inspect(path)
        findings.extend(inspected)
        if healthy:
            key = _key(path, env, check)
            findings.append(key)
            if check is not None and key.status is Status.OK:
                async with reading(config.storage) as database:
                    findings.extend(await _values(database, path, env, check))
    except sqlite3.DatabaseError as exc:
        findings.append(_damaged(path, str(exc)))
    return findings


async def _postgresql(storage: StorageUrl, path: Path, env: Mapping[str, str]) -> list[Finding]:
    """The connection, the schema's version, who holds the database, the key and the values;
    `path` places the key file on this machine."""
    findings = _key_file(path, env)
    try:
        async with reading(storage) as database:
            version = await _server_version(database)
            findings.append(ok("database", f"{storage.shown}: connected (PostgreSQL {version})"))
            schema = await _pg_schema_version(database)
            findings.append(_schema(schema, "postgresql"))
            findings.append(await _run_lock(database))
            check = await read_key_check(database.fetch) if "meta" in database.tables else None
            key = _key(path, env, check)
            findings.append(key)
            if check is not None and key.status is Status.OK:
                findings.extend(await _values(database, path, env, check))
    except StorageError as exc:
        findings.append(
            problem(
                "database",
                str(exc),
                "start the PostgreSQL server (or check its address), then check [storage] url "
                "(or $UNBLEND_STORAGE_URL); `psql URL` tries the same connection",
            )
        )
    return findings


async def _server_version(database: Reading) -> str:
    rows = list(await database.fetch("SHOW server_version", ()))
    return str(rows[0][0]).split()[0] if rows else "?"


async def _pg_schema_version(database: Reading) -> int:
    from core.storage.postgresql import read_version

    return await read_version(database.fetch)


async def _run_lock(database: Reading) -> Finding:
    """Which bots hold the database, and which process runs each role (bots/roles.py): read
    from the server's lock table, never taken."""
    from bots.discord_shards import shard_roles
    from bots.roles import KNOWN_ROLES
    from core.storage.postgresql import lock_key

    known = (*KNOWN_ROLES, *shard_roles())
    names = {lock_key(n): n for n in (RUN_LOCK, *(role_lock(r) for r in known))}
    rows = await database.fetch(
        "SELECT l.classid, l.objid, l.mode, a.application_name, a.pid FROM pg_locks l"
        " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
        " AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database"
        " WHERE datname = current_database())",
        (),
    )
    bots: list[str] = []
    roles: list[str] = []
    alone = ""
    for classid, objid, mode, app, pid in rows:
        key = int.from_bytes(((int(classid) << 32) | int(objid)).to_bytes(8, "big"), signed=True)
        name = names.get(key)
        holder = str(app or f"pid {pid}").removeprefix("unblend ")
        if name == RUN_LOCK and mode == "ShareLock":
            bots.append(holder)
        elif name == RUN_LOCK:
            alone = holder
        elif name is not None:
            roles.append(f"{name.removeprefix('role:')} by {holder}")
    if alone:
        return ok("locks", f"a key rotation or copy holds the database alone now ({alone})")
    if not bots:
        return ok("locks", "no bot is running on this database now")
    running = "a bot is running" if len(bots) == 1 else f"{len(bots)} bots are running"
    held = "; ".join(sorted(roles)) or "none yet"
    return ok("locks", f"{running} on this database ({', '.join(sorted(bots))}); roles: {held}")


def _key_file(path: Path, env: Mapping[str, str]) -> list[Finding]:
    key_file = key_path_for(path)
    if env.get(KEY_ENV) or not key_file.is_file() or not too_open(key_file):
        return []
    return [
        problem(
            "key file",
            f"other users of this machine can reach {key_file}; the bot refuses to start so",
            f"chmod 600 {key_file}",
        )
    ]


def _damaged(path: Path, reason: str) -> Finding:
    return problem(
        "database",
        f"{path} is damaged ({reason})",
        f"stop the bot, then `unblend restore BACKUP-FILE` (the damaged file is kept beside "
        f"it as {path.name}.<time>.bak); with no backup, "
        f"`sqlite3 {path} .recover | sqlite3 recovered.sqlite` saves what it can",
    )


def _inspect(path: Path) -> tuple[list[Finding], bool, bytes | None]:
    """Integrity and schema findings, whether the file is whole, and its stored key check."""
    findings: list[Finding] = []
    with contextlib.closing(sqlite3.connect(read_only_uri(path), uri=True)) as conn:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(20)")]
        if rows != ["ok"]:
            return [_damaged(path, "; ".join(rows[:3]))], False, None
        findings.append(ok("database", f"{path}: integrity ok"))
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        findings.append(_schema(version, "sqlite"))
        has_meta = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        row = (
            conn.execute("SELECT value FROM meta WHERE key='key_check'").fetchone()
            if has_meta
            else None
        )
    return findings, True, None if row is None else bytes(row[0])


def _schema(version: int, dialect: Dialect) -> Finding:
    scripts = migration_scripts(dialect)
    newest = scripts[-1][0] if scripts else 0
    if version > newest:
        return problem(
            "schema",
            f"the database is at version {version}, newer than this Unblend knows ({newest})",
            "upgrade Unblend to the version that wrote it, or restore an older backup",
        )
    pending = [name for number, name, _ in scripts if number > version]
    backup = "`unblend backup FILE`" if dialect == "sqlite" else "pg_dump (docs/deploy.md)"
    if pending and version == 0 and dialect == "postgresql":
        return note(
            "schema",
            "the database is empty: `unblend run` makes its tables, or "
            "`unblend storage copy --to URL` moves a SQLite database into it",
        )
    if pending:
        return note(
            "schema",
            f"version {version}; {len(pending)} migration(s) will run at the next start "
            f"({', '.join(pending)})",
            f"take a backup first: {backup}",
        )
    return ok("schema", f"version {version}, up to date")


def _key(path: Path, env: Mapping[str, str], check: bytes | None) -> Finding:
    if check is None:
        try:
            key = read_keyring(path, dict(env), check_mode=False)
        except DataKeyError as exc:
            return problem("data key", str(exc), "fix the key, or unset it to have one made")
        where = f"${KEY_ENV}" if env.get(KEY_ENV) else str(key_path_for(path))
        made = f"will use {where}" if key else "a new key file will be made beside it"
        return note("data key", f"no encrypted data yet; {made}")
    try:
        keyring = read_keyring(path, env, check_mode=False)
        if keyring is None:
            raise DataKeyError(
                f"The database {path} holds encrypted data, but its key was not found: no "
                f"{key_path_for(path)} and no ${KEY_ENV}."
            )
        cipher_opening(keyring, check, path, key_source(path, env))
    except DataKeyError as exc:
        return problem(
            "data key",
            str(exc),
            f"put the key file from your backup at {key_path_for(path)} (mode 600), "
            f"or set ${KEY_ENV} to that key",
        )
    source = f"${KEY_ENV}" if env.get(KEY_ENV) else str(key_path_for(path))
    held = ", ".join(map(str, keyring.ids))
    return ok("data key", f"{source} opens the database (key(s) {held}; newest {keyring.current})")


async def _values(
    database: Reading, path: Path, env: Mapping[str, str], check: bytes
) -> list[Finding]:
    """Opens every encrypted value in its place: damaged or moved ones, and a pending
    rotation or move-over, are reported by place (never content)."""
    keyring = read_keyring(path, env, check_mode=False)
    assert keyring is not None
    found = await survey(database.fetch, Cipher(keyring), tables=database.tables)
    marker = await read_marker(database.fetch)
    findings: list[Finding] = []
    older = {k: n for k, n in found.by_key.items() if 0 < k != keyring.current and n}
    if value_format(check) == LEGACY_FORMAT:
        findings.append(
            note(
                "encrypted values",
                f"{found.by_key[0]} value(s) are from before values were bound to their rows; "
                "the bot binds them at its next start (once, resumably)",
                "take a backup first: `unblend backup FILE`",
            )
        )
    elif marker is not None:
        left = ", ".join(f"{n} under key {k}" for k, n in sorted(older.items())) or "none"
        findings.append(
            problem(
                "key rotation",
                f"a key rotation to key {marker.get('target')} is not finished (values left: "
                f"{left}); the bot works meanwhile, but older keys still protect those values",
                "stop the bot, run `unblend keys rotate` (it resumes), start the bot",
            )
        )
    elif older:
        listed = ", ".join(f"{n} under key {k}" for k, n in sorted(older.items()))
        findings.append(
            note(
                "encrypted values",
                f"some values are sealed with older keys ({listed}), e.g. from a restored backup",
                "`unblend keys rotate` re-seals them under a new key",
            )
        )
    if found.damaged_count:
        findings.append(
            problem(
                "encrypted values",
                f"{found.damaged_count} value(s) cannot be opened where they are (damaged, "
                f"moved from another row, or sealed with a key not in the keyring): "
                f"{describe(found.damaged, found.damaged_count)}",
                "restore a backup from before the damage (`unblend restore FILE`), or remove "
                "just these values: stop the bot, `unblend keys rotate --drop-damaged`",
            )
        )
    elif value_format(check) != LEGACY_FORMAT:
        findings.append(ok("encrypted values", f"all {found.values} open, each in its own row"))
    return findings


async def _tokens(config: Config) -> list[Finding]:
    found: list[Finding] = []
    async with httpx.AsyncClient(timeout=TOKEN_TIMEOUT_S) as client:
        if config.telegram_token:
            found.append(await _telegram(client, config))
        else:
            found.append(note("telegram token", "none set (UNBLEND_TELEGRAM_TOKEN)"))
        if config.discord_token:
            found.append(await _discord(client, config))
            if config.get("discord", "read_messages") and found[-1].status is Status.OK:
                found.append(await _message_content(client, config))
        else:
            found.append(note("discord token", "none set (UNBLEND_DISCORD_TOKEN)"))
    return found


async def _telegram(client: httpx.AsyncClient, config: Config) -> Finding:
    base = str(config.get("telegram", "base_url")) or TELEGRAM_API
    fix = (
        "copy the token again from @BotFather (/mybots -> your bot -> API Token) into "
        "UNBLEND_TELEGRAM_TOKEN or [telegram] token, exactly as given"
    )
    try:
        response = await client.get(f"{base.rstrip('/')}{config.telegram_token}/getMe")
    except httpx.HTTPError as exc:
        return _unreachable("telegram token", base, exc, "[telegram] base_url")
    if response.status_code in (401, 404):
        return problem("telegram token", "Telegram did not accept the bot token", fix)
    try:
        body = response.json()
        username = str(body["result"]["username"])
    except (ValueError, KeyError, TypeError):
        return problem(
            "telegram token",
            f"unexpected answer from the Bot API (HTTP {response.status_code})",
            "check [telegram] base_url; empty means the public Bot API",
        )
    return ok("telegram token", f"works: the bot is @{username}")


async def _discord(client: httpx.AsyncClient, config: Config) -> Finding:
    base = str(config.get("discord", "api_base_url")) or DISCORD_API
    try:
        response = await client.get(
            f"{base.rstrip('/')}/users/@me",
            headers={"Authorization": f"Bot {config.discord_token}"},
        )
    except httpx.HTTPError as exc:
        return _unreachable("discord token", base, exc, "[discord] api_base_url")
    if response.status_code == 401:
        return problem(
            "discord token",
            "Discord did not accept the bot token",
            "in the Discord Developer Portal open your application -> Bot -> Reset Token, "
            "and put the new token in UNBLEND_DISCORD_TOKEN or [discord] token",
        )
    try:
        body = response.json()
        username = str(body["username"])
    except (ValueError, KeyError, TypeError):
        return problem(
            "discord token",
            f"unexpected answer from the Discord API (HTTP {response.status_code})",
            "check [discord] api_base_url; empty means Discord's own API",
        )
    return ok("discord token", f"works: the bot is {username}")


async def _message_content(client: httpx.AsyncClient, config: Config) -> Finding:
    """With [discord] read_messages on: whether the application may use Message Content."""
    base = str(config.get("discord", "api_base_url")) or DISCORD_API
    try:
        response = await client.get(
            f"{base.rstrip('/')}/oauth2/applications/@me",
            headers={"Authorization": f"Bot {config.discord_token}"},
        )
        flags = int(response.json()["flags"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        return note(
            "discord intents",
            f"could not read the application's settings ({type(exc).__name__}); "
            "[discord] read_messages needs the Message Content intent",
            READ_MESSAGES_FIX,
        )
    if flags & MESSAGE_CONTENT_FLAGS:
        return ok("discord intents", "Message Content is switched on, as read_messages needs")
    return problem(
        "discord intents",
        "[discord] read_messages is on, but Message Content is switched off for this bot: "
        "Discord will refuse to connect (gateway close 4014)",
        READ_MESSAGES_FIX,
    )


def _unreachable(check: str, base: str, exc: httpx.HTTPError, key: str) -> Finding:
    host = httpx.URL(base).host or base
    # The type only: an httpx message can hold the URL, and the Bot API URL holds the token.
    return problem(
        check,
        f"could not reach {host} ({type(exc).__name__})",
        f"check the network and DNS of this machine, and {key} if you set it",
    )


def print_findings(findings: list[Finding]) -> int:
    for finding in findings:
        for line in finding.lines():
            print(line)
    problems = sum(f.status is Status.PROBLEM for f in findings)
    if problems:
        print(f"{problems} problem(s) found; each comes with its fix.")
        return 1
    if any(f.status is Status.NOTE for f in findings):
        print("No problems found; the notes above may still need a look.")
    else:
        print("Everything Unblend needs looks right.")
    return 0
