"""The moderators' audit log: every change to schedules and settings (who, what, when), shown
with /group audit to moderators only, kept up to the hard cap, and without who after /forget."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Reply, Space
from core.kernel.settings import Settings
from core.privacy.data import export_member
from core.repos import in_memory_repos
from core.storage.database import Database
from tests.chat import Chat
from tests.conftest import detector, library
from tests.test_storage import database_bytes, sqlite_app

GROUP = Space.group("g1")
OWN_PROMPT = "What are you grateful for today? 4417"


async def mod(
    app: Unblend, text: str, user: str = "mod", name: str = "Robin", moderator: bool = True
) -> list[Reply]:
    command, *args = text.split()
    event = Event(
        "test",
        user,
        GROUP,
        command=command,
        args=tuple(args),
        is_moderator=moderator,
        display_name=name,
    )
    return await app.handle(event)


async def audit(app: Unblend, user: str = "mod", moderator: bool = True) -> str:
    replies = await mod(app, "/group audit", user=user, moderator=moderator)
    return "\n".join(r.text for r in replies)


def lines_of(text: str) -> list[str]:
    return text.splitlines()[1:]


async def every_change(app: Unblend) -> None:
    """One of each moderator change, in order."""
    for command in (
        f"/schedule add 09:00 Europe/Berlin weekdays {OWN_PROMPT}",
        "/schedule pause 2",
        "/schedule resume 2",
        "/schedule skip 2 2026-01-07",
        "/schedule holiday add 2026-12-25",
        "/schedule holiday remove 2026-12-25",
        "/group settings country GB",
        "/group settings summary 20:30",
        "/group settings modchannel 4242",
        "/group settings volunteers on",
        "/schedule remove 2",
    ):
        await mod(app, command)


async def test_every_moderator_change_is_recorded_and_shown_newest_first(
    app: Unblend, clock: FakeClock
) -> None:
    await every_change(app)
    [reply] = await mod(app, "/group audit")
    # Only the moderator who asked sees it; the group sees a note only if they can't be reached.
    assert reply.private and reply.group_fallback is not None
    assert not reply.group_fallback.private and OWN_PROMPT not in reply.group_fallback.text
    text = reply.text
    assert "newest first (Europe/Berlin time)" in text
    described = f'09:00 Europe/Berlin, weekdays, "{OWN_PROMPT}"'
    assert lines_of(text) == [
        f"2026-01-05 10:00, Robin: removed check-in 2 (it was {described})",
        "2026-01-05 10:00, Robin: changed volunteers: off -> on",
        "2026-01-05 10:00, Robin: changed modchannel: none -> 4242",
        "2026-01-05 10:00, Robin: changed summary: 21:00 -> 20:30",
        "2026-01-05 10:00, Robin: changed country: none -> GB",
        "2026-01-05 10:00, Robin: removed the group holiday 2026-12-25",
        "2026-01-05 10:00, Robin: added the group holiday 2026-12-25",
        "2026-01-05 10:00, Robin: set check-in 2 to skip 2026-01-07",
        "2026-01-05 10:00, Robin: turned check-in 2 back on",
        "2026-01-05 10:00, Robin: paused check-in 2",
        # The group's first check-in named its timezone: the group's changed with it.
        "2026-01-05 10:00, Robin: changed timezone: UTC -> Europe/Berlin",
        f"2026-01-05 10:00, Robin: added check-in 2: {described}",
    ]


async def test_refused_and_unchanged_commands_record_nothing(app: Unblend) -> None:
    await mod(app, "/schedule add 09:00 UTC", user="u2", name="Sam", moderator=False)
    await mod(app, "/group settings summary 20:00", user="u2", name="Sam", moderator=False)
    for bad in (
        "/schedule add 25:00",
        "/schedule add 09:00 Mars/Olympus",
        "/schedule pause 99",
        "/schedule skip 1 1899-01-01",
        "/schedule holiday remove 2026-12-25",  # was not a holiday
        "/group settings country XX",
        "/group settings timezone UTC",  # already UTC
        "/group settings colour blue",
    ):
        await mod(app, bad)
    assert "No changes to this group's check-ins or settings" in await audit(app)
    # A second pause of a paused check-in changes nothing either.
    await mod(app, "/schedule add 09:00 UTC")
    await mod(app, "/schedule pause 2")
    await mod(app, "/schedule pause 2")
    assert len(lines_of(await audit(app))) == 2


async def test_only_moderators_see_the_audit(app: Unblend) -> None:
    await mod(app, "/schedule add 09:00 UTC")
    [reply] = await mod(app, "/group audit", user="u2", name="Sam", moderator=False)
    assert not reply.private and "Only this group's moderators" in reply.text
    assert "Robin" not in reply.text and "09:00" not in reply.text
    # In a private chat there is no group to audit.
    await Chat(app, "mod").welcome()
    [private] = await Chat(app, "mod").send("/group audit")
    assert "works inside the group" in private.text


async def test_the_last_20_changes_are_shown_in_the_groups_timezone(
    app: Unblend, clock: FakeClock
) -> None:
    await mod(app, "/group settings timezone America/New_York")
    for i in range(24):
        clock.advance(timedelta(minutes=1))
        await mod(app, f"/group settings summary 20:{i:02d}")
    shown = lines_of(await audit(app))
    assert len(shown) == 20
    # 09:24 UTC on 5 January is 04:24 in New York.
    assert shown[0] == "2026-01-05 04:24, Robin: changed summary: 20:22 -> 20:23"
    assert shown[-1].startswith("2026-01-05 04:05, Robin: changed summary: 20:03 -> 20:04")


async def test_a_handle_with_markup_and_odd_characters_is_kept_as_text(app: Unblend) -> None:
    name = "<b>Ro</b> & \u05e8\u05d5\u05d1\u05d9\u05df \U0001f33f" + "x" * 500
    await mod(app, "/group settings volunteers on", name=name)
    [line] = lines_of(await audit(app))
    assert line.startswith(
        "2026-01-05 09:00, <b>Ro</b> & \u05e8\u05d5\u05d1\u05d9\u05df \U0001f33f"
    )
    assert "x" * 60 not in line, "a long handle is cut"
    # An empty handle names the member by their number instead.
    await mod(app, "/group settings volunteers off", name="")
    assert "member 1: changed volunteers: on -> off" in await audit(app)


async def test_a_forgotten_moderator_becomes_a_former_member(app: Unblend) -> None:
    await mod(app, "/schedule add 09:00 UTC")
    await mod(app, "/schedule add 10:00 UTC", user="mod2", name="Kim")
    robin = Chat(app, "mod")
    await robin.welcome()
    member = await app.repos.members.find("test", "mod")
    assert member is not None
    data = await export_member(app.repos, member.id)
    [change] = data["group_changes_made"]
    assert change["action"] == "schedule_add" and change["as"] == "Robin"
    await robin.send("/forget")
    await robin.tap("Yes, erase everything")
    shown = await audit(app, user="mod2")
    assert "a former member: added check-in 2: 09:00 UTC" in shown
    assert "Kim: added check-in 3" in shown and "Robin" not in shown


async def test_the_daily_clean_up_purges_entries_past_the_hard_cap(clock: FakeClock) -> None:
    settings = Settings(retention_days=30, retention_days_max=90)
    app = Unblend(in_memory_repos(), library(), detector(), clock, settings)
    await mod(app, "/group settings summary 20:00")
    clock.advance(timedelta(days=60))
    await mod(app, "/group settings summary 19:00")
    await app.purge(clock.now())
    assert len(lines_of(await audit(app))) == 2, "kept up to the hard cap, not the default"
    clock.advance(timedelta(days=31))
    await app.purge(clock.now())
    [left] = lines_of(await audit(app))
    assert "20:00 -> 19:00" in left


async def test_sqlite_keeps_the_audit_encrypted_and_anonymises_on_forget(
    tmp_path: Path, clock: FakeClock
) -> None:
    app, db = await sqlite_app(tmp_path / "unblend.sqlite", clock)
    try:
        await _sqlite_audit(app, db, tmp_path, clock)
    finally:
        await db.close()


async def _sqlite_audit(app: Unblend, db: Database, tmp_path: Path, clock: FakeClock) -> None:
    handle = "Robin-Handle-9931"
    await mod(app, f"/schedule add 09:00 Europe/Berlin {OWN_PROMPT}", name=handle)
    await mod(app, "/group settings summary 20:00", name=handle)
    shown = await audit(app)
    assert f'"{OWN_PROMPT}"' in shown and f"{handle}: changed summary: 21:00 -> 20:00" in shown
    raw = database_bytes(tmp_path)
    assert OWN_PROMPT.encode() not in raw and handle.encode() not in raw
    robin = Chat(app, "mod")
    await robin.welcome()
    await robin.send("/forget")
    await robin.tap("Yes, erase everything")
    rows = list(await db.fetchall("SELECT actor_id, actor_name FROM audit_log"))
    assert len(rows) == 3 and all(r == (None, None) for r in rows)
    assert "a former member: changed summary" in await audit(app, user="mod2")
    clock.advance(timedelta(days=366))
    await app.purge(clock.now())
    assert (await db.fetchone("SELECT COUNT(*) FROM audit_log")) == (0,)
