"""`unblend`: run the bot, or check config, content and crisis wording."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bots.bootstrap import build_runtime, bundled_content_dir
from bots.console import ConsoleAdapter
from bots.logsafe import setup_logging
from bots.runner import AdapterStartError
from core.catalog import check_content
from core.config import Config, ConfigError, load_config, readable_by_others
from core.crypto import DataKeyError
from core.pacing import PacingLoop
from core.problems import ContentError
from core.safety import load_detector
from core.storage.db import StorageError

log = logging.getLogger("unblend")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unblend", description="A peer-support bot for recovery groups."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "run", help="run the bot (the console when no platform token is configured)"
    )
    run.add_argument("--config", type=Path, help="path to config.toml")
    console = sub.add_parser("console", help="talk to the bot in this terminal")
    console.add_argument("--config", type=Path, help="path to config.toml")
    console.add_argument(
        "--user", default="console", help="who you are in the console (default: console)"
    )
    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    config_check = config_sub.add_parser(
        "check", help="check a config file and explain any problem"
    )
    config_check.add_argument("path", type=Path, nargs="?", default=Path("config.toml"))
    content = sub.add_parser("content", help="content tools")
    content_sub = content.add_subparsers(dest="action", required=True, metavar="ACTION")
    content_check = content_sub.add_parser("check", help="validate content files")
    content_check.add_argument(
        "dir", type=Path, nargs="?", help="content folder (default: the bundled one)"
    )
    safety = sub.add_parser("safety", help="crisis-language tools")
    safety_sub = safety.add_subparsers(dest="action", required=True, metavar="ACTION")
    safety_check = safety_sub.add_parser(
        "check", help="print <level><TAB><line> for each line (arguments, or stdin)"
    )
    safety_check.add_argument("lines", nargs="*")
    safety_check.add_argument(
        "--content", type=Path, help="content folder (default: the bundled one)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command in ("run", "console"):
            return _run(args)
        if args.command == "config":
            return _config_check(args.path)
        if args.command == "content":
            return _content_check(args.dir)
        return _safety_check(args.lines, args.content)
    except (ConfigError, ContentError) as exc:
        print("Unblend could not start. Please fix:", file=sys.stderr)
        for line in exc.problems.lines():
            print(f"  - {line}", file=sys.stderr)
        return 2
    except (DataKeyError, StorageError, AdapterStartError) as exc:
        print(f"Unblend could not start: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _setup_logging(config: Config, quiet: bool) -> None:
    level = str(config.get("logging", "level")).upper()
    # In the console, logs would interleave with the conversation: only warnings show there.
    setup_logging(
        logging.WARNING if quiet else getattr(logging, level, logging.INFO),
        secrets=[config.telegram_token, config.discord_token],
    )


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.config is not None and readable_by_others(args.config):
        print(
            f"Warning: {args.config} can be read by other users of this machine; "
            f"it may hold tokens. Fix with: chmod 600 {args.config}",
            file=sys.stderr,
        )
    if args.command == "run" and config.discord_token:
        print(
            "A Discord token is configured, but this version of Unblend has no Discord "
            "adapter yet." + ("" if config.telegram_token else " Starting the console instead."),
            file=sys.stderr,
        )
    if args.command == "run" and config.telegram_token:
        _setup_logging(config, quiet=False)
        return asyncio.run(_serve(config))
    _setup_logging(config, quiet=True)
    user = getattr(args, "user", "console")
    return asyncio.run(_console(config, user))


async def _serve(config: Config) -> int:
    # Imported here: the console never needs the platform libraries.
    from bots.runner import run_adapters
    from bots.telegram_adapter import TelegramAdapter, telegram_settings

    runtime = await build_runtime(config)
    try:
        adapters = [TelegramAdapter(runtime.app, telegram_settings(config))]
    except BaseException:
        await runtime.close()
        raise
    return await run_adapters(runtime, adapters)


async def _console(config: Config, user: str) -> int:
    runtime = await build_runtime(config)
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    # SIGTERM ends the conversation like end of input: the database is closed cleanly.
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    pacing = asyncio.create_task(PacingLoop(runtime.app).run())
    try:
        adapter = ConsoleAdapter(
            runtime.app, sys.stdin, sys.stdout, user, interactive=sys.stdin.isatty()
        )
        return await adapter.run()
    except asyncio.CancelledError:
        return 0
    finally:
        pacing.cancel()
        loop.remove_signal_handler(signal.SIGTERM)
        await runtime.close()


def _config_check(path: Path) -> int:
    config = load_config(path, env=os.environ)
    print(f"{path}: OK")
    print(f"  database: {config.db_path}")
    platforms = [
        n for n, t in (("telegram", config.telegram_token), ("discord", config.discord_token)) if t
    ]
    print(f"  platforms: {', '.join(platforms) or 'none (console only)'}")
    if readable_by_others(path):
        print(f"  warning: other users can read {path}; fix with: chmod 600 {path}")
    return 0


def _content_check(folder: Path | None) -> int:
    base = folder or bundled_content_dir()
    problems = check_content(base)
    if problems:
        print(f"{len(problems)} problem(s) in {base}:")
        for line in problems.lines():
            print(f"  - {line}")
        return 1
    print(f"{base}: all content is valid")
    return 0


def _safety_check(lines: list[str], content: Path | None) -> int:
    detector = load_detector(content or bundled_content_dir())
    source = lines or (line.rstrip("\n") for line in sys.stdin)
    for line in source:
        print(f"{detector.assess(line).value}\t{line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
