"""Which Discord shards this process holds, and so what it answers and sends (issue 17).

Discord splits a bot's servers over shards: a server's events go to shard
`(guild_id >> 22) % shard_count`, and direct messages to shard 0 only. Several processes share
one bot by each connecting some of the shards (`[discord] shard_count`, `shard_ids`). Each then
acts only on what its shards hold: a server's interactions and group posts by the process of
the server's shard; direct messages (and the outbox's private messages) by the process of
shard 0. What another process holds is left alone, for that process: never answered twice,
never sent twice, never marked done or failed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.api import Delivery


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's own rule for the shard that receives a server's events."""
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True)
class Shards:
    """`count` 0: not sharded, one connection holds everything. `ids` empty: every shard."""

    count: int = 0
    ids: tuple[int, ...] = ()

    @property
    def sharded(self) -> bool:
        return self.count > 0

    @property
    def held(self) -> tuple[int, ...]:
        return self.ids or tuple(range(self.count))

    @property
    def role(self) -> str:
        """The role a process holding these shards takes on a shared database (bots/roles.py):
        one process at a time per set of shards; another with the same set waits as a standby."""
        if not self.sharded:
            return "adapter:discord"
        return f"adapter:discord:{','.join(str(i) for i in self.held)}/{self.count}"

    @property
    def share(self) -> float:
        """This process's part of the bot's global send rate: Discord counts it per bot, across
        every shard, so processes holding part of the shards each send at their part."""
        return len(self.held) / self.count if self.sharded else 1.0

    def holds_guild(self, guild_id: int | None) -> bool:
        """A server's events (None: a direct message, which Discord sends to shard 0)."""
        if not self.sharded:
            return True
        shard = 0 if guild_id is None else shard_of(guild_id, self.count)
        return shard in self.held

    def holds_direct(self) -> bool:
        return self.holds_guild(None)

    def holds(self, delivery: Delivery) -> bool:
        """Outbox hook: whether this process sends `delivery` (a group's target is its server's
        id; a private one is a member's, sent by shard 0's process). A target that is no
        server id is shard 0's too, so exactly one process deals with it."""
        if delivery.private or not (delivery.target.isascii() and delivery.target.isdigit()):
            return self.holds_direct()
        return self.holds_guild(int(delivery.target))


# Shard sets `unblend doctor` can name from a lock's number: each process holding one run of
# consecutive shards, for up to this many shards in all.
NAMED_SHARD_COUNTS = 16


def shard_roles(most: int = NAMED_SHARD_COUNTS) -> list[str]:
    return [
        Shards(count, tuple(range(first, last + 1))).role
        for count in range(1, most + 1)
        for first in range(count)
        for last in range(first, count)
    ]
