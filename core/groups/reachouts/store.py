"""Reach-outs, volunteers, group membership and gone channels: SQLite and in-memory twins.

Nothing a member wrote is kept here: a request's words live only in its outbox rows
(encrypted), which are written in the same transaction as the request, its acknowledgement or
its expiry, so a crash never leaves a request without its messages or messages without it.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from core.groups.reachouts.records import GoneSchedule, NewReachOut, ReachOut, Volunteer
from core.kernel.crypto import Cipher
from core.outbox.records import NewOutboxItem
from core.outbox.store import InMemoryOutboxRepo, insert_outbox
from core.storage.database import Database
from core.storage.stamps import stamp


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def volunteer_json(v: Volunteer) -> dict[str, Any]:
    return {
        "group": v.group_id,
        "quiet_from": v.quiet_from,
        "quiet_to": v.quiet_to,
        "timezone": v.timezone,
    }


def reach_out_json(r: ReachOut, member_id: int) -> dict[str, Any]:
    return {
        "group": r.group_id,
        "role": "asked" if r.member_id == member_id else "answered as a volunteer",
        "state": r.state,
        "sent_to": r.sent_to,
        "created_at": r.created_at.isoformat(),
        "expires_at": r.expires_at.isoformat(),
        "acked_at": r.acked_at.isoformat() if r.acked_at else None,
    }


def _export(
    member_id: int, groups: list[int], volunteering: list[Volunteer], reach: list[ReachOut]
) -> dict[str, Any]:
    return {
        "groups_joined": groups,
        "volunteering": [volunteer_json(v) for v in volunteering],
        "reach_outs": [reach_out_json(r, member_id) for r in reach],
    }


class SqliteReachOutRepo:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher

    # -- belonging to a group -------------------------------------------------------------

    async def joined(self, group_id: int, member_id: int, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO group_members (group_id, member_id, first_seen, last_seen)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (group_id, member_id) DO UPDATE SET"
            " last_seen=excluded.last_seen",
            (group_id, member_id, stamp(now), stamp(now)),
        )

    async def groups_of(self, member_id: int) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT group_id FROM group_members WHERE member_id=? ORDER BY group_id", (member_id,)
        )
        return [int(r[0]) for r in rows]

    async def left(self, group_id: int, member_id: int) -> None:
        async with self._db.write():
            for table in ("group_members", "volunteers"):
                await self._db.execute(
                    f"DELETE FROM {table} WHERE group_id=? AND member_id=?", (group_id, member_id)
                )

    # -- volunteers -----------------------------------------------------------------------

    _VOLUNTEER = "group_id, member_id, quiet_from, quiet_to, timezone"

    @staticmethod
    def _volunteer(r: Any) -> Volunteer:
        return Volunteer(int(r[0]), int(r[1]), r[2], r[3], r[4])

    async def volunteers(self, group_id: int) -> list[Volunteer]:
        rows = await self._db.fetchall(
            f"SELECT {self._VOLUNTEER} FROM volunteers WHERE group_id=? ORDER BY id", (group_id,)
        )
        return [self._volunteer(r) for r in rows]

    async def volunteering(self, member_id: int) -> list[Volunteer]:
        rows = await self._db.fetchall(
            f"SELECT {self._VOLUNTEER} FROM volunteers WHERE member_id=? ORDER BY group_id",
            (member_id,),
        )
        return [self._volunteer(r) for r in rows]

    async def put_volunteer(self, volunteer: Volunteer, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO volunteers (group_id, member_id, quiet_from, quiet_to, timezone,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, member_id) DO UPDATE"
            " SET quiet_from=excluded.quiet_from, quiet_to=excluded.quiet_to,"
            " timezone=excluded.timezone",
            (
                volunteer.group_id,
                volunteer.member_id,
                volunteer.quiet_from,
                volunteer.quiet_to,
                volunteer.timezone,
                stamp(now),
            ),
        )

    async def remove_volunteer(self, group_id: int, member_id: int) -> bool:
        removed = await self._db.changes(
            "DELETE FROM volunteers WHERE group_id=? AND member_id=?", (group_id, member_id)
        )
        return removed > 0

    # -- reach-outs -----------------------------------------------------------------------

    _REACH = (
        "id, group_id, member_id, post_id, token, sent_to, created_at, expires_at, state,"
        " acked_by, acked_at"
    )

    @staticmethod
    def _reach(r: Any) -> ReachOut:
        created, expires = _dt(r[6]), _dt(r[7])
        assert created is not None and expires is not None
        return ReachOut(
            int(r[0]),
            int(r[1]),
            int(r[2]),
            None if r[3] is None else int(r[3]),
            r[4],
            r[5],
            created,
            expires,
            r[8],
            None if r[9] is None else int(r[9]),
            _dt(r[10]),
        )

    async def open_request(
        self, request: NewReachOut, items: list[NewOutboxItem], now: datetime
    ) -> ReachOut:
        async with self._db.write():
            reach_id = await self._db.insert(
                "INSERT INTO reach_outs (group_id, member_id, post_id, state, created_at,"
                " expires_at, token, sent_to) VALUES (?, ?, ?, 'open', ?, ?, ?, ?) RETURNING id",
                (
                    request.group_id,
                    request.member_id,
                    request.post_id,
                    stamp(now),
                    stamp(request.expires_at),
                    request.token,
                    request.sent_to,
                ),
            )
            for item in items:
                await insert_outbox(self._db, self._cipher, item, now)
        return ReachOut(
            reach_id,
            request.group_id,
            request.member_id,
            request.post_id,
            request.token,
            request.sent_to,
            now,
            request.expires_at,
        )

    async def by_token(self, token: str) -> ReachOut | None:
        row = await self._db.fetchone(
            f"SELECT {self._REACH} FROM reach_outs WHERE token=? AND token!=''", (token,)
        )
        return None if row is None else self._reach(row)

    async def open_for(self, group_id: int, member_id: int) -> ReachOut | None:
        row = await self._db.fetchone(
            f"SELECT {self._REACH} FROM reach_outs WHERE group_id=? AND member_id=?"
            " AND state='open' ORDER BY id DESC LIMIT 1",
            (group_id, member_id),
        )
        return None if row is None else self._reach(row)

    async def acknowledge(
        self, reach_id: int, by_member: int, items: list[NewOutboxItem], now: datetime
    ) -> bool:
        async with self._db.write():
            acked = await self._db.changes(
                "UPDATE reach_outs SET state='acked', acked_by=?, acked_at=?"
                " WHERE id=? AND state='open'",
                (by_member, stamp(now), reach_id),
            )
            if acked == 0:
                return False
            for item in items:
                await insert_outbox(self._db, self._cipher, item, now)
        return True

    async def due(self, now: datetime) -> list[ReachOut]:
        rows = await self._db.fetchall(
            f"SELECT {self._REACH} FROM reach_outs WHERE state='open' AND expires_at<=?"
            " ORDER BY expires_at, id",
            (stamp(now),),
        )
        return [self._reach(r) for r in rows]

    async def expire(self, reach_id: int, items: list[NewOutboxItem], now: datetime) -> bool:
        async with self._db.write():
            expired = await self._db.changes(
                "UPDATE reach_outs SET state='expired' WHERE id=? AND state='open'", (reach_id,)
            )
            if expired == 0:
                return False
            for item in items:
                await insert_outbox(self._db, self._cipher, item, now)
        return True

    # -- retention ------------------------------------------------------------------------

    async def purge(self, member_id: int, before: datetime) -> int:
        return await self._db.changes(
            "DELETE FROM reach_outs WHERE member_id=? AND state!='open' AND created_at<?",
            (member_id, stamp(before)),
        )

    async def purge_members(self, before: datetime) -> int:
        return await self._db.changes(
            "DELETE FROM group_members WHERE last_seen<?", (stamp(before),)
        )

    # -- gone channels --------------------------------------------------------------------

    async def mark_gone(self, schedule_id: int, group_id: int, reason: str, now: datetime) -> bool:
        marked = await self._db.changes(
            "INSERT INTO schedule_gone (schedule_id, group_id, reason, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (schedule_id) DO UPDATE SET reason=excluded.reason, at=excluded.at,"
            " told=0 WHERE schedule_gone.told=1",
            (schedule_id, group_id, reason, stamp(now)),
        )
        return marked > 0

    async def gone(self, group_id: int) -> list[GoneSchedule]:
        rows = await self._db.fetchall(
            "SELECT schedule_id, group_id, reason, at, told FROM schedule_gone WHERE group_id=?"
            " ORDER BY schedule_id",
            (group_id,),
        )
        return [
            GoneSchedule(int(r[0]), int(r[1]), r[2], _dt(r[3]) or _never(), bool(r[4]))
            for r in rows
        ]

    async def mark_told(self, schedule_ids: list[int]) -> None:
        await self._db.executemany(
            "UPDATE schedule_gone SET told=1 WHERE schedule_id=?", [(i,) for i in schedule_ids]
        )

    async def clear_gone(self, schedule_id: int) -> None:
        await self._db.execute("DELETE FROM schedule_gone WHERE schedule_id=?", (schedule_id,))

    # -- a member's own data --------------------------------------------------------------

    async def export(self, member_id: int) -> dict[str, Any]:
        rows = await self._db.fetchall(
            f"SELECT {self._REACH} FROM reach_outs WHERE member_id=? OR acked_by=? ORDER BY id",
            (member_id, member_id),
        )
        return _export(
            member_id,
            await self.groups_of(member_id),
            await self.volunteering(member_id),
            [self._reach(r) for r in rows],
        )

    async def erase(self, member_id: int) -> int:
        """Their membership, volunteering and requests; where they answered someone else's
        request as a volunteer, only their name goes (the request stays the other member's)."""
        async with self._db.write():
            removed = 0
            for sql in (
                "DELETE FROM group_members WHERE member_id=?",
                "DELETE FROM volunteers WHERE member_id=?",
                "DELETE FROM reach_outs WHERE member_id=?",
                "UPDATE reach_outs SET acked_by=NULL WHERE acked_by=?",
            ):
                removed += await self._db.changes(sql, (member_id,))
        return removed


def _never() -> datetime:
    return datetime.min.replace(tzinfo=UTC)


class InMemoryReachOutRepo:
    def __init__(self, outbox: InMemoryOutboxRepo) -> None:
        self._outbox = outbox
        self._members: dict[tuple[int, int], datetime] = {}  # (group, member): last seen
        self._volunteers: dict[tuple[int, int], Volunteer] = {}
        self._reach: dict[int, ReachOut] = {}
        self._gone: dict[int, GoneSchedule] = {}
        self._ids = itertools.count(1)

    async def joined(self, group_id: int, member_id: int, now: datetime) -> None:
        self._members[(group_id, member_id)] = now

    async def groups_of(self, member_id: int) -> list[int]:
        return sorted(g for g, m in self._members if m == member_id)

    async def left(self, group_id: int, member_id: int) -> None:
        self._members.pop((group_id, member_id), None)
        self._volunteers.pop((group_id, member_id), None)

    async def volunteers(self, group_id: int) -> list[Volunteer]:
        return [v for (g, _), v in self._volunteers.items() if g == group_id]

    async def volunteering(self, member_id: int) -> list[Volunteer]:
        return sorted(
            (v for (_, m), v in self._volunteers.items() if m == member_id),
            key=lambda v: v.group_id,
        )

    async def put_volunteer(self, volunteer: Volunteer, now: datetime) -> None:
        self._volunteers[(volunteer.group_id, volunteer.member_id)] = volunteer

    async def remove_volunteer(self, group_id: int, member_id: int) -> bool:
        return self._volunteers.pop((group_id, member_id), None) is not None

    async def open_request(
        self, request: NewReachOut, items: list[NewOutboxItem], now: datetime
    ) -> ReachOut:
        reach = ReachOut(
            next(self._ids),
            request.group_id,
            request.member_id,
            request.post_id,
            request.token,
            request.sent_to,
            now,
            request.expires_at,
        )
        self._reach[reach.id] = reach
        for item in items:
            self._outbox.add(item, now)
        return reach

    async def by_token(self, token: str) -> ReachOut | None:
        return next((r for r in self._reach.values() if token and r.token == token), None)

    async def open_for(self, group_id: int, member_id: int) -> ReachOut | None:
        found = [
            r
            for r in self._reach.values()
            if r.group_id == group_id and r.member_id == member_id and r.state == "open"
        ]
        return found[-1] if found else None

    async def acknowledge(
        self, reach_id: int, by_member: int, items: list[NewOutboxItem], now: datetime
    ) -> bool:
        reach = self._reach.get(reach_id)
        if reach is None or reach.state != "open":
            return False
        self._reach[reach_id] = replace(reach, state="acked", acked_by=by_member, acked_at=now)
        for item in items:
            self._outbox.add(item, now)
        return True

    async def due(self, now: datetime) -> list[ReachOut]:
        found = [r for r in self._reach.values() if r.state == "open" and r.expires_at <= now]
        return sorted(found, key=lambda r: (r.expires_at, r.id))

    async def expire(self, reach_id: int, items: list[NewOutboxItem], now: datetime) -> bool:
        reach = self._reach.get(reach_id)
        if reach is None or reach.state != "open":
            return False
        self._reach[reach_id] = replace(reach, state="expired")
        for item in items:
            self._outbox.add(item, now)
        return True

    async def purge(self, member_id: int, before: datetime) -> int:
        gone = [
            r.id
            for r in self._reach.values()
            if r.member_id == member_id and r.state != "open" and r.created_at < before
        ]
        for reach_id in gone:
            del self._reach[reach_id]
        return len(gone)

    async def purge_members(self, before: datetime) -> int:
        gone = [key for key, last_seen in self._members.items() if last_seen < before]
        for key in gone:
            del self._members[key]
        return len(gone)

    async def mark_gone(self, schedule_id: int, group_id: int, reason: str, now: datetime) -> bool:
        old = self._gone.get(schedule_id)
        if old is not None and not old.told:
            return False
        self._gone[schedule_id] = GoneSchedule(schedule_id, group_id, reason, now)
        return True

    async def gone(self, group_id: int) -> list[GoneSchedule]:
        return sorted(
            (g for g in self._gone.values() if g.group_id == group_id),
            key=lambda g: g.schedule_id,
        )

    async def mark_told(self, schedule_ids: list[int]) -> None:
        for i in schedule_ids:
            if i in self._gone:
                self._gone[i] = replace(self._gone[i], told=True)

    async def clear_gone(self, schedule_id: int) -> None:
        self._gone.pop(schedule_id, None)

    async def export(self, member_id: int) -> dict[str, Any]:
        reach = [r for r in self._reach.values() if member_id in (r.member_id, r.acked_by)]
        return _export(
            member_id, await self.groups_of(member_id), await self.volunteering(member_id), reach
        )

    async def erase(self, member_id: int) -> int:
        removed = 0
        for key in [k for k in self._members if k[1] == member_id]:
            del self._members[key]
            removed += 1
        for key in [k for k in self._volunteers if k[1] == member_id]:
            del self._volunteers[key]
            removed += 1
        for reach in list(self._reach.values()):
            if reach.member_id == member_id:
                del self._reach[reach.id]
                removed += 1
            elif reach.acked_by == member_id:
                self._reach[reach.id] = replace(reach, acked_by=None)
                removed += 1
        return removed
