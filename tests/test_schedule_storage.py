"""Group check-in storage: SQLite on tmp_path and the in-memory twin behave the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from core.groups.checkins.engine import new_post_token
from core.groups.records import Group, Reminder, Response, Schedule
from core.outbox.records import NewOutboxItem, OutboxState
from core.repos import Repos, in_memory_repos, sqlite_repos
from core.storage.keyring import open_encrypted
from tests.engines import ENGINES, open_engine
from tests.test_storage import database_bytes

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DAY = date(2026, 3, 2)
SECRET = "our own words for the prompt, <b>x</b> & שלום 🌱"


@pytest.fixture(params=["memory", *ENGINES])
async def repos(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Repos]:
    if request.param == "memory":
        yield in_memory_repos()
        return
    db, cipher = await open_engine(request.param, request, tmp_path)
    yield sqlite_repos(db, cipher)
    await db.close()


async def members(repos: Repos, n: int) -> list[int]:
    return [(await repos.members.get_or_create("test", f"u{i}", NOW)).id for i in range(n)]


def item(text: str = "prompt") -> NewOutboxItem:
    return NewOutboxItem("test", "g1", {"text": text})


async def test_a_local_date_is_claimed_once_with_its_outbox_row(repos: Repos) -> None:
    group = await repos.groups.get_or_create("test", "g1", NOW)
    schedule = await repos.groups.add_schedule(
        Schedule(0, group.id, "09:00", "Europe/Berlin", prompt_text=SECRET), NOW
    )
    first = await repos.groups.claim_post(schedule, DAY, NOW, NOW, item(), new_post_token())
    again = await repos.groups.claim_post(schedule, DAY, NOW, NOW, item(), new_post_token())
    assert first is not None and again is None
    [queued] = await repos.outbox.items()
    assert queued.post_id == first.id and queued.payload == {"text": "prompt"}
    assert await repos.groups.claimed(DAY) == {(schedule.id, DAY)}
    assert not await repos.groups.claim_missed(schedule.id, DAY, NOW)
    assert await repos.groups.claim_missed(schedule.id, DAY + timedelta(days=1), NOW)
    [stored] = await repos.groups.schedules(group.id)
    assert stored.prompt_text == SECRET and stored.created_at == NOW


async def test_sending_writes_the_message_id_back_to_the_post(repos: Repos) -> None:
    group = await repos.groups.get_or_create("test", "g1", NOW)
    schedule = await repos.groups.add_schedule(Schedule(0, group.id, "09:00", "UTC"), NOW)
    post = await repos.groups.claim_post(schedule, DAY, NOW, NOW, item(), new_post_token())
    assert post is not None
    [due] = await repos.outbox.due("test", NOW, 10)
    assert await repos.outbox.due("other", NOW, 10) == []
    await repos.outbox.retry_later(due.id, 1, NOW + timedelta(seconds=30))
    assert await repos.outbox.due("test", NOW, 10) == []
    [due] = await repos.outbox.due("test", NOW + timedelta(seconds=30), 10)
    await repos.outbox.mark_sent(due.id, "m42", NOW)
    stored = await repos.groups.post(post.id)
    assert stored is not None and stored.message_ref == "m42"
    [sent] = await repos.outbox.items()
    assert sent.state is OutboxState.SENT and sent.attempts == 1


async def test_a_previewed_share_is_posted_at_most_once(repos: Repos) -> None:
    group = await repos.groups.get_or_create("test", "g1", NOW)
    schedule = await repos.groups.add_schedule(Schedule(0, group.id, "09:00", "UTC"), NOW)
    post = await repos.groups.claim_post(schedule, DAY, NOW, NOW, item(), new_post_token())
    assert post is not None
    me, other = await members(repos, 2)
    share = await repos.groups.add_share(post.id, me, "line", SECRET, NOW)
    assert await repos.groups.share(other, share.id) is None, "another member's share"
    assert (await repos.groups.share(me, share.id)) == share
    assert await repos.groups.settle_share(share.id, "posted", item(SECRET), NOW)
    assert not await repos.groups.settle_share(share.id, "posted", item(SECRET), NOW)
    assert len(await repos.outbox.items()) == 2


async def test_answers_settings_holidays_and_reminders_round_trip(repos: Repos) -> None:
    [me] = await members(repos, 1)
    group = await repos.groups.get_or_create("test", "g1", NOW)
    assert await repos.groups.get_or_create("test", "g1", NOW) == group
    await repos.groups.update(
        Group(group.id, "test", "g1", "America/New_York", "US", "", "mods", True)
    )
    assert await repos.groups.set_holiday(group.id, DAY, True)
    assert not await repos.groups.set_holiday(group.id, DAY, True)
    changed = await repos.groups.by_id(group.id)
    assert changed is not None
    assert (changed.timezone, changed.country, changed.summary_time) == (
        "America/New_York",
        "US",
        "",
    )
    assert changed.volunteers and changed.holidays == {DAY}
    schedule = await repos.groups.add_schedule(Schedule(0, group.id, "09:00", "UTC"), NOW)
    post = await repos.groups.claim_post(schedule, DAY, NOW, NOW, item(), new_post_token())
    assert post is not None
    await repos.groups.put_response(Response(post.id, me, 3, 4), NOW)
    await repos.groups.put_response(Response(post.id, me, 4, 2, True), NOW)
    assert await repos.groups.responses([post.id]) == [Response(post.id, me, 4, 2, True)]
    assert [p.id for p in await repos.groups.posts_on(group.id, DAY)] == [post.id]
    quiet = frozenset({5, 6})
    saved = await repos.reminders.put(Reminder(0, me, "08:30", "Europe/Berlin", False, quiet), NOW)
    assert saved.quiet_days == {5, 6} and saved.id > 0
    again = await repos.reminders.put(Reminder(0, me, "07:00", "UTC"), NOW)
    assert again.id == saved.id and (await repos.reminders.all()) == [again]
    assert await repos.groups.remove_schedule(group.id, schedule.id)
    assert not await repos.groups.remove_schedule(group.id, schedule.id)


async def test_own_prompts_and_payloads_are_never_stored_in_plaintext(tmp_path: Path) -> None:
    db, cipher = await open_encrypted(tmp_path / "unblend.sqlite", {})
    repos = sqlite_repos(db, cipher)
    group = await repos.groups.get_or_create("test", "g1", NOW)
    schedule = await repos.groups.add_schedule(
        Schedule(0, group.id, "09:00", "UTC", prompt_text="PROMPT-SECRET"), NOW
    )
    post = await repos.groups.claim_post(
        schedule, DAY, NOW, NOW, item("PAYLOAD-SECRET"), new_post_token()
    )
    assert post is not None
    [me] = await members(repos, 1)
    await repos.groups.add_share(post.id, me, "line", "LINE-SECRET", NOW)
    await db.close()
    raw = database_bytes(tmp_path)
    for secret in (b"PROMPT-SECRET", b"PAYLOAD-SECRET", b"LINE-SECRET"):
        assert secret not in raw
