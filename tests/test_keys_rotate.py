"""`unblend keys rotate`: everything re-sealed under a new key; an interrupted run resumes."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path
from typing import Any

import pytest

from core.kernel.clock import FakeClock
from core.kernel.crypto import KEY_ENV, DataKeyError, DecryptError, key_path_for
from core.privacy.data import export_member
from core.storage import reseal
from core.storage.engines import StorageUrl
from core.storage.keyfile import read_keyring
from core.storage.keyring import open_encrypted
from core.storage.rotate import ENCRYPTED, retire_key, rotate_key
from core.storage.sqlite import SqliteDatabase as Database
from tests.chat import Chat
from tests.engines import ENGINES, app_on_storage, storage_for
from tests.launch import unblend
from tests.legacy_store import LONG_AGO
from tests.member_data import NOTE, fill_everything
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


async def test_rotation_reencrypts_everything_under_a_new_key_and_keeps_the_old(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    before = await filled_database(path, clock)
    old_key = key_path_for(path).read_text()
    seen: list[tuple[str, int]] = []
    done = await rotate_key(path, {}, lambda where, n: seen.append((where, n)), batch=2)
    assert done.resealed == sum(n for _, n in seen) >= 10
    assert {"checkins.note", "parts.name", "safety_plan_sections.body"} <= {w for w, _ in seen}
    assert key_path_for(path).read_text() != old_key
    assert stat.S_IMODE(key_path_for(path).stat().st_mode) == 0o600
    # The keyring holds the new key 2 and keeps key 1 (older backups need it).
    keyring = read_keyring(path, {})
    assert keyring is not None and keyring.ids == [1, 2] and done.key_id == 2
    assert done.kept == [1]
    assert await exports_after(path, clock, list(before)) == before
    with pytest.raises(DataKeyError, match="does not open"):
        await open_encrypted(path, {KEY_ENV: old_key})


async def test_an_interrupted_rotation_leaves_a_working_bot_and_resumes(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    before = await filled_database(path, clock)
    first: list[int] = []

    def stop_after_two_batches(where: str, n: int) -> None:
        first.append(n)
        if len(first) == 2:
            raise StopHereError

    with pytest.raises(StopHereError):
        await rotate_key(path, {}, stop_after_two_batches, batch=3)
    # Half rotated: both keys are in the key file and each value names its own, so the bot
    # starts and reads everything (issue 12: it used to refuse).
    keyring = read_keyring(path, {})
    assert keyring is not None and keyring.ids == [1, 2]
    assert await exports_after(path, clock, list(before)) == before
    rest: list[int] = []
    done = await rotate_key(path, {}, lambda where, n: rest.append(n), batch=3)
    assert done.key_id == 2, "the same rotation resumed; no third key"
    assert sum(first) > 0 and sum(rest) > 0
    assert await exports_after(path, clock, list(before)) == before
    # Everything went through once: a full rotation again finds the same number of values.
    again = await rotate_key(path, {}, None)
    assert again.resealed == sum(first) + sum(rest) and again.key_id == 3


async def test_a_crash_between_the_last_batch_and_the_key_check_resumes(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "unblend.sqlite"
    before = await filled_database(path, clock)
    real_finish = reseal.finish

    async def crash(db: Database, cipher: object) -> None:
        raise StopHereError

    monkeypatch.setattr(reseal, "finish", crash)
    with pytest.raises(StopHereError):
        await rotate_key(path, {})
    monkeypatch.setattr(reseal, "finish", real_finish)
    assert await exports_after(path, clock, list(before)) == before
    assert (await rotate_key(path, {})).resealed == 0
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
    rotate = ("keys", "rotate", "--config", str(config))
    result = await asyncio.to_thread(unblend, *rotate, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "checkins.note: 2 re-encrypted" in result.stdout
    assert "Done:" in result.stdout and "Back it up now" in result.stdout
    assert await exports_after(path, clock, list(before)) == before


# -- damage, backups and retiring keys (issue 12, item 6) ------------------------------------


async def damage_one_note(path: Path) -> tuple[int, int]:
    """Scribbles over one check-in note, as a bad disk sector would; its (id, member_id)."""
    db = Database(path)
    await db.open()
    [row] = await db.fetchall("SELECT id, member_id, note FROM checkins ORDER BY id LIMIT 1")
    blob = bytearray(bytes(row[2]))
    blob[-5] ^= 0xFF
    await db.execute("UPDATE checkins SET note=? WHERE id=?", (bytes(blob), row[0]))
    await db.close()
    return int(row[0]), int(row[1])


async def test_one_damaged_value_is_reported_and_the_rotation_completes(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    before = await filled_database(path, clock)
    note_id, owner = await damage_one_note(path)
    done = await rotate_key(path, {}, None, batch=2)
    assert done.damaged_count == 1
    assert done.damaged == [f"checkins.note (id {note_id}, member_id {owner})"]
    # Complete: no marker left, the bot starts, everyone else's data reads under the new key.
    db = Database(path)
    await db.open()
    assert await reseal.read_marker(db.fetchall) is None
    await db.close()
    others = [i for i in before if i != owner]
    assert await exports_after(path, clock, others) == {i: before[i] for i in others}
    # The damaged value stays an error naming its place; --drop-damaged clears it.
    app, db = await sqlite_app(path, clock)
    with pytest.raises(DecryptError, match=f"checkins.note \\(id {note_id}"):
        await app.repos.checkins.since(owner, LONG_AGO)
    await db.close()
    dropped = await rotate_key(path, {}, None, drop_damaged=True)
    assert dropped.damaged_count == 1 and dropped.dropped
    app, db = await sqlite_app(path, clock)
    [checkin] = await app.repos.checkins.since(owner, LONG_AGO)
    assert checkin.note is None and checkin.mood == 2, "only the damaged words went"
    await db.close()


def test_keys_rotate_names_a_damaged_value_without_a_traceback(
    tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    from bots.cli import main

    path = tmp_path / "unblend.sqlite"
    asyncio.run(filled_database(path, clock))
    note_id, owner = asyncio.run(damage_one_note(path))
    config = tmp_path / "config.toml"
    config.write_text(f"[storage]\npath = '{path}'\n")
    assert main(["keys", "rotate", "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert "Done:" in out and "unblend keys retire 1" in out
    assert f"checkins.note (id {note_id}, member_id {owner})" in err
    assert "--drop-damaged" in err and "Traceback" not in err
    assert NOTE not in out + err


async def test_an_older_backup_restores_after_a_rotation(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bots.backup import BackupError, backup, restore

    monkeypatch.delenv(KEY_ENV, raising=False)
    path = tmp_path / "data" / "unblend.sqlite"
    before = await filled_database(path, clock)
    nightly = tmp_path / "nightly.sqlite"
    backup(path, nightly, say=lambda _: None)
    await rotate_key(path, {})
    # The attack on availability: before, the rotation overwrote key 1 and this failed.
    restore(nightly, path, {}, say=lambda _: None)
    assert await exports_after(path, clock, list(before)) == before
    # Key 1 is still needed (the restored values use it): retiring it is refused.
    with pytest.raises(DataKeyError, match=r"value\(s\) still use key 1"):
        await retire_key(path, {}, 1)
    with pytest.raises(DataKeyError, match="newest"):
        await retire_key(path, {}, 2)
    with pytest.raises(DataKeyError, match="no key 7"):
        await retire_key(path, {}, 7)
    await rotate_key(path, {})
    keyring = await retire_key(path, {}, 1)
    assert keyring.ids == [2, 3]
    assert stat.S_IMODE(key_path_for(path).stat().st_mode) == 0o600
    assert await exports_after(path, clock, list(before)) == before
    # With key 1 retired, that old backup is refused with the reason, and nothing changes.
    with pytest.raises(BackupError, match="sealed with data key 1"):
        restore(nightly, path, {}, say=lambda _: None)


async def test_retiring_waits_for_a_pending_rotation(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "unblend.sqlite"
    await filled_database(path, clock)

    def stop(where: str, n: int) -> None:
        raise StopHereError

    with pytest.raises(StopHereError):
        await rotate_key(path, {}, stop, batch=1)
    with pytest.raises(DataKeyError, match="rotation is under way"):
        await retire_key(path, {}, 1)


async def test_doctor_reports_a_pending_rotation_damage_and_an_open_key_file(
    tmp_path: Path, clock: FakeClock
) -> None:
    from bots.doctor import Status, diagnose

    path = tmp_path / "unblend.sqlite"
    await filled_database(path, clock)
    config = tmp_path / "config.toml"
    config.write_text(f"[storage]\npath = '{path}'\n")
    config.chmod(0o600)

    async def found() -> dict[str, list[tuple[Status, str, str]]]:
        out: dict[str, list[tuple[Status, str, str]]] = {}
        for f in await diagnose(config, {}):
            out.setdefault(f.check, []).append((f.status, f.detail, f.fix))
        return out

    healthy = await found()
    assert [s for s, _, _ in healthy["encrypted values"]] == [Status.OK]
    assert "key rotation" not in healthy and "key file" not in healthy

    def stop(where: str, n: int) -> None:
        raise StopHereError

    with pytest.raises(StopHereError):
        await rotate_key(path, {}, stop, batch=1)
    note_id, owner = await damage_one_note(path)
    key_path_for(path).chmod(0o644)
    report = await found()
    [(status, detail, fix)] = report["key rotation"]
    assert status is Status.PROBLEM and "not finished" in detail and "unblend keys rotate" in fix
    [(status, detail, fix)] = report["encrypted values"]
    assert status is Status.PROBLEM and f"checkins.note (id {note_id}, member_id {owner})" in detail
    [(status, detail, fix)] = report["key file"]
    assert status is Status.PROBLEM and fix == f"chmod 600 {key_path_for(path)}"


# -- on either engine (issue 17): the walk goes by primary key ----------------------------------


@pytest.mark.parametrize("engine", ENGINES)
async def test_an_interrupted_rotation_resumes_and_retires_on_either_engine(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"  # SQLite's file, or only the key file's place
    storage = storage_for(engine, request, tmp_path)
    app, db = await app_on_storage(storage, tmp_path, clock)
    ids = [await fill_everything(app, Chat(app, user)) for user in ("ana", "ben", "cy")]
    before = {i: await export_member(app.repos, i) for i in ids}
    await db.close()

    async def exports() -> dict[int, Any]:
        app, db = await app_on_storage(storage, tmp_path, clock)
        try:
            return {i: await export_member(app.repos, i) for i in ids}
        finally:
            await db.close()

    seen: list[str] = []

    def stop_in_the_safety_plans(where: str, n: int) -> None:
        # Its key is (member_id, section): the walk resumes past a pair, not a rowid.
        seen.append(where)
        if where == "safety_plan_sections.body":
            raise StopHereError

    with pytest.raises(StopHereError):
        await rotate_key(path, {}, stop_in_the_safety_plans, batch=2, storage=storage)
    assert await exports() == before
    first = len(seen)
    done = await rotate_key(path, {}, lambda where, n: seen.append(where), batch=2, storage=storage)
    assert done.key_id == 2 and done.damaged_count == 0
    assert "safety_plan_sections.body" in seen[first:]
    assert await exports() == before
    again = await rotate_key(path, {}, None, storage=storage)
    assert again.key_id == 3 and again.resealed >= done.resealed
    with pytest.raises(DataKeyError, match="newest"):
        await retire_key(path, {}, 3, storage)
    assert (await retire_key(path, {}, 1, storage)).ids == [2, 3]
    assert (await retire_key(path, {}, 2, storage)).ids == [3]
    assert await exports() == before


async def test_a_marker_from_the_rowid_walk_resumes_without_losing_a_value(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A rotation an older version left half done recorded a rowid: where the table's key is
    that rowid it goes on from there; elsewhere the column starts again."""
    path = tmp_path / "unblend.sqlite"
    before = await filled_database(path, clock)
    plans = next(i for i, col in enumerate(ENCRYPTED) if col.table == "safety_plan_sections")

    def stop_in_the_safety_plans(where: str, n: int) -> None:
        if where == "safety_plan_sections.body":
            raise StopHereError

    with pytest.raises(StopHereError):
        await rotate_key(path, {}, stop_in_the_safety_plans, batch=1)
    db = Database(path)
    await db.open()
    marker = await reseal.read_marker(db.fetchall)
    assert marker is not None and marker["column"] == plans and marker["after"] != 0
    await reseal.save_marker(db, {**marker, "after": 99})  # as an older version wrote it
    await db.close()
    done = await rotate_key(path, {}, None)
    assert done.key_id == 2 and done.damaged_count == 0
    db = Database(path)
    await db.open()
    found = await reseal.survey(db.fetchall, None)
    await db.close()
    assert set(found.by_key) == {2} and not found.damaged
    assert reseal.resume_after(ENCRYPTED[plans], 99) is None
    assert reseal.resume_after(ENCRYPTED[0], 99) == (99,)
    assert reseal.resume_after(ENCRYPTED[plans], [3, "warning_signs"]) == (3, "warning_signs")
    assert await exports_after(path, clock, list(before)) == before


async def test_rotating_is_refused_while_a_bot_holds_the_database(
    tmp_path: Path, clock: FakeClock, pg_url: str
) -> None:
    storage = StorageUrl("postgresql", None, pg_url)
    path = tmp_path / "unblend.sqlite"
    app, db = await app_on_storage(storage, tmp_path, clock)
    await fill_everything(app, Chat(app, "ana"))
    assert await db.try_lock("run")  # what `unblend run` holds
    try:
        with pytest.raises(DataKeyError, match="bot is running"):
            await rotate_key(path, {}, None, storage=storage)
        assert read_keyring(path, {}) is not None
        assert read_keyring(path, {}).ids == [1]  # type: ignore[union-attr]
    finally:
        await db.close()
    assert (await rotate_key(path, {}, None, storage=storage)).key_id == 2
