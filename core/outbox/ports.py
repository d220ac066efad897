"""The outbox's storage port; SQLite and in-memory twins implement it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, cast

from core.kernel.ports import Stores
from core.outbox.records import NewOutboxItem, OutboxItem


class OutboxRepo(Protocol):
    async def enqueue(self, item: NewOutboxItem, now: datetime) -> int: ...

    async def due(self, platform: str, now: datetime, limit: int) -> list[OutboxItem]:
        """Pending items whose time has come, the oldest first."""
        ...

    async def claim(
        self, platform: str, now: datetime, limit: int, owner: str, until: datetime
    ) -> list[OutboxItem]:
        """Takes up to `limit` due items for `owner` until `until`, the oldest first: items
        another owner took and whose claim has not lapsed are left out, so processes sharing a
        database never send one item twice. A claim ends when the item is sent, fails, is put
        off (`retry_later`) or `release`d, or lapses at `until` (its owner died)."""
        ...

    async def release(self, platform: str, owner: str | None = None) -> int:
        """Ends the claims on `platform`'s pending items: `owner`'s, or every one (a new sender
        took over from one that died); how many."""
        ...

    async def release_items(self, item_ids: Sequence[int], owner: str) -> None:
        """Ends `owner`'s claims on those items (another process holds them: Discord shards)."""
        ...

    async def mark_sent(self, item_id: int, message_ref: str, now: datetime) -> None:
        """Also writes the message id back to the item's post, in the same transaction."""
        ...

    async def retry_later(self, item_id: int, attempts: int, at: datetime) -> None: ...

    async def mark_failed(self, item_id: int, attempts: int) -> None: ...

    async def items(self, platform: str | None = None) -> list[OutboxItem]:
        """Every item (tests, the benchmark and diagnostics)."""
        ...

    async def purge_private(self, before: datetime) -> int:
        """The daily clean-up (issue 12): sent or failed rows queued before `before` that are
        not addressed to a group the bot knows (reminders, reach-out requests, acknowledgements,
        alerts to a moderators' chat of its own). A group's rows follow the group's retention
        (core.groups.screening); pending rows are never purged."""
        ...


class SentPost(Protocol):
    """A group's check-in post as the outbox sees it: shared lines answer it once it is out."""

    @property
    def message_ref(self) -> str: ...


class PostLookup(Protocol):
    async def post(self, post_id: int) -> SentPost | None: ...


class OutboxStores(Stores, Protocol):
    """The stores the outbox uses: its own, and the group posts its lines reply to."""

    @property
    def outbox(self) -> OutboxRepo: ...

    @property
    def groups(self) -> PostLookup: ...


def stores(repos: Stores) -> OutboxStores:
    """`repos` seen as the outbox uses it: core/repos.py proves Repos fits."""
    return cast(OutboxStores, repos)
