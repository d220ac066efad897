"""Discord shards across processes (issue 17): each process acts only on what its shards hold.

Two "processes" here are two apps on one database (one set of repositories), each with a real
discord.py client connected as one shard of two to the fake Discord, which routes as Discord
does: a server's events to the shard `(guild_id >> 22) % 2`, direct messages to shard 0.
The fake's GUILD_ID is on shard 1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bots.discord_adapter import DiscordAdapter, DiscordStartError
from bots.discord_adapter import discord_settings as settings_from_config
from bots.discord_shards import Shards, shard_of
from core.api import Delivery, Event, Reply
from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.config import Config, ConfigError, load_config
from core.kernel.settings import Settings
from core.outbox.drainer import payload
from core.outbox.records import NewOutboxItem, OutboxState
from core.repos import Repos, in_memory_repos
from tests.conftest import detector, library
from tests.fake_discord import (
    CHANNEL_ID,
    GUILD_ID,
    OTHER_GUILD_ID,
    FakeDiscord,
    Member,
)
from tests.fake_discord import (
    shard_of as fake_shard_of,
)
from tests.rigs import discord_server, discord_settings
from tests.timer import DiscordTimer

MANAGE_SERVER = 32
TEN_IN_BERLIN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass
class Process:
    """One `unblend run`: its own app (and outbox drainer), its Discord shards."""

    app: Unblend
    adapter: DiscordAdapter
    timer: DiscordTimer
    handled: list[Event] = field(default_factory=list)


def counting_app(repos: Repos, clock: FakeClock, handled: list[Event]) -> Unblend:
    app = Unblend(repos, library(), detector(), clock, Settings(default_country="GB"))
    handle = app.handle

    async def counted(event: Event) -> list[Reply]:
        handled.append(event)
        return await handle(event)

    app.handle = counted  # type: ignore[method-assign]
    return app


@asynccontextmanager
async def processes(fake: FakeDiscord, clock: FakeClock) -> AsyncIterator[list[Process]]:
    repos = in_memory_repos()  # the one database both share
    started: list[Process] = []
    try:
        for shard in (0, 1):
            handled: list[Event] = []
            app = counting_app(repos, clock, handled)
            shards = Shards(2, (shard,))
            adapter = DiscordAdapter(app, discord_settings(fake, shards=shards))
            await adapter.start()
            started.append(Process(app, adapter, DiscordTimer(app, clock), handled))
        yield started
    finally:
        for process in started:
            await process.adapter.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_server() as server:
        yield server


# -- the rule ---------------------------------------------------------------------------------


def test_the_shard_rule_is_discords() -> None:
    # A server id's top bits are its creation time; the shard counts from them.
    assert shard_of(GUILD_ID, 2) == fake_shard_of(GUILD_ID, 2) == 1
    assert shard_of(OTHER_GUILD_ID, 2) == 0
    made = 7 << 22  # a server created 7 ms after Discord's epoch
    assert [shard_of(made + low, n) for low in (0, 4_194_303) for n in (1, 2, 4)] == [
        0,
        1,
        3,
    ] * 2


def test_what_each_process_holds() -> None:
    group = Delivery("discord", str(GUILD_ID), Reply("hi", private=False))
    other = Delivery("discord", str(OTHER_GUILD_ID), Reply("hi", private=False))
    direct = Delivery("discord", "1001", Reply("hi"), private=True)
    odd = Delivery("discord", "not-a-server", Reply("hi", private=False))
    zero, one = Shards(2, (0,)), Shards(2, (1,))
    assert [zero.holds(d) for d in (group, other, direct, odd)] == [False, True, True, True]
    assert [one.holds(d) for d in (group, other, direct, odd)] == [True, False, False, False]
    # Not sharded, or every shard in this process: everything.
    assert all(Shards().holds(d) and Shards(2).holds(d) for d in (group, other, direct, odd))


# -- end to end -------------------------------------------------------------------------------


async def test_a_direct_message_is_answered_once_by_shard_zeros_process(
    fake: FakeDiscord, clock: FakeClock
) -> None:
    async with processes(fake, clock) as (zero, one):
        assert [s.shard for s in fake.sessions.values()] == [0, 1]
        assert fake.identify is not None and fake.identify["shard"] == [1, 2]
        ana = Member(fake, 10, "Ana")
        asked = await ana.slash("help")
        await ana.expect("Here is what I can do")
        assert asked.answered
        assert [e.user_id for e in zero.handled] == ["10"] and one.handled == []
        # Only shard 0's process synced the commands.
        assert len(zero.adapter.synced) > 0 and one.adapter.synced == []


async def test_a_group_post_is_sent_once_by_the_process_holding_its_server(
    fake: FakeDiscord, clock: FakeClock
) -> None:
    async with processes(fake, clock) as (zero, one):
        host = Member(fake, 1, "Host")
        clock.set(TEN_IN_BERLIN - timedelta(hours=1))
        await host.slash(
            "schedule",
            guild=True,
            permissions=MANAGE_SERVER,
            sub="add",
            time="10:00",
            timezone="Europe/Berlin",
        )
        await host.expect("is set: 10:00 (Europe/Berlin), daily")
        assert zero.handled == [] and len(one.handled) == 1, "the server is on shard 1"

        # Both processes' schedulers fire; the post is claimed once.
        clock.set(TEN_IN_BERLIN)
        posted = [(await p.timer.engine.run_due_posts(clock.now())).posted for p in (zero, one)]
        assert sorted(posted) == [0, 1]
        [item] = await zero.app.repos.outbox.items("discord")
        # Shard 0's process drains first: it leaves the row untouched, for shard 1's.
        assert await zero.timer.drainer.drain("discord") == 0
        [left] = await zero.app.repos.outbox.items("discord")
        assert left == item and left.state is OutboxState.PENDING and left.attempts == 0
        assert not [o for o in fake.outbox if "Time for our check-in" in o.text]
        assert await one.timer.drainer.drain("discord") == 1
        assert await zero.timer.drainer.drain("discord") == 0
        assert await one.timer.drainer.drain("discord") == 0, "sent once"
        prompts = [o for o in fake.outbox if "Time for our check-in" in o.text]
        assert len(prompts) == 1 and prompts[0].message.channel_id == CHANNEL_ID
        [sent] = await zero.app.repos.outbox.items("discord")
        assert sent.state is OutboxState.SENT


async def test_a_private_outbox_message_goes_from_shard_zeros_process(
    fake: FakeDiscord, clock: FakeClock
) -> None:
    async with processes(fake, clock) as (zero, one):
        reminder = payload(Reply("A gentle reminder", private=True), private=True)
        item = NewOutboxItem("discord", "1001", reminder)
        await zero.app.repos.outbox.enqueue(item, clock.now())
        assert await one.timer.drainer.drain("discord") == 0
        [left] = await one.app.repos.outbox.items("discord")
        assert left.state is OutboxState.PENDING and left.attempts == 0
        assert await zero.timer.drainer.drain("discord") == 1
        assert [o.text for o in fake.outbox] == ["A gentle reminder"]


async def test_other_shards_rows_never_hold_up_this_process_own(
    fake: FakeDiscord, clock: FakeClock
) -> None:
    """More of another shard's rows are due than one batch holds (its process is down, say):
    this process looks past them and still sends its own."""
    async with processes(fake, clock) as (zero, one):
        zero.timer.drainer.batch = 3
        group = payload(Reply("For the other shard's server", private=False), thread="5")
        for _ in range(7):
            await zero.app.repos.outbox.enqueue(
                NewOutboxItem("discord", str(GUILD_ID), group), clock.now()
            )
        mine = payload(Reply("Yours", private=True), private=True)
        await zero.app.repos.outbox.enqueue(NewOutboxItem("discord", "1001", mine), clock.now())
        assert await zero.timer.drainer.drain("discord") == 1
        states = [i.state for i in await zero.app.repos.outbox.items("discord")]
        assert states == [OutboxState.PENDING] * 7 + [OutboxState.SENT]
        assert [o.text for o in fake.outbox] == ["Yours"]
        # Looked at, then handed back at once: the other shard's process sends them now, not
        # when a claim lapses.
        assert await one.timer.drainer.drain("discord") == 7


async def test_an_interaction_sent_to_the_wrong_shard_too_is_acted_on_once(
    fake: FakeDiscord, clock: FakeClock
) -> None:
    """A server's interaction delivered to both processes (misrouted, or forged onto shard
    0's connection): only the process holding the server's shard acts on it."""
    async with processes(fake, clock) as (zero, one):
        bo = Member(fake, 12, "Bo")
        data = {"id": fake.command_id("help"), "name": "help", "type": 1, "options": []}
        both = await fake.interact(bo.user, 2, data, guild=True, shards=(0, 1))
        await bo.expect("Here is what I can do")
        await fake.wait_for(lambda: both.answered or None)
        assert zero.handled == [] and [e.user_id for e in one.handled] == ["12"]
        # A direct message forged onto shard 1's connection: shard 0's process answers it.
        dm = await fake.interact(bo.user, 2, {**data}, shards=(1, 0))
        await fake.wait_for(lambda: dm.answered or None)
        assert [e.user_id for e in zero.handled] == ["12"] and len(one.handled) == 1
        # Whatever arrives with a server id that is no id is nobody's.
        assert not one.adapter.client._holds({"guild_id": "1e9"})
        assert not zero.adapter.client._holds({"guild_id": "x"})


async def test_one_process_may_hold_several_shards(fake: FakeDiscord, clock: FakeClock) -> None:
    fake.more_guilds[OTHER_GUILD_ID] = {OTHER_GUILD_ID + 1: "general"}
    handled: list[Event] = []
    app = counting_app(in_memory_repos(), clock, handled)
    adapter = DiscordAdapter(
        app, discord_settings(fake, shards=Shards(2, (0, 1)), identify_gap=0.0)
    )
    await adapter.start()
    try:
        assert sorted(fake.sessions) == [0, 1]
        assert {g.id for g in adapter.client.guilds} == {GUILD_ID, OTHER_GUILD_ID}
        ana = Member(fake, 10, "Ana")
        await ana.slash("help", guild=True)
        await ana.expect("Here is what I can do")
        await ana.slash("help")
        await ana.expect("Here is what I can do")
        assert len(handled) == 2
    finally:
        await adapter.stop()


async def test_a_shard_discord_refuses_stops_the_start_with_what_to_fix(clock: FakeClock) -> None:
    fake = FakeDiscord()
    await fake.start()
    try:
        app = counting_app(in_memory_repos(), clock, [])
        # Past the config's checks (which refuse it), as a stale setting would be.
        adapter = DiscordAdapter(app, discord_settings(fake, shards=Shards(2, (2,))))
        with pytest.raises(DiscordStartError, match=r"shard_count \(the same in every process\)"):
            await adapter.start()
        assert fake.rejections == [("IDENTIFY", 4010, "Invalid shard.")]
    finally:
        await fake.close()


async def test_discord_asking_for_shards_stops_the_start_with_what_to_set(
    clock: FakeClock,
) -> None:
    fake = FakeDiscord()
    fake.sharding_required = True
    await fake.start()
    try:
        adapter = DiscordAdapter(counting_app(in_memory_repos(), clock, []), discord_settings(fake))
        with pytest.raises(DiscordStartError, match=r"Set \[discord\] shard_count"):
            await adapter.start()
        assert fake.rejections == [("IDENTIFY", 4011, "Sharding required.")]
    finally:
        await fake.close()


# -- settings ---------------------------------------------------------------------------------


def test_the_shard_settings_reach_the_adapter() -> None:
    config = load_config(None, env={"UNBLEND_DISCORD_SHARD_COUNT": "4"})
    assert discord_settings_of(config) == Shards(4, ())
    config = load_config(
        None, env={"UNBLEND_DISCORD_SHARD_COUNT": "4", "UNBLEND_DISCORD_SHARD_IDS": "2, 3"}
    )
    assert discord_settings_of(config) == Shards(4, (2, 3))
    assert discord_settings_of(load_config(None, env={})) == Shards()


def discord_settings_of(config: Config) -> Shards:
    return settings_from_config(config).shards


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("shard_count = -1", {}, "[discord] shard_count: must be from 0 (no shards) to 10000"),
        ("shard_count = '2'", {}, "[discord] shard_count: must be a whole number, got str"),
        ("shard_ids = 1", {}, "[discord] shard_ids: must be a list in [ ], got int"),
        ("shard_ids = [0]", {}, "[discord] shard_ids: needs shard_count"),
        ("shard_count = 2.5\nshard_ids = [0]", {}, "shard_count: must be a whole number"),
        ("shard_count = 2\nshard_ids = [0, 2, -1]", {}, "has -1, 2, outside 0 to 1"),
        ("shard_count = 2\nshard_ids = ['0']", {}, "must hold whole numbers only, got str"),
        ("shard_count = 2\nshard_ids = [true]", {}, "must hold whole numbers only, got bool"),
        ("shard_count = 2\nshard_ids = [1, 1]", {}, "names a shard twice"),
        ("shard_count = 2", {"UNBLEND_DISCORD_SHARD_IDS": "0,x"}, 'numbers like "0,1"'),
        ("", {"UNBLEND_DISCORD_SHARD_COUNT": "two"}, "must be one whole number, like 4"),
        ("shard_count = 4", {"UNBLEND_DISCORD_SHARD_IDS": "4"}, "has 4, outside 0 to 3"),
    ],
)
def test_wrong_shard_settings_stop_the_start_kindly(
    tmp_path: Path, text: str, env: dict[str, str], expected: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[discord]\n{text}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env)
    message = str(info.value)
    assert expected in message
    # It names where the value came from: the file, or the environment variable.
    assert (f"${next(iter(env))}" if env else str(path)) in message


def test_shard_settings_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[discord]\nshard_count = 2\nshard_ids = [1]\n")
    assert discord_settings_of(load_config(path, env={})) == Shards(2, (1,))
    path.write_text("[discord]\nshard_count = 3\n")
    assert discord_settings_of(load_config(path, env={})) == Shards(3, ())


def test_a_wrong_count_is_told_once_not_again_as_missing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[discord]\nshard_count = 'four'\nshard_ids = [0]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.problems.lines() == [
        f"{path}: [discord] shard_count: must be a whole number, got str. Example: shard_count = 4"
    ]


def test_each_set_of_shards_is_a_role_of_its_own_at_its_part_of_the_rate() -> None:
    """On a shared database each shard set runs in one process at a time (a second process
    with the same set is its standby), and together they keep the bot's one global rate."""
    from bots.discord_shards import shard_roles

    halves = Shards(4, (0, 1)), Shards(4, (2, 3))
    assert halves[0].role != halves[1].role != Shards().role == "adapter:discord"
    assert [h.share for h in halves] == [0.5, 0.5] and Shards().share == 1.0
    # `unblend doctor` can name who holds which set from the lock's number alone.
    assert {h.role for h in halves} <= set(shard_roles())
