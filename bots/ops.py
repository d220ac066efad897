"""Operator commands: `unblend doctor`, `unblend backup FILE`, `unblend restore FILE`, and
`unblend storage copy --to URL`."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from core.kernel.config import Config, load_config
from core.kernel.crypto import KEY_ENV, key_path_for
from core.storage.engines import (
    StorageUrl,
    StorageUrlError,
    parse_storage_url,
    without_password,
)

COMMANDS = ("doctor", "backup", "restore", "storage")


def add_parsers(sub: Any) -> None:
    """Adds the operator commands to `unblend`'s subcommands."""
    doctor = sub.add_parser(
        "doctor", help="check config, data key, database, content (and tokens); say how to fix"
    )
    doctor.add_argument("--config", type=Path, help="path to config.toml")
    doctor.add_argument(
        "--check-tokens", action="store_true", help="also ask Telegram and Discord about the tokens"
    )
    backup = sub.add_parser(
        "backup", help="write a consistent copy of the database to FILE, while the bot runs"
    )
    backup.add_argument("file", type=Path, help="where to write the backup")
    backup.add_argument("--config", type=Path, help="path to config.toml")
    restore = sub.add_parser(
        "restore",
        help="replace the database with a backup (the old one is kept as <name>.<time>.bak)",
    )
    restore.add_argument("file", type=Path, help="the backup to restore")
    restore.add_argument("--config", type=Path, help="path to config.toml")
    restore.add_argument(
        "--force", action="store_true", help="restore even while a bot runs on the database"
    )
    storage = sub.add_parser("storage", help="database tools")
    storage_sub = storage.add_subparsers(dest="action", required=True, metavar="ACTION")
    copy = storage_sub.add_parser(
        "copy",
        help="copy the SQLite database into PostgreSQL, checked table by table (stop the bot "
        "first; run it again to resume)",
    )
    copy.add_argument(
        "--to",
        metavar="URL",
        help="postgresql://user@host:5432/dbname (default: [storage] url or "
        "$UNBLEND_STORAGE_URL, when it names PostgreSQL); the password from PGPASSWORD",
    )
    copy.add_argument("--config", type=Path, help="path to config.toml")


def run(args: argparse.Namespace) -> int:
    if args.command == "doctor":
        from bots.doctor import diagnose, print_findings

        findings = asyncio.run(diagnose(args.config, os.environ, args.check_tokens))
        return print_findings(findings)
    if args.command == "storage":
        return _storage_copy(args)
    from bots.backup import BackupError, backup, restore

    config = load_config(args.config)
    if config.storage.dialect == "postgresql":
        print(server_backups(args.command, config), file=sys.stderr)
        return 1
    try:
        if args.command == "backup":
            backup(config.db_path, args.file)
        else:
            restore(args.file, config.db_path, os.environ, force=args.force)
    except BackupError as exc:
        print(f"Unblend could not {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


def server_backups(command: str, config: Config) -> str:
    """Why `backup`/`restore` leave a PostgreSQL database to the server's own tools, and the
    commands to use (never the password: it comes from PGPASSWORD or ~/.pgpass)."""
    url = shlex.quote(without_password(config.storage.url))
    key = key_path_for(config.db_path)
    if command == "backup":
        how = (
            "Back it up with PostgreSQL's own tool, which takes a consistent copy while the bot "
            f"runs:\n  pg_dump --format=custom --file=unblend.dump {url}\n"
            "or with your provider's snapshots and point-in-time recovery."
        )
    else:
        how = (
            "Restore it with PostgreSQL's own tool, with the bot stopped:\n"
            f"  pg_restore --clean --if-exists --no-owner --dbname={url} unblend.dump\n"
            "then start the bot again."
        )
    return (
        f"unblend {command}: the database is PostgreSQL ({config.storage.shown}), and "
        f"`unblend {command}` copies SQLite files only. {how}\n"
        f"The data key is not in the database: keep {key} (or ${KEY_ENV}) with your backups, "
        "apart from them. docs/deploy.md has the details."
    )


def _storage_copy(args: argparse.Namespace) -> int:
    from bots.storage_copy import CopyError, copy_database

    config = load_config(args.config)
    try:
        target = _copy_target(args.to, config)
        done = asyncio.run(copy_database(config.db_path, target))
    except CopyError as exc:
        print(f"unblend storage copy: {exc}", file=sys.stderr)
        return 1
    rows = sum(done.copied.values()) + sum(done.skipped.values())
    print(
        f"Done: {len(done.copied)} table(s) copied and {len(done.skipped)} already there, "
        f"{rows} row(s) in all, each table checked."
    )
    print(
        f'Next: set [storage] url = "{without_password(target.url)}" (or '
        f"$UNBLEND_STORAGE_URL), keep [storage] path as it is (the key file "
        f"{key_path_for(config.db_path)} stays beside it and opens the copy), start the bot and "
        f"run `unblend doctor`. Keep {config.db_path} until you are content."
    )
    return 0


def _copy_target(raw: str | None, config: Config) -> StorageUrl:
    from bots.storage_copy import CopyError

    if not raw:
        if config.storage.dialect != "postgresql":
            raise CopyError(
                "name the PostgreSQL database to copy into: --to postgresql://user@host/dbname "
                "(the password from PGPASSWORD or ~/.pgpass)"
            )
        return config.storage
    try:
        target = parse_storage_url(raw, config.db_path)
    except StorageUrlError as exc:
        raise CopyError(f"--to {exc}") from None
    if target.dialect != "postgresql":
        raise CopyError("--to must name a PostgreSQL database: postgresql://user@host/dbname")
    return target
