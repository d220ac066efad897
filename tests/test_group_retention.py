"""A group's own retention: `/group settings retention <days>` under the hard cap, and the daily
purge of each group's check-in data (posts, private answers, shared items, sent outbox rows)
after that group's limit. Members' own history keeps to their own limit; so do their closed
reach-out requests, and belonging to a group ends at the hard cap after their last activity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.app import Unblend
from core.checkin.records import Checkin
from core.groups.checkins.engine import new_post_token
from core.groups.reachouts.records import NewReachOut, ReachOut
from core.groups.records import Post, Response, Schedule
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Reply, Space
from core.kernel.settings import Settings
from core.outbox.records import NewOutboxItem, OutboxItem, OutboxState
from core.repos import in_memory_repos
from tests.conftest import detector, library
from tests.engines import ENGINES, app_on

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def mod(app: Unblend, text: str, space: str = "g1", moderator: bool = True) -> list[Reply]:
    name, *args = text.split()
    event = Event(
        "test", "mod", Space.group(space), command=name, args=tuple(args), is_moderator=moderator
    )
    return await app.handle(event)


def app_with(clock: FakeClock, **settings: object) -> Unblend:
    return Unblend(in_memory_repos(), library(), detector(), clock, Settings(**settings))  # type: ignore[arg-type]


async def test_retention_is_a_moderators_setting_under_the_hard_cap(clock: FakeClock) -> None:
    app = app_with(clock, retention_days=90, retention_days_max=180)
    [shown] = await mod(app, "/group settings")
    assert "Keeping check-in answers, shared lines and prompts: 90 days (the bot's default)" in (
        shown.text
    )
    [refused] = await mod(app, "/group settings retention 30", moderator=False)
    assert "Only this group's moderators" in refused.text
    cases = {
        "181": "181 days is longer than this bot may keep anything: the limit is 180 days",
        "99999999999": "the limit is 180 days",
        "0": "at least 1 day",
        "-5": "Please give a number of days",
        "abc": "Please give a number of days",
        "<b>30</b>": "Please give a number of days",
        "": "Please give a number of days",
        "٣٠": "Please give a number of days",
    }
    for value, expected in cases.items():
        [reply] = await mod(app, f"/group settings retention {value}")
        assert expected in reply.text and not reply.private, value
        clock.advance(timedelta(seconds=1))
    assert "90 days (the bot's default)" in (await mod(app, "/group settings"))[0].text
    [saved] = await mod(app, "/group settings retention 180")
    assert "now kept for 180 days" in saved.text
    [shown] = await mod(app, "/group settings")
    assert "180 days (this group's choice; at most 180)" in shown.text
    [saved] = await mod(app, "/group settings retention 30 days")
    assert "now kept for 30 days" in saved.text
    [reset] = await mod(app, "/group settings retention default")
    assert "follows the bot's default: 90 days" in reset.text
    group = await app.repos.groups.get_or_create("test", "g1", clock.now())
    changes = [(e.subject, e.old, e.new) for e in await app.repos.audit.recent(group.id, 10)]
    assert changes == [
        ("retention", "30", ""),
        ("retention", "180", "30"),
        ("retention", "", "180"),
    ]


@dataclass
class GroupData:
    post: Post
    share_id: int
    member_id: int


async def checked_in(app: Unblend, space: str, user: str, now: datetime) -> GroupData:
    """A post in the group at `now`, a member's answer to it and their shared line, sent."""
    repos = app.repos
    group = await repos.groups.get_or_create("test", space, now)
    schedule = await repos.groups.add_schedule(Schedule(0, group.id, "09:00", "UTC"), now)
    item = NewOutboxItem("test", space, {"text": "prompt"})
    post = await repos.groups.claim_post(schedule, now.date(), now, now, item, new_post_token())
    assert post is not None
    member = await repos.members.get_or_create("test", user, now)
    await repos.groups.put_response(Response(post.id, member.id, 3, 4), now)
    share = await repos.groups.add_share(post.id, member.id, "line", f"line of {user}", now)
    line = NewOutboxItem("test", space, {"text": f"{user}: line"})
    assert await repos.groups.settle_share(share.id, "posted", line, now)
    await repos.checkins.add(Checkin(member.id, now, mood=3, note=f"{user}'s own note"))
    for queued in await repos.outbox.items():
        if queued.state is OutboxState.PENDING:
            await repos.outbox.mark_sent(queued.id, f"m{queued.id}", now)
    return GroupData(post, share.id, member.id)


async def kept(app: Unblend, data: GroupData) -> tuple[bool, bool, bool]:
    repos = app.repos
    post = await repos.groups.post(data.post.id) is not None
    answers = bool(await repos.groups.responses([data.post.id]))
    share = await repos.groups.share(data.member_id, data.share_id) is not None
    return post, answers, share


def outbox_texts(items: list[OutboxItem]) -> list[str]:
    return sorted(str(i.payload.get("text")) for i in items)


@pytest.fixture(params=["memory", *ENGINES])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Unblend]:
    if request.param == "memory":
        yield app_with(clock)
        return
    app, db = await app_on(request.param, request, tmp_path, clock)
    yield app
    await db.close()


async def test_each_groups_data_goes_after_its_own_retention(
    store: Unblend, clock: FakeClock
) -> None:
    app = store
    clock.set(T0)
    await mod(app, "/group settings retention 30", "g1")
    short = await checked_in(app, "g1", "u1", T0)
    default = await checked_in(app, "g2", "u2", T0)

    clock.set(T0 + 29 * DAY)
    await app.purge(clock.now())
    assert await kept(app, short) == (True, True, True), "29 days: all still there"

    clock.set(T0 + 31 * DAY)
    fresh = await checked_in(app, "g1", "u3", clock.now())
    await app.purge(clock.now())
    assert await kept(app, short) == (False, False, False), "g1 keeps 30 days"
    assert await kept(app, fresh) == (True, True, True)
    assert await kept(app, default) == (True, True, True), "g2 keeps the default, 365 days"
    texts = outbox_texts(await app.repos.outbox.items())
    assert "u1: line" not in texts and texts.count("prompt") == 2
    assert {"u2: line", "u3: line"} <= set(texts)
    # A member's own history follows their own limit, not the group's.
    own = await app.repos.checkins.since(short.member_id, T0 - DAY)
    assert [c.note for c in own] == ["u1's own note"]

    clock.set(T0 + 366 * DAY)
    await app.purge(clock.now())
    assert await kept(app, default) == (False, False, False)
    assert await kept(app, fresh) == (False, False, False)


async def test_a_group_cannot_keep_longer_than_the_cap(clock: FakeClock) -> None:
    app = app_with(clock, retention_days=30, retention_days_max=60)
    clock.set(T0)
    assert "the limit is 60 days" in (await mod(app, "/group settings retention 90"))[0].text
    await mod(app, "/group settings retention 60", "g1")
    long = await checked_in(app, "g1", "u1", T0)
    default = await checked_in(app, "g2", "u2", T0)
    clock.set(T0 + 45 * DAY)
    await app.purge(clock.now())
    assert await kept(app, long) == (True, True, True), "its own 60 days"
    assert await kept(app, default) == (False, False, False), "the default 30 days"


async def test_pending_sends_are_never_purged(clock: FakeClock) -> None:
    app = app_with(clock)
    clock.set(T0)
    await mod(app, "/group settings retention 1", "g1")
    await app.repos.outbox.enqueue(NewOutboxItem("test", "g1", {"text": "waiting"}), T0)
    clock.set(T0 + 3 * DAY)
    await app.purge(clock.now())
    assert [i.payload["text"] for i in await app.repos.outbox.items()] == ["waiting"]


def keeping(app: Unblend, days: int, cap: int) -> Unblend:
    app.settings = replace(app.settings, retention_days=days, retention_days_max=cap)
    return app


async def request(app: Unblend, member_id: int, group_id: int, token: str) -> ReachOut:
    """A member's request for a peer to reach out, open for two hours from now."""
    now = app.clock.now()
    new = NewReachOut(group_id, member_id, None, token, "volunteers", now + timedelta(hours=2))
    return await app.repos.reachouts.open_request(new, [], now)


async def requests_of(app: Unblend, member_id: int) -> list[tuple[str, str, str]]:
    """What /export shows of the reach-outs the member asked for or answered."""
    data = await app.repos.reachouts.export(member_id)
    return [(r["role"], r["state"], r["created_at"][:10]) for r in data["reach_outs"]]


async def test_closed_reach_outs_go_after_the_members_retention_open_ones_stay(
    store: Unblend, clock: FakeClock
) -> None:
    app = keeping(store, 30, 180)
    repos = app.repos
    clock.set(T0)
    group = await repos.groups.get_or_create("test", "g1", T0)
    asker = (await repos.members.get_or_create("test", "asker", T0)).id
    helper = (await repos.members.get_or_create("test", "helper", T0)).id
    answered = await request(app, asker, group.id, "t1")
    assert await repos.reachouts.acknowledge(answered.id, helper, [], T0 + timedelta(minutes=5))
    unanswered = await request(app, asker, group.id, "t2")
    assert await repos.reachouts.expire(unanswered.id, [], T0 + timedelta(hours=2))
    # An open request is never purged, however old, even one whose time is not yet up.
    waiting = NewReachOut(group.id, asker, None, "t3", "moderators", T0 + 90 * DAY)
    await repos.reachouts.open_request(waiting, [], T0)

    clock.set(T0 + 20 * DAY)
    recent = await request(app, asker, group.id, "t4")
    assert await repos.reachouts.acknowledge(recent.id, helper, [], clock.now())

    clock.set(T0 + 29 * DAY)
    await app.purge(clock.now())
    assert len(await requests_of(app, asker)) == 4, "29 days: all still there"

    clock.set(T0 + 31 * DAY)
    await app.purge(clock.now())
    assert await requests_of(app, asker) == [
        ("asked", "open", "2026-03-02"),
        ("asked", "acked", "2026-03-22"),
    ]
    assert await requests_of(app, helper) == [("answered as a volunteer", "acked", "2026-03-22")]
    assert await repos.reachouts.open_for(group.id, asker) is not None

    clock.set(T0 + 51 * DAY)
    await app.purge(clock.now())
    assert await requests_of(app, asker) == [("asked", "open", "2026-03-02")]


async def group_activity(app: Unblend, space: str, user: str) -> None:
    """Anything the member does in a group, here /help, counts as activity there."""
    await app.handle(Event("test", user, Space.group(space), command="help"))


async def test_belonging_to_a_group_ends_at_the_cap_after_the_last_activity(
    store: Unblend, clock: FakeClock
) -> None:
    app = keeping(store, 30, 180)
    clock.set(T0)
    await group_activity(app, "g1", "u1")
    await group_activity(app, "g2", "u1")
    member = await app.repos.members.find("test", "u1")
    assert member is not None
    g1, g2 = [(await app.repos.groups.get_or_create("test", s, T0)).id for s in ("g1", "g2")]
    clock.set(T0 + 100 * DAY)
    await group_activity(app, "g2", "u1")

    clock.set(T0 + 179 * DAY)
    await app.purge(clock.now())
    assert await app.repos.reachouts.groups_of(member.id) == [g1, g2], "not the 30 days"

    clock.set(T0 + 181 * DAY)
    await app.purge(clock.now())
    assert await app.repos.reachouts.groups_of(member.id) == [g2]
    # Taking part again makes them a member again.
    await group_activity(app, "g1", "u1")
    assert await app.repos.reachouts.groups_of(member.id) == [g1, g2]

    clock.set(T0 + 281 * DAY)
    await app.purge(clock.now())
    assert await app.repos.reachouts.groups_of(member.id) == [g1]
