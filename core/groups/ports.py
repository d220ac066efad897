"""Storage ports for group check-ins; SQLite and in-memory twins implement them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from core.groups.records import Group, Post, Reminder, Response, Schedule, SharedItem
from core.outbox.records import NewOutboxItem


class GroupRepo(Protocol):
    """Groups, their schedules, claims, posts, private answers and shared items."""

    async def get_or_create(self, platform: str, space_id: str, now: datetime) -> Group: ...

    async def by_id(self, group_id: int) -> Group | None: ...

    async def all(self) -> list[Group]: ...

    async def update(self, group: Group, now: datetime | None = None) -> None:
        """Keeps each setting the record carries, by name, as `put_setting` does (holidays are
        `set_holiday`'s)."""
        ...

    async def set_holiday(self, group_id: int, day: date, on: bool) -> bool:
        """True when this changed something."""
        ...

    async def setting(self, group_id: int, name: str) -> str | None:
        """A setting as kept by name (every group setting is: migration 0020); None: never set."""
        ...

    async def put_setting(self, group_id: int, name: str, value: str, now: datetime) -> None:
        """Keeps a setting by name; one the record carries (records.SETTING_FIELDS) is read
        into the group from then on."""
        ...

    async def add_schedule(self, schedule: Schedule, now: datetime) -> Schedule: ...

    async def schedules(self, group_id: int | None = None) -> list[Schedule]:
        """A group's schedules, or every group's when `group_id` is None; oldest first."""
        ...

    async def update_schedule(self, schedule: Schedule, now: datetime) -> None:
        """Writes paused and skip dates (and the rest) of an existing schedule."""
        ...

    async def remove_schedule(self, group_id: int, schedule_id: int) -> bool: ...

    async def claimed(self, since: date) -> set[tuple[int, date]]:
        """(schedule id, local date) of every claim on or after `since`."""
        ...

    async def claim_post(
        self,
        schedule: Schedule,
        local_date: date,
        due_at: datetime,
        now: datetime,
        item: NewOutboxItem,
        token: str,
    ) -> Post | None:
        """Claims (schedule, local date) and queues its prompt in ONE transaction; the post
        keeps `token`, the random name its link carries.

        None when it was claimed before: nothing is queued twice.
        """
        ...

    async def claim_missed(self, schedule_id: int, local_date: date, now: datetime) -> bool: ...

    async def daily_claimed(self, kind: str, since: date) -> set[tuple[int, date]]: ...

    async def claim_daily(
        self,
        kind: str,
        ref_id: int,
        local_date: date,
        now: datetime,
        outcome: str,
        item: NewOutboxItem | None,
    ) -> bool:
        """Claims a summary or reminder for a local date, with its outbox row if any."""
        ...

    async def post(self, post_id: int) -> Post | None: ...

    async def post_by_token(self, token: str) -> Post | None:
        """The post a link names by its random token (never by its number)."""
        ...

    async def posts_on(self, group_id: int, local_date: date) -> list[Post]: ...

    async def put_response(self, response: Response, now: datetime) -> None:
        """One answer per member and post: a second check-in replaces the first."""
        ...

    async def responses(self, post_ids: list[int]) -> list[Response]: ...

    async def add_share(
        self, post_id: int, member_id: int, kind: str, line: str, now: datetime
    ) -> SharedItem:
        """A shared item waiting in the member's preview."""
        ...

    async def share(self, member_id: int, share_id: int) -> SharedItem | None: ...

    async def settle_share(
        self, share_id: int, state: str, item: NewOutboxItem | None, now: datetime
    ) -> bool:
        """Moves a previewed item to `state` ('posted' with its outbox row, or 'dropped').

        False when it was no longer in the preview (a second tap posts nothing twice).
        """
        ...

    async def posted_shares(self, member_id: int) -> list[SharedItem]:
        """The member's items that were posted (message_ref set once sent): /forget takes them
        back out of the group where the platform allows."""
        ...


class ReminderRepo(Protocol):
    async def get(self, member_id: int) -> Reminder | None: ...

    async def put(self, reminder: Reminder, now: datetime) -> Reminder:
        """Creates or replaces the member's one reminder."""
        ...

    async def delete(self, member_id: int) -> bool: ...

    async def all(self) -> list[Reminder]: ...
