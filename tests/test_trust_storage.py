"""Issue 12's migrations on real SQLite: posts named by a token (0014), and moderators' channels
stored before the rule (0015): a Telegram one in another chat is cleared, since nobody can
check now who set it; the group itself, its topics, and Discord's channels (re-checked against
the server before each use) stay."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from core.groups.records import Schedule
from core.kernel.clock import FakeClock
from core.outbox.records import NewOutboxItem
from core.storage.database import migration_scripts
from tests.chat import Chat
from tests.roster import Roster
from tests.test_storage import sqlite_app

BEFORE = 14  # the first of issue 12's migrations
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC).isoformat()
GROUPS = (
    ("telegram", "-1001", "-1002"),  # another chat: cleared
    ("telegram", "-1003", "-1003"),  # the group itself: kept
    ("telegram", "-1004", "77"),  # one of its topics: kept
    ("discord", "500", "600"),  # a channel id: kept, re-checked before use
)


def old_database(path: Path) -> None:
    """A database as the release before issue 12 left it, with groups and one post."""
    conn = sqlite3.connect(path)
    for number, _name, sql in migration_scripts():
        if number < BEFORE:
            conn.executescript(sql)
            conn.execute(f"PRAGMA user_version = {number}")
    for platform, space, channel in GROUPS:
        conn.execute(
            "INSERT INTO groups (platform, space_id, mod_channel, created_at) VALUES (?, ?, ?, ?)",
            (platform, space, channel, NOW),
        )
    conn.execute(
        "INSERT INTO posts (group_id, local_date, due_at) VALUES (1, '2026-01-05', ?)", (NOW,)
    )
    conn.commit()
    conn.close()


async def test_old_moderators_channels_in_other_chats_are_cleared_and_old_posts_open_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "unblend.sqlite"
    old_database(path)
    clock = FakeClock()
    app, db = await sqlite_app(path, clock)
    try:
        kept = {g.space_id: g.mod_channel for g in await app.repos.groups.all()}
        assert kept == {"-1001": "", "-1003": "-1003", "-1004": "77", "500": "600"}
        [post] = await app.repos.groups.posts_on(1, clock.now().date())
        assert post.token == "" and await app.repos.groups.post_by_token("") is None
        app.membership.register("telegram", Roster())
        chat = Chat(app, "42", platform="telegram")
        await chat.welcome()
        await chat.send(f"/start gcheckin-{post.id}")
        assert "isn't open any more" in chat.text()
    finally:
        await db.close()


async def test_a_token_names_one_post(tmp_path: Path) -> None:
    app, db = await sqlite_app(tmp_path / "unblend.sqlite", FakeClock())
    repos = app.repos
    try:
        when = datetime.fromisoformat(NOW)
        group = await repos.groups.get_or_create("telegram", "-1", when)
        schedule = await repos.groups.add_schedule(Schedule(0, group.id, "09:00", "UTC"), when)
        item = NewOutboxItem("telegram", "-1", {"text": "prompt"})
        token = "0123456789abcdef" * 2
        post = await repos.groups.claim_post(schedule, when.date(), when, when, item, token)
        assert post is not None and post.token == token
        found = await repos.groups.post_by_token(token)
        assert found is not None and found.id == post.id and found.token == token
        assert await repos.groups.post_by_token(token.upper()) is None
        assert await repos.groups.post_by_token(str(post.id)) is None
    finally:
        await db.close()
