"""/days counters and slips on SQLite (names and notes encrypted) and the in-memory twin."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from core.days.counting import Counter, Slip
from core.kernel.crypto import Cipher
from core.storage.database import Database
from core.storage.sealed import COUNTER_NAME, SLIP_NOTE
from core.storage.stamps import stamp


class SqliteCounterRepo:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher

    async def for_member(self, member_id: int) -> list[Counter]:
        rows = await self._db.fetchall(
            "SELECT id, name, started_on, created_at, celebrated FROM day_counters"
            " WHERE member_id=? ORDER BY id",
            (member_id,),
        )
        return [
            Counter(
                int(r[0]),
                member_id,
                self._cipher.decrypt(r[1], COUNTER_NAME.at(r[0], member_id)),
                date.fromisoformat(r[2]),
                datetime.fromisoformat(r[3]),
                int(r[4]),
            )
            for r in rows
        ]

    async def add(self, member_id: int, name: str, started_on: date, now: datetime) -> Counter:
        async with self._db.write():
            counter_id = await self._db.next_id("day_counters")
            sealed = self._cipher.encrypt(name, COUNTER_NAME.at(counter_id, member_id))
            await self._db.execute(
                "INSERT INTO day_counters (id, member_id, name, started_on, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (counter_id, member_id, sealed, started_on.isoformat(), stamp(now)),
            )
        return Counter(counter_id, member_id, name, started_on, now)

    async def remove(self, member_id: int, counter_id: int) -> bool:
        async with self._db.write():
            await self._db.execute(
                "DELETE FROM day_slips WHERE counter_id=? AND member_id=?", (counter_id, member_id)
            )
            removed = await self._db.changes(
                "DELETE FROM day_counters WHERE id=? AND member_id=?", (counter_id, member_id)
            )
            return removed > 0

    async def add_slip(self, member_id: int, counter_id: int, on: date, now: datetime) -> Slip:
        async with self._db.write():
            found = await self._db.changes(
                "UPDATE day_counters SET celebrated=0 WHERE id=? AND member_id=?",
                (counter_id, member_id),
            )
            if found == 0:
                raise LookupError(counter_id)
            slip_id = await self._db.insert(
                "INSERT INTO day_slips (counter_id, member_id, on_date, at) VALUES (?, ?, ?, ?)"
                " RETURNING id",
                (counter_id, member_id, on.isoformat(), stamp(now)),
            )
        return Slip(slip_id, counter_id, member_id, on, now)

    def _slip(self, member_id: int, r: Any) -> Slip:
        return Slip(
            int(r[0]),
            int(r[1]),
            member_id,
            date.fromisoformat(r[2]),
            datetime.fromisoformat(r[3]),
            self._cipher.decrypt_opt(r[4], SLIP_NOTE.at(r[0], member_id)),
        )

    async def slips(self, member_id: int, counter_id: int) -> list[Slip]:
        rows = await self._db.fetchall(
            "SELECT id, counter_id, on_date, at, note FROM day_slips"
            " WHERE member_id=? AND counter_id=? ORDER BY on_date, id",
            (member_id, counter_id),
        )
        return [self._slip(member_id, r) for r in rows]

    async def slips_between(self, member_id: int, first: date, last: date) -> list[Slip]:
        rows = await self._db.fetchall(
            "SELECT id, counter_id, on_date, at, note FROM day_slips"
            " WHERE member_id=? AND on_date>=? AND on_date<=? ORDER BY on_date, id",
            (member_id, first.isoformat(), last.isoformat()),
        )
        return [self._slip(member_id, r) for r in rows]

    async def set_slip_note(self, member_id: int, slip_id: int, note: str) -> bool:
        changed = await self._db.changes(
            "UPDATE day_slips SET note=? WHERE id=? AND member_id=?",
            (self._cipher.encrypt(note, SLIP_NOTE.at(slip_id, member_id)), slip_id, member_id),
        )
        return changed > 0

    async def set_celebrated(self, member_id: int, counter_id: int, days: int) -> None:
        await self._db.execute(
            "UPDATE day_counters SET celebrated=? WHERE id=? AND member_id=?",
            (days, counter_id, member_id),
        )

    async def rename(self, member_id: int, counter_id: int, name: str) -> bool:
        changed = await self._db.changes(
            "UPDATE day_counters SET name=? WHERE id=? AND member_id=?",
            (
                self._cipher.encrypt(name, COUNTER_NAME.at(counter_id, member_id)),
                counter_id,
                member_id,
            ),
        )
        return changed > 0

    async def set_start(self, member_id: int, counter_id: int, started_on: date) -> bool:
        changed = await self._db.changes(
            "UPDATE day_counters SET started_on=? WHERE id=? AND member_id=?",
            (started_on.isoformat(), counter_id, member_id),
        )
        return changed > 0

    async def remove_slip(self, member_id: int, slip_id: int) -> bool:
        removed = await self._db.changes(
            "DELETE FROM day_slips WHERE id=? AND member_id=?", (slip_id, member_id)
        )
        return removed > 0

    async def purge_slips(self, member_id: int, before: date) -> int:
        return await self._db.changes(
            "DELETE FROM day_slips WHERE member_id=? AND on_date<?",
            (member_id, before.isoformat()),
        )

    async def export(self, member_id: int) -> dict[str, Any]:
        counters = await self.for_member(member_id)
        slips = await self.slips_between(member_id, date.min, date.max)
        return {"day_counters": counters_json(counters, slips)}

    async def erase(self, member_id: int) -> int:
        async with self._db.write():
            slips = await self._db.changes("DELETE FROM day_slips WHERE member_id=?", (member_id,))
            counters = await self._db.changes(
                "DELETE FROM day_counters WHERE member_id=?", (member_id,)
            )
            return slips + counters


def counters_json(counters: list[Counter], slips: list[Slip]) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "started_on": c.started_on.isoformat(),
            "created_at": c.created_at.isoformat(),
            "slips": [
                {"on": s.on.isoformat(), "noted_at": s.at.isoformat(), "note": s.note}
                for s in slips
                if s.counter_id == c.id
            ],
        }
        for c in counters
    ]


class InMemoryCounterRepo:
    def __init__(self) -> None:
        self.counters: list[Counter] = []
        self.slip_rows: list[Slip] = []
        self._next_id = 0

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _find(self, member_id: int, counter_id: int) -> int | None:
        for i, c in enumerate(self.counters):
            if c.id == counter_id and c.member_id == member_id:
                return i
        return None

    async def for_member(self, member_id: int) -> list[Counter]:
        return [c for c in self.counters if c.member_id == member_id]

    async def add(self, member_id: int, name: str, started_on: date, now: datetime) -> Counter:
        counter = Counter(self._new_id(), member_id, name, started_on, now)
        self.counters.append(counter)
        return counter

    async def remove(self, member_id: int, counter_id: int) -> bool:
        i = self._find(member_id, counter_id)
        if i is None:
            return False
        del self.counters[i]
        self.slip_rows = [s for s in self.slip_rows if s.counter_id != counter_id]
        return True

    async def add_slip(self, member_id: int, counter_id: int, on: date, now: datetime) -> Slip:
        i = self._find(member_id, counter_id)
        if i is None:
            raise LookupError(counter_id)
        self.counters[i] = replace(self.counters[i], celebrated=0)
        slip = Slip(self._new_id(), counter_id, member_id, on, now)
        self.slip_rows.append(slip)
        return slip

    async def slips(self, member_id: int, counter_id: int) -> list[Slip]:
        mine = [
            s for s in self.slip_rows if s.member_id == member_id and s.counter_id == counter_id
        ]
        return sorted(mine, key=lambda s: (s.on, s.id))

    async def slips_between(self, member_id: int, first: date, last: date) -> list[Slip]:
        mine = [s for s in self.slip_rows if s.member_id == member_id and first <= s.on <= last]
        return sorted(mine, key=lambda s: (s.on, s.id))

    async def set_slip_note(self, member_id: int, slip_id: int, note: str) -> bool:
        for i, s in enumerate(self.slip_rows):
            if s.id == slip_id and s.member_id == member_id:
                self.slip_rows[i] = replace(s, note=note)
                return True
        return False

    async def set_celebrated(self, member_id: int, counter_id: int, days: int) -> None:
        i = self._find(member_id, counter_id)
        if i is not None:
            self.counters[i] = replace(self.counters[i], celebrated=days)

    async def rename(self, member_id: int, counter_id: int, name: str) -> bool:
        i = self._find(member_id, counter_id)
        if i is not None:
            self.counters[i] = replace(self.counters[i], name=name)
        return i is not None

    async def set_start(self, member_id: int, counter_id: int, started_on: date) -> bool:
        i = self._find(member_id, counter_id)
        if i is not None:
            self.counters[i] = replace(self.counters[i], started_on=started_on)
        return i is not None

    async def remove_slip(self, member_id: int, slip_id: int) -> bool:
        kept = [s for s in self.slip_rows if not (s.id == slip_id and s.member_id == member_id)]
        removed = len(kept) < len(self.slip_rows)
        self.slip_rows = kept
        return removed

    async def purge_slips(self, member_id: int, before: date) -> int:
        kept = [s for s in self.slip_rows if s.member_id != member_id or s.on >= before]
        removed = len(self.slip_rows) - len(kept)
        self.slip_rows = kept
        return removed

    async def export(self, member_id: int) -> dict[str, Any]:
        slips = await self.slips_between(member_id, date.min, date.max)
        return {"day_counters": counters_json(await self.for_member(member_id), slips)}

    async def erase(self, member_id: int) -> int:
        before = len(self.counters) + len(self.slip_rows)
        self.counters = [c for c in self.counters if c.member_id != member_id]
        self.slip_rows = [s for s in self.slip_rows if s.member_id != member_id]
        return before - len(self.counters) - len(self.slip_rows)
