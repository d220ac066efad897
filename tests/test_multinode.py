"""Several `unblend run` processes on one PostgreSQL database (issue 17): nothing lost, nothing
sent twice beyond what a killed process had in flight, and one process never serves what another
has changed."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bots.instance import AlreadyRunningError, instance_lock, is_running
from bots.roles import Role, RoleKeeper
from core.app import Unblend
from core.groups.checkins.engine import GroupEngine
from core.groups.records import Schedule
from core.groups.screening.records import GroupSafetySettings
from core.kernel.clock import FakeClock
from core.kernel.flows.engine import FlowState
from core.outbox.records import NewOutboxItem
from core.outbox.store import SqliteOutboxRepo
from core.storage.database import RUN_LOCK, Database
from core.storage.engines import StorageUrl
from core.storage.postgresql import PostgresDatabase
from tests.chat import Chat
from tests.engines import app_on_storage, open_storage
from tests.multinode_rig import eventually, multinode


@pytest.mark.parametrize("platform", ["telegram", "discord"])
async def test_two_bots_on_one_database_finish_a_fan_out_when_one_is_killed_mid_send(
    tmp_path: Path, pg_url: str, platform: str
) -> None:
    result = await multinode(tmp_path, pg_url, groups=48, processes=2, platform_name=platform)
    assert result.lost == 0, "every group has its post"
    # The post the killed sender had sent but not yet marked goes again: at most one per kill.
    assert result.duplicates <= result.killed == 1
    assert result.pending == 0


# -- two app instances on one database: nothing stale -------------------------------------


async def two_apps(
    pg_url: str, folder: Path, clock: FakeClock
) -> tuple[Unblend, Unblend, list[Database]]:
    storage = StorageUrl("postgresql", None, pg_url)
    first, db1 = await app_on_storage(storage, folder, clock)
    second, db2 = await app_on_storage(storage, folder, clock)
    return first, second, [db1, db2]


async def test_a_language_chosen_through_one_bot_is_spoken_by_the_other(
    tmp_path: Path, pg_url: str, clock: FakeClock
) -> None:
    first, second, dbs = await two_apps(pg_url, tmp_path, clock)
    try:
        here, there = Chat(first, "u1"), Chat(second, "u1")
        english = "\n".join(r.text for r in await here.send("/help"))
        await there.send("/language es")
        spanish = "\n".join(r.text for r in await there.send("/help"))
        assert spanish != english
        assert "\n".join(r.text for r in await here.send("/help")) == spanish
    finally:
        for db in dbs:
            await db.close()


async def test_parts_sessions_and_group_settings_written_by_one_bot_are_read_by_the_other(
    tmp_path: Path, pg_url: str, clock: FakeClock
) -> None:
    first, second, dbs = await two_apps(pg_url, tmp_path, clock)
    now = clock.now()
    try:
        member = await first.repos.members.get_or_create("test", "u1", now)
        assert await first.repos.parts.list(member.id) == []
        assert await first.repos.sessions.get(member.id) is None
        await second.repos.parts.add(member.id, "the critic", "manager", now)
        state = FlowState("checkin", "urge", updated_at=now)
        await second.repos.sessions.put(member.id, state)
        assert [p.name for p in await first.repos.parts.list(member.id)] == ["the critic"]
        found = await first.repos.sessions.get(member.id)
        assert found is not None and found.step == "urge"
        await second.repos.sessions.delete(member.id)
        assert await first.repos.sessions.get(member.id) is None

        group = await first.repos.groups.get_or_create("test", "g1", now)
        assert not await first.group_safety.screens("test", "g1")
        assert await first.languages.group_locale("test", "g1") == ""
        settings = GroupSafetySettings(group.id, "test", "g1", screening=True)
        await second.group_safety.save(settings, now)
        await second.repos.groups.update(replace(group, language="es"))
        assert await first.group_safety.screens("test", "g1")
        assert await first.languages.group_locale("test", "g1") == "es"
    finally:
        for db in dbs:
            await db.close()


async def test_one_members_turns_never_overlap_across_bots(
    tmp_path: Path, pg_url: str, clock: FakeClock
) -> None:
    """A paced step moved on by one bot and the member's answer handled by another must not
    both read the old state and write over each other: the second waits for the first."""
    first, second, dbs = await two_apps(pg_url, tmp_path, clock)
    try:
        await Chat(second, "u1").send("/help")  # the member exists
        async with first.repos.turns.hold("test:u1"):
            answer = asyncio.create_task(Chat(second, "u1").send("/checkin"))
            waiting = "SELECT count(*) FROM pg_locks WHERE locktype='advisory' AND NOT granted"
            await eventually(lambda: dbs[0].fetchval(waiting), 10, "the other bot waiting")
            assert not answer.done()
            # Another member is not held up by it.
            assert await Chat(second, "u2").send("/help")
        replies = await asyncio.wait_for(answer, 10)
        assert replies and not await dbs[0].fetchval(waiting)
    finally:
        for db in dbs:
            await db.close()


async def test_a_paced_step_moved_on_where_the_platform_does_not_run_goes_by_the_outbox(
    tmp_path: Path, pg_url: str, clock: FakeClock
) -> None:
    """The bot holding `pacing` may not be the one running the member's platform (Discord's
    gateway is one bot's role): the next step is queued for that platform's sender, not
    dropped."""
    pacer, answering, dbs = await two_apps(pg_url, tmp_path, clock)
    try:
        chat = Chat(answering, "u1")
        await chat.welcome()
        await chat.send("/ground box")
        await chat.tap("8")  # how strong it is before
        clock.advance(timedelta(minutes=5))
        assert await pacer.run_due() == 1
        queued = await pacer.repos.outbox.items("test")
        assert [(i.target, i.payload["private"]) for i in queued] == [("u1", True)]
        assert queued[0].payload["text"]
    finally:
        for db in dbs:
            await db.close()


# -- the locks, the roles and the claims -------------------------------------------------


async def test_bots_share_the_run_lock_and_rotation_needs_it_alone(pg_url: str) -> None:
    first, second, rotation = (PostgresDatabase(pg_url) for _ in range(3))
    try:
        assert await first.try_lock(RUN_LOCK, shared=True)
        assert await second.try_lock(RUN_LOCK, shared=True), "a second bot may run"
        assert not await rotation.try_lock(RUN_LOCK), "no key rotation beside a running bot"
        await first.close()
        assert not await rotation.try_lock(RUN_LOCK), "nor beside the last one"
        await second.close()
        assert await rotation.try_lock(RUN_LOCK)
        assert not await first.try_lock(RUN_LOCK, shared=True), "no bot starts mid-rotation"
    finally:
        for db in (first, second, rotation):
            await db.close()


async def test_a_role_passes_to_another_bot_when_its_holder_dies(pg_url: str) -> None:
    events: list[str] = []

    def roles(who: str) -> list[Role]:
        async def start() -> None:
            events.append(f"{who} starts")

        async def stop() -> None:
            events.append(f"{who} stops")

        return [Role("pacing", start, stop)]

    first, second = PostgresDatabase(pg_url), PostgresDatabase(pg_url)
    one, two = RoleKeeper(first, roles("one")), RoleKeeper(second, roles("two"))
    try:
        await one.round()
        await two.round()
        assert (one.held, two.held) == (["pacing"], [])
        # The holder's lock session ends, as when its process is killed: the server frees it.
        assert first._lock_connection is not None
        first._lock_connection.terminate()

        async def taken_over() -> bool:
            await two.round()
            return two.held == ["pacing"]

        # The server ends the dead session a moment after its socket closes.
        await eventually(taken_over, 10, "the role passed on")
        await one.round()  # the old holder sees it lost the lock, and stops the work
        assert one.held == []
        assert events == ["one starts", "two starts", "one stops"]
    finally:
        await two.stop()
        await first.close()
        await second.close()


async def test_two_bots_claim_each_outbox_row_once(tmp_path: Path, pg_url: str) -> None:
    storage = StorageUrl("postgresql", None, pg_url)
    (db1, cipher), (db2, _) = [await open_storage(storage, tmp_path) for _ in range(2)]
    first, second = SqliteOutboxRepo(db1, cipher), SqliteOutboxRepo(db2, cipher)
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    later = now + timedelta(minutes=2)
    try:
        for i in range(40):
            await first.enqueue(NewOutboxItem("telegram", f"-{i}", {"text": "hi"}), now)
        taken = await asyncio.gather(
            *(
                repo.claim("telegram", now, 7, who, later)
                for _ in range(4)
                for repo, who in ((first, "one"), (second, "two"))
            )
        )
        ids = [item.id for batch in taken for item in batch]
        assert len(ids) == len(set(ids)) == 40, "every row taken once, none twice"
        assert await second.claim("telegram", now, 50, "two", later) == []
        # A claim lapses: the rows of a sender that died are taken again after `until`.
        assert len(await second.claim("telegram", later, 50, "two", later)) == 40
        # A sender that takes over frees them at once.
        assert await first.release("telegram") == 40
        assert len(await first.claim("telegram", now, 50, "one", later)) == 40
    finally:
        await db1.close()
        await db2.close()


async def test_two_bots_firing_together_post_each_check_in_once(
    tmp_path: Path, pg_url: str, clock: FakeClock
) -> None:
    first, second, dbs = await two_apps(pg_url, tmp_path, clock)
    made = clock.now() - timedelta(hours=1)
    due = clock.now() - timedelta(minutes=1)
    try:
        for i in range(30):
            group = await first.repos.groups.get_or_create("telegram", f"-{i}", made)
            schedule = Schedule(0, group.id, due.strftime("%H:%M"), "UTC")
            await first.repos.groups.add_schedule(schedule, made)
        engines = [GroupEngine(app.repos, app.library.catalog(), clock) for app in (first, second)]
        reports = await asyncio.gather(*(e.run_due_posts(clock.now()) for e in engines * 2))
        assert sum(r.posted for r in reports) == 30
        targets = [i.target for i in await first.repos.outbox.items("telegram")]
        assert sorted(targets) == sorted(f"-{i}" for i in range(30))
    finally:
        for db in dbs:
            await db.close()


def test_sqlite_stays_one_bot_and_restore_waits_for_every_bot(tmp_path: Path) -> None:
    path = tmp_path / "unblend.sqlite"
    # A bot on SQLite, then a second one: refused.
    with instance_lock(path), pytest.raises(AlreadyRunningError), instance_lock(path):
        pass
    # Bots sharing PostgreSQL from one machine share the lock file; restore and key rotation
    # (exclusive) still wait for every one of them, and no bot starts beside them.
    with instance_lock(path, shared=True), instance_lock(path, shared=True):
        assert is_running(path)
    with instance_lock(path), pytest.raises(AlreadyRunningError), instance_lock(path, True):
        pass
