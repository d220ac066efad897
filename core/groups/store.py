"""Group check-ins on SQLite. Own prompts, shared lines and outbox payloads are encrypted."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from core.groups.records import (
    Group,
    Post,
    Reminder,
    Response,
    Schedule,
    SharedItem,
    kept_settings,
    with_kept,
)
from core.groups.times import days_code, days_from_code, days_text
from core.kernel.crypto import Cipher
from core.kernel.names import naming_of
from core.outbox.records import NewOutboxItem
from core.outbox.store import insert_outbox
from core.storage.database import Database
from core.storage.sealed import OUTBOX_PAYLOAD, SCHEDULE_PROMPT, SHARE_LINE
from core.storage.stamps import stamp


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


class SqliteGroupRepo:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher

    # -- groups ---------------------------------------------------------------------------

    _GROUP = "id, platform, space_id"

    async def _groups(self, rows: list[Any], where: str, params: tuple[Any, ...]) -> list[Group]:
        """Groups from their rows, with their holidays and their settings, kept by name: `where`
        picks the same groups among those tables' rows (by their `group_id`)."""
        holidays: dict[int, set[date]] = {}
        for h in await self._db.fetchall(
            f"SELECT group_id, on_date FROM group_holidays{where}", params
        ):
            holidays.setdefault(int(h[0]), set()).add(date.fromisoformat(h[1]))
        kept: dict[int, dict[str, str]] = {}
        for k in await self._db.fetchall(
            f"SELECT group_id, name, value FROM group_settings{where}", params
        ):
            kept.setdefault(int(k[0]), {})[k[1]] = k[2]
        return [
            with_kept(
                Group(int(r[0]), r[1], r[2], holidays=frozenset(holidays.get(int(r[0]), ()))),
                kept.get(int(r[0]), {}),
            )
            for r in rows
        ]

    async def _one(self, row: Any) -> Group:
        [group] = await self._groups([row], " WHERE group_id=?", (int(row[0]),))
        return group

    async def get_or_create(self, platform: str, space_id: str, now: datetime) -> Group:
        row = await self._db.fetchone(
            f"SELECT {self._GROUP} FROM groups WHERE platform=? AND space_id=?",
            (platform, space_id),
        )
        if row is None:
            await self._db.execute(
                "INSERT INTO groups (platform, space_id, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (platform, space_id) DO NOTHING",
                (platform, space_id, stamp(now)),
            )
            row = await self._db.fetchone(
                f"SELECT {self._GROUP} FROM groups WHERE platform=? AND space_id=?",
                (platform, space_id),
            )
            assert row is not None
        return await self._one(row)

    async def by_id(self, group_id: int) -> Group | None:
        row = await self._db.fetchone(f"SELECT {self._GROUP} FROM groups WHERE id=?", (group_id,))
        return None if row is None else await self._one(row)

    async def all(self) -> list[Group]:
        rows = await self._db.fetchall(f"SELECT {self._GROUP} FROM groups ORDER BY id")
        return await self._groups(rows, "", ())

    async def setting(self, group_id: int, name: str) -> str | None:
        value = await self._db.fetchval(
            "SELECT value FROM group_settings WHERE group_id=? AND name=?", (group_id, name)
        )
        return None if value is None else str(value)

    # A value kept again unchanged keeps the time it was set.
    _PUT = (
        "INSERT INTO group_settings (group_id, name, value, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (group_id, name) DO UPDATE SET value=excluded.value,"
        " updated_at=excluded.updated_at WHERE group_settings.value<>excluded.value"
    )

    async def put_setting(self, group_id: int, name: str, value: str, now: datetime) -> None:
        await self._db.execute(self._PUT, (group_id, name, value, stamp(now)))

    async def update(self, group: Group, now: datetime | None = None) -> None:
        # Each setting the record carries, by name, as every other; `now` unknown (a caller
        # from before settings were kept by name): the group's own creation time stands in.
        at = stamp(now) if now is not None else await self._created(group.id)
        await self._db.executemany(
            self._PUT, [(group.id, n, v, at) for n, v in kept_settings(group).items()]
        )

    async def _created(self, group_id: int) -> str:
        return str(await self._db.fetchval("SELECT created_at FROM groups WHERE id=?", (group_id,)))

    async def set_holiday(self, group_id: int, day: date, on: bool) -> bool:
        if on:
            changed = await self._db.changes(
                "INSERT INTO group_holidays (group_id, on_date) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (group_id, day.isoformat()),
            )
        else:
            changed = await self._db.changes(
                "DELETE FROM group_holidays WHERE group_id=? AND on_date=?",
                (group_id, day.isoformat()),
            )
        return changed > 0

    # -- schedules ------------------------------------------------------------------------

    _SCHEDULE = (
        "id, group_id, at_time, timezone, days, prompt_key, prompt_text, target, paused, created_at"
    )

    async def add_schedule(self, schedule: Schedule, now: datetime) -> Schedule:
        async with self._db.write():
            new_id = await self._db.next_id("schedules")
            await self._db.execute(
                "INSERT INTO schedules (id, group_id, at_time, timezone, days, prompt_key,"
                " prompt_text, target, paused, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new_id,
                    schedule.group_id,
                    *self._schedule_values(schedule, new_id),
                    stamp(now),
                    stamp(now),
                ),
            )
        return replace(schedule, id=new_id, skip_dates=frozenset(), created_at=now)

    def _schedule_values(self, schedule: Schedule, schedule_id: int) -> tuple[object, ...]:
        """The columns add and update both write, in the order their SQL names them."""
        text = schedule.prompt_text
        place = SCHEDULE_PROMPT.at(schedule_id, schedule.group_id)
        prompt = self._cipher.encrypt(text, place) if text else None
        return (
            schedule.at,
            schedule.timezone,
            days_code(schedule.days),
            schedule.prompt_key,
            prompt,
            schedule.target,
            int(schedule.paused),
        )

    async def schedules(self, group_id: int | None = None) -> list[Schedule]:
        # The WHERE is built here: PostgreSQL cannot type a bare `? IS NULL`.
        mine, params = ("", ()) if group_id is None else (" WHERE s.group_id=?", (group_id,))
        rows = await self._db.fetchall(
            f"SELECT {self._SCHEDULE} FROM schedules s{mine} ORDER BY id", params
        )
        skips: dict[int, set[date]] = {}
        for r in await self._db.fetchall(
            "SELECT k.schedule_id, k.on_date FROM schedule_skips k JOIN schedules s"
            f" ON s.id=k.schedule_id{mine}",
            params,
        ):
            skips.setdefault(int(r[0]), set()).add(date.fromisoformat(r[1]))
        return [
            Schedule(
                int(r[0]),
                int(r[1]),
                r[2],
                r[3],
                days_from_code(r[4]),
                r[5],
                (
                    self._cipher.decrypt(r[6], SCHEDULE_PROMPT.at(r[0], r[1]))
                    if r[6] is not None
                    else ""
                ),
                r[7],
                bool(r[8]),
                frozenset(skips.get(int(r[0]), ())),
                _dt(r[9]),
            )
            for r in rows
        ]

    async def update_schedule(self, schedule: Schedule, now: datetime) -> None:
        async with self._db.write():
            await self._db.execute(
                "UPDATE schedules SET at_time=?, timezone=?, days=?, prompt_key=?, prompt_text=?,"
                " target=?, paused=?, updated_at=? WHERE id=?",
                (*self._schedule_values(schedule, schedule.id), stamp(now), schedule.id),
            )
            await self._db.execute("DELETE FROM schedule_skips WHERE schedule_id=?", (schedule.id,))
            await self._db.executemany(
                "INSERT INTO schedule_skips (schedule_id, on_date) VALUES (?, ?)",
                [(schedule.id, d.isoformat()) for d in sorted(schedule.skip_dates)],
            )

    async def remove_schedule(self, group_id: int, schedule_id: int) -> bool:
        removed = await self._db.changes(
            "DELETE FROM schedules WHERE id=? AND group_id=?", (schedule_id, group_id)
        )
        return removed > 0

    # -- claims ---------------------------------------------------------------------------

    async def claimed(self, since: date) -> set[tuple[int, date]]:
        rows = await self._db.fetchall(
            "SELECT schedule_id, local_date FROM schedule_claims WHERE local_date>=?",
            (since.isoformat(),),
        )
        return {(int(r[0]), date.fromisoformat(r[1])) for r in rows}

    async def claim_post(
        self,
        schedule: Schedule,
        local_date: date,
        due_at: datetime,
        now: datetime,
        item: NewOutboxItem,
        token: str,
    ) -> Post | None:
        async with self._db.write():
            claimed = await self._db.changes(
                "INSERT INTO schedule_claims (schedule_id, local_date, outcome, claimed_at)"
                " VALUES (?, ?, 'posted', ?) ON CONFLICT DO NOTHING",
                (schedule.id, local_date.isoformat(), stamp(now)),
            )
            if claimed == 0:
                return None
            post_id = await self._db.insert(
                "INSERT INTO posts (schedule_id, group_id, local_date, due_at, token)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                (schedule.id, schedule.group_id, local_date.isoformat(), stamp(due_at), token),
            )
            await insert_outbox(
                self._db,
                self._cipher,
                NewOutboxItem(item.platform, item.target, item.payload, post_id),
                now,
            )
        return Post(post_id, schedule.group_id, schedule.id, local_date, due_at, token=token)

    async def claim_missed(self, schedule_id: int, local_date: date, now: datetime) -> bool:
        claimed = await self._db.changes(
            "INSERT INTO schedule_claims (schedule_id, local_date, outcome, claimed_at)"
            " VALUES (?, ?, 'missed', ?) ON CONFLICT DO NOTHING",
            (schedule_id, local_date.isoformat(), stamp(now)),
        )
        return claimed > 0

    async def daily_claimed(self, kind: str, since: date) -> set[tuple[int, date]]:
        rows = await self._db.fetchall(
            "SELECT ref_id, local_date FROM daily_claims WHERE kind=? AND local_date>=?",
            (kind, since.isoformat()),
        )
        return {(int(r[0]), date.fromisoformat(r[1])) for r in rows}

    async def claim_daily(
        self,
        kind: str,
        ref_id: int,
        local_date: date,
        now: datetime,
        outcome: str,
        item: NewOutboxItem | None,
    ) -> bool:
        async with self._db.write():
            claimed = await self._db.changes(
                "INSERT INTO daily_claims (kind, ref_id, local_date, outcome, claimed_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (kind, ref_id, local_date.isoformat(), outcome, stamp(now)),
            )
            if claimed == 0:
                return False
            if item is not None:
                await insert_outbox(self._db, self._cipher, item, now)
        return True

    # -- posts, answers, shares -----------------------------------------------------------

    _POST = "id, group_id, schedule_id, local_date, due_at, message_ref, token"

    @staticmethod
    def _post(r: Any) -> Post:
        schedule_id = None if r[2] is None else int(r[2])
        day, due = date.fromisoformat(r[3]), _dt(r[4])
        return Post(int(r[0]), int(r[1]), schedule_id, day, due, r[5], r[6] or "")

    async def post(self, post_id: int) -> Post | None:
        row = await self._db.fetchone(f"SELECT {self._POST} FROM posts WHERE id=?", (post_id,))
        return None if row is None else self._post(row)

    async def post_by_token(self, token: str) -> Post | None:
        if not token:
            return None
        row = await self._db.fetchone(f"SELECT {self._POST} FROM posts WHERE token=?", (token,))
        return None if row is None else self._post(row)

    async def posts_on(self, group_id: int, local_date: date) -> list[Post]:
        rows = await self._db.fetchall(
            f"SELECT {self._POST} FROM posts WHERE group_id=? AND local_date=? ORDER BY id",
            (group_id, local_date.isoformat()),
        )
        return [self._post(r) for r in rows]

    async def put_response(self, response: Response, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO group_responses (post_id, member_id, mood, urge, reach_out, at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (post_id, member_id) DO UPDATE SET"
            " mood=excluded.mood, urge=excluded.urge, reach_out=excluded.reach_out, at=excluded.at",
            (
                response.post_id,
                response.member_id,
                response.mood,
                response.urge,
                int(response.reach_out),
                stamp(now),
            ),
        )

    async def responses(self, post_ids: list[int]) -> list[Response]:
        if not post_ids:
            return []
        marks = ",".join("?" * len(post_ids))
        rows = await self._db.fetchall(
            "SELECT post_id, member_id, mood, urge, reach_out FROM group_responses"
            f" WHERE post_id IN ({marks})",
            post_ids,
        )
        return [Response(int(r[0]), int(r[1]), r[2], r[3], bool(r[4])) for r in rows]

    async def add_share(
        self, post_id: int, member_id: int, kind: str, line: str, now: datetime
    ) -> SharedItem:
        async with self._db.write():
            share_id = await self._db.next_id("shared_items")
            sealed = self._cipher.encrypt(line, SHARE_LINE.at(share_id, member_id))
            await self._db.execute(
                "INSERT INTO shared_items (id, post_id, member_id, kind, line, state, at)"
                " VALUES (?, ?, ?, ?, ?, 'preview', ?)",
                (share_id, post_id, member_id, kind, sealed, stamp(now)),
            )
        return SharedItem(share_id, post_id, member_id, kind, line)

    async def share(self, member_id: int, share_id: int) -> SharedItem | None:
        row = await self._db.fetchone(
            "SELECT id, post_id, kind, line, state FROM shared_items WHERE id=? AND member_id=?",
            (share_id, member_id),
        )
        if row is None:
            return None
        place = SHARE_LINE.at(row[0], member_id)
        line = self._cipher.decrypt(row[3], place) if row[3] is not None else ""
        return SharedItem(int(row[0]), int(row[1]), member_id, row[2], line, row[4])

    async def settle_share(
        self, share_id: int, state: str, item: NewOutboxItem | None, now: datetime
    ) -> bool:
        async with self._db.write():
            settled = await self._db.changes(
                "UPDATE shared_items SET state=?, at=? WHERE id=? AND state='preview'",
                (state, stamp(now), share_id),
            )
            if settled == 0:
                return False
            if item is not None:
                owner = await self._db.fetchval(
                    "SELECT member_id FROM shared_items WHERE id=?", (share_id,)
                )
                member_id = None if owner is None else int(owner)
                linked = replace(item, member_id=member_id, share_id=share_id)
                await insert_outbox(self._db, self._cipher, linked, now)
        return True

    # -- a member's own group data: /export and /forget (issue 7) -------------------------------

    async def posted_shares(self, member_id: int) -> list[SharedItem]:
        """The member's shared items that were posted (or are waiting in the outbox)."""
        rows = await self._db.fetchall(
            f"SELECT {self._SHARE} FROM shared_items WHERE member_id=? AND state='posted'"
            " ORDER BY id",
            (member_id,),
        )
        return [self._share(r) for r in rows]

    _SHARE = "id, post_id, member_id, kind, line, state, message_ref, posted_at, at"

    def _share(self, r: Any) -> SharedItem:
        place = SHARE_LINE.at(r[0], r[2])
        line = self._cipher.decrypt(r[4], place) if r[4] is not None else ""
        posted = _dt(r[7]) if r[7] else None
        return SharedItem(
            int(r[0]), int(r[1]), int(r[2]), r[3], line, r[5], r[6], posted, _dt(r[8])
        )

    _ABOUT = (
        "member_id=? OR share_id IN (SELECT id FROM shared_items WHERE member_id=?)"
        " OR (platform, target) IN (SELECT platform, platform_user_id FROM members WHERE id=?)"
    )

    async def export(self, member_id: int) -> dict[str, Any]:
        answers = await self._db.fetchall(
            "SELECT r.mood, r.urge, r.reach_out, r.at, p.local_date, p.group_id"
            " FROM group_responses r JOIN posts p ON p.id=r.post_id WHERE r.member_id=?"
            " ORDER BY r.at",
            (member_id,),
        )
        shares = await self._db.fetchall(
            f"SELECT {self._SHARE} FROM shared_items WHERE member_id=? ORDER BY id", (member_id,)
        )
        messages = await self._db.fetchall(
            f"SELECT platform, target, payload, state, created_at, sent_at, id FROM outbox"
            f" WHERE {self._ABOUT} ORDER BY id",
            (member_id, member_id, member_id),
        )
        return {
            "group_checkins": [
                {
                    "group": int(r[5]),
                    "date": r[4],
                    "mood": r[0],
                    "urge": r[1],
                    "asked_for_reach_out": bool(r[2]),
                    "at": r[3],
                }
                for r in answers
            ],
            "shared_in_groups": [share_json(self._share(r)) for r in shares],
            "group_messages": [
                {
                    "platform": r[0],
                    "to": r[1],
                    "text": data.get("text", ""),
                    "state": r[3],
                    "queued_at": r[4],
                    "sent_at": r[5],
                    **naming_of(data),
                }
                for r in messages
                for data in [
                    json.loads(self._cipher.decrypt(r[2], OUTBOX_PAYLOAD.at(r[6], r[0], r[1])))
                ]
            ],
        }

    async def erase(self, member_id: int) -> int:
        """The member's answers to group posts, shared items, and the outbox rows about them or
        addressed to them (first: they point at the shared items). Memberships, volunteering and
        reach-outs are the reach-out repository's (core/groups/reachouts/store.py)."""
        async with self._db.write():
            removed = 0
            for sql, params in (
                (f"DELETE FROM outbox WHERE {self._ABOUT}", (member_id,) * 3),
                ("DELETE FROM group_responses WHERE member_id=?", (member_id,)),
                ("DELETE FROM shared_items WHERE member_id=?", (member_id,)),
            ):
                removed += await self._db.changes(sql, params)
        return removed


def share_json(share: SharedItem) -> dict[str, Any]:
    return {
        "kind": share.kind,
        "line": share.line,
        "state": share.state,
        "at": share.at.isoformat() if share.at else None,
        "posted_at": share.posted_at.isoformat() if share.posted_at else None,
    }


class SqliteReminderRepo:
    _COLUMNS = "id, member_id, at_time, timezone, paused, quiet_days"

    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def _reminder(r: Any) -> Reminder:
        return Reminder(int(r[0]), int(r[1]), r[2], r[3], bool(r[4]), days_from_code(r[5]))

    async def get(self, member_id: int) -> Reminder | None:
        row = await self._db.fetchone(
            f"SELECT {self._COLUMNS} FROM reminders WHERE member_id=?", (member_id,)
        )
        return None if row is None else self._reminder(row)

    async def put(self, reminder: Reminder, now: datetime) -> Reminder:
        await self._db.execute(
            "INSERT INTO reminders (member_id, at_time, timezone, paused, quiet_days,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (member_id) DO UPDATE SET at_time=excluded.at_time,"
            " timezone=excluded.timezone, paused=excluded.paused,"
            " quiet_days=excluded.quiet_days, updated_at=excluded.updated_at",
            (
                reminder.member_id,
                reminder.at,
                reminder.timezone,
                int(reminder.paused),
                days_code(reminder.quiet_days),
                stamp(now),
                stamp(now),
            ),
        )
        saved = await self.get(reminder.member_id)
        assert saved is not None
        return saved

    async def delete(self, member_id: int) -> bool:
        removed = await self._db.changes("DELETE FROM reminders WHERE member_id=?", (member_id,))
        return removed > 0

    async def all(self) -> list[Reminder]:
        rows = await self._db.fetchall(f"SELECT {self._COLUMNS} FROM reminders ORDER BY id")
        return [self._reminder(r) for r in rows]

    async def export(self, member_id: int) -> dict[str, Any]:
        found = await self.get(member_id)
        return {} if found is None else {"reminder": reminder_json(found)}

    async def erase(self, member_id: int) -> int:
        return int(await self.delete(member_id))


def reminder_json(reminder: Reminder) -> dict[str, Any]:
    return {
        "at": reminder.at,
        "timezone": reminder.timezone,
        "paused": reminder.paused,
        "quiet_days": days_text(reminder.quiet_days) if reminder.quiet_days else "",
    }
