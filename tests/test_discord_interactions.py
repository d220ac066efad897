"""Discord answers every command and tap the way it was meant (issue 13 item 9, issue 12 item 13).

End to end, a real discord.py client against the fake Discord, which keeps Discord's interaction
rules (tests/fake_discord.py): every interaction needs an answer; a deferred answer's placeholder
is taken over by the first follow-up, with the placeholder's visibility; duplicate custom_ids
are refused. Each test is a member's story: a private command in a server stays private and
opens the flow at once; a rate-limited command still gets its (quiet) answer; a slow public
answer stays public; a send the platform refuses or loses never takes the rest down with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from bots.discord_adapter import DiscordAdapter
from bots.discord_render import Labels, build_views
from bots.logsafe import QUIET_LOGGERS
from core.app import Unblend
from core.groups.reachouts.logic import ReachOuts
from core.kernel.clock import FakeClock
from core.kernel.model import Choice, Event, Reply, Space
from core.kernel.settings import Settings
from core.repos import in_memory_repos
from tests.conftest import detector, library
from tests.fake_discord import CHANNEL_ID, EPHEMERAL, GUILD_ID, FakeDiscord, FakeMessage, Member
from tests.rigs import discord_bot, discord_server
from tests.test_discord_e2e import welcome
from tests.test_discord_groups import MANAGE_SERVER, TEN_IN_BERLIN, check_in, schedule
from tests.timer import DiscordTimer as Timer

MOOD = "How is your mood"
CRISIS = "honestly i want to kill myself tonight, code-ix-1"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_server() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord, app: Unblend) -> AsyncIterator[DiscordAdapter]:
    async with discord_bot(fake, app) as adapter:
        yield adapter


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    caplog.set_level(logging.INFO)
    yield caplog
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def in_channel(fake: FakeDiscord) -> list[FakeMessage]:
    return [m for m in fake.messages.values() if m.channel_id == CHANNEL_ID and not m.ephemeral]


async def all_answered(fake: FakeDiscord) -> None:
    """Waits until the bot has answered every interaction (or fails, naming the ones it left)."""
    try:
        await fake.wait_for(lambda: not fake.unanswered(), within=5)
    except AssertionError:
        raise AssertionError(f"left unanswered: {fake.unanswered()}") from None


class SlowCore:
    """The core takes its time (until `go`), so the adapter defers; `answer` may stand in."""

    def __init__(self, app: Unblend, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gate = asyncio.Event()
        self.answer: list[Reply] | None = None
        handle = app.handle

        async def slow(event: Event) -> list[Reply]:
            await self.gate.wait()
            return list(self.answer) if self.answer is not None else await handle(event)

        monkeypatch.setattr(app, "handle", slow)


# -- issue 12 item 13: a private command in a server stays private -----------------------------


async def test_a_private_command_in_a_server_opens_the_flow_privately_at_once(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend
) -> None:
    bo = Member(fake, 12, "Bo")
    first = await bo.slash("checkin", guild=True)
    hello = await bo.expect("I'm Unblend")
    assert hello.message.ephemeral and hello.message.for_user == 12
    assert hello.message.id == first.original, "the command's own answer, not a link to one"
    await bo.tap("Okay")
    await bo.expect("keep your check-ins")
    await bo.tap("No, don't keep them")
    mood = await bo.expect(MOOD)
    assert mood.message.ephemeral
    again = await bo.slash("checkin", guild=True)
    mood = await bo.expect(MOOD)
    assert mood.message.ephemeral and mood.message.id == again.original
    await bo.tap("Stop")
    await bo.expect("stopped")
    await bo.slash("parts", guild=True, add="Critic")
    role = await bo.expect("Which sounds most like this part?")
    assert role.message.ephemeral
    assert in_channel(fake) == [], "the channel saw nothing of it"
    # Typed in the server, the member is still known to belong to it (who "tell a
    # moderator" reaches).
    member = await app.repos.members.find("discord", "12")
    group = await app.repos.groups.get_or_create("discord", str(GUILD_ID), app.clock.now())
    assert member is not None and group.id in await app.repos.reachouts.groups_of(member.id)
    # /help is still for the channel.
    await bo.slash("help", guild=True)
    shown = await bo.expect("Here is what I can do")
    assert not shown.message.ephemeral and shown.message.channel_id == CHANNEL_ID


async def test_where_replies_cannot_be_private_in_place_a_group_still_gets_the_link(
    app: Unblend,
) -> None:
    # Telegram (and anything without ephemeral messages) keeps the public line and link.
    typed = Event("telegram", "7", Space.group("-100"), command="checkin")
    [line] = await app.handle(typed)
    assert not line.private and line.private_link == "checkin"
    in_place = Event(
        "discord", "7", Space.group("g"), command="checkin", can_reply_privately_in_place=True
    )
    replies = await app.handle(in_place)
    assert replies and all(r.private and not r.private_link for r in replies)
    assert "I'm Unblend" in replies[0].text
    for command in ("help", "crisis"):
        event = Event("discord", "7", Space.group("g"), command=command)
        public = await app.handle(event)
        placed = await app.handle(
            Event(
                "discord", "7", Space.group("g"), command=command, can_reply_privately_in_place=True
            )
        )
        assert [r.private for r in placed] == [r.private for r in public], command


# -- issue 13 item 9: every interaction is answered ---------------------------------------------


async def test_commands_held_back_by_the_rate_limit_still_get_a_quiet_answer(
    fake: FakeDiscord,
) -> None:
    app = Unblend(
        in_memory_repos(),
        library(),
        detector(),
        FakeClock(),
        Settings(rate_limit_events=2, rate_limit_seconds=60),
    )
    async with discord_bot(fake, app):
        cy = Member(fake, 30, "Cy")
        for _ in range(5):
            await cy.slash("help")
        await cy.expect("Here is what I can do")
        await cy.expect("Here is what I can do")
        await cy.expect("a lot of commands")
        await all_answered(fake)
        shown = [m for m in cy.visible()]
        assert len(shown) == 3, "the quiet ones left nothing behind"
        assert all(m.content and not m.loading for m in shown)


async def test_a_tap_the_core_has_nothing_to_say_to_is_still_answered(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend, monkeypatch: pytest.MonkeyPatch
) -> None:
    dee = Member(fake, 31, "Dee")
    await welcome(dee)
    await dee.slash("checkin")
    await dee.expect(MOOD)
    handle = app.handle

    async def quiet_taps(event: Event) -> list[Reply]:
        return [] if event.choice is not None else await handle(event)

    monkeypatch.setattr(app, "handle", quiet_taps)
    tapped = await dee.tap("4")
    await all_answered(fake)
    assert tapped.answered == 6, "acknowledged, nothing changes on screen"


async def test_a_component_nothing_knows_is_still_answered(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    # A forged or outdated custom_id, one its message does not show, a select without a value.
    odd = Member(fake, 36, "Odd")
    option = {"label": "A", "value": "x:a"}
    select = {"type": 3, "custom_id": "~pick:0", "options": [option]}
    shown = FakeMessage(7, fake.dm_channels.setdefault(36, 8), "Pick", EPHEMERAL, [row(select)])
    for data, message in (
        ({"custom_id": "~nope:1", "component_type": 2}, shown),
        ({"custom_id": "x:b", "component_type": 2}, shown),
        ({"custom_id": "~pick:0", "component_type": 3, "values": []}, shown),
        ({"custom_id": "~pick:0", "component_type": 3, "values": ["x:a"]}, None),
    ):
        pending = await fake.interact(odd.user, 3, data, message=message)
        await all_answered(fake)
        assert pending.answered == 6, data
    assert fake.outbox == []


def row(*components: dict[str, object]) -> dict[str, object]:
    return {"type": 1, "components": list(components)}


async def test_a_slow_public_answer_is_deferred_publicly_and_stays_public(
    fake: FakeDiscord, app: Unblend, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = SlowCore(app, monkeypatch)
    async with discord_bot(fake, app, defer_after=0.05):
        kai = Member(fake, 21, "Kai")
        pending = await kai.slash("group", guild=True, sub="settings")
        await fake.wait_for(lambda: pending.answered)
        placeholder = fake.messages[pending.original or 0]
        assert pending.answered == 5 and not placeholder.ephemeral, "thinking, in public"
        slow.gate.set()
        shown = await kai.expect("This group's settings")
        assert not shown.message.ephemeral and shown.message.id == pending.original
        # A slow private answer in a server is deferred privately.
        slow.gate.clear()
        crisis = await kai.slash("crisis", guild=True)
        await fake.wait_for(lambda: crisis.answered)
        assert fake.messages[crisis.original or 0].ephemeral
        slow.gate.set()
        safe = await kai.expect("Are you safe right now?")
        assert safe.message.ephemeral
        await all_answered(fake)
        assert [m.id for m in in_channel(fake)] == [shown.message.id], "nothing else public"


async def test_an_answer_unlike_the_placeholder_comes_as_it_was_meant(
    fake: FakeDiscord, app: Unblend, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = SlowCore(app, monkeypatch)
    async with discord_bot(fake, app, defer_after=0.05):
        kai = Member(fake, 21, "Kai")
        # A public placeholder, then a private reply first: nobody else may see it.
        slow.answer = [Reply("Only for you"), Reply("For the channel", private=False)]
        pending = await kai.slash("help", guild=True)
        await fake.wait_for(lambda: pending.answered)
        slow.gate.set()
        mine = await kai.expect("Only for you")
        public = await kai.expect("For the channel")
        assert mine.message.ephemeral and not public.message.ephemeral
        assert pending.original in [m.id for m in fake.deleted], "the placeholder was removed"
        # Deferred, and then the core had nothing to say: the placeholder goes too.
        slow.gate.clear()
        slow.answer = []
        empty = await kai.slash("help", guild=True)
        await fake.wait_for(lambda: empty.answered)
        slow.gate.set()
        await all_answered(fake)
        assert empty.original in [m.id for m in fake.deleted]


# -- every send path survives what the platform library raises ----------------------------------


async def test_a_lost_connection_loses_one_reply_not_the_rest(
    fake: FakeDiscord,
    bot: DiscordAdapter,
    app: Unblend,
    monkeypatch: pytest.MonkeyPatch,
    logs: pytest.LogCaptureFixture,
) -> None:
    async def two(event: Event) -> list[Reply]:
        return [Reply("First secret words"), Reply("Second reply")]

    monkeypatch.setattr(app, "handle", two)
    eli = Member(fake, 32, "Eli")
    fake.break_next("callback")
    await eli.slash("help")
    await eli.expect("Second reply")
    await all_answered(fake)
    assert not any("went wrong" in o.text for o in fake.outbox)
    failed = [r.getMessage() for r in logs.records if "sending a reply failed" in r.getMessage()]
    assert failed and "Disconnected" in failed[0]
    assert "secret" not in logs.text and "Traceback" not in logs.text


async def test_a_long_rate_limit_on_direct_messages_is_caught_and_logged_by_type(
    fake: FakeDiscord, bot: DiscordAdapter, logs: pytest.LogCaptureFixture
) -> None:
    fake.rate_limit("other", retry_after=60)  # creating the DM channel: discord.py gives up
    await bot.send("discord", "33", [Reply("A paced step")])  # no window: a direct message
    assert "RateLimited" in logs.text and "A paced step" not in logs.text
    assert not any(o.text == "A paced step" for o in fake.outbox)


async def test_a_crisis_reply_discord_holds_back_still_leaves_the_group_its_lines(
    fake: FakeDiscord, app: Unblend, logs: pytest.LogCaptureFixture
) -> None:
    fake.message_content_allowed = True
    async with discord_bot(fake, app, read_messages=True):
        host, eve = Member(fake, 1, "Host"), Member(fake, 1005, "Eve")
        await host.slash(
            "group",
            guild=True,
            permissions=MANAGE_SERVER,
            sub="settings",
            setting="screening",
            value="on",
        )
        await host.expect("Screening is on")
        fake.rate_limit("other", retry_after=60)  # opening the direct message: "wait a minute"
        assert await fake.say(eve.user, CRISIS)
        shown = await eve.expect("People you can reach")
        assert shown.message.channel_id == CHANNEL_ID and "code-ix" not in shown.text
        assert "RateLimited" in logs.text and "code-ix" not in logs.text


async def test_a_choice_given_twice_is_shown_once(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend
) -> None:
    gil = Member(fake, 35, "Gil")
    await gil.slash("help")
    await gil.expect("Here is what I can do")
    twice = (Choice("x:a", "A"), Choice("x:b", "B"), Choice("x:a", "A again"))
    await bot.send("discord", "35", [Reply("Pick a letter", twice)])
    shown = await gil.expect("Pick a letter")
    assert [b["label"] for b in shown.message.buttons()] == ["A", "B"]


async def test_a_long_list_of_choices_is_split_into_select_menus_that_all_work(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend
) -> None:
    fay = Member(fake, 34, "Fay")
    await welcome(fay)
    items = tuple(Choice(f"x:{n}", f"Item {n}") for n in range(130))
    doubled = (*items, Choice("x:7", "Item 7 again"), Choice("nav:stop", "Stop"))
    await bot.send("discord", "34", [Reply("Pick one", doubled)])
    await fay.expect("Pick one")
    menus = [m for m in fay.visible() if any(c.get("type") == 3 for c in m.buttons())]
    options = [o["value"] for m in menus for c in m.buttons() for o in c.get("options", [])]
    assert sorted(options) == sorted(c.id for c in items), "each once, none lost"
    assert all(len(m.components) <= 5 for m in menus)
    await fay.tap("Item 129")
    await fay.expect("belongs to an earlier step")  # the core's answer to an unknown choice
    await fay.tap("Stop")
    await all_answered(fake)


async def test_components_never_outgrow_a_message_and_none_is_lost() -> None:
    items = [Choice(f"x:{n}", f"Item {n}") for n in range(130)]
    nav = [Choice(f"nav:{w}", w) for w in ("back", "skip", "stop", "more", "less", "again")]
    labels = Labels("Write it", "Choose one", "Open private chat")
    views = build_views([*items, *nav], labels, write_limit=500, open_command="checkin")
    ids: list[str] = []
    for view in views:
        rows = view.to_components()
        assert 1 <= len(rows) <= 5
        for row in rows:
            inner = row["components"]
            assert len(inner) <= 5 and (len(inner) == 1 or all(c["type"] == 2 for c in inner))
        mine = [str(c["custom_id"]) for r in rows for c in r["components"]]
        assert len(set(mine)) == len(mine), "unique within a message"
        ids += [i for i in mine if not i.startswith("~pick:")]
        ids += [o["value"] for r in rows for c in r["components"] for o in c.get("options", [])]
    assert sorted(ids) == sorted([c.id for c in [*items, *nav]] + ["~write:500", "~open:checkin"])


# -- a day's thread that can't be started -----------------------------------------------------


async def test_a_thread_refused_once_is_not_asked_for_again_and_moderators_hear_once(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend, clock: FakeClock
) -> None:
    fake.threads_forbidden = True
    host = Member(fake, 1, "Host")
    clock.set(TEN_IN_BERLIN - timedelta(hours=1))
    await schedule(host, time="10:00", timezone="Europe/Berlin")
    await host.expect("is set: 10:00")
    timer = Timer(app, clock)
    timer.drainer.on_notice.append(ReachOuts(app).on_notice)  # as the schedule service does
    assert await timer.at(TEN_IN_BERLIN) == 1
    prompt = (await host.expect("Time for our check-in")).message
    for n, name in enumerate(("Alice", "Bo", "Cy")):
        member = Member(fake, 1001 + n, name)
        await check_in(member, prompt, "Share my mood only", first_time=True)
        await member.expect("Your mood is shared")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=5)) == 3
    beside = [m for m in in_channel(fake) if "checked in today" in m.content]
    assert len(beside) == 3, "every line reached the group, beside the prompt"
    tries = [r for r in fake.requests if r[1].endswith("/threads")]
    assert len(tries) == 1, "asked Discord once"
    assert [r[1:] for r in fake.rejections] == [(403, "Missing Permissions")]
    fake.rejections.clear()
    await host.slash("schedule", guild=True, permissions=MANAGE_SERVER, sub="list")
    told = await host.expect("not allowed to start threads")
    assert not told.message.ephemeral
    await host.slash("schedule", guild=True, permissions=MANAGE_SERVER, sub="list")
    await host.expect("This group's check-ins")
    assert sum("not allowed to start threads" in o.text for o in fake.outbox) == 1, "told once"
