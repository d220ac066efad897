"""The database interface's contract (core/storage/database.py), and the repositories on it.

Every test here takes `database` (or `repos` built on it), so a second driver runs all of them
by adding itself to DRIVERS. The last tests are the SQLite driver's own guarantees.
"""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import core.storage
from core.checkin.records import Checkin
from core.groups.checkins.engine import new_post_token
from core.groups.reachouts.records import NewReachOut
from core.groups.records import Schedule
from core.kernel.crypto import Cipher, Keyring, new_key
from core.outbox.records import NewOutboxItem
from core.repos import Repos, sqlite_repos
from core.storage.database import Database, Reader, migration_scripts, numbered
from core.storage.postgresql import PostgresDatabase
from core.storage.sqlite import SqliteDatabase
from core.storage.stamps import stamp

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DAY = date(2026, 3, 2)

# Each driver from a test's request (for fixtures such as the PostgreSQL server's) and folder.
DRIVERS: dict[str, Callable[[pytest.FixtureRequest, Path], Database]] = {
    "sqlite": lambda _request, folder: SqliteDatabase(folder / "contract.sqlite"),
    # A fresh database of the throw-away server (tests/pg_cluster.py) for each test.
    "postgresql": lambda request, _folder: PostgresDatabase(request.getfixturevalue("pg_url")),
}


@pytest.fixture(params=sorted(DRIVERS))
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    db = DRIVERS[request.param](request, tmp_path)
    await db.open()
    yield db
    await db.close()


@pytest.fixture
def repos(database: Database) -> Repos:
    return sqlite_repos(database, Cipher(Keyring({1: new_key()})))


async def put(db: Database, key: str) -> None:
    # A parameter, not a blob literal: x'00' is a bit string to PostgreSQL.
    await db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, b"\x00"))


async def meta_keys(db: Database) -> list[str]:
    return [str(r[0]) for r in await db.fetchall("SELECT key FROM meta ORDER BY key")]


# -- the interface -----------------------------------------------------------------------------


async def test_a_write_is_read_back_by_every_read(database: Database) -> None:
    await database.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("a", b"\x01"))
    row = await database.fetchone("SELECT key, value FROM meta WHERE key=?", ("a",))
    assert row is not None and (row[0], bytes(row[1])) == ("a", b"\x01")
    assert [tuple(r) for r in await database.fetchall("SELECT key FROM meta")] == [("a",)]
    assert await database.fetchval("SELECT key FROM meta WHERE key=?", ("a",)) == "a"
    assert await database.fetchval("SELECT key FROM meta WHERE key=?", ("b",)) is None
    assert await database.fetchone("SELECT key FROM meta WHERE key=?", ("b",)) is None


async def test_changes_counts_rows_and_a_skipped_conflict_counts_none(database: Database) -> None:
    insert = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"
    assert await database.changes(insert, ("a", b"1")) == 1
    assert await database.changes(insert, ("a", b"2")) == 0
    upsert = (
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value=excluded.value"
    )
    assert await database.changes(upsert, ("a", b"3")) == 1
    assert await database.changes(insert, ("b", b"4")) == 1
    assert await database.changes("UPDATE meta SET value=?", (b"5",)) == 2
    assert await database.changes("DELETE FROM meta WHERE key=?", ("zzz",)) == 0
    assert await database.changes("DELETE FROM meta", ()) == 2


async def test_insert_returns_each_new_rows_id(database: Database) -> None:
    member = await database.insert(
        "INSERT INTO members (platform, platform_user_id, created_at) VALUES (?, ?, ?)"
        " RETURNING id",
        ("test", "u1", stamp(NOW)),
    )
    other = await database.insert(
        "INSERT INTO members (platform, platform_user_id, created_at) VALUES (?, ?, ?)"
        " RETURNING id",
        ("test", "u2", stamp(NOW)),
    )
    assert member != other
    rows = await database.fetchall("SELECT id, platform_user_id FROM members ORDER BY id")
    assert {(int(r[0]), r[1]) for r in rows} == {(member, "u1"), (other, "u2")}


async def test_executemany_writes_every_row_or_none(database: Database) -> None:
    sql = "INSERT INTO meta (key, value) VALUES (?, ?)"
    await database.executemany(sql, [("a", b"1"), ("b", b"2")])
    assert await meta_keys(database) == ["a", "b"]
    with pytest.raises(Exception):  # noqa: B017 (each driver raises its own IntegrityError)
        await database.executemany(sql, [("c", b"3"), ("a", b"again")])
    assert await meta_keys(database) == ["a", "b"]


async def test_a_failed_write_undoes_all_of_it(database: Database) -> None:
    async with database.write():
        await put(database, "kept")
    with pytest.raises(RuntimeError):
        async with database.write():
            await put(database, "a")
            await database.changes("DELETE FROM meta WHERE key='kept'")
            raise RuntimeError("boom")
    assert await meta_keys(database) == ["kept"]


async def test_reads_inside_a_transaction_see_its_writes(database: Database) -> None:
    async with database.write():
        await put(database, "a")
        assert await database.fetchval("SELECT COUNT(*) FROM meta") == 1


async def test_a_nested_write_is_a_savepoint_of_the_unit(database: Database) -> None:
    async with database.atomic():
        await put(database, "outer")
        with pytest.raises(RuntimeError):
            async with database.write():
                await put(database, "inner")
                raise RuntimeError("boom")
        async with database.write():
            await put(database, "second")
    assert await meta_keys(database) == ["outer", "second"]


async def test_a_failed_unit_leaves_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.atomic():
            await put(database, "a")
            async with database.atomic():  # joins the open unit
                await put(database, "b")
            async with database.write():
                await put(database, "c")
            raise RuntimeError("boom")
    assert await meta_keys(database) == []


async def test_next_id_is_given_only_inside_a_transaction(database: Database) -> None:
    with pytest.raises(RuntimeError):
        await database.next_id("meta")
    async with database.write():
        first = await database.next_id("members")
        await database.execute(
            "INSERT INTO members (id, platform, platform_user_id, created_at) VALUES (?, ?, ?, ?)",
            (first, "test", "u1", stamp(NOW)),
        )
    async with database.write():
        assert await database.next_id("members") > first


async def test_concurrent_writers_never_get_the_same_id(database: Database) -> None:
    async def add(n: int) -> int:
        async with database.write():
            row_id = await database.next_id("members")
            await asyncio.sleep(0)  # let the others try to take the same id meanwhile
            await database.execute(
                "INSERT INTO members (id, platform, platform_user_id, created_at)"
                " VALUES (?, ?, ?, ?)",
                (row_id, "test", f"u{n}", stamp(NOW)),
            )
            return row_id

    ids = await asyncio.gather(*(add(n) for n in range(20)))
    assert len(set(ids)) == 20
    assert await database.fetchval("SELECT COUNT(*) FROM members") == 20


async def test_one_bad_statement_among_concurrent_ones_fails_only_its_caller(
    database: Database,
) -> None:
    sql = "INSERT INTO meta (key, value) VALUES (?, ?)"
    results = await asyncio.gather(
        database.execute(sql, ("a", b"1")),
        database.changes(sql, ("a", b"2")),  # the same key
        database.insert(
            "INSERT INTO members (platform, platform_user_id, created_at) VALUES (?, ?, ?)"
            " RETURNING id",
            ("test", "u1", stamp(NOW)),
        ),
        return_exceptions=True,
    )
    assert results[0] is None and isinstance(results[1], Exception)
    assert isinstance(results[2], int)
    assert await meta_keys(database) == ["a"]
    assert await database.fetchval("SELECT id FROM members") == results[2]


async def test_tables_are_the_ones_the_migrations_create(database: Database) -> None:
    created = {
        name
        for _number, _name, sql in migration_scripts(database.dialect)
        for name in re.findall(r"CREATE TABLE (\w+)", sql)
    }
    assert created >= {"members", "checkins", "outbox", "meta"}
    assert await database.tables() == created


async def test_the_schema_is_at_the_newest_migration(database: Database) -> None:
    assert await database.schema_version() == migration_scripts(database.dialect)[-1][0]


Schema = dict[str, dict[str, object]]


def _default(value: object) -> object:
    # PostgreSQL spells a default with its type ('UTC'::text); SQLite as written.
    return None if value is None else re.sub(r"::\w+( \w+)?$", "", str(value))


async def sqlite_schema(db: SqliteDatabase) -> Schema:
    schema: Schema = {}
    for table in sorted(await db.tables()):
        columns = await db.fetchall(f'PRAGMA table_info("{table}")')
        indexes = await db.fetchall(f'PRAGMA index_list("{table}")')
        unique = set()
        for index in indexes:
            if index[3] == "u":
                cols = await db.fetchall(f'PRAGMA index_info("{index[1]}")')
                unique.add(tuple(str(c[2]) for c in cols))
        keys = await db.fetchall(f'PRAGMA foreign_key_list("{table}")')
        schema[table] = {
            "columns": [(c[1], bool(c[3] or c[5]), _default(c[4])) for c in columns],
            "primary key": tuple(c[1] for c in sorted(columns, key=lambda c: c[5]) if c[5]),
            "unique": unique,
            "references": {(k[3], k[2], k[4], k[6]) for k in keys},
            "indexes": {i[1] for i in indexes if i[3] == "c"},
        }
    return schema


async def postgresql_schema(db: PostgresDatabase) -> Schema:
    schema: Schema = {}
    for table in sorted(await db.tables()):
        columns = await db.fetchall(
            "SELECT column_name, is_nullable = 'NO', column_default FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        constraints = await db.fetchall(
            "SELECT c.contype::text, c.conname,"
            " array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o)"
            "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),"
            " c.confrelid::regclass::text,"
            " array(SELECT a.attname FROM unnest(c.confkey) k(n)"
            "  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n),"
            " c.confdeltype::text"
            " FROM pg_constraint c WHERE c.conrelid = ?::regclass",
            (table,),
        )
        on_delete = {"c": "CASCADE", "n": "SET NULL", "a": "NO ACTION"}
        owned = {str(c[1]) for c in constraints}
        indexes = await db.fetchall(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename = ?",
            (table,),
        )
        [primary] = [tuple(c[2]) for c in constraints if c[0] == "p"] or [()]
        schema[table] = {
            "columns": [(c[0], bool(c[1]), _default(c[2])) for c in columns],
            "primary key": primary,
            "unique": {tuple(c[2]) for c in constraints if c[0] == "u"},
            "references": {
                (c[2][0], c[3], c[4][0], on_delete[c[5]]) for c in constraints if c[0] == "f"
            },
            "indexes": {str(i[0]) for i in indexes} - owned,
        }
    return schema


async def test_both_dialects_migrate_to_one_schema(tmp_path: Path, pg_url: str) -> None:
    """Same tables, columns (order, NOT NULL, defaults), keys, references and indexes: what
    `unblend storage copy` and the one query set count on."""
    lite, pg = SqliteDatabase(tmp_path / "schema.sqlite"), PostgresDatabase(pg_url)
    await lite.open()
    await pg.open()
    try:
        sqlite_side, postgresql_side = await sqlite_schema(lite), await postgresql_schema(pg)
        assert await lite.schema_version() == await pg.schema_version()
    finally:
        await lite.close()
        await pg.close()
    assert sqlite_side["outbox"]["references"]  # the reading itself works
    assert sqlite_side == postgresql_side


def test_every_dialect_has_the_same_migrations() -> None:
    """A migration added for one engine only would leave the other a version behind."""
    numbers = {
        dialect: [(n, name) for n, name, _ in migration_scripts(dialect)]
        for dialect in ("sqlite", "postgresql")
    }
    assert numbers["sqlite"] == numbers["postgresql"]


def test_every_migration_lives_in_its_dialects_folder() -> None:
    """A migration added beside the dialect folders (where they were before) would never run."""
    folder = resources.files("core.storage") / "migrations"
    assert not [e.name for e in folder.iterdir() if e.name.endswith(".sql")]
    numbers = [number for number, _name, _sql in migration_scripts("sqlite")]
    assert numbers and len(numbers) == len(set(numbers))


# -- one query set ---------------------------------------------------------------------------

STORAGE = Path(core.storage.__file__).parent
# Modules that may speak their engine's own SQL: the two drivers (the key rotation walks rows by
# primary key now, on either engine).
ENGINE_ONLY = {"sqlite.py", "postgresql.py"}
NOT_PORTABLE = {
    "a SQLite catalog or setting": r"\bPRAGMA\b|\bsqlite_\w+",
    "rowid": r"\browid\b",
    "an engine date function": r"\b(?:datetime|strftime|julianday|date|now)\s*\(",
    "a SQLite-only function": r"\b(?:IFNULL|GROUP_CONCAT|INSTR|PRINTF|TOTAL)\s*\(",
    "a SQLite-only insert": r"\bINSERT\s+OR\b|\bREPLACE\s+INTO\b",
    "a blob literal": r"\b[xX]'[0-9a-fA-F]*'",
    "a numbered or named placeholder": r"\$\d|\?\d|[=(,\s]:[a-z_]+\b",
    "a bare `? IS NULL`": r"\?\s+IS\s+(?:NOT\s+)?NULL",
}
DRIVER_ONLY = {"lastrowid", "rowcount", "conn", "cursor", "executescript"}
DRIVER_LIBS = {"aiosqlite", "sqlite3", "asyncpg"}


def not_portable(source: str) -> list[str]:
    """What in `source`'s strings and attributes only one engine understands (docstrings and
    other bare strings excluded: they are prose)."""
    tree = ast.parse(source)
    prose = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in prose:
                found += [what for what, rx in NOT_PORTABLE.items() if re.search(rx, node.value)]
        elif isinstance(node, ast.Attribute) and node.attr in DRIVER_ONLY:
            found.append(f".{node.attr}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            found += [f"import {n}" for n in names if n and n.split(".")[0] in DRIVER_LIBS]
    return found


def test_the_repositories_write_one_query_set() -> None:
    # The kernel's storage, and each capability's repositories (its `store.py`, issue 14).
    kernel = [p for p in STORAGE.glob("*.py") if p.name not in ENGINE_ONLY]
    features = [p for p in STORAGE.parent.glob("**/store.py") if p.parent != STORAGE]
    modules = sorted(kernel + features)
    assert len(features) >= 8
    offenders = {
        str(p.relative_to(STORAGE.parent)): not_portable(p.read_text(encoding="utf-8"))
        for p in modules
    }
    assert {name: what for name, what in offenders.items() if what} == {}


def test_the_query_set_check_itself_finds_what_one_engine_only_understands() -> None:
    bad = (
        "import aiosqlite\n"
        "async def f(conn, db):\n"
        "    c = await conn.execute('INSERT OR IGNORE INTO t VALUES (?)', (1,))\n"
        "    await db.fetchall('SELECT rowid FROM t WHERE ? IS NULL OR a=$1', (1,))\n"
        "    await db.execute(\"UPDATE t SET at=datetime('now'), b=x'00' WHERE k=:key\")\n"
        "    return c.lastrowid\n"
    )
    assert set(not_portable(bad)) == {
        "import aiosqlite",
        ".lastrowid",
        "a SQLite-only insert",
        "rowid",
        "a bare `? IS NULL`",
        "a numbered or named placeholder",
        "an engine date function",
        "a blob literal",
    }
    good = (
        "async def f(db, path):\n"
        "    memory = path == ':memory:'\n"
        "    await db.execute(\"SELECT a FROM t WHERE at>=? AND b='09:00'\", (1,))\n"
    )
    assert not_portable(good) == []


def test_placeholders_are_numbered_for_postgresql_outside_quotes() -> None:
    assert numbered("SELECT a FROM t WHERE b=? AND c IN (?, ?)") == (
        "SELECT a FROM t WHERE b=$1 AND c IN ($2, $3)"
    )
    assert numbered("SELECT '?', 'it''s ?', \"odd?\" FROM t WHERE a=?") == (
        "SELECT '?', 'it''s ?', \"odd?\" FROM t WHERE a=$1"
    )
    assert numbered("DELETE FROM t") == "DELETE FROM t"


def test_the_architecture_doc_names_every_method_of_the_interface() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "architecture.md").read_text(
        encoding="utf-8"
    )
    methods = {
        name
        for cls in (Reader, Database)
        for name in vars(cls)
        if not name.startswith("_") and callable(getattr(cls, name))
    }
    assert len(methods) >= 14
    assert sorted(m for m in methods if f"`{m}(" not in doc) == []


# -- the repositories on it --------------------------------------------------------------------


async def test_a_member_is_made_once_and_erased_with_a_count(repos: Repos) -> None:
    first = await repos.members.get_or_create("test", "u1", NOW)
    again = await repos.members.get_or_create("test", "u1", NOW + timedelta(days=1))
    assert again.id == first.id
    assert await repos.members.erase(first.id) == 1
    assert await repos.members.erase(first.id) == 0
    assert await repos.members.find("test", "u1") is None


async def test_checkin_changes_say_whether_a_row_of_the_member_changed(repos: Repos) -> None:
    a = (await repos.members.get_or_create("test", "a", NOW)).id
    b = (await repos.members.get_or_create("test", "b", NOW)).id
    await repos.checkins.add(Checkin(a, NOW, mood=3, note="a hard morning"))
    await repos.checkins.add(Checkin(a, NOW + timedelta(hours=1), mood=5))
    [latest, first] = await repos.checkins.page(a, 0, 10)
    assert first.note == "a hard morning" and latest.id != first.id
    assert await repos.checkins.update(Checkin(a, NOW, mood=4, note="better", id=first.id))
    assert not await repos.checkins.update(Checkin(b, NOW, mood=1, id=first.id))
    changed = await repos.checkins.get(a, first.id)
    assert changed is not None and (changed.mood, changed.note) == (4, "better")
    assert not await repos.checkins.delete(b, first.id)
    assert await repos.checkins.delete(a, first.id)
    assert not await repos.checkins.delete(a, first.id)
    assert await repos.checkins.purge(a, NOW + timedelta(days=1)) == 1
    assert await repos.checkins.count(a) == 0


async def test_values_sealed_to_their_row_id_open_when_added_at_once(repos: Repos) -> None:
    a = (await repos.members.get_or_create("test", "a", NOW)).id
    b = (await repos.members.get_or_create("test", "b", NOW)).id
    names = [f"part {n}" for n in range(6)]
    parts = await asyncio.gather(
        *(repos.parts.add(a if n % 2 else b, name, "unsure", NOW) for n, name in enumerate(names))
    )
    assert len({p.id for p in parts}) == len(names)
    stored = await repos.parts.list(a) + await repos.parts.list(b)
    assert sorted(p.name for p in stored) == names
    assert await repos.parts.erase(a) == 3


async def test_a_slip_gets_its_own_id_and_a_missing_counter_none(repos: Repos) -> None:
    member = (await repos.members.get_or_create("test", "a", NOW)).id
    counter = await repos.counters.add(member, "drinking", DAY, NOW)
    first = await repos.counters.add_slip(member, counter.id, DAY, NOW)
    second = await repos.counters.add_slip(member, counter.id, DAY + timedelta(days=1), NOW)
    assert [s.id for s in await repos.counters.slips(member, counter.id)] == [first.id, second.id]
    assert await repos.counters.set_slip_note(member, second.id, "a party")
    with pytest.raises(LookupError):
        await repos.counters.add_slip(member, counter.id + 1, DAY, NOW)
    assert len(await repos.counters.slips_between(member, date.min, date.max)) == 2
    assert await repos.counters.erase(member) == 3


async def test_a_failed_repository_call_inside_a_unit_undoes_only_itself(repos: Repos) -> None:
    member = (await repos.members.get_or_create("test", "a", NOW)).id
    async with repos.unit.atomic():
        counter = await repos.counters.add(member, "drinking", DAY, NOW)
        with pytest.raises(LookupError):
            await repos.counters.add_slip(member, counter.id + 1, DAY, NOW)
    assert [c.name for c in await repos.counters.for_member(member)] == ["drinking"]
    with pytest.raises(RuntimeError):
        async with repos.unit.atomic():
            await repos.counters.add(member, "smoking", DAY, NOW)
            raise RuntimeError("boom")
    assert [c.name for c in await repos.counters.for_member(member)] == ["drinking"]


async def test_a_local_date_is_claimed_once_and_its_post_found_by_id(repos: Repos) -> None:
    group = await repos.groups.get_or_create("test", "g1", NOW)
    schedule = await repos.groups.add_schedule(Schedule(0, group.id, "09:00", "UTC"), NOW)
    item = NewOutboxItem("test", "g1", {"text": "how is everyone?"})
    post = await repos.groups.claim_post(schedule, DAY, NOW, NOW, item, new_post_token())
    again = await repos.groups.claim_post(schedule, DAY, NOW, NOW, item, new_post_token())
    assert post is not None and again is None
    assert await repos.groups.posts_on(group.id, DAY) == [post]
    [queued] = await repos.outbox.items()
    assert queued.post_id == post.id
    assert await repos.groups.claim_daily("summary", group.id, DAY, NOW, "sent", item)
    assert not await repos.groups.claim_daily("summary", group.id, DAY, NOW, "sent", item)
    assert len(await repos.outbox.items()) == 2


async def test_schedules_of_one_group_or_of_all(repos: Repos) -> None:
    g1 = (await repos.groups.get_or_create("test", "g1", NOW)).id
    g2 = (await repos.groups.get_or_create("test", "g2", NOW)).id
    first = await repos.groups.add_schedule(Schedule(0, g1, "09:00", "UTC"), NOW)
    second = await repos.groups.add_schedule(Schedule(0, g2, "18:00", "UTC"), NOW)
    skips = frozenset({DAY, DAY + timedelta(days=7)})
    await repos.groups.update_schedule(
        Schedule(second.id, g2, "19:00", "UTC", skip_dates=skips), NOW
    )
    assert [s.id for s in await repos.groups.schedules(g1)] == [first.id]
    [only] = await repos.groups.schedules(g2)
    assert only.at == "19:00" and only.skip_dates == skips
    every = await repos.groups.schedules()
    assert [s.id for s in every] == [first.id, second.id]
    assert [s.skip_dates for s in every] == [frozenset(), skips]
    assert await repos.groups.remove_schedule(g1, first.id)
    assert not await repos.groups.remove_schedule(g1, first.id)


async def test_outbox_items_of_one_platform_or_of_all(repos: Repos) -> None:
    await repos.outbox.enqueue(NewOutboxItem("telegram", "c1", {"text": "a"}), NOW)
    await repos.outbox.enqueue(NewOutboxItem("discord", "c2", {"text": "b"}), NOW)
    assert [i.platform for i in await repos.outbox.items()] == ["telegram", "discord"]
    assert [i.target for i in await repos.outbox.items("discord")] == ["c2"]
    assert await repos.outbox.items("console") == []


async def test_holidays_and_gone_notices_say_whether_they_changed(repos: Repos) -> None:
    group = (await repos.groups.get_or_create("test", "g1", NOW)).id
    schedule = (await repos.groups.add_schedule(Schedule(0, group, "09:00", "UTC"), NOW)).id
    assert await repos.groups.set_holiday(group, DAY, True)
    assert not await repos.groups.set_holiday(group, DAY, True)
    assert await repos.groups.set_holiday(group, DAY, False)
    assert not await repos.groups.set_holiday(group, DAY, False)
    assert await repos.reachouts.mark_gone(schedule, group, "missing", NOW)
    assert not await repos.reachouts.mark_gone(schedule, group, "missing", NOW)
    await repos.reachouts.mark_told([schedule])
    assert await repos.reachouts.mark_gone(schedule, group, "forbidden", NOW)


async def test_a_reach_out_request_gets_its_id_and_is_answered_once(repos: Repos) -> None:
    member = (await repos.members.get_or_create("test", "a", NOW)).id
    helper = (await repos.members.get_or_create("test", "b", NOW)).id
    group = (await repos.groups.get_or_create("test", "g1", NOW)).id
    request = NewReachOut(group, member, None, "t0ken", "volunteers", NOW + timedelta(hours=2))
    words = [NewOutboxItem("test", "b", {"text": "someone asked"}, member_id=member)]
    reach = await repos.reachouts.open_request(request, words, NOW)
    assert await repos.reachouts.by_token("t0ken") == reach
    assert await repos.reachouts.acknowledge(reach.id, helper, [], NOW)
    assert not await repos.reachouts.acknowledge(reach.id, helper, [], NOW)
    assert not await repos.reachouts.expire(reach.id, [], NOW)
    assert await repos.reachouts.erase(helper) == 1  # their name on the answer goes


# -- stored times ------------------------------------------------------------------------------


def test_a_stored_time_is_utc_text_that_sorts_as_time_does() -> None:
    assert stamp(NOW) == "2026-03-02T08:00:00.000000+00:00"
    assert stamp(NOW) == NOW.isoformat(timespec="microseconds")  # rows written before
    berlin = NOW.astimezone(ZoneInfo("Europe/Berlin"))
    assert stamp(berlin) == stamp(NOW)
    later_in_new_york = (NOW + timedelta(minutes=1)).astimezone(ZoneInfo("America/New_York"))
    assert stamp(later_in_new_york) > stamp(berlin)
    assert datetime.fromisoformat(stamp(berlin)) == NOW


# -- the SQLite driver's own guarantees --------------------------------------------------------


async def test_scrub_leaves_no_copy_of_a_deleted_row_in_the_sqlite_files(tmp_path: Path) -> None:
    path = tmp_path / "scrub.sqlite"
    db = SqliteDatabase(path)
    await db.open()
    marker = b"a-distinctive-deleted-value"
    files = [path, Path(f"{path}-wal")]
    try:
        await db.execute("INSERT INTO meta (key, value) VALUES ('gone', ?)", (marker,))
        await db.changes("DELETE FROM meta WHERE key='gone'")
        assert any(marker in f.read_bytes() for f in files if f.exists())
        await db.scrub()
        assert not any(marker in f.read_bytes() for f in files if f.exists())
    finally:
        # An open connection's thread would keep pytest from exiting after a failure.
        await db.close()
