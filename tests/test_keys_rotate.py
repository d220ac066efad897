"""`unblend keys rotate`: everything re-encrypted under a new key; an interrupted run resumes."""

from __future__ import annotations

import asyncio
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.clock import FakeClock
from core.crypto import KEY_ENV, DataKeyError, key_path_for
from core.privacy import export_member
from core.storage import rotate
from core.storage.db import Database
from core.storage.keyring import open_encrypted
from core.storage.rotate import ENCRYPTED, new_key_path, rotate_key
from tests.chat import Chat
from tests.member_data import fill_everything
from tests.test_storage import database_bytes, sqlite_app


class StopHereError(Exception):
    pass


async def filled_database(path: Path, clock: FakeClock) -> dict[int, dict[str, Any]]:
    """Two members with data everywhere; what each one's export holds."""
    app, db = await sqlite_app(path, clock)
    ids = [await fill_everything(app, Chat(app, user)) for user in ("ana", "ben")]
    exports = {i: await export_member(app.repos, i) for i in ids}
    await db.close()
    return exports


async def exports_after(path: Path, clock: FakeClock, ids: list[int]) -> dict[int, Any]:
    app, db = await sqlite_app(path, clock)
    try:
        return {i: await export_member(app.repos, i) for i in ids}
    finally:
        await db.close()


async def test_rotation_reencrypts_everything_and_swaps_the_key(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    before = await filled_database(path, clock)
    old_key = key_path_for(path).read_text()
    seen: list[tuple[str, int]] = []
    done = await rotate_key(path, {}, lambda where, n: seen.append((where, n)), batch=2)
    assert done == sum(n for _, n in seen) >= 10
    assert {"checkins.note", "parts.name", "safety_plan_sections.body"} <= {w for w, _ in seen}
    assert key_path_for(path).read_text() != old_key
    assert stat.S_IMODE(key_path_for(path).stat().st_mode) == 0o600
    assert not new_key_path(path).exists()
    assert await exports_after(path, clock, list(before)) == before
    with pytest.raises(DataKeyError, match="does not open"):
        await open_encrypted(path, {KEY_ENV: old_key.strip()})


async def test_an_interrupted_rotation_blocks_the_bot_and_resumes(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    before = await filled_database(path, clock)
    old_key = key_path_for(path).read_text()
    first: list[int] = []

    def stop_after_two_batches(where: str, n: int) -> None:
        first.append(n)
        if len(first) == 2:
            raise StopHereError

    with pytest.raises(StopHereError):
        await rotate_key(path, {}, stop_after_two_batches, batch=3)
    # Half rotated: the new key waits beside the old one, and the bot refuses to start.
    assert new_key_path(path).exists() and key_path_for(path).read_text() == old_key
    with pytest.raises(DataKeyError, match=r"rotation .* was interrupted"):
        await open_encrypted(path, {})
    rest: list[int] = []
    await rotate_key(path, {}, lambda where, n: rest.append(n), batch=3)
    assert sum(first) > 0 and sum(rest) > 0
    assert await exports_after(path, clock, list(before)) == before
    assert not new_key_path(path).exists()
    # Everything went through once: a full rotation again finds the same number of values.
    again = await rotate_key(path, {}, None)
    assert again == sum(first) + sum(rest)


async def test_a_crash_between_the_last_batch_and_the_key_swap_resumes(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "unblend.sqlite"
    before = await filled_database(path, clock)
    real_swap = rotate._swap

    def crash(key_path: Path, next_path: Path) -> None:
        raise StopHereError

    monkeypatch.setattr(rotate, "_swap", crash)
    with pytest.raises(StopHereError):
        await rotate_key(path, {})
    monkeypatch.setattr(rotate, "_swap", real_swap)
    with pytest.raises(DataKeyError, match="interrupted"):
        await open_encrypted(path, {})
    assert await rotate_key(path, {}) == 0
    assert await exports_after(path, clock, list(before)) == before


async def test_every_blob_column_is_known_to_the_rotation(tmp_path: Path) -> None:
    """A new encrypted column must be listed in core/storage/rotate.py ENCRYPTED."""
    db = Database(tmp_path / "schema.sqlite")
    await db.open()
    blobs = set()
    for (table,) in await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'"):
        for column in await db.fetchall(f'PRAGMA table_info("{table}")'):
            if str(column[2]).upper() == "BLOB":
                blobs.add(f"{table}.{column[1]}")
    await db.close()
    assert blobs - {"meta.value"} == {f"{c.table}.{c.column}" for c in ENCRYPTED}


async def test_rotation_with_the_key_in_the_environment_is_explained(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    await filled_database(path, clock)
    with pytest.raises(DataKeyError, match="Rotation works with the key file"):
        await rotate_key(path, {KEY_ENV: "x"})


async def test_unblend_keys_rotate_prints_progress(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "unblend.sqlite"
    before = await filled_database(path, clock)
    secret = b"call Sam before it gets late"
    assert secret not in database_bytes(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(f"[storage]\npath = '{path}'\n")
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bots.cli", "keys", "rotate", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "checkins.note: 2 re-encrypted" in result.stdout
    assert "Done:" in result.stdout and "Back it up now" in result.stdout
    assert await exports_after(path, clock, list(before)) == before
