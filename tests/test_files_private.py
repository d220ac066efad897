"""The data folder and its files are the bot's alone, whatever the umask (issue 12, item 11).

Before, the database, its write-ahead log and the folder were created readable by everyone on
the machine under the usual umask 022; a key file others could read was used as it was; and a
key file with a byte order mark, odd bytes or a folder in its place ended in a traceback.
"""

from __future__ import annotations

import asyncio
import io
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.backup import backup, restore
from bots.bootstrap import build_runtime
from bots.cli import main
from bots.console import ConsoleAdapter
from core.kernel.config import load_config
from core.kernel.crypto import KEY_ENV, DataKeyError, key_path_for
from core.safety.cache import CACHE_NAME
from core.storage.keyring import open_encrypted


@pytest.fixture(autouse=True)
def usual_umask(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(KEY_ENV, raising=False)
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_config(folder: Path, db: Path) -> Path:
    config = folder / "config.toml"
    config.write_text(f"[storage]\npath = '{db}'\n")
    config.chmod(0o600)
    return config


async def test_a_new_data_folder_and_every_file_in_it_are_private(tmp_path: Path) -> None:
    data = tmp_path / "srv" / "data"
    db_path = data / "unblend.sqlite"
    runtime = await build_runtime(load_config(write_config(tmp_path, db_path)), env={})
    try:
        script = io.StringIO("/start\nOkay\nYes, keep them\n/export\n")
        exports = data / "exports"
        adapter = ConsoleAdapter(runtime.app, script, io.StringIO(), "me", files_dir=exports)
        await adapter.run(banner=False)
        made = {p.name for p in data.iterdir()}
        assert {"unblend.sqlite", "unblend.sqlite-wal", "unblend.sqlite-shm"} <= made
        assert {"unblend.key", CACHE_NAME} <= made
        # While the bot runs: the log and shared-memory files exist, and exports were written.
        # Each member's exports sit in a folder of their own, private as the rest.
        member_folders = [p for p in exports.rglob("*") if p.is_dir()]
        assert member_folders
        for folder in (tmp_path / "srv", data, exports, *member_folders):
            assert mode(folder) == 0o700, folder
        exported = [p for p in exports.rglob("*") if p.is_file()]
        assert exported
        files = [p for p in data.iterdir() if p.is_file()] + exported
        assert len(files) >= 7
        for path in files:
            assert mode(path) == 0o600, path
    finally:
        await runtime.close()
    # A backup into a new folder, and what a restore writes and sets aside.
    dest = tmp_path / "backups" / "nightly.sqlite"
    backup(db_path, dest, say=lambda _: None)
    assert mode(dest.parent) == 0o700 and mode(dest) == 0o600
    restore(dest, db_path, {}, say=lambda _: None)
    for path in data.iterdir():
        if path.is_file():
            assert mode(path) == 0o600, path


async def test_an_existing_database_others_can_read_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "unblend.sqlite"
    db, _ = await open_encrypted(path, {})
    await db.close()
    path.chmod(0o644)
    db, _ = await open_encrypted(path, {})
    await db.execute("INSERT INTO meta (key, value) VALUES ('x', x'00')")
    assert mode(path) == 0o600 and mode(Path(f"{path}-wal")) == 0o600
    await db.close()


def start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """`unblend console` on the database beside the config; its exit code and error lines."""
    code = main(["console", "--config", str(tmp_path / "config.toml")])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.strip().splitlines()


def made_db(tmp_path: Path) -> Path:
    path = tmp_path / "unblend.sqlite"

    async def make() -> None:
        db, _ = await open_encrypted(path, {})
        await db.close()

    asyncio.run(make())
    write_config(tmp_path, path)
    return key_path_for(path)


def test_a_key_file_others_can_read_is_refused_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = made_db(tmp_path)
    key.chmod(0o644)
    code, lines = start(tmp_path, capsys)
    assert code == 2 and len(lines) == 1
    assert lines[0].endswith(f"fix with: chmod 600 {key}")
    key.chmod(0o640)  # the group alone is too many as well (as ssh says)
    assert start(tmp_path, capsys)[0] == 2


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda text: b"\xef\xbb\xbf" + text, "byte order mark"),
        (lambda text: text.replace(b"1 ", "１ ".encode()), "non-ASCII"),
        (lambda text: text + "é".encode("latin-1"), "non-ASCII"),
    ],
)
def test_a_key_file_an_editor_damaged_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: object, said: str
) -> None:
    key = made_db(tmp_path)
    key.write_bytes(damage(key.read_bytes()))  # type: ignore[operator]
    code, lines = start(tmp_path, capsys)
    assert code == 2 and len(lines) == 1 and said in lines[0] and str(key) in lines[0]


def test_a_folder_in_the_key_files_place_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = made_db(tmp_path)
    key.unlink()
    key.mkdir()
    code, lines = start(tmp_path, capsys)
    assert code == 2 and len(lines) == 1 and "is a folder" in lines[0]
    with pytest.raises(DataKeyError, match="is a folder"):
        asyncio.run(open_encrypted(tmp_path / "unblend.sqlite", {}))


def members(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM members").fetchone()[0])


def add_member(path: Path, name: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO members (platform, platform_user_id, created_at) VALUES ('t', ?, 'x')",
            (name,),
        )


def test_a_second_restore_never_overwrites_what_the_first_set_aside(tmp_path: Path) -> None:
    key = made_db(tmp_path)
    live = key.with_name("unblend.sqlite")
    dest = tmp_path / "b.sqlite"
    backup(live, dest, say=lambda _: None)
    add_member(live, "after the backup")
    restore(dest, live, {}, say=lambda _: None)
    add_member(live, "after the first restore")
    add_member(live, "and another")
    restore(dest, live, {}, say=lambda _: None)
    kept = sorted(tmp_path.glob("unblend.sqlite.*.bak"))
    assert sorted(members(p) for p in kept) == [1, 2], "both set-aside copies are kept"
    for path in kept:
        assert mode(path) == 0o600
