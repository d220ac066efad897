"""`unblend backup` and `unblend restore`: online, consistent, and never lose the old file."""

from __future__ import annotations

import asyncio
import base64
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bots.backup import BackupError, backup, restore
from bots.cli import main
from bots.instance import instance_lock
from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.crypto import KEY_ENV
from core.kernel.model import Event, Space
from core.kernel.settings import Settings
from core.repos import sqlite_repos
from core.storage.keyring import open_encrypted
from tests.conftest import detector, library

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
CONSENT = [("command", "/start"), ("choice", "s:intro:ok"), ("choice", "s:keep:yes")]
CHECKIN = [
    ("command", "/checkin"),
    ("choice", "s:mood:3"),
    ("choice", "s:urge:4"),
    ("choice", "s:part:unsure"),
    ("choice", "s:need:tired"),
]


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


async def step(app: Unblend, user: str, kind: str, value: str) -> None:
    base = {"platform": "console", "user_id": user, "space": Space.private(user)}
    await app.handle(Event(**base, **{kind: value}))  # type: ignore[arg-type]


async def checkins_with_notes(
    app: Unblend,
    clock: FakeClock,
    user: str,
    stop: asyncio.Event,
    done: list[str],
    enough: asyncio.Event,
) -> None:
    for kind, value in CONSENT:
        await step(app, user, kind, value)
    n = 0
    while not stop.is_set():
        note = f"{user} note {n} <b>x</b> & 🌿"
        for kind, value in CHECKIN:
            await step(app, user, kind, value)
        # The last answer ends the check-in: when handle returns, it is committed.
        await step(app, user, "text", note)
        done.append(note)
        # A minute between check-ins keeps the members under the rate limit however long the
        # backup takes; without it a refused member's loop never awaits I/O and starves the
        # event loop, so the backup's end is never seen.
        clock.advance(timedelta(minutes=1))
        await asyncio.sleep(0)
        if len(done) >= 40:  # some history before the backup starts
            enough.set()
        n += 1


def count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def test_a_backup_taken_while_members_check_in_restores_every_committed_checkin(
    tmp_path: Path,
) -> None:
    live = tmp_path / "live" / "unblend.sqlite"
    db, cipher = await open_encrypted(live, {})
    clock = FakeClock()
    app = Unblend(sqlite_repos(db, cipher), library(), detector(), clock, Settings("GB"))
    stop = asyncio.Event()
    done: list[str] = []
    enough = asyncio.Event()
    writers = [
        asyncio.create_task(checkins_with_notes(app, clock, f"m{i}", stop, done, enough))
        for i in range(8)
    ]
    try:
        await asyncio.wait_for(enough.wait(), 60)
        committed_before = list(done)
        dest = tmp_path / "backups" / "nightly.sqlite"
        said: list[str] = []
        summary = await asyncio.to_thread(backup, live, dest, said.append)
    finally:
        stop.set()
        await asyncio.gather(*writers)
    committed_after = len(done)
    await db.close()

    assert summary.checkins >= len(committed_before)
    assert summary.checkins <= committed_after
    assert said[0].startswith(f"Backing up {live}")
    assert any("is not in the backup" in line for line in said)
    assert oct(dest.stat().st_mode & 0o777) == "0o600"

    # A new machine: the key file comes from its own backup, then `unblend restore`.
    target = tmp_path / "new-server" / "unblend.sqlite"
    target.parent.mkdir()
    shutil.copy(live.with_name("unblend.key"), target.with_name("unblend.key"))
    restored = restore(dest, target, {}, say=lambda _: None)
    assert restored.checkins == summary.checkins
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # The restored database opens with the key and every note reads back through the repos.
    db2, cipher2 = await open_encrypted(target, {})
    try:
        repos = sqlite_repos(db2, cipher2)
        notes: set[str | None] = set()
        for row in await db2.fetchall("SELECT id FROM members"):
            for checkin in await repos.checkins.since(int(row[0]), LONG_AGO):
                notes.add(checkin.note)
    finally:
        await db2.close()
    assert set(committed_before) <= notes
    assert notes <= set(done)


def set_aside(live: Path) -> list[Path]:
    """The copies restores set aside (each has its own name: issue 12)."""
    return sorted(live.parent.glob(f"{live.name}.*.bak"))


def make_db(folder: Path, members: int = 3) -> Path:
    async def create() -> None:
        db, _ = await open_encrypted(folder / "unblend.sqlite", {})
        for i in range(members):
            await db.execute(
                "INSERT INTO members (platform, platform_user_id, created_at) VALUES (?, ?, ?)",
                ("console", f"member-{i}", "2026-01-05T10:00:00+00:00"),
            )
        await db.close()

    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(create())
    return folder / "unblend.sqlite"


def test_restore_keeps_the_old_database_as_bak(tmp_path: Path) -> None:
    live = make_db(tmp_path / "data", members=5)
    dest = tmp_path / "b.sqlite"
    backup(live, dest, say=lambda _: None)
    with sqlite3.connect(live) as conn:  # a change made after the backup
        conn.execute(
            "INSERT INTO members (platform, platform_user_id, created_at) "
            "VALUES ('console', 'late', '2026-01-06')"
        )
    said: list[str] = []
    restore(dest, live, {}, say=said.append)
    assert count(live, "members") == 5
    [bak] = set_aside(live)
    assert count(bak, "members") == 6
    assert f"The previous database is kept as {bak}" in said


def test_restore_refuses_while_the_bot_runs_unless_forced(tmp_path: Path) -> None:
    live = make_db(tmp_path / "data")
    dest = tmp_path / "b.sqlite"
    backup(live, dest, say=lambda _: None)
    before = live.read_bytes()
    with instance_lock(live):  # what `unblend run` holds
        with pytest.raises(BackupError, match="Unblend is running") as err:
            restore(dest, live, {}, say=lambda _: None)
        assert "systemctl stop unblend" in str(err.value)
        assert live.read_bytes() == before
        restore(dest, live, {}, force=True, say=lambda _: None)
    assert len(set_aside(live)) == 1


def test_restore_refuses_a_damaged_backup_and_changes_nothing(tmp_path: Path) -> None:
    live = make_db(tmp_path / "data")
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database" * 500)
    before = live.read_bytes()
    with pytest.raises(BackupError, match="not an Unblend database, or it is damaged"):
        restore(bad, live, {}, say=lambda _: None)
    assert live.read_bytes() == before
    assert set_aside(live) == []


def test_restore_refuses_a_backup_the_key_cannot_open(tmp_path: Path) -> None:
    live = make_db(tmp_path / "data")
    other = make_db(tmp_path / "other")  # its own, different key
    dest = tmp_path / "other-backup.sqlite"
    backup(other, dest, say=lambda _: None)
    with pytest.raises(BackupError, match="does not open") as err:
        restore(dest, live, {}, say=lambda _: None)
    assert f"does not open {dest}." in str(err.value), "it names the backup, not the database"
    assert "Put the key that was in use when the backup was taken" in str(err.value)
    assert "nothing was changed" in str(err.value)
    # With that key in the environment, it restores.
    key = (tmp_path / "other" / "unblend.key").read_text().strip()
    assert base64.urlsafe_b64decode(key)
    restore(dest, live, {KEY_ENV: key}, say=lambda _: None)


def test_backup_and_restore_through_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = make_db(tmp_path / "data", members=4)
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "data/unblend.sqlite"\n')
    dest = tmp_path / "backups" / "2026-01-05.sqlite"
    assert main(["backup", str(dest), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Backup written" in out and "4 member(s)" in out
    assert str(live.with_name("unblend.key")) in out
    live.unlink()
    assert main(["restore", str(dest), "--config", str(config)]) == 0
    assert count(live, "members") == 4
    assert main(["backup", str(tmp_path / "x.sqlite"), "--config", str(tmp_path / "no.toml")]) == 2
    capsys.readouterr()
    missing = tmp_path / "empty.toml"
    missing.write_text('[storage]\npath = "nowhere/unblend.sqlite"\n')
    assert main(["backup", str(tmp_path / "x.sqlite"), "--config", str(missing)]) == 1
    assert "there is no database at" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_on_postgresql_backup_and_restore_point_to_the_servers_tools(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    secret = "backup-S3cret"
    config = tmp_path / "config.toml"
    config.write_text(
        '[storage]\npath = "data/unblend.sqlite"\n'
        f'url = "postgresql://unblend:{secret}@db.internal:5432/unblend"\n'
    )
    assert main([command, str(tmp_path / "x.dump"), "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    tool = "pg_dump --format=custom" if command == "backup" else "pg_restore --clean"
    assert tool in err and "postgresql://unblend@db.internal:5432/unblend" in err
    assert str(tmp_path / "data" / "unblend.key") in err and "docs/deploy.md" in err
    assert secret not in out + err
    assert not (tmp_path / "x.dump").exists()
