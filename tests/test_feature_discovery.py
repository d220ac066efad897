"""A new feature stays in its own package: core/features.py finds every package's `feature.py`
by itself, in the order the features declare; a store a feature declares (`Feature.stores`)
is built, exported and erased with the others without a field in core/repos.py; and its tables'
migrations may live in its package (`<package>/migrations/<dialect>/`)."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import core.storage.sqlite
from core.app import Unblend
from core.features import ALL_FEATURES, CORE_DIR, NOT_FEATURES, discover, feature_modules
from core.kernel.clock import FakeClock
from core.kernel.feature import Feature
from core.kernel.model import Reply
from core.kernel.ports import OwnStore
from core.kernel.turn import Turn
from core.repos import Repos, in_memory_repos, own_stores, sqlite_repos
from core.storage.database import Database, StorageError, migration_scripts
from core.storage.keyring import open_encrypted
from core.storage.sqlite import SqliteDatabase
from tests.chat import Chat
from tests.conftest import detector, library

# -- found by itself -------------------------------------------------------------------------


def test_every_capability_package_with_a_feature_module_is_found() -> None:
    on_disk = {
        ".".join(("core", *p.relative_to(CORE_DIR).with_suffix("").parts))
        for p in CORE_DIR.glob("**/feature.py")
        if p.relative_to(CORE_DIR).parts[0] not in NOT_FEATURES
    }
    assert set(feature_modules()) == on_disk and len(on_disk) >= 12
    names = [f.name for f in ALL_FEATURES]
    assert len(names) == len(set(names))


def test_the_features_keep_the_order_menus_list_their_commands_in() -> None:
    assert [f.name for f in ALL_FEATURES] == [
        "welcome",
        "checkin",
        "history",
        "grounding",
        "parts",
        "safety_plan",
        "days",
        "privacy",
        "country",
        "language",
        "support",
        "group_checkins",
        "reachout",
    ]


@pytest.fixture
def new_package(tmp_path: Path) -> Iterator[Path]:
    """A folder on the import path for a package written by the test."""
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("newcap")]:
        del sys.modules[name]


def test_a_new_package_is_found_and_placed_by_its_own_order(new_package: Path) -> None:
    (new_package / "newcap").mkdir()
    (new_package / "newcap" / "__init__.py").write_text("")
    (new_package / "newcap" / "feature.py").write_text(
        "from core.kernel.feature import Feature\nFEATURE = Feature('newcap', order=15)\n"
    )
    found = discover(["newcap.feature", *feature_modules()])
    assert [f.name for f in found][:3] == ["welcome", "newcap", "checkin"]


def test_a_feature_module_without_a_feature_is_refused(new_package: Path) -> None:
    (new_package / "newcap_empty").mkdir()
    (new_package / "newcap_empty" / "__init__.py").write_text("")
    (new_package / "newcap_empty" / "feature.py").write_text("FEATURE = 'not one'\n")
    with pytest.raises(TypeError, match="declares no Feature"):
        discover(["newcap_empty.feature"])


# -- a store of its own -------------------------------------------------------------------------


class InMemoryJots:
    def __init__(self) -> None:
        self.rows: dict[int, list[str]] = {}

    async def add(self, member_id: int, line: str) -> None:
        self.rows.setdefault(member_id, []).append(line)

    async def export(self, member_id: int) -> dict[str, Any]:
        return {"jots": list(self.rows.get(member_id, []))}

    async def erase(self, member_id: int) -> int:
        return len(self.rows.pop(member_id, []))


class SqliteJots:
    def __init__(self, db: Database, _cipher: object) -> None:
        self._db = db

    async def add(self, member_id: int, line: str) -> None:
        await self._db.execute(
            "INSERT INTO jots (member_id, line) VALUES (?, ?)", (member_id, line)
        )

    async def export(self, member_id: int) -> dict[str, Any]:
        rows = await self._db.fetchall("SELECT line FROM jots WHERE member_id=?", (member_id,))
        return {"jots": [r[0] for r in rows]}

    async def erase(self, member_id: int) -> int:
        return await self._db.changes("DELETE FROM jots WHERE member_id=?", (member_id,))


JOTS: OwnStore[InMemoryJots | SqliteJots] = OwnStore("jots", SqliteJots, InMemoryJots)


async def jot(turn: Turn, args: tuple[str, ...]) -> None:
    await JOTS.of(turn.repos).add(turn.member.id, " ".join(args))
    turn.add(Reply("kept"))


JOTTING = Feature("jotting", commands={"jot": jot}, stores=(JOTS,), member_data=("jots",))
WITH_JOTS = (*ALL_FEATURES, JOTTING)


async def _jot_export_and_forget(repos: Repos, clock: FakeClock) -> None:
    app = Unblend(repos, library(), detector(), clock, features=WITH_JOTS)
    chat = Chat(app)
    await chat.welcome()
    other = Chat(app, "u2")
    await other.welcome()
    assert [r.text for r in await chat.send("/jot call my sister")] == ["kept"]
    await other.send("/jot not mine")
    replies = await chat.send("/export")
    [data] = [json.loads(r.file or b"") for r in replies if r.file_name.endswith(".json")]
    assert data["jots"] == ["call my sister"]
    me = await app.repos.members.find("test", "u1")
    them = await app.repos.members.find("test", "u2")
    assert me is not None and them is not None
    await chat.send("/forget")
    await chat.choose("forget:yes")
    assert await JOTS.of(app.repos).export(me.id) == {"jots": []}
    assert await JOTS.of(app.repos).export(them.id) == {"jots": ["not mine"]}


async def test_a_features_own_store_is_kept_exported_and_erased_in_memory() -> None:
    await _jot_export_and_forget(in_memory_repos(WITH_JOTS), FakeClock())


async def test_a_features_own_store_is_kept_exported_and_erased_on_sqlite(tmp_path: Path) -> None:
    db, cipher = await open_encrypted(tmp_path / "unblend.sqlite", {})
    try:
        await db.execute("CREATE TABLE jots (member_id INTEGER NOT NULL, line TEXT NOT NULL)")
        await _jot_export_and_forget(sqlite_repos(db, cipher, WITH_JOTS), FakeClock())
        assert await db.fetchval("SELECT COUNT(*) FROM jots") == 1
    finally:
        await db.close()


def test_a_store_name_taken_twice_is_refused_at_start() -> None:
    twice = Feature("twice", stores=(OwnStore("jots", SqliteJots, InMemoryJots),))
    with pytest.raises(ValueError, match="jots"):
        own_stores((JOTTING, twice))
    field = Feature("field", stores=(OwnStore("checkins", SqliteJots, InMemoryJots),))
    with pytest.raises(ValueError, match="checkins"):
        own_stores((field,))


# -- its tables' migrations beside its code -------------------------------------------------------


def _script(root: Path, folder: str, name: str, sql: str = "SELECT 1;") -> None:
    for dialect in ("sqlite", "postgresql"):
        path = root / folder / "migrations" / dialect / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")


def test_a_capability_keeps_its_migrations_in_its_own_package(tmp_path: Path) -> None:
    _script(tmp_path, "storage", "0001_initial.sql")
    _script(tmp_path, "storage", "0003_more.sql")
    _script(tmp_path, "journal", "0002_jots.sql", "CREATE TABLE jots (line TEXT);")
    _script(tmp_path, "groups/notes", "0004_notes.sql")
    for dialect in ("sqlite", "postgresql"):
        scripts = migration_scripts(dialect, tmp_path)
        assert [(n, name) for n, name, _ in scripts] == [
            (1, "0001_initial.sql"),
            (2, "0002_jots.sql"),
            (3, "0003_more.sql"),
            (4, "0004_notes.sql"),
        ]
        assert scripts[1][2] == "CREATE TABLE jots (line TEXT);"


def test_one_number_in_two_folders_is_refused(tmp_path: Path) -> None:
    _script(tmp_path, "storage", "0001_initial.sql")
    _script(tmp_path, "journal", "0001_jots.sql")
    with pytest.raises(StorageError, match="0001"):
        migration_scripts("sqlite", tmp_path)


async def test_a_capabilitys_migration_runs_with_the_others(tmp_path: Path) -> None:
    root = tmp_path / "core"
    shutil.copytree(CORE_DIR / "storage" / "migrations", root / "storage" / "migrations")
    newest = migration_scripts("sqlite")[-1][0]
    _script(root, "journal", f"{newest + 1:04d}_jots.sql", "CREATE TABLE jots (line TEXT);")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            core.storage.sqlite, "migration_scripts", partial(migration_scripts, root=root)
        )
        db = SqliteDatabase(tmp_path / "unblend.sqlite")
        await db.open()
    try:
        assert await db.schema_version() == newest + 1
        await db.execute("INSERT INTO jots (line) VALUES (?)", ("kept",))
        assert await db.fetchval("SELECT line FROM jots") == "kept"
    finally:
        await db.close()
