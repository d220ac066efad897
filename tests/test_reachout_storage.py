"""Reach-out storage: SQLite on tmp_path and the in-memory twin behave the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.groups.reachouts.records import NewReachOut, Volunteer
from core.groups.records import Schedule
from core.outbox.records import NewOutboxItem
from core.privacy.data import erase_member, export_member
from core.repos import Repos, in_memory_repos, sqlite_repos
from core.storage.keyring import open_encrypted
from tests.engines import ENGINES, open_engine
from tests.test_storage import database_bytes

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LINE = "a rough day, <b>x</b> & שלום 🌱"


@pytest.fixture(params=["memory", *ENGINES])
async def repos(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Repos]:
    if request.param == "memory":
        yield in_memory_repos()
        return
    db, cipher = await open_engine(request.param, request, tmp_path)
    yield sqlite_repos(db, cipher)
    await db.close()


async def ids(repos: Repos, n: int) -> list[int]:
    return [(await repos.members.get_or_create("test", f"u{i}", NOW)).id for i in range(n)]


def ask(group_id: int, member_id: int, token: str = "t0ken") -> NewReachOut:
    return NewReachOut(group_id, member_id, None, token, "volunteers", NOW + timedelta(hours=2))


def item(text: str, target: str = "u1", member_id: int | None = None) -> NewOutboxItem:
    return NewOutboxItem("test", target, {"text": text, "private": True}, member_id=member_id)


async def test_membership_and_volunteers(repos: Repos) -> None:
    a, b = await ids(repos, 2)
    g1 = (await repos.groups.get_or_create("test", "g1", NOW)).id
    g2 = (await repos.groups.get_or_create("test", "g2", NOW)).id
    await repos.reachouts.joined(g2, a, NOW)
    await repos.reachouts.joined(g1, a, NOW)
    await repos.reachouts.joined(g1, a, NOW + timedelta(hours=1))
    assert await repos.reachouts.groups_of(a) == [g1, g2]
    assert await repos.reachouts.groups_of(b) == []
    await repos.reachouts.put_volunteer(Volunteer(g1, a, timezone="Europe/Berlin"), NOW)
    await repos.reachouts.put_volunteer(Volunteer(g1, a, "22:00", "07:00", "UTC"), NOW)
    await repos.reachouts.put_volunteer(Volunteer(g1, b), NOW)
    assert await repos.reachouts.volunteers(g1) == [
        Volunteer(g1, a, "22:00", "07:00", "UTC"),
        Volunteer(g1, b),
    ]
    assert await repos.reachouts.remove_volunteer(g1, b)
    assert not await repos.reachouts.remove_volunteer(g1, b)
    assert [v.member_id for v in await repos.reachouts.volunteering(a)] == [a]


async def test_the_first_tap_wins_and_expiry_closes_once(repos: Repos) -> None:
    a, b, c = await ids(repos, 3)
    g = (await repos.groups.get_or_create("test", "g1", NOW)).id
    reach = await repos.reachouts.open_request(ask(g, a), [item(LINE, "u1", a)], NOW)
    assert (await repos.reachouts.by_token("t0ken")) == reach
    assert await repos.reachouts.by_token("") is None
    assert await repos.reachouts.by_token("other") is None
    assert await repos.reachouts.open_for(g, a) == reach
    assert await repos.reachouts.acknowledge(reach.id, b, [item("taken", "u0", a)], NOW)
    assert not await repos.reachouts.acknowledge(reach.id, c, [item("again", "u0", a)], NOW)
    taken = await repos.reachouts.by_token("t0ken")
    assert taken is not None and (taken.state, taken.acked_by) == ("acked", b)
    assert await repos.reachouts.open_for(g, a) is None
    assert [i.payload["text"] for i in await repos.outbox.items()] == [LINE, "taken"]
    # A second request, not taken: due at its time, closed once, with its message.
    other = await repos.reachouts.open_request(ask(g, a, "second"), [], NOW)
    assert await repos.reachouts.due(NOW + timedelta(hours=1)) == []
    assert [r.id for r in await repos.reachouts.due(NOW + timedelta(hours=2))] == [other.id]
    assert await repos.reachouts.expire(other.id, [item("sorry", "u0", a)], NOW)
    assert not await repos.reachouts.expire(other.id, [item("sorry", "u0", a)], NOW)
    assert await repos.reachouts.due(NOW + timedelta(hours=3)) == []
    assert not await repos.reachouts.acknowledge(other.id, b, [], NOW)
    assert len(await repos.outbox.items()) == 3


async def test_gone_notices_are_told_once_and_rearm(repos: Repos) -> None:
    g = (await repos.groups.get_or_create("test", "g1", NOW)).id
    s = (await repos.groups.add_schedule(Schedule(0, g, "09:00", "UTC"), NOW)).id
    assert await repos.reachouts.mark_gone(s, g, "gone", NOW)
    [notice] = await repos.reachouts.gone(g)
    assert (notice.schedule_id, notice.reason, notice.told) == (s, "gone", False)
    assert not await repos.reachouts.mark_gone(s, g, "gone", NOW), "not told yet"
    await repos.reachouts.mark_told([s])
    assert [n.told for n in await repos.reachouts.gone(g)] == [True]
    assert await repos.reachouts.mark_gone(s, g, "gone", NOW + timedelta(days=1))
    assert [n.told for n in await repos.reachouts.gone(g)] == [False]
    await repos.reachouts.clear_gone(s)
    assert await repos.reachouts.gone(g) == []


async def test_export_and_erase_cover_requests_and_volunteering(repos: Repos) -> None:
    a, b = await ids(repos, 2)
    g = (await repos.groups.get_or_create("test", "g1", NOW)).id
    await repos.reachouts.joined(g, a, NOW)
    await repos.reachouts.put_volunteer(Volunteer(g, a, "22:00", "07:00", "UTC"), NOW)
    mine = await repos.reachouts.open_request(ask(g, a, "mine"), [], NOW)
    theirs = await repos.reachouts.open_request(ask(g, b, "theirs"), [], NOW)
    await repos.reachouts.acknowledge(theirs.id, a, [], NOW)
    data = await repos.reachouts.export(a)
    assert data["groups_joined"] == [g]
    assert data["volunteering"][0]["quiet_from"] == "22:00"
    roles = sorted(r["role"] for r in data["reach_outs"])
    assert roles == ["answered as a volunteer", "asked"]
    assert "reach_outs" in str(await export_member(repos, a))
    assert await erase_member(repos, a) >= 4
    assert await repos.reachouts.by_token("mine") is None and mine.id
    kept = await repos.reachouts.by_token("theirs")
    assert kept is not None and kept.acked_by is None, "b's request stays; a's name goes"
    assert await repos.reachouts.groups_of(a) == []
    assert await repos.reachouts.volunteering(a) == []


async def test_on_sqlite_a_requests_words_are_never_plain_on_disk(tmp_path: Path) -> None:
    db, cipher = await open_encrypted(tmp_path / "unblend.sqlite", {})
    repos = sqlite_repos(db, cipher)
    (a,) = await ids(repos, 1)
    g = (await repos.groups.get_or_create("test", "g1", NOW)).id
    await repos.reachouts.open_request(ask(g, a), [item(LINE, "u9", a)], NOW)
    await db.close()
    raw = database_bytes(tmp_path)
    assert b"rough day" not in raw and "שלום".encode() not in raw
