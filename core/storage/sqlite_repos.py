"""SQLite repositories. Everything a member writes goes through the Cipher first."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from core.crypto import Cipher
from core.flows.engine import FlowState
from core.ports import Repos
from core.records import Checkin, Member, Part, Practice
from core.storage.audit_repos import SqliteAuditRepo
from core.storage.counter_repos import SqliteCounterRepo
from core.storage.database import Database
from core.storage.group_repos import SqliteGroupRepo, SqliteOutboxRepo, SqliteReminderRepo
from core.storage.group_safety_repos import SqliteGroupSafetyRepo
from core.storage.name_repos import SqliteNameRepo
from core.storage.reachout_repos import SqliteReachOutRepo
from core.storage.safety_plan_repos import SqliteSafetyPlanRepo
from core.storage.sealed import (
    CHECKIN_NOTE,
    PART_NAME,
    PART_NOTE_COLUMNS,
    SESSION_STATE,
)
from core.storage.stamps import stamp

# The encrypted note columns of `parts`, in the order of Part's fields.
PART_NOTE_FIELDS = ("notes", "body", "says", "protects")


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class SqliteMemberRepo:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Members are read on every event and rarely change: keep them in memory.
        self._cache: dict[tuple[str, str], Member] = {}

    async def get_or_create(self, platform: str, user_id: str, now: datetime) -> Member:
        member = await self._fetch(platform, user_id)
        if member is None:
            await self._db.execute(
                "INSERT INTO members (platform, platform_user_id, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (platform, platform_user_id) DO NOTHING",
                (platform, user_id, stamp(now)),
            )
            member = await self._fetch(platform, user_id)
            assert member is not None
        return member

    async def _fetch(self, platform: str, user_id: str) -> Member | None:
        key = (platform, user_id)
        if key in self._cache:
            return self._cache[key]
        row = await self._db.fetchone(
            "SELECT id, consent, consent_at, country, language FROM members"
            " WHERE platform=? AND platform_user_id=?",
            key,
        )
        if row is None:
            return None
        consent = None if row[1] is None else bool(row[1])
        member = Member(int(row[0]), platform, user_id, consent, _dt(row[2]), row[3], row[4])
        self._cache[key] = member
        return member

    async def by_id(self, member_id: int) -> Member | None:
        for member in self._cache.values():
            if member.id == member_id:
                return member
        row = await self._db.fetchone(
            "SELECT platform, platform_user_id FROM members WHERE id=?", (member_id,)
        )
        return None if row is None else await self._fetch(row[0], row[1])

    async def set_consent(self, member_id: int, consent: bool, now: datetime) -> Member:
        await self._db.execute(
            "UPDATE members SET consent=?, consent_at=? WHERE id=?",
            (int(consent), stamp(now), member_id),
        )
        for key, member in self._cache.items():
            if member.id == member_id:
                self._cache[key] = replace(member, consent=consent, consent_at=now)
                return self._cache[key]
        row = await self._db.fetchone(
            "SELECT platform, platform_user_id, country, language FROM members WHERE id=?",
            (member_id,),
        )
        if row is None:
            raise LookupError(member_id)
        return Member(member_id, row[0], row[1], consent, now, row[2], row[3])

    # -- privacy (issue 7) ---------------------------------------------------------------------

    def _uncache(self, member_id: int) -> None:
        for key in [k for k, m in self._cache.items() if m.id == member_id]:
            del self._cache[key]

    async def find(self, platform: str, user_id: str) -> Member | None:
        return await self._fetch(platform, user_id)

    async def set_country(self, member_id: int, country: str | None) -> Member:
        await self._db.execute("UPDATE members SET country=? WHERE id=?", (country, member_id))
        self._uncache(member_id)
        member = await self.by_id(member_id)
        if member is None:
            raise LookupError(member_id)
        return member

    async def set_language(self, member_id: int, language: str | None) -> Member:
        await self._db.execute("UPDATE members SET language=? WHERE id=?", (language, member_id))
        self._uncache(member_id)
        member = await self.by_id(member_id)
        if member is None:
            raise LookupError(member_id)
        return member

    async def ids(self) -> list[int]:
        return [int(r[0]) for r in await self._db.fetchall("SELECT id FROM members ORDER BY id")]

    async def export(self, member_id: int) -> dict[str, Any]:
        row = await self._db.fetchone(
            "SELECT platform, platform_user_id, created_at, consent, consent_at, country,"
            " language FROM members WHERE id=?",
            (member_id,),
        )
        if row is None:
            return {}
        return {
            "member": {
                "platform": row[0],
                "user_id": row[1],
                "first_seen": row[2],
                "keep_history": None if row[3] is None else bool(row[3]),
                "keep_history_chosen_at": row[4],
                "country": row[5],
                "language": row[6],
            }
        }

    async def erase(self, member_id: int) -> int:
        """Deletes the member row last of all (anything still pointing at it goes with it)."""
        removed = await self._db.changes("DELETE FROM members WHERE id=?", (member_id,))
        self._uncache(member_id)
        await self._db.scrub()
        return removed


def checkin_json(c: Checkin) -> dict[str, Any]:
    # No "protector": no question ever filled it, so an export does not pretend to hold one.
    return {
        "at": c.at.isoformat(),
        "mood": c.mood,
        "urge": c.urge,
        "part": c.part,
        "need": c.need,
        "note": c.note,
    }


CHECKIN_COLUMNS = "id, at, mood, urge, part, need, protector, note"


class SqliteCheckinRepo:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher

    async def add(self, checkin: Checkin) -> None:
        async with self._db.write():
            row_id = await self._db.next_id("checkins")
            note = CHECKIN_NOTE.at(row_id, checkin.member_id)
            await self._db.execute(
                "INSERT INTO checkins (id, member_id, at, mood, urge, part, need, protector,"
                " note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row_id,
                    checkin.member_id,
                    stamp(checkin.at),
                    checkin.mood,
                    checkin.urge,
                    checkin.part,
                    checkin.need,
                    checkin.protector,
                    self._cipher.encrypt_opt(checkin.note, note),
                ),
            )

    def _checkin(self, member_id: int, r: Any) -> Checkin:
        return Checkin(
            member_id,
            datetime.fromisoformat(r[1]),
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            self._cipher.decrypt_opt(r[7], CHECKIN_NOTE.at(r[0], member_id)),
            id=int(r[0]),
        )

    async def since(self, member_id: int, since: datetime) -> list[Checkin]:
        rows = await self._db.fetchall(
            f"SELECT {CHECKIN_COLUMNS} FROM checkins WHERE member_id=? AND at>=? ORDER BY at, id",
            (member_id, stamp(since)),
        )
        return [self._checkin(member_id, r) for r in rows]

    async def count(self, member_id: int) -> int:
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM checkins WHERE member_id=?", (member_id,)
        )
        return int(row[0]) if row else 0

    async def page(self, member_id: int, offset: int, limit: int) -> list[Checkin]:
        rows = await self._db.fetchall(
            f"SELECT {CHECKIN_COLUMNS} FROM checkins WHERE member_id=?"
            " ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
            (member_id, max(0, limit), max(0, offset)),
        )
        return [self._checkin(member_id, r) for r in rows]

    async def get(self, member_id: int, checkin_id: int) -> Checkin | None:
        row = await self._db.fetchone(
            f"SELECT {CHECKIN_COLUMNS} FROM checkins WHERE id=? AND member_id=?",
            (checkin_id, member_id),
        )
        return None if row is None else self._checkin(member_id, row)

    async def update(self, checkin: Checkin) -> bool:
        changed = await self._db.changes(
            "UPDATE checkins SET mood=?, urge=?, note=? WHERE id=? AND member_id=?",
            (
                checkin.mood,
                checkin.urge,
                self._cipher.encrypt_opt(
                    checkin.note, CHECKIN_NOTE.at(checkin.id, checkin.member_id)
                ),
                checkin.id,
                checkin.member_id,
            ),
        )
        return changed > 0

    async def delete(self, member_id: int, checkin_id: int) -> bool:
        removed = await self._db.changes(
            "DELETE FROM checkins WHERE id=? AND member_id=?", (checkin_id, member_id)
        )
        return removed > 0

    async def export(self, member_id: int) -> dict[str, Any]:
        rows = await self.since(member_id, datetime.min.replace(tzinfo=UTC))
        return {"checkins": [checkin_json(c) for c in rows]}

    async def erase(self, member_id: int) -> int:
        return await self.purge(member_id, datetime.max.replace(tzinfo=UTC))

    async def purge(self, member_id: int, before: datetime) -> int:
        return await self._db.changes(
            "DELETE FROM checkins WHERE member_id=? AND at<?", (member_id, stamp(before))
        )


def part_json(p: Part) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "role": p.role,
        "body": p.body,
        "says": p.says,
        "protects": p.protects,
        "notes": p.notes,
    }


class SqlitePartRepo:
    """Parts are shown at every check-in and change rarely: a write-through cache serves them."""

    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher
        self._cache: dict[int, list[Part]] = {}

    async def list(self, member_id: int) -> list[Part]:
        if member_id in self._cache:
            return list(self._cache[member_id])
        rows = await self._db.fetchall(
            "SELECT id, name, role, notes, body, says, protects FROM parts"
            " WHERE member_id=? ORDER BY id",
            (member_id,),
        )
        parts = [
            Part(
                int(r[0]),
                member_id,
                self._cipher.decrypt(r[1], PART_NAME.at(r[0], member_id)),
                r[2],
                *(
                    self._cipher.decrypt_opt(blob, PART_NOTE_COLUMNS[field].at(r[0], member_id))
                    or ""
                    for blob, field in zip(r[3:], PART_NOTE_FIELDS, strict=True)
                ),
            )
            for r in rows
        ]
        self._cache[member_id] = parts
        return list(parts)

    async def add(self, member_id: int, name: str, role: str, now: datetime) -> Part:
        async with self._db.write():
            part_id = await self._db.next_id("parts")
            sealed = self._cipher.encrypt(name, PART_NAME.at(part_id, member_id))
            await self._db.execute(
                "INSERT INTO parts (id, member_id, name, role, created_at) VALUES (?, ?, ?, ?, ?)",
                (part_id, member_id, sealed, role, stamp(now)),
            )
        part = Part(part_id, member_id, name, role)
        self._cache.pop(member_id, None)
        return part

    async def _find(self, member_id: int, part_id: int) -> Part | None:
        return next((p for p in await self.list(member_id) if p.id == part_id), None)

    async def _write_part(self, sql: str, params: tuple[object, ...], part: Part) -> Part | None:
        """Runs one UPDATE of this member's part; the cached list changes only if the row did."""
        changed = await self._db.changes(sql, params) > 0
        cached = self._cache.get(part.member_id)
        if not changed:
            self._cache.pop(part.member_id, None)
            return None
        if cached is not None:
            self._cache[part.member_id] = [part if p.id == part.id else p for p in cached]
        return part

    async def rename(self, member_id: int, part_id: int, name: str) -> Part | None:
        current = await self._find(member_id, part_id)
        if current is None:
            return None
        return await self._write_part(
            "UPDATE parts SET name=? WHERE id=? AND member_id=?",
            (self._cipher.encrypt(name, PART_NAME.at(part_id, member_id)), part_id, member_id),
            replace(current, name=name),
        )

    async def update(self, part: Part) -> Part | None:
        current = await self._find(part.member_id, part.id)
        if current is None:
            return None
        notes = [
            self._cipher.encrypt_opt(
                getattr(part, field) or None, PART_NOTE_COLUMNS[field].at(part.id, part.member_id)
            )
            for field in PART_NOTE_FIELDS
        ]
        return await self._write_part(
            "UPDATE parts SET role=?, notes=?, body=?, says=?, protects=?"
            " WHERE id=? AND member_id=?",
            (part.role, *notes, part.id, part.member_id),
            replace(part, name=current.name),
        )

    async def remove(self, member_id: int, part_id: int) -> bool:
        removed = (
            await self._db.changes(
                "DELETE FROM parts WHERE id=? AND member_id=?", (part_id, member_id)
            )
            > 0
        )
        cached = self._cache.get(member_id)
        if cached is not None:
            self._cache[member_id] = [p for p in cached if p.id != part_id]
        return removed

    async def export(self, member_id: int) -> dict[str, Any]:
        return {"parts": [part_json(p) for p in await self.list(member_id)]}

    async def erase(self, member_id: int) -> int:
        removed = await self._db.changes("DELETE FROM parts WHERE member_id=?", (member_id,))
        self._cache.pop(member_id, None)
        return removed


class SqliteSessionRepo:
    """Write-through: every change is committed; reads after the first come from memory."""

    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher
        # This process is the only writer, so "no session" can be remembered too.
        self._cache: dict[int, FlowState | None] = {}

    async def get(self, member_id: int) -> FlowState | None:
        if member_id in self._cache:
            return self._cache[member_id]
        row = await self._db.fetchone(
            "SELECT state, updated_at FROM sessions WHERE member_id=?", (member_id,)
        )
        state = None
        if row is not None:
            data = json.loads(self._cipher.decrypt(row[0], SESSION_STATE.at(member_id)))
            state = FlowState.from_json(data, datetime.fromisoformat(row[1]))
        self._cache[member_id] = state
        return state

    async def put(self, member_id: int, state: FlowState) -> None:
        assert state.updated_at is not None
        blob = self._cipher.encrypt(json.dumps(state.to_json()), SESSION_STATE.at(member_id))
        due = stamp(state.due_at) if state.due_at else None
        await self._db.execute(
            "INSERT INTO sessions (member_id, state, updated_at, due_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (member_id) DO UPDATE"
            " SET state=excluded.state, updated_at=excluded.updated_at, due_at=excluded.due_at",
            (member_id, blob, stamp(state.updated_at), due),
        )
        self._cache[member_id] = state

    async def due(self, now: datetime) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT member_id FROM sessions WHERE due_at IS NOT NULL AND due_at<=? ORDER BY due_at",
            (stamp(now),),
        )
        return [int(r[0]) for r in rows]

    async def next_due(self) -> datetime | None:
        row = await self._db.fetchone("SELECT MIN(due_at) FROM sessions WHERE due_at IS NOT NULL")
        return _dt(row[0]) if row else None

    async def delete(self, member_id: int) -> None:
        await self._db.execute("DELETE FROM sessions WHERE member_id=?", (member_id,))
        self._cache[member_id] = None

    async def purge_idle(self, before: datetime) -> int:
        removed = await self._db.changes(
            "DELETE FROM sessions WHERE updated_at<? AND due_at IS NULL", (stamp(before),)
        )
        self._cache.clear()
        return removed

    async def export(self, member_id: int) -> dict[str, Any]:
        state = await self.get(member_id)
        return {} if state is None else {"unfinished": state.to_json()}

    async def erase(self, member_id: int) -> int:
        removed = await self._db.changes("DELETE FROM sessions WHERE member_id=?", (member_id,))
        self._cache.pop(member_id, None)
        return removed


class SqlitePracticeLogRepo:
    """Exercise ids and 0-10 numbers only: nothing a member wrote, so nothing to encrypt."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, practice: Practice) -> None:
        await self._db.execute(
            "INSERT INTO practice_log (member_id, at, exercise, before_level, after_level)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                practice.member_id,
                stamp(practice.at),
                practice.exercise,
                practice.before,
                practice.after,
            ),
        )

    async def since(self, member_id: int, since: datetime) -> list[Practice]:
        rows = await self._db.fetchall(
            "SELECT at, exercise, before_level, after_level FROM practice_log"
            " WHERE member_id=? AND at>=? ORDER BY at",
            (member_id, stamp(since)),
        )
        return [Practice(member_id, datetime.fromisoformat(r[0]), r[1], r[2], r[3]) for r in rows]

    async def export(self, member_id: int) -> dict[str, Any]:
        rows = await self.since(member_id, datetime.min.replace(tzinfo=UTC))
        return {"exercises": [practice_json(p) for p in rows]}

    async def erase(self, member_id: int) -> int:
        return await self.purge(member_id, datetime.max.replace(tzinfo=UTC))

    async def purge(self, member_id: int, before: datetime) -> int:
        return await self._db.changes(
            "DELETE FROM practice_log WHERE member_id=? AND at<?", (member_id, stamp(before))
        )


def practice_json(p: Practice) -> dict[str, Any]:
    return {"at": p.at.isoformat(), "exercise": p.exercise, "before": p.before, "after": p.after}


class _Cached(Protocol):
    _cache: dict[Any, Any]


class SqliteUnit:
    """A unit of work on the database (Database.atomic). When it rolls back, the repositories'
    caches are emptied: they may hold what was written inside and is now undone."""

    def __init__(self, db: Database, cached: list[_Cached]) -> None:
        self._db, self._cached = db, cached

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        try:
            async with self._db.atomic():
                yield
        except BaseException:
            for repo in self._cached:
                repo._cache.clear()
            raise


def sqlite_repos(db: Database, cipher: Cipher) -> Repos:
    members, parts = SqliteMemberRepo(db), SqlitePartRepo(db, cipher)
    sessions = SqliteSessionRepo(db, cipher)
    return Repos(
        members,
        SqliteCheckinRepo(db, cipher),
        parts,
        sessions,
        practices=SqlitePracticeLogRepo(db),
        plans=SqliteSafetyPlanRepo(db, cipher),
        counters=SqliteCounterRepo(db, cipher),
        groups=SqliteGroupRepo(db, cipher),
        outbox=SqliteOutboxRepo(db, cipher),
        reminders=SqliteReminderRepo(db),
        reachouts=SqliteReachOutRepo(db, cipher),
        audit=SqliteAuditRepo(db, cipher),
        group_safety=SqliteGroupSafetyRepo(db, cipher),
        names=SqliteNameRepo(db, cipher),
        unit=SqliteUnit(db, [members, parts, sessions]),
    )
