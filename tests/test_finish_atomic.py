"""A finished flow is saved in one transaction (issue 12, item 7).

The attack is a kill (OOM, a power cut, a deploy) between ending the flow and saving what it
collected. Before, the flow's state was deleted and committed first: a kill right then lost the
whole check-in. Now the end of the flow and the finisher's writes commit together: a kill at
any point leaves both or neither, and a failed finisher leaves the member on the last step.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest

from core.app import Unblend
from core.groups.checkins.engine import new_post_token
from core.groups.records import Schedule
from core.kernel.catalog import ContentLibrary
from core.kernel.clock import FakeClock
from core.kernel.flows import engine
from core.outbox.records import NewOutboxItem
from core.repos import Repos, in_memory_repos, sqlite_repos
from core.storage.keyring import open_encrypted
from tests.chat import Chat
from tests.conftest import CONTENT, detector
from tests.roster import Roster

PLAN = "the walk by the river"


class KilledError(Exception):
    pass


class Hook:
    """Wraps one repository: `before` runs when `method` is called, before the real write."""

    def __init__(self, inner: object, method: str, before: Callable[[], None]) -> None:
        self._inner, self._method, self._before = inner, method, before

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name != self._method:
            return attr

        async def hooked(*args: Any, **kwargs: Any) -> Any:
            self._before()
            return await attr(*args, **kwargs)

        return hooked


def killed_copy(path: Path, into: Path) -> Callable[[], None]:
    """Copies the database files as a kill at this instant leaves them on disk."""

    def copy() -> None:
        into.mkdir()
        for suffix in ("", "-wal"):
            source = Path(f"{path}{suffix}")
            if source.exists():
                shutil.copyfile(source, into / f"{path.name}{suffix}")

    return copy


def rows(folder: Path, sql: str, *params: object) -> int:
    with sqlite3.connect(folder / "unblend.sqlite") as conn:
        return int(conn.execute(sql, params).fetchone()[0])


async def sqlite_app(path: Path, clock: FakeClock, repo: str, hook: Callable[[], None]) -> Unblend:
    db, cipher = await open_encrypted(path, {})
    repos = sqlite_repos(db, cipher)
    hooked = getattr(repos, repo)
    method = {"checkins": "add", "plans": "put_section", "groups": "put_response"}[repo]
    repos = replace(repos, **{repo: cast(Any, Hook(hooked, method, hook))})
    app = Unblend(repos, ContentLibrary(CONTENT), detector(), clock)
    app.membership.register("test", Roster())  # everyone is in every group
    return app


async def test_a_kill_between_ending_a_checkin_and_saving_it_loses_nothing(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    at_kill = tmp_path / "at-kill"
    app = await sqlite_app(path, clock, "checkins", killed_copy(path, at_kill))
    chat = Chat(app)
    await chat.welcome(keep=True)
    await chat.checkin(note="a rough evening")
    assert "kept it privately" in chat.text()
    # On disk at the kill: the flow is still there (at its last step) and no check-in yet;
    # the member's answers are not lost, they can finish again.
    assert rows(at_kill, "SELECT count(*) FROM sessions") == 1
    assert rows(at_kill, "SELECT count(*) FROM checkins") == 0
    # Once committed: both at once.
    assert rows(tmp_path, "SELECT count(*) FROM sessions") == 0
    assert rows(tmp_path, "SELECT count(*) FROM checkins") == 1


async def test_a_kill_between_ending_a_safety_plan_section_and_saving_it_loses_nothing(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    at_kill = tmp_path / "at-kill"
    app = await sqlite_app(path, clock, "plans", killed_copy(path, at_kill))
    chat = Chat(app)
    await chat.welcome(keep=True)
    await chat.send("/safetyplan")
    await chat.tap("Write one section")
    await chat.tap("Warning signs")
    await chat.send(PLAN)
    assert rows(at_kill, "SELECT count(*) FROM sessions") == 1
    assert rows(at_kill, "SELECT count(*) FROM safety_plan_sections") == 0
    assert rows(tmp_path, "SELECT count(*) FROM sessions") == 0
    assert rows(tmp_path, "SELECT count(*) FROM safety_plan_sections") == 1


async def open_group_checkin(app: Unblend, chat: Chat, clock: FakeClock) -> int:
    """A group's post, and the member's private check-in on it, as the post's link opens it."""
    now = clock.now()
    group = await app.repos.groups.get_or_create("test", "g1", now)
    schedule = await app.repos.groups.add_schedule(Schedule(0, group.id, "09:00", "UTC"), now)
    item = NewOutboxItem("test", "g1", {"text": "How is everyone?"})
    post = await app.repos.groups.claim_post(
        schedule, date(2026, 1, 5), now, now, item, new_post_token()
    )
    assert post is not None
    member = await app.repos.members.find(chat.platform, chat.user_id)
    assert member is not None
    flow = app.library.catalog().flows["group_checkin"]
    await app.repos.sessions.put(member.id, engine.start(flow, now, {"post": str(post.id)}))
    await chat.send("/stop-nothing-here")  # any event: the stored flow is picked up
    await chat.choose("s:mood:4")
    await chat.choose("s:urge:6")
    return post.id


async def test_a_kill_between_ending_a_group_checkin_and_saving_it_loses_nothing(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    at_kill = tmp_path / "at-kill"
    app = await sqlite_app(path, clock, "groups", killed_copy(path, at_kill))
    chat = Chat(app)
    await chat.welcome(keep=True)
    await open_group_checkin(app, chat, clock)
    await chat.tap("Share my mood only")
    assert rows(at_kill, "SELECT count(*) FROM sessions") == 1
    assert rows(at_kill, "SELECT count(*) FROM group_responses") == 0
    assert rows(tmp_path, "SELECT count(*) FROM sessions") == 0
    assert rows(tmp_path, "SELECT count(*) FROM group_responses") == 1
    assert rows(tmp_path, "SELECT count(*) FROM checkins") == 1
    assert rows(tmp_path, "SELECT count(*) FROM shared_items WHERE state='posted'") == 1


def fail_once() -> Callable[[], None]:
    calls: list[int] = []

    def fail() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise KilledError

    return fail


@pytest.mark.parametrize("storage", ["sqlite", "memory"])
async def test_a_group_checkin_whose_saving_fails_is_all_undone_and_can_finish_again(
    tmp_path: Path, clock: FakeClock, storage: str
) -> None:
    """The check-in write fails after the group answer was written: neither stays, the flow
    stays at its last step, and finishing again saves each once (both storages alike)."""
    if storage == "sqlite":
        db, cipher = await open_encrypted(tmp_path / "unblend.sqlite", {})
        repos: Repos = sqlite_repos(db, cipher)
    else:
        repos = in_memory_repos()
    repos = replace(repos, checkins=cast(Any, Hook(repos.checkins, "add", fail_once())))
    app = Unblend(repos, ContentLibrary(CONTENT), detector(), clock)
    app.membership.register("test", Roster())  # everyone is in every group
    chat = Chat(app)
    await chat.welcome(keep=True)
    post = await open_group_checkin(app, chat, clock)
    await chat.tap("Share my mood only")
    assert "Something went wrong on my side" in chat.text()
    member = await repos.members.find(chat.platform, chat.user_id)
    assert member is not None
    assert await repos.groups.responses([post]) == []
    session = await repos.sessions.get(member.id)
    assert session is not None and session.step == "share"
    await chat.send("/stop-nothing-here")
    await chat.tap("Share my mood only")
    assert "shared" in chat.text().casefold()
    assert len(await repos.groups.responses([post])) == 1
    assert await repos.sessions.get(member.id) is None
    assert len(await repos.checkins.since(member.id, clock.now().replace(year=2000))) == 1
