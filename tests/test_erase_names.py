"""Issue 12, item 10: erase means erase. A volunteer's /forget leaves no trace of their name in
the messages stored for the member they helped, nor in that member's export; and a console
export is one private file per member that /forget removes."""

from __future__ import annotations

import io
import json
import re
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.console import ConsoleAdapter
from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.settings import Settings
from core.privacy.data import export_member
from core.repos import in_memory_repos, sqlite_repos
from tests.conftest import detector, library
from tests.engines import ENGINES, open_engine
from tests.reach_room import Person, Room, become_volunteer, check_in, join

VOLUNTEER = "Vortigern-Volunteer-5150"
ASKER = "Annwyn-Asker-7781"


@pytest.fixture(params=["memory", *ENGINES])
async def app(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Unblend]:
    settings = Settings(default_country="GB")
    if request.param == "memory":
        yield Unblend(in_memory_repos(), library(), detector(), clock, settings)
        return
    db, cipher = await open_engine(request.param, request, tmp_path)
    yield Unblend(sqlite_repos(db, cipher), library(), detector(), clock, settings)
    await db.close()


async def taken(app: Unblend, clock: FakeClock) -> tuple[Room, Person, Person]:
    """Ann asks for a reach-out after a group check-in; the volunteer takes it."""
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    vol = Person(app, "v1", VOLUNTEER)
    await become_volunteer(vol, room)
    link = await room.post()
    ann = Person(app, "ann", ASKER)
    await join(ann, room)
    await check_in(ann, link)
    await ann.tap("Yes, please")
    [ask] = [d for d in await room.deliver() if d.target == "v1"]
    assert ask.reply.text.startswith(f"{ASKER} from your group asked")
    await vol.choose(ask.reply.choices[0].id)
    assert "Thank you for taking this" in vol.text()
    return room, ann, vol


async def forget(person: Person) -> None:
    await person.send("/forget")
    await person.tap("Yes, erase everything")
    assert "erased everything" in person.text()


async def everything_stored(app: Unblend) -> str:
    """Every member's export and every outbox row, as text."""
    members = [await export_member(app.repos, i) for i in await app.repos.members.ids()]
    rows = [i.payload for i in await app.repos.outbox.items()]
    return json.dumps([members, rows], ensure_ascii=False)


async def test_a_volunteers_forget_before_the_message_goes_leaves_no_name(
    app: Unblend, clock: FakeClock
) -> None:
    room, _, vol = await taken(app, clock)
    rows = json.dumps([i.payload for i in await app.repos.outbox.items()], ensure_ascii=False)
    assert VOLUNTEER not in rows, "stored by id, never by name"
    assert VOLUNTEER in json.dumps(await export_member(app.repos, await vol.member_id()))
    await forget(vol)
    [told] = [d for d in await room.deliver() if d.target == "ann"]
    assert told.reply.text.startswith("A volunteer from your group will reach out to you")
    assert VOLUNTEER not in told.reply.text
    assert VOLUNTEER not in await everything_stored(app)


async def test_a_volunteers_forget_after_it_was_sent_clears_the_askers_export(
    app: Unblend, clock: FakeClock
) -> None:
    room, ann, vol = await taken(app, clock)
    [told] = [d for d in await room.deliver() if d.target == "ann"]
    assert told.reply.text.startswith(f"{VOLUNTEER} from your group will reach out to you")
    ann_id = await ann.member_id()
    before = json.dumps(await export_member(app.repos, ann_id), ensure_ascii=False)
    assert f"{VOLUNTEER} from your group will reach out" in before, "named while they are here"
    await forget(vol)
    after = json.dumps(await export_member(app.repos, ann_id), ensure_ascii=False)
    assert VOLUNTEER not in after
    assert "A volunteer from your group will reach out" in after
    assert VOLUNTEER not in await everything_stored(app)
    await ann.send("/export")
    assert VOLUNTEER.encode() not in b"".join(r.file or b"" for r in ann.last)


async def test_an_askers_forget_leaves_no_name_with_the_volunteer(
    app: Unblend, clock: FakeClock
) -> None:
    room, ann, vol = await taken(app, clock)
    await room.deliver()
    await forget(ann)
    assert ASKER not in await everything_stored(app)
    vol_export = json.dumps(await export_member(app.repos, await vol.member_id()))
    assert ASKER not in vol_export


async def test_a_shared_line_is_stored_without_the_name(app: Unblend, clock: FakeClock) -> None:
    room = Room(app, clock)
    link = await room.post()
    ann = Person(app, "ann", ASKER)
    await join(ann, room)
    await check_in(ann, link, share="Share my mood only")
    stored = json.dumps([i.payload for i in await app.repos.outbox.items()], ensure_ascii=False)
    assert ASKER not in stored
    [shared] = [d for d in await room.deliver() if d.target == "g1" and "mood" in d.reply.text]
    assert shared.reply.text.startswith(f"{ASKER} checked in today")


# -- console exports -----------------------------------------------------------------------------

SAVED = re.compile(r"\[file saved: (.+?)\]")


async def console(app: Unblend, user: str, folder: Path, *lines: str) -> str:
    out = io.StringIO()
    script = io.StringIO("\n".join(lines) + "\n")
    await ConsoleAdapter(app, script, out, user, files_dir=folder).run(banner=False)
    return out.getvalue()


async def test_each_console_member_gets_their_own_private_export_and_forget_removes_it(
    app: Unblend, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    welcome = ("/start", "Okay", "Yes, keep them")
    alice_out = await console(app, "alice", folder, *welcome, "/checkin", "4", "3", "/export")
    bob_out = await console(app, "bob", folder, *welcome, "/export")
    alice_files = [Path(p) for p in SAVED.findall(alice_out)]
    bob_files = [Path(p) for p in SAVED.findall(bob_out)]
    assert len(alice_files) == 2 and len(bob_files) == 2
    assert not set(alice_files) & set(bob_files), "bob's export never overwrites alice's"
    [alice_json] = [p for p in alice_files if p.suffix == ".json"]
    assert json.loads(alice_json.read_bytes())["member"]["user_id"] == "alice"
    for path in alice_files + bob_files:
        assert path.is_file() and folder in path.parents
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "alice" not in str(path.relative_to(folder)), "the name does not say whose"
        assert "bob" not in str(path.relative_to(folder))
    for parent in {p.parent for p in alice_files + bob_files}:
        assert stat.S_IMODE(parent.stat().st_mode) == 0o700

    await console(app, "alice", folder, "/forget", "Yes, erase everything")
    assert not any(p.exists() for p in alice_files), "/forget removes the member's export"
    assert all(p.exists() for p in bob_files), "and nobody else's"
    assert b"alice" not in b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
