"""Every encrypted value is bound to its place: table, column, row and member (issue 12, 5).

The attack: someone with the database file (a tampered backup) copies a value into another
row. Before, values were bound to their column only, so a moved note or safety plan opened
silently as another member's. Now it fails, with an error naming the table and row (never
the content). Stores written before this move over at the next start, resumably.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bots.doctor import Status, diagnose
from core.kernel.clock import FakeClock
from core.kernel.crypto import Cipher, DecryptError, encode_key, key_path_for, new_key, value_format
from core.privacy.data import export_member
from core.storage import reseal
from core.storage.keyfile import read_keyring
from core.storage.reseal import read_marker, survey
from core.storage.sealed import SEALED
from core.storage.sqlite import SqliteDatabase as Database
from tests.chat import Chat
from tests.legacy_store import LONG_AGO, fill_every_column, make_legacy, seal_legacy, values
from tests.member_data import NOTE, PLAN
from tests.test_storage import sqlite_app


async def two_members(path: Path, clock: FakeClock) -> tuple[list[int], Database]:
    app, db = await sqlite_app(path, clock)
    return await fill_every_column(app), db


async def test_a_note_copied_into_another_members_checkin_never_opens(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "unblend.sqlite"
    app, db = await sqlite_app(path, clock)
    ana, ben = await fill_every_column(app)
    # The attack: ana's note written over ben's check-in, as a tampered backup would.
    await db.execute(
        "UPDATE checkins SET note=(SELECT note FROM checkins WHERE member_id=?) WHERE member_id=?",
        (ana, ben),
    )
    with pytest.raises(DecryptError) as err:
        await app.repos.checkins.since(ben, LONG_AGO)
    [row] = await db.fetchall("SELECT id FROM checkins WHERE member_id=?", (ben,))
    message = str(err.value)
    assert f"checkins.note (id {row[0]}, member_id {ben})" in message
    assert NOTE not in message
    # Ben sees a kind error, never ana's words; the log names the place, not the note.
    chat = Chat(app, "ben")
    with caplog.at_level(logging.ERROR):
        await chat.send("/history")
    assert NOTE not in chat.text() and "checkins.note" in caplog.text
    assert NOTE not in caplog.text
    # Ana's own note still opens where it belongs.
    [mine] = await app.repos.checkins.since(ana, LONG_AGO)
    assert mine.note == NOTE
    await db.close()


async def test_a_safety_plan_section_moved_to_another_member_or_section_never_opens(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    app, db = await sqlite_app(path, clock)
    ana, ben = await fill_every_column(app)
    await db.execute(
        "UPDATE safety_plan_sections SET body=(SELECT body FROM safety_plan_sections"
        " WHERE member_id=?) WHERE member_id=?",
        (ana, ben),
    )
    with pytest.raises(
        DecryptError, match=rf"safety_plan_sections.body \(section \w+, member_id {ben}\)"
    ) as err:
        await app.repos.plans.get(ben)
    assert PLAN not in str(err.value)
    # Within one member: the same words moved to another section fail as well.
    await db.execute("UPDATE safety_plan_sections SET section='reasons' WHERE member_id=?", (ana,))
    with pytest.raises(DecryptError, match="section reasons"):
        await app.repos.plans.get(ana)
    await db.close()


async def test_a_value_copied_into_any_other_row_of_its_column_is_found(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Every encrypted column: the first value copied over the last fails to open there, and
    the scan `unblend doctor` runs names each such place."""
    path = tmp_path / "unblend.sqlite"
    _, db = await two_members(path, clock)
    moved = set()
    for index, col in enumerate(SEALED):
        rows = [v for v in await values(db) if v[0] == index]
        assert len(rows) >= 2, f"no two values in {col.table}.{col.column} to test with"
        first, last = rows[0], rows[-1]
        await db.execute(
            f'UPDATE "{col.table}" SET "{col.column}"=? WHERE rowid=?', (first[2], last[1])
        )
        moved.add(str(col.at(*(last[3][c] for c in col.by))))
    keyring = read_keyring(path, {})
    assert keyring is not None
    found = await survey(db.fetchall, Cipher(keyring))
    assert set(found.damaged) == moved and found.damaged_count == len(SEALED)
    await db.close()


async def test_a_tampered_backup_is_named_by_doctor_after_restore(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from bots.backup import backup, restore

    monkeypatch.delenv("UNBLEND_DATA_KEY", raising=False)
    path = tmp_path / "data" / "unblend.sqlite"
    ana, ben = (await two_members(path, clock))[0]
    dest = tmp_path / "nightly.sqlite"
    backup(path, dest, say=lambda _: None)
    with sqlite3.connect(dest) as conn:  # the tampering, in the backup file
        conn.execute(
            "UPDATE safety_plan_sections SET body=(SELECT body FROM safety_plan_sections"
            " WHERE member_id=?) WHERE member_id=?",
            (ana, ben),
        )
    restore(dest, path, {}, say=lambda _: None)
    config = tmp_path / "config.toml"
    config.write_text(f"[storage]\npath = '{path}'\n")
    found = [f for f in await diagnose(config, {}) if f.check == "encrypted values"]
    assert [f.status for f in found] == [Status.PROBLEM]
    assert f"safety_plan_sections.body (section warning, member_id {ben})" in found[0].detail
    assert PLAN not in found[0].detail
    assert "--drop-damaged" in found[0].fix


# -- the move-over: stores written before places ---------------------------------------------


async def legacy_store(path: Path, clock: FakeClock) -> dict[int, Any]:
    """A store with data everywhere, rewritten in the format before issue 12; the exports."""
    app, db = await sqlite_app(path, clock)
    ids = await fill_every_column(app)
    before = {i: await export_member(app.repos, i) for i in ids}
    keyring = read_keyring(path, {})
    assert keyring is not None
    await make_legacy(db, Cipher(keyring), path)
    await db.close()
    return before


async def exports(path: Path, clock: FakeClock, ids: list[int]) -> dict[int, Any]:
    app, db = await sqlite_app(path, clock)
    try:
        return {i: await export_member(app.repos, i) for i in ids}
    finally:
        await db.close()


async def test_an_older_store_is_bound_to_its_rows_at_the_next_start(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    before = await legacy_store(path, clock)
    assert await exports(path, clock, list(before)) == before
    db = Database(path)
    await db.open()
    every = await values(db)
    assert every and all(value_format(v[2]) == 2 for v in every)
    check = await db.fetchone("SELECT value FROM meta WHERE key='key_check'")
    assert check is not None and value_format(bytes(check[0])) == 2
    assert await read_marker(db.fetchall) is None
    await db.close()
    # The bare key file of before still works: it is key 1.
    assert key_path_for(path).read_text().count(" ") == 0


async def test_an_interrupted_move_over_resumes_at_the_next_start(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    before = await legacy_store(path, clock)
    keyring = read_keyring(path, {})
    assert keyring is not None
    db = Database(path)
    await db.open()
    calls: list[int] = []

    def stop(where: str, n: int) -> None:
        calls.append(n)
        if len(calls) == 3:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        await reseal.run_pass(db, Cipher(keyring), legacy=True, progress=stop, batch=2)
    assert await read_marker(db.fetchall) is not None
    await db.close()
    assert await exports(path, clock, list(before)) == before


async def test_a_damaged_value_does_not_stop_the_move_over(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "unblend.sqlite"
    await legacy_store(path, clock)
    db = Database(path)
    await db.open()
    [row] = await db.fetchall("SELECT id, member_id FROM checkins ORDER BY id LIMIT 1")
    await db.execute("UPDATE checkins SET note=? WHERE id=?", (b"\x01" + b"\x00" * 40, row[0]))
    await db.close()
    with caplog.at_level(logging.WARNING):
        app, db = await sqlite_app(path, clock)
    assert f"checkins.note (id {row[0]}, member_id {row[1]})" in caplog.text
    assert NOTE not in caplog.text
    # Everyone else's data reads; the damaged value stays an error naming its place.
    with pytest.raises(DecryptError, match=r"checkins\.note"):
        await app.repos.checkins.since(int(row[1]), LONG_AGO)
    await db.close()


async def test_an_older_versions_interrupted_rotation_is_taken_over(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Before issue 12, an interrupted `keys rotate` left its new key in `<key>.new`, half the
    values under it, and a bot that refused to start. Now the start finishes the job."""
    path = tmp_path / "unblend.sqlite"
    before = await legacy_store(path, clock)
    newer = new_key()
    keyring = read_keyring(path, {})
    db = Database(path)
    await db.open()
    async with db.write() as conn:
        for index, rowid, blob, row in await values(db):
            if index >= 2:  # the old rotation got through checkins.note and parts.name
                break
            col = SEALED[index]
            assert keyring is not None
            text = Cipher(keyring).open_legacy(
                blob, col.legacy_purpose(row), col.at(*(row[c] for c in col.by))
            )
            await conn.execute(
                f'UPDATE "{col.table}" SET "{col.column}"=? WHERE rowid=?',
                (seal_legacy(newer, text, col.legacy_purpose(row)), rowid),
            )
        await conn.execute(
            "INSERT INTO meta (key, value) VALUES ('key_rotation', ?)",
            (b'{"stage": "rows", "column": 2, "after": 0}',),
        )
    await db.close()
    key_new = key_path_for(path).with_name("unblend.key.new")
    key_new.write_text(encode_key(newer) + "\n")
    assert await exports(path, clock, list(before)) == before
    keyring = read_keyring(path, {})
    assert keyring is not None and keyring.ids == [1, 2] and keyring.key(2) == newer
    assert not key_new.exists()


async def test_every_place_names_columns_its_table_has(tmp_path: Path) -> None:
    """A place is made of columns that exist (and a table renamed or split breaks this)."""
    db = Database(tmp_path / "schema.sqlite")
    await db.open()
    for col in SEALED:
        names = {str(r[1]) for r in await db.fetchall(f'PRAGMA table_info("{col.table}")')}
        assert {col.column, *col.by} <= names, col
        assert not col.legacy_by or col.legacy_by in names
    await db.close()
