"""Operator commands: `unblend doctor`, `unblend backup FILE`, `unblend restore FILE`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from core.kernel.config import load_config

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
    try:
        if args.command == "backup":
            backup(config.db_path, args.file)
        else:
            restore(args.file, config.db_path, os.environ, force=args.force)
    except BackupError as exc:
        print(f"Unblend could not {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0
