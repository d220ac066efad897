"""Group check-ins end to end on Discord: a real discord.py client against the fake Discord.

A moderator (Manage Server) schedules with /schedule add, a non-moderator is refused, the
prompt goes out at the time with its "Check in privately" button, a member checks in
ephemerally and shares a line (previewed, then posted in the day's thread under their name),
and the summary appears in the channel only with 3 or more members. Time is a FakeClock; the
engine and the outbox drainer are run the way APScheduler runs them in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bots.discord_adapter import DiscordAdapter
from bots.discord_groups import message_place, message_ref, result_of
from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Reply, Space
from core.outbox.drainer import Delivery, OutboxDrainer, SendStatus
from core.outbox.records import OutboxState
from tests.fake_discord import (
    CHANNEL_ID,
    GUILD_ID,
    Channel,
    FakeDiscord,
    FakeMessage,
    Member,
    Outgoing,
)
from tests.rigs import discord_bot, discord_server
from tests.rigs import discord_settings as settings
from tests.test_discord_e2e import welcome
from tests.timer import DiscordTimer as Timer

MANAGE_SERVER = 32
# Monday 5 January 2026, 09:00 UTC = 10:00 in Berlin (winter time).
TEN_IN_BERLIN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
GONE_CHANNEL = 800_000_000_000_000_099
REACH_OUT = "reach out to you"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_server() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord, app: Unblend) -> AsyncIterator[DiscordAdapter]:
    async with discord_bot(fake, app) as adapter:
        yield adapter


def in_channel(fake: FakeDiscord) -> list[FakeMessage]:
    return [m for m in fake.messages.values() if m.channel_id == CHANNEL_ID and not m.ephemeral]


async def schedule(member: Member, moderator: bool = True, **options: Any) -> None:
    permissions = MANAGE_SERVER if moderator else 0
    await member.slash("schedule", guild=True, permissions=permissions, sub="add", **options)


async def check_in(member: Member, prompt: FakeMessage, share: str, first_time: bool) -> None:
    tapped = await member.tap("Check in privately", prompt)
    if first_time:
        await member.expect("I'm Unblend")
        await member.tap("Okay")
        await member.expect("keep your check-ins")
        await member.tap("Yes, keep them")
    opened = await member.expect("today's group check-in")
    assert opened.message.ephemeral and opened.message.for_user == member.user.id
    assert tapped.answered, "the tap on the group's button was answered"
    await member.tap("4")
    await member.expect("How strong is any urge")
    await member.tap("6")
    await member.expect("share anything with the group")
    await member.tap(share)


async def then_expect(member: Member, fragment: str) -> Outgoing:
    """The next message with `fragment`, answering "no" to a reach-out question on the way.

    (The private check-in may ask whether someone should reach out; skipping it is a no.)
    """
    ids = {m.id for m in member.visible()}

    def find() -> tuple[int, Outgoing] | None:
        seen = ids | {m.id for m in member.visible()}
        for i in range(member.seen, len(member.fake.outbox)):
            out = member.fake.outbox[i]
            if out.message.id in seen and (fragment in out.text or REACH_OUT in out.text):
                return i, out
        return None

    index, found = await member.fake.wait_for(find)
    assert isinstance(found, Outgoing)
    member.seen = index + 1
    if fragment in found.text:
        return found
    await member.tap("No, thank you")
    return await member.expect(fragment)


async def test_schedule_post_private_check_in_shared_line_and_summary(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend, clock: FakeClock
) -> None:
    synced = {c["name"]: c for c in fake.commands["global"]}
    assert str(synced["schedule"]["default_member_permissions"]) == str(MANAGE_SERVER)
    assert "gcheckin" not in synced, "the private side opens from the button only"
    host = Member(fake, 1, "Host")
    bo = Member(fake, 1002, "Bo")
    clock.set(TEN_IN_BERLIN - timedelta(hours=1))
    await schedule(bo, moderator=False, time="10:00", timezone="Europe/Berlin")
    await bo.expect("Only this group's moderators")
    await schedule(host, time="10:00", timezone="Europe/Berlin")
    await host.expect("is set: 10:00 (Europe/Berlin), daily")
    assert await app.repos.groups.get_or_create("discord", str(GUILD_ID), clock.now())

    timer = Timer(app, clock)
    assert await timer.at(TEN_IN_BERLIN - timedelta(minutes=1)) == 0
    assert await timer.at(TEN_IN_BERLIN) == 1
    prompt = (await host.expect("Time for our check-in")).message
    assert prompt.channel_id == CHANNEL_ID and not prompt.ephemeral
    [button] = prompt.buttons()
    assert button["label"] == "Check in privately"
    assert str(button["custom_id"]).startswith("~open:gcheckin-")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=1)) == 0, "posted once"

    alice = Member(fake, 1001, "Alice")
    await check_in(alice, prompt, "Share a short line", first_time=True)
    await alice.expect("short line you'd like to share")
    await alice.write("Glad to be here <3 & grateful @everyone")
    preview = await then_expect(alice, "Here's how it would show")
    assert preview.message.ephemeral
    assert "Alice: Glad to be here <3 & grateful @everyone" in preview.text
    await alice.tap("Post it")
    await alice.expect("Shared with the group")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=5)) == 1
    shared = await host.expect("Alice: Glad to be here <3 & grateful @everyone")
    assert shared.message.channel_id == prompt.id, "in the thread started on the prompt"
    assert fake.threads == {prompt.id: CHANNEL_ID}
    assert shared.message.allowed_mentions == {"parse": []}, "@everyone pings no one"

    await check_in(bo, prompt, "Share my mood only", first_time=True)
    await then_expect(bo, "Your mood is shared")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=6)) == 1
    mood = await host.expect("Bo checked in today (mood 4 of 5)")
    assert mood.message.channel_id == prompt.id and fake.threads == {prompt.id: CHANNEL_ID}

    channel_before = len(in_channel(fake))
    assert await timer.at(TEN_IN_BERLIN + timedelta(hours=11)) == 0, "2 members: no summary"
    assert len(in_channel(fake)) == channel_before

    # The next day three members check in: the totals appear at 21:00 Berlin time.
    assert await timer.at(TEN_IN_BERLIN + timedelta(days=1)) == 1
    second = (await host.expect("Time for our check-in")).message
    cy = Member(fake, 1003, "Cy")
    for member, first_time in ((alice, False), (bo, False), (cy, True)):
        await check_in(member, second, "Share nothing", first_time)
        await then_expect(member, "Nothing was shared")
    assert await timer.at(TEN_IN_BERLIN + timedelta(days=1, hours=11)) == 1
    summary = await host.expect("3 of us checked in")
    assert summary.message.channel_id == CHANNEL_ID, "the summary is in the channel"
    assert "3 in the middle (4-6)" in summary.text
    for name in ("Alice", "Bo", "Cy"):
        assert name not in summary.text
    assert second.id not in fake.threads, "nobody shared: no thread that day"


async def test_a_deleted_channel_comes_back_gone(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend, clock: FakeClock
) -> None:
    host = Member(fake, 1, "Host")
    fake.guild_channels[GONE_CHANNEL] = "soon gone"  # a channel of the server, deleted later
    clock.set(TEN_IN_BERLIN - timedelta(hours=1))
    await schedule(host, time="10:00", timezone="Europe/Berlin", channel=Channel(GONE_CHANNEL))
    await host.expect("is set: 10:00")
    [made] = await app.repos.groups.schedules()
    assert made.target == str(GONE_CHANNEL), "the channel picked, not the one typed in"
    fake.gone_channels.add(GONE_CHANNEL)

    assert await Timer(app, clock).at(TEN_IN_BERLIN) == 0
    [item] = await app.repos.outbox.items("discord")
    assert item.state is OutboxState.FAILED and item.attempts == 1, "never retried"
    assert all(m.channel_id != GONE_CHANNEL for m in fake.messages.values())

    direct = Delivery("discord", str(GUILD_ID), Reply("Hello", private=False), thread="77")
    fake.gone_channels.add(77)
    assert (await bot.post(direct)).status is SendStatus.GONE
    assert [r[1:] for r in fake.rejections] == [(404, "Unknown Channel")] * 2
    fake.rejections.clear()


async def test_a_thread_made_before_a_restart_is_used_again(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    prompt = Delivery("discord", str(GUILD_ID), Reply("Prompt", private=False), thread="5")
    sent = await bot.post(prompt)
    assert sent.status is SendStatus.SENT
    assert message_place(sent.message_ref) == (5, int(sent.message_ref.split("/")[1]))
    line = Delivery(
        "discord",
        str(GUILD_ID),
        Reply("Ana: hi", private=False),
        thread="5",
        reply_to=sent.message_ref,
    )
    first = await bot.post(line)
    bot._groups._threads.clear()  # what a restart forgets; Discord still has the thread
    again = await bot.post(replace_text(line, "Bo: hello"))
    _, prompt_id = message_place(sent.message_ref) or (0, 0)
    for result in (first, again):
        assert result.status is SendStatus.SENT
        assert message_place(result.message_ref) is not None
        assert message_place(result.message_ref)[0] == prompt_id  # type: ignore[index]
    assert [r[2] for r in fake.rejections] == ["A thread has already been created for this message"]
    fake.rejections.clear()


def replace_text(delivery: Delivery, text: str) -> Delivery:
    return Delivery(
        delivery.platform,
        delivery.target,
        Reply(text, private=False),
        thread=delivery.thread,
        reply_to=delivery.reply_to,
    )


async def test_a_429_that_outlasts_the_retries_is_a_retry_later(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fake.rate_limit("dm", 5)  # discord.py waits and tries 5 times, then gives up
    result = await bot.post(Delivery("discord", "1", Reply("x", private=False), thread="9"))
    assert result.status is SendStatus.RETRY and result.retry_after > 0
    assert [r for r in fake.messages.values() if r.channel_id == 9] == []
    result = await bot.post(Delivery("discord", "1", Reply("x", private=False), thread="9"))
    assert result.status is SendStatus.SENT, "the next round gets through"


def _http_error(kind: type[discord.HTTPException], status: int, code: int) -> BaseException:
    response = SimpleNamespace(status=status, reason="", headers={"Retry-After": "7.5"})
    return kind(response, {"message": "no", "code": code})


def test_failures_map_to_retry_or_gone() -> None:
    gone = [
        _http_error(discord.NotFound, 404, 10003),  # Unknown Channel
        _http_error(discord.Forbidden, 403, 50001),  # Missing Access
        _http_error(discord.Forbidden, 403, 50013),  # Missing Permissions
    ]
    for exc in gone:
        assert result_of(exc).status is SendStatus.GONE
    limited = result_of(_http_error(discord.HTTPException, 429, 0))
    assert (limited.status, limited.retry_after) == (SendStatus.RETRY, 7.5)
    assert result_of(discord.RateLimited(42.0)).retry_after == 42.0
    for exc in (
        _http_error(discord.DiscordServerError, 502, 0),
        _http_error(discord.HTTPException, 400, 50035),
        OSError("connection reset"),
        TimeoutError(),
    ):
        assert result_of(exc).status is SendStatus.RETRY
    assert message_place(message_ref(1, 2)) == (1, 2)
    for bad in ("", "12", "a/b", "1/", "/2", "<b>1</b>/2"):
        assert message_place(bad) is None


async def test_the_adapter_is_the_outbox_poster_for_discord(
    bot: DiscordAdapter, app: Unblend, clock: FakeClock
) -> None:
    assert OutboxDrainer(app.repos, app.outbound, clock).poster("discord") is bot
    assert "discord" in app.outbound.platforms()


async def test_group_settings_for_everyone_and_changes_for_moderators(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend
) -> None:
    kai, host = Member(fake, 21, "Kai"), Member(fake, 1, "Host")
    await kai.slash("group", guild=True, sub="settings")
    shown = await kai.expect("This group's settings")
    assert not shown.message.ephemeral and "Timezone: UTC" in shown.text
    await kai.slash("group", guild=True, sub="settings", setting="timezone", value="Asia/Tokyo")
    await kai.expect("Only this group's moderators can change its settings")
    await host.slash(
        "group",
        guild=True,
        permissions=MANAGE_SERVER,
        sub="settings",
        setting="modchannel",
        channel=Channel(CHANNEL_ID + 5, "mods"),
    )
    await host.expect(f"Saved. modchannel is now: {CHANNEL_ID + 5}")
    await host.slash(
        "group",
        guild=True,
        permissions=MANAGE_SERVER,
        sub="settings",
        setting="timezone",
        value="Europe/Berln",
    )
    await host.expect("Did you mean Europe/Berlin?")
    group = await app.repos.groups.get_or_create("discord", str(GUILD_ID), app.clock.now())
    assert group.mod_channel == str(CHANNEL_ID + 5) and group.timezone == "UTC"


async def test_the_configured_moderator_role_counts_as_moderating(
    fake: FakeDiscord, app: Unblend
) -> None:
    fake.guild_roles = {17, 4242}
    adapter = DiscordAdapter(app, settings(fake, moderator_role=4242))
    await adapter.start()
    try:
        lee = Member(fake, 41, "Lee")
        await lee.slash("schedule", guild=True, sub="list", roles=(17,))
        await lee.expect("Only this group's moderators")
        await lee.slash("schedule", guild=True, sub="list", roles=(17, 4242))
        await lee.expect("No check-ins are scheduled yet")
    finally:
        await adapter.stop()


async def test_timezone_and_setting_autocomplete(fake: FakeDiscord, bot: DiscordAdapter) -> None:
    host = Member(fake, 1, "Host")
    zones = await host.autocomplete("schedule", "add", "timezone", "berl", time="10:00")
    assert "Europe/Berlin" in [z["value"] for z in zones]
    assert len(zones) <= 25
    names = await host.autocomplete("group", "settings", "setting", "vol")
    assert [n["value"] for n in names] == ["volunteers"]
    values = await host.autocomplete("group", "settings", "value", "new_y", setting="timezone")
    assert "America/New_York" in [v["value"] for v in values]
    days = await host.autocomplete("schedule", "add", "days", "week", time="10:00")
    assert [d["value"] for d in days] == ["weekdays", "weekends"]


async def test_bad_input_to_schedule_add_gets_a_precise_message(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend, clock: FakeClock
) -> None:
    host = Member(fake, 1, "Host")
    clock.set(TEN_IN_BERLIN - timedelta(hours=1))
    await schedule(host, time="25:99")
    await host.expect('couldn\'t read "25:99" as a time')
    await schedule(host, time="10:00", timezone="xyz")
    await host.expect('"xyz" isn\'t a timezone I know')
    await schedule(host, time="10:00", days="funday")
    await host.expect('couldn\'t read "funday" as days')
    await schedule(host, time="10:00", timezone="<b>x</b>")
    await host.expect('"?" isn\'t a timezone I know')
    assert await app.repos.groups.schedules() == [], "nothing half-made"

    words = "<b>Hi</b> & <i>all</i> 🌱 مرحبا @everyone"
    await schedule(host, time="10:00", timezone="Europe/Berlin", days="mon, wed", prompt=words)
    await host.expect("is set: 10:00 (Europe/Berlin), mon,wed")
    [made] = await app.repos.groups.schedules()
    assert made.prompt_text == words and made.target == str(CHANNEL_ID)
    assert await Timer(app, clock).at(TEN_IN_BERLIN) == 1
    posted = await host.expect("مرحبا")
    assert posted.text == words, "sent exactly as written, markup and all"
    assert posted.message.allowed_mentions == {"parse": []}


async def test_remind_is_private_in_a_server_and_arrives_in_direct_messages(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend, clock: FakeClock
) -> None:
    ana = Member(fake, 31, "Ana")
    await welcome(ana)
    clock.set(TEN_IN_BERLIN - timedelta(hours=3))
    await ana.slash("remind", guild=True, sub="set", time="08:30", timezone="Europe/Berlin")
    done = await ana.expect("a gentle reminder every day at 08:30 (Europe/Berlin)")
    assert done.message.ephemeral and done.message.channel_id == CHANNEL_ID
    await ana.slash("remind", sub="quiet", days="sat sun")
    await ana.expect("Quiet days: weekends")
    await ana.slash("remind", guild=True, sub="show")
    status = await ana.expect("Your daily reminder: 08:30")
    assert status.message.ephemeral

    timer = Timer(app, clock)
    assert await timer.at(datetime(2026, 1, 5, 7, 30, tzinfo=UTC)) == 1  # 08:30 in Berlin
    nudge = await ana.expect("A gentle reminder")
    assert nudge.message.channel_id == fake.dm_channels[ana.user.id]
    await ana.tap("Check in now")
    await ana.expect("mood")
    await ana.slash("remind", sub="off")
    await ana.expect("Your reminder is removed")


async def test_named_timezone_and_days_are_never_read_as_the_prompt(app: Unblend) -> None:
    group = Space.group("g1")

    async def add(*args: str) -> str:
        event = Event("test", "mod", group, command="schedule", args=args, is_moderator=True)
        return "\n".join(r.text for r in await app.handle(event))

    assert "isn't a timezone I know" in await add("add", "09:00", "tz:Nowhere", "in:5")
    assert "as days" in await add("add", "09:00", "days:someday", "in:5")
    assert await app.repos.groups.schedules() == []
    assert "(Asia/Tokyo), mon,fri" in await add(
        "add", "09:00", "tz:Asia/Tokyo", "days:mon,fri", "in:5"
    )
    [made] = await app.repos.groups.schedules()
    assert (made.timezone, made.target, made.prompt_text) == ("Asia/Tokyo", "5", "")


async def test_without_thread_permission_a_shared_line_goes_beside_the_prompt(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fake.threads_forbidden = True
    prompt = await bot.post(
        Delivery("discord", str(GUILD_ID), Reply("Prompt", private=False), thread="6")
    )
    line = Delivery(
        "discord",
        str(GUILD_ID),
        Reply("Ana: hi", private=False),
        thread="6",
        reply_to=prompt.message_ref,
    )
    result = await bot.post(line)
    assert result.status is SendStatus.SENT
    place = message_place(result.message_ref)
    assert place is not None and place[0] == 6, "in the prompt's channel"
    assert fake.messages[place[1]].content == "Ana: hi"
    assert [r[1:] for r in fake.rejections] == [(403, "Missing Permissions")]
    fake.rejections.clear()
