"""Operator commands: `unblend doctor`, `unblend backup FILE`, `unblend restore FILE`."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from core.config import Config, load_config
from core.crypto import KEY_ENV, key_path_for
from core.storage.engines import without_password

COMMANDS = ("doctor", "backup", "restore")


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


def run(args: argparse.Namespace) -> int:
    if args.command == "doctor":
        from bots.doctor import diagnose, print_findings

        findings = asyncio.run(diagnose(args.config, os.environ, args.check_tokens))
        return print_findings(findings)
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
