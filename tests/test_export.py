"""/export: everything stored about the member, privately, as JSON plus a CSV of check-ins."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path
from typing import Any

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Reply, Space
from core.privacy.data import checkins_csv
from tests.chat import Chat
from tests.member_data import COUNTER, NOTE, PART, PLAN, SLIP_NOTE, fill_everything
from tests.test_storage import sqlite_app


def files(replies: list[Reply]) -> dict[str, bytes]:
    return {r.file_name: r.file for r in replies if r.file is not None}


def exported(replies: list[Reply]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    found = files(replies)
    [json_name] = [n for n in found if n.endswith(".json")]
    [csv_name] = [n for n in found if n.endswith(".csv")]
    data = json.loads(found[json_name])
    rows = list(csv.DictReader(io.StringIO(found[csv_name].decode("utf-8-sig"))))
    return data, rows


async def test_export_holds_everything_stored_about_the_member(app: Unblend, chat: Chat) -> None:
    await fill_everything(app, chat)
    replies = await chat.send("/export")
    assert all(r.private for r in replies)
    assert set(files(replies)) == {
        "unblend-export-2026-01-05.json",
        "unblend-checkins-2026-01-05.csv",
    }
    data, rows = exported(replies)
    assert data["member"]["user_id"] == "u1" and data["member"]["keep_history"] is True
    [checkin] = data["checkins"]
    assert checkin["note"] == NOTE and checkin["part"] == PART and checkin["mood"] == 2
    assert [p["name"] for p in data["parts"]] == [PART]
    assert data["safety_plan"] == {"warning": PLAN}
    [counter] = data["day_counters"]
    assert counter["name"] == COUNTER and counter["slips"][0]["note"] == SLIP_NOTE
    assert data["exercises"][0]["exercise"] == "box"
    assert data["unfinished"]["flow"] == "checkin"
    # The CSV: one row a check-in, the words the member saw, the note intact.
    assert rows == [
        {
            "date": "2026-01-05",
            "time": "09:00:00",
            "mood": "2",
            "urge": "6",
            "part": PART,
            "need": "Tired",
            "note": NOTE,
        }
    ]
    # No question fills a "protector", so no empty column pretends one (issue 13).
    assert "protector" not in checkin
    # The flow in progress is untouched by the export.
    await chat.send("/skip")
    assert "Which part of you" in chat.text()


async def test_one_member_never_gets_another_members_data(app: Unblend, chat: Chat) -> None:
    await fill_everything(app, chat)
    other = Chat(app, "u2")
    await other.welcome()
    await other.checkin(note="my own words")
    data, rows = exported(await other.send("/export"))
    dumped = json.dumps(data)
    for secret in (NOTE, PART, PLAN, COUNTER, SLIP_NOTE):
        assert secret not in dumped
    assert [r["note"] for r in rows] == ["my own words"]


async def test_export_with_nothing_stored_stores_nothing(app: Unblend, chat: Chat) -> None:
    [reply] = await chat.send("/export")
    assert "nothing to send" in reply.text and reply.file is None
    assert await app.repos.members.find("test", "u1") is None


async def test_export_in_a_group_opens_the_private_chat(app: Unblend, chat: Chat) -> None:
    await fill_everything(app, chat)
    [reply] = await app.handle(Event("test", "u1", Space.group("g"), command="/export"))
    assert reply.private is False and reply.private_link == "export" and reply.file is None


def test_csv_cells_never_run_as_spreadsheet_formulas() -> None:
    raw = checkins_csv(
        [
            {"at": "2026-01-05T09:00:00+00:00", "note": "=HYPERLINK(1)"},
            {"at": "2026-01-04T09:00:00+00:00", "note": 'a "quoted", multi\nline note'},
        ]
    )
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["date"] for r in rows] == ["2026-01-04", "2026-01-05"]
    assert rows[0]["note"] == 'a "quoted", multi\nline note'
    assert rows[1]["note"] == "'=HYPERLINK(1)"


async def test_export_reads_encrypted_sqlite_storage(tmp_path: Path, clock: FakeClock) -> None:
    app, db = await sqlite_app(tmp_path / "unblend.sqlite", clock)
    chat = Chat(app)
    await fill_everything(app, chat)
    data, rows = exported(await chat.send("/export"))
    assert data["checkins"][0]["note"] == NOTE and rows[0]["note"] == NOTE
    assert data["parts"][0]["name"] == PART and data["safety_plan"]["warning"] == PLAN
    assert data["day_counters"][0]["slips"][0]["note"] == SLIP_NOTE
    assert data["member"]["first_seen"].startswith("2026-01-05")
    await db.close()


async def test_the_console_writes_export_files_privately(tmp_path: Path, app: Unblend) -> None:
    from bots.console import ConsoleAdapter

    out = io.StringIO()
    script = io.StringIO("/start\nOkay\nYes, keep them\n/export\n")
    folder = tmp_path / "exports"
    await ConsoleAdapter(app, script, out, "me", files_dir=folder).run(banner=False)
    # Issue 12: in the member's own folder under `folder` (one per member, named by a keyed
    # hash), so one member's export never overwrites another's and /forget can remove it.
    [path] = folder.glob("*/unblend-export-2026-01-05.json")
    assert f"[file saved: {path}]" in out.getvalue()
    assert json.loads(path.read_bytes())["member"]["user_id"] == "me"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (path.parent / "unblend-checkins-2026-01-05.csv").exists()
