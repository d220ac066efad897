"""In-memory twins of the group check-in repositories, for fast core tests."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from core.groups.records import (
    SETTING_FIELDS,
    Group,
    Post,
    Reminder,
    Response,
    Schedule,
    SharedItem,
    kept_settings,
    with_kept,
)
from core.groups.store import reminder_json, share_json
from core.kernel.names import naming_of
from core.outbox.records import NewOutboxItem, OutboxItem
from core.outbox.store import InMemoryOutboxRepo


class InMemoryGroupRepo:
    def __init__(self, outbox: InMemoryOutboxRepo) -> None:
        self._outbox = outbox
        self._groups: dict[int, Group] = outbox.groups
        self._schedules: dict[int, Schedule] = {}
        self._claims: dict[tuple[int, date], str] = {}
        self._daily: dict[tuple[str, int, date], str] = {}
        self._responses: dict[tuple[int, int], Response] = {}
        self._shares: dict[int, SharedItem] = outbox.shares
        self._settings: dict[tuple[int, str], str] = {}
        self._ids = itertools.count(1)

    @property
    def _posts(self) -> dict[int, Post]:
        return self._outbox.posts

    async def get_or_create(self, platform: str, space_id: str, now: datetime) -> Group:
        for group in self._groups.values():
            if (group.platform, group.space_id) == (platform, space_id):
                return group
        group = Group(next(self._ids), platform, space_id)
        self._groups[group.id] = group
        return group

    async def by_id(self, group_id: int) -> Group | None:
        return self._groups.get(group_id)

    async def all(self) -> list[Group]:
        return list(self._groups.values())

    async def setting(self, group_id: int, name: str) -> str | None:
        return self._settings.get((group_id, name))

    async def put_setting(self, group_id: int, name: str, value: str, now: datetime) -> None:
        self._settings[(group_id, name)] = value
        if name in SETTING_FIELDS:
            self._groups[group_id] = with_kept(self._groups[group_id], {name: value})

    async def update(self, group: Group, now: datetime | None = None) -> None:
        for name, value in kept_settings(group).items():
            await self.put_setting(group.id, name, value, now or datetime.min)

    async def set_holiday(self, group_id: int, day: date, on: bool) -> bool:
        group = self._groups[group_id]
        days = group.holidays | {day} if on else group.holidays - {day}
        self._groups[group_id] = replace(group, holidays=days)
        return days != group.holidays

    async def add_schedule(self, schedule: Schedule, now: datetime) -> Schedule:
        added = replace(schedule, id=next(self._ids), created_at=now)
        self._schedules[added.id] = added
        return added

    async def schedules(self, group_id: int | None = None) -> list[Schedule]:
        return [s for s in self._schedules.values() if group_id is None or s.group_id == group_id]

    async def update_schedule(self, schedule: Schedule, now: datetime) -> None:
        if schedule.id in self._schedules:
            self._schedules[schedule.id] = schedule

    async def remove_schedule(self, group_id: int, schedule_id: int) -> bool:
        found = self._schedules.get(schedule_id)
        if found is None or found.group_id != group_id:
            return False
        del self._schedules[schedule_id]
        return True

    async def claimed(self, since: date) -> set[tuple[int, date]]:
        return {k for k in self._claims if k[1] >= since}

    async def claim_post(
        self,
        schedule: Schedule,
        local_date: date,
        due_at: datetime,
        now: datetime,
        item: NewOutboxItem,
        token: str,
    ) -> Post | None:
        key = (schedule.id, local_date)
        if key in self._claims:
            return None
        self._claims[key] = "posted"
        post_id = next(self._ids)
        post = Post(post_id, schedule.group_id, schedule.id, local_date, due_at, token=token)
        self._posts[post.id] = post
        self._outbox.add(replace(item, post_id=post.id), now)
        return post

    async def claim_missed(self, schedule_id: int, local_date: date, now: datetime) -> bool:
        key = (schedule_id, local_date)
        if key in self._claims:
            return False
        self._claims[key] = "missed"
        return True

    async def daily_claimed(self, kind: str, since: date) -> set[tuple[int, date]]:
        return {(ref, day) for k, ref, day in self._daily if k == kind and day >= since}

    async def claim_daily(
        self,
        kind: str,
        ref_id: int,
        local_date: date,
        now: datetime,
        outcome: str,
        item: NewOutboxItem | None,
    ) -> bool:
        key = (kind, ref_id, local_date)
        if key in self._daily:
            return False
        self._daily[key] = outcome
        if item is not None:
            self._outbox.add(item, now)
        return True

    async def post(self, post_id: int) -> Post | None:
        return self._posts.get(post_id)

    async def post_by_token(self, token: str) -> Post | None:
        found = [p for p in self._posts.values() if token and p.token == token]
        return found[0] if found else None

    async def posts_on(self, group_id: int, local_date: date) -> list[Post]:
        return [
            p for p in self._posts.values() if p.group_id == group_id and p.local_date == local_date
        ]

    async def put_response(self, response: Response, now: datetime) -> None:
        self._responses[(response.post_id, response.member_id)] = response

    async def responses(self, post_ids: list[int]) -> list[Response]:
        return [r for r in self._responses.values() if r.post_id in post_ids]

    async def add_share(
        self, post_id: int, member_id: int, kind: str, line: str, now: datetime
    ) -> SharedItem:
        share = SharedItem(next(self._ids), post_id, member_id, kind, line, at=now)
        self._shares[share.id] = share
        return share

    async def share(self, member_id: int, share_id: int) -> SharedItem | None:
        share = self._shares.get(share_id)
        return share if share is not None and share.member_id == member_id else None

    async def settle_share(
        self, share_id: int, state: str, item: NewOutboxItem | None, now: datetime
    ) -> bool:
        share = self._shares.get(share_id)
        if share is None or share.state != "preview":
            return False
        self._shares[share_id] = replace(share, state=state, at=now)
        if item is not None:
            self._outbox.add(replace(item, member_id=share.member_id, share_id=share_id), now)
        return True

    # -- a member's own group data: /export and /forget (issue 7) -------------------------------

    async def posted_shares(self, member_id: int) -> list[SharedItem]:
        return [
            s for s in self._shares.values() if s.member_id == member_id and s.state == "posted"
        ]

    def _about(self, member_id: int) -> list[OutboxItem]:
        mine = {s.id for s in self._shares.values() if s.member_id == member_id}
        return [
            i
            for i in self._outbox.rows.values()
            if i.member_id == member_id or (i.share_id is not None and i.share_id in mine)
        ]

    async def export(self, member_id: int) -> dict[str, Any]:
        answers = [r for r in self._responses.values() if r.member_id == member_id]
        return {
            "group_checkins": [
                {
                    "group": self._posts[r.post_id].group_id if r.post_id in self._posts else None,
                    "date": (
                        self._posts[r.post_id].local_date.isoformat()
                        if r.post_id in self._posts
                        else None
                    ),
                    "mood": r.mood,
                    "urge": r.urge,
                    "asked_for_reach_out": r.reach_out,
                }
                for r in answers
            ],
            "shared_in_groups": [
                share_json(s) for s in self._shares.values() if s.member_id == member_id
            ],
            "group_messages": [
                {
                    "platform": i.platform,
                    "to": i.target,
                    "text": i.payload.get("text", ""),
                    "state": i.state.value,
                    **naming_of(i.payload),
                }
                for i in self._about(member_id)
            ],
        }

    async def erase(self, member_id: int) -> int:
        removed = 0
        for item in self._about(member_id):
            del self._outbox.rows[item.id]
            removed += 1
        for key in [k for k, r in self._responses.items() if r.member_id == member_id]:
            del self._responses[key]
            removed += 1
        for share_id in [i for i, s in self._shares.items() if s.member_id == member_id]:
            del self._shares[share_id]
            removed += 1
        return removed


class InMemoryReminderRepo:
    def __init__(self) -> None:
        self._rows: dict[int, Reminder] = {}
        self._ids = itertools.count(1)

    async def get(self, member_id: int) -> Reminder | None:
        return self._rows.get(member_id)

    async def put(self, reminder: Reminder, now: datetime) -> Reminder:
        old = self._rows.get(reminder.member_id)
        saved = replace(reminder, id=old.id if old else next(self._ids))
        self._rows[reminder.member_id] = saved
        return saved

    async def delete(self, member_id: int) -> bool:
        return self._rows.pop(member_id, None) is not None

    async def all(self) -> list[Reminder]:
        return list(self._rows.values())

    async def export(self, member_id: int) -> dict[str, Any]:
        found = self._rows.get(member_id)
        return {} if found is None else {"reminder": reminder_json(found)}

    async def erase(self, member_id: int) -> int:
        return int(await self.delete(member_id))
