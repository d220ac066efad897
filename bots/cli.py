"""`unblend`: run the bot, or check config, content and crisis wording."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bots import ops
from bots.bootstrap import build_runtime, bundled_content_dir
from bots.console import PLATFORM, ConsoleAdapter
from bots.logsafe import setup_logging
from bots.runner import AdapterStartError
from core.api import PolicyFacts, PurgeLoop, content_contract, policy_text
from core.kernel.catalog import check_content
from core.kernel.config import Config, ConfigError, load_config, readable_by_others
from core.kernel.coverage import locale_coverage
from core.kernel.crypto import KEY_ENV, DataKeyError, key_path_for
from core.kernel.problems import ContentError
from core.safety import load_detector
from core.safety.explain import explain_verdict
from core.storage.database import StorageError

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
    console.add_argument(
        "--locale",
        default="",
        help="your language, as a platform would give it (es, es-MX...; default: English)",
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
    privacy = sub.add_parser(
        "privacy", help="print the privacy policy (PRIVACY.md) filled from the config"
    )
    privacy.add_argument("--config", type=Path, help="path to config.toml")
    keys = sub.add_parser("keys", help="data key tools")
    keys_sub = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    rotate = keys_sub.add_parser(
        "rotate",
        help="add a new data key and re-seal everything under it (stop the bot first)",
    )
    rotate.add_argument("--config", type=Path, help="path to config.toml")
    rotate.add_argument(
        "--drop-damaged",
        action="store_true",
        help="remove values that cannot be opened (they are listed) instead of keeping them",
    )
    retire = keys_sub.add_parser(
        "retire", help="remove an old data key from the key file once nothing uses it"
    )
    retire.add_argument("id", help="the key's id (as `unblend doctor` and the key file show)")
    retire.add_argument("--config", type=Path, help="path to config.toml")
    safety = sub.add_parser("safety", help="crisis-language tools")
    safety_sub = safety.add_subparsers(dest="action", required=True, metavar="ACTION")
    safety_check = safety_sub.add_parser(
        "check", help="print <level><TAB><line> for each line (arguments, or stdin)"
    )
    safety_check.add_argument("lines", nargs="*")
    safety_check.add_argument(
        "--content", type=Path, help="content folder (default: the bundled one)"
    )
    safety_check.add_argument(
        "--explain",
        action="store_true",
        help="also say which layer decided: the rule that matched, or the model's score",
    )
    ops.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command in ("run", "console"):
            return _run(args)
        if args.command in ops.COMMANDS:
            return ops.run(args)
        if args.command == "config":
            return _config_check(args.path)
        if args.command == "content":
            return _content_check(args.dir)
        if args.command == "privacy":
            print(privacy_policy(load_config(args.config)), end="")
            return 0
        if args.command == "keys":
            return _keys(args)
        return _safety_check(args.lines, args.content, args.explain)
    except (ConfigError, ContentError) as exc:
        # A check that finds problems did its job; only starting the bot "could not start".
        checking = args.command in ("config", "content")
        lead = (
            "Unblend found problems. Please fix:"
            if checking
            else "Unblend could not start. Please fix:"
        )
        print(lead, file=sys.stderr)
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
        secrets=[
            config.telegram_token,
            config.discord_token,
            str(config.get("telegram", "webhook_secret")),
            config.storage.password,
        ],
        json_lines=bool(config.get("logging", "json")),
        # A running bot logs to stdout (journald, docker logs); the console's stdout is the chat.
        stream=sys.stderr if quiet else sys.stdout,
    )


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.config is not None and readable_by_others(args.config):
        print(
            f"Warning: {args.config} can be read by other users of this machine; "
            f"it may hold tokens. Fix with: chmod 600 {args.config}",
            file=sys.stderr,
        )
    if args.command == "run" and (config.telegram_token or config.discord_token):
        _setup_logging(config, quiet=False)
        return asyncio.run(_serve(config))
    _setup_logging(config, quiet=True)
    user = getattr(args, "user", "console")
    return asyncio.run(_console(config, user, getattr(args, "locale", "")))


async def _serve(config: Config) -> int:
    # Imported here: the console never needs the platform libraries.
    from bots.runner import Adapter, run_adapters

    runtime = await build_runtime(config)
    try:
        adapters: list[Adapter] = []
        if config.telegram_token:
            from bots.telegram_adapter import TelegramAdapter, telegram_settings

            adapters.append(TelegramAdapter(runtime.app, telegram_settings(config)))
        if config.discord_token:
            from bots.discord_adapter import DiscordAdapter, discord_settings

            adapters.append(DiscordAdapter(runtime.app, discord_settings(config)))
    except BaseException:
        await runtime.close()
        raise
    return await run_adapters(runtime, adapters)


async def _console(config: Config, user: str, locale: str = "") -> int:
    # Imported here: the scheduler is only needed once a conversation starts.
    from core.api import ScheduleService

    runtime = await build_runtime(config)
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    # SIGTERM ends the conversation like end of input: the database is closed cleanly.
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    purge = PurgeLoop(runtime.app)
    purge_task = asyncio.create_task(purge.run())
    data = config.db_path.parent
    adapter = ConsoleAdapter(
        runtime.app,
        sys.stdin,
        sys.stdout,
        user,
        interactive=sys.stdin.isatty(),
        files_dir=data / "exports",
        locale=locale,
    )
    runtime.app.outbound.register(PLATFORM, adapter)
    # /remind works here too: reminders come while the console is open, like on a platform.
    schedules = ScheduleService(runtime.app, platforms=(PLATFORM,))
    try:
        await schedules.start()
        return await adapter.run()
    except asyncio.CancelledError:
        return 0
    finally:
        # Every loop finishes its round before the database closes: leaving at once (end of
        # input straight away) must not cut a write in half.
        await schedules.stop()
        purge.stop()
        await purge_task
        loop.remove_signal_handler(signal.SIGTERM)
        await runtime.close()


def _config_check(path: Path) -> int:
    config = load_config(path, env=os.environ)
    print(f"{path}: OK")
    storage = config.storage
    print(f"  database: {storage.shown}")
    if storage.dialect == "postgresql":
        print(f"  data key file: {key_path_for(config.db_path)} (on this machine)")
    platforms = [
        n for n, t in (("telegram", config.telegram_token), ("discord", config.discord_token)) if t
    ]
    print(f"  platforms: {', '.join(platforms) or 'none (console only)'}")
    if readable_by_others(path):
        print(f"  warning: other users can read {path}; fix with: chmod 600 {path}")
    return 0


def privacy_policy(config: Config, env: Mapping[str, str] | None = None) -> str:
    """PRIVACY.md for this installation: contact, retention and where data and key live."""
    env = os.environ if env is None else env
    key = (
        f"in the environment variable {KEY_ENV} on the server"
        if env.get(KEY_ENV)
        else f"in the file `{key_path_for(config.db_path)}`, readable only by the bot"
    )
    facts = PolicyFacts(
        contact=str(config.get("privacy", "contact")),
        retention_days=int(config.get("privacy", "retention_days")),
        retention_days_max=int(config.get("privacy", "retention_days_max")),
        storage=config.storage.shown,
        key=key,
    )
    return policy_text(bundled_content_dir(), facts)


def _keys(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    try:
        if args.action == "retire":
            return _keys_retire(config, args.id)
        return _keys_rotate(config, args.drop_damaged)
    except (DataKeyError, StorageError) as exc:
        print(f"unblend keys {args.action}: {exc}", file=sys.stderr)
        return 1


def _keys_rotate(config: Config, drop_damaged: bool) -> int:
    from bots.instance import AlreadyRunningError, instance_lock
    from core.storage.rotate import rotate_key

    totals: dict[str, int] = {}

    def progress(where: str, count: int) -> None:
        totals[where] = totals.get(where, 0) + count
        print(f"  {where}: {totals[where]} re-encrypted", flush=True)

    try:
        with instance_lock(config.db_path):
            done = asyncio.run(
                rotate_key(
                    config.db_path,
                    os.environ,
                    progress,
                    drop_damaged=drop_damaged,
                    storage=config.storage,
                )
            )
    except AlreadyRunningError as exc:
        print(f"Stop the bot before rotating its key: {exc}", file=sys.stderr)
        return 1
    key_file = key_path_for(config.db_path)
    print(
        f"Done: {done.resealed} value(s) re-encrypted under the new key {done.key_id}, now in "
        f"{key_file}. Back it up now, apart from the database. If this was interrupted, run it "
        "again: it resumes."
    )
    if done.kept:
        older = ", ".join(map(str, done.kept))
        print(
            f"Older key(s) {older} stay in {key_file}, so backups taken before now can still be "
            f"restored. Once you no longer need those backups: unblend keys retire {done.kept[0]}"
        )
    if done.damaged_count:
        fate = "were removed" if done.dropped else "could not be opened and were left as they were"
        print(f"{done.damaged_count} value(s) {fate}: {done.damage()}", file=sys.stderr)
        if not done.dropped:
            print(
                "They stay unreadable. Restore a backup from before the damage, or remove "
                "just these values: unblend keys rotate --drop-damaged",
                file=sys.stderr,
            )
            return 1
    return 0


def _keys_retire(config: Config, raw_id: str) -> int:
    from core.storage.rotate import retire_key

    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 10:
        print("A key id is a number, as the key file shows: unblend keys retire 1", file=sys.stderr)
        return 2
    left = asyncio.run(retire_key(config.db_path, os.environ, int(raw_id), config.storage))
    print(
        f"Key {int(raw_id)} retired from {key_path_for(config.db_path)} (it holds key(s) "
        f"{', '.join(map(str, left.ids))}). Backups that need key {int(raw_id)} can no longer "
        "be restored with this key file."
    )
    return 0


def _content_check(folder: Path | None) -> int:
    base = folder or bundled_content_dir()
    problems = check_content(base, contract=content_contract())
    # Each translation on its own, against English (issue 16): a gap fails the check, though
    # at run time it would only fall back to English.
    coverage, gaps = locale_coverage(base)
    problems.items.extend(gaps.items)
    if problems:
        print(f"{len(problems)} problem(s) in {base}:")
        for line in problems.lines():
            print(f"  - {line}")
    else:
        print(f"{base}: all content is valid")
    if coverage:
        print("Translations, each held against English:")
        for report in coverage:
            print(f"  {report.line()}")
    return 1 if problems else 0


def _safety_check(lines: list[str], content: Path | None, explain: bool = False) -> int:
    detector = load_detector(content or bundled_content_dir())
    source = lines or (line.rstrip("\n") for line in sys.stdin)
    for line in source:
        if not explain:
            print(f"{detector.assess(line).value}\t{line}")
            continue
        verdict = detector.judge(line)
        print(f"{verdict.level.value}\t{line}")
        for why in explain_verdict(detector, line, verdict):
            print(f"  {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
