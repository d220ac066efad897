"""Moderators' /schedule and /group settings, the private group check-in, and /remind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.app import Unblend
from core.groups.checkins.engine import POST_TOKEN, GroupEngine
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Reply, Space
from core.kernel.outbound import OutboundRouter
from core.outbox.drainer import OutboxDrainer, RecordingPoster
from tests.chat import Chat

GROUP = Space.group("g1")
MON_0700_UTC = datetime(2026, 6, 8, 7, 0, tzinfo=UTC)  # a Monday, 09:00 in Berlin


async def in_group(app: Unblend, text: str, user: str = "mod", moderator: bool = True) -> str:
    name, *args = text.split()
    event = Event("test", user, GROUP, command=name, args=tuple(args), is_moderator=moderator)
    replies = await app.handle(event)
    assert all(not r.private for r in replies), "a group command answers in the group"
    return "\n".join(r.text for r in replies)


class Round:
    def __init__(self, app: Unblend, clock: FakeClock) -> None:
        self.engine = GroupEngine(app.repos, app.library.catalog(), clock)
        self.poster = RecordingPoster()
        router = OutboundRouter()
        router.register("test", self.poster)
        self.drainer = OutboxDrainer(app.repos, router, clock)
        self.clock = clock

    async def run(self) -> list[Reply]:
        before = len(self.poster.sent)
        await self.engine.run_due_posts(self.clock.now())
        await self.drainer.drain("test")
        return [d.reply for d in self.poster.sent[before:]]


async def test_a_non_moderator_is_refused_kindly_and_nothing_changes(app: Unblend) -> None:
    said = await in_group(app, "/schedule add 09:00 Europe/Berlin", user="u2", moderator=False)
    assert "Only this group's moderators" in said
    assert await app.repos.groups.schedules() == []
    said = await in_group(app, "/group settings summary 20:00", user="u2", moderator=False)
    assert "Only this group's moderators" in said
    # Everyone may see the settings.
    assert "Timezone: UTC" in await in_group(app, "/group settings", "u2", moderator=False)


async def test_a_moderator_adds_lists_previews_pauses_and_removes(
    app: Unblend, clock: FakeClock
) -> None:
    clock.set(MON_0700_UTC - timedelta(hours=1))
    said = await in_group(app, "/schedule add 09:00 Europe/Berlin weekdays")
    assert "Check-in 2 is set: 09:00 (Europe/Berlin), weekdays" in said
    assert "Mon 08 Jun 2026, 09:00" in said
    listed = await in_group(app, "/schedule list")
    assert "2. 09:00 (Europe/Berlin), weekdays: on" in listed
    [intro, prompt] = await app.handle(
        Event("test", "mod", GROUP, command="/schedule", args=("preview", "2"), is_moderator=True)
    )
    assert "how check-in 2 will look" in intro.text
    assert prompt.private_link.startswith("gcheckin-") and "check in privately" in prompt.text
    assert "is paused" in await in_group(app, "/schedule pause 2")
    assert "paused. Next: none planned" in await in_group(app, "/schedule list")
    assert "back on. Next: Mon 08 Jun 2026, 09:00" in await in_group(app, "/schedule resume 2")
    assert "will skip 2026-06-08" in await in_group(app, "/schedule skip 2 2026-06-08")
    assert "Next: Tue 09 Jun 2026" in await in_group(app, "/schedule list")
    assert "group holiday" in await in_group(app, "/schedule holiday add 2026-06-09")
    assert "Next: Wed 10 Jun 2026" in await in_group(app, "/schedule list")
    assert "2026-06-09" in await in_group(app, "/schedule holidays")
    assert "no longer" in await in_group(app, "/schedule holiday remove 2026-06-09")
    assert "removed" in await in_group(app, "/schedule remove 2")
    assert "No check-ins are scheduled" in await in_group(app, "/schedule list")


async def test_bad_times_timezones_dates_and_ids_get_precise_messages(
    app: Unblend, clock: FakeClock
) -> None:
    clock.set(MON_0700_UTC)
    cases = {
        "/schedule add": "Which time",
        "/schedule add 25:00": 'couldn\'t read "25:00" as a time',
        "/schedule add 9am": "HH:MM, for example: /schedule add 09:00",
        "/schedule add 09:00 Europe/Berln": "Did you mean Europe/Berlin?",
        "/schedule add 09:00 berlin": "Did you mean Europe/Berlin?",
        "/schedule add 09:00 Mars/Olympus": "Region/City",
        "/schedule add 09:00 <b>x</b>/y": '"?" isn\'t a timezone',
        "/schedule pause": "Which check-in?",
        "/schedule pause 99": "no check-in 99",
        "/schedule pause abc": "Which check-in?",
        "/schedule frobnicate": "Group check-ins (for moderators)",
        "/schedule": "/schedule add 09:00 Europe/Berlin weekdays",
        "/schedule holiday add 2026-02-30": 'couldn\'t read "2026-02-30" as a date',
        "/schedule holiday add 2026-06-07": "2026-06-07 has already passed",
        "/schedule holiday add 2030-01-01": "more than two years away",
        "/schedule holiday add": "Which date?",
        "/group settings timezone Europe/Berln": "Did you mean Europe/Berlin?",
        "/group settings country XX": "isn't a country code",
        "/group settings summary 7pm": "HH:MM",
        "/group settings volunteers maybe": "on or off",
        "/group settings colour blue": 'no setting called "colour"',
        "/group settings summary": "What should summary be?",
    }
    for command, expected in cases.items():
        clock.advance(timedelta(seconds=1))  # within the per-member command limit
        said = await in_group(app, command)
        assert expected in said, (command, said)
    assert await app.repos.groups.schedules() == []
    long_prompt = " ".join(["words"] * 20) + " " + "x" * 400
    said = await in_group(app, f"/schedule add 09:00 UTC daily {long_prompt}")
    assert "the limit is 300" in said


async def test_a_groups_own_prompt_keeps_markup_and_emoji_as_written(
    app: Unblend, clock: FakeClock
) -> None:
    clock.set(MON_0700_UTC - timedelta(hours=1))
    own = "How are you 🌱 <b>today</b> & שלום?"
    await in_group(app, f"/schedule add 09:00 Europe/Berlin mon-fri in:42 {own}")
    [schedule] = await app.repos.groups.schedules()
    assert schedule.prompt_text == own and schedule.target == "42"
    round_ = Round(app, clock)
    clock.set(MON_0700_UTC)
    [prompt] = await round_.run()
    assert prompt.text == own
    assert round_.poster.sent[0].thread == "42"


async def test_group_settings_show_each_value_and_how_to_change_it(app: Unblend) -> None:
    shown = await in_group(app, "/group settings")
    for line in ("Timezone: UTC", "/group settings timezone", "Daily summary: at 21:00"):
        assert line in shown
    assert "America/New_York" in await in_group(app, "/group settings timezone America/New_York")
    assert "off" in await in_group(app, "/group settings summary off")
    assert "GB" in await in_group(app, "/group settings country gb")
    assert "on" in await in_group(app, "/group settings volunteers on")
    shown = await in_group(app, "/group settings")
    assert "Timezone: America/New_York" in shown and "Daily summary: off" in shown
    assert "Volunteers: on" in shown and "country: GB" in shown


async def test_schedule_in_a_private_chat_points_to_the_group(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/schedule add 09:00 UTC")
    assert "works inside the group" in chat.text()


async def _member_checks_in(
    app: Unblend, user: str, post_link: str, share: str, line: str = ""
) -> Chat:
    chat = Chat(app, user)
    await chat.send(f"/start {post_link}")
    if "I'm Unblend" in chat.text():
        await chat.tap("Okay")
        await chat.tap("Yes, keep them")
    assert "group check-in" in chat.text()
    await chat.tap("4")
    await chat.tap("7")
    await chat.tap(share)
    if line:
        await chat.send(line)
    return chat


async def test_the_prompt_a_private_check_in_a_previewed_line_and_the_summary(
    app: Unblend, clock: FakeClock
) -> None:
    clock.set(MON_0700_UTC - timedelta(minutes=30))
    await in_group(app, "/schedule add 09:00 Europe/Berlin")
    round_ = Round(app, clock)
    assert await round_.run() == []
    clock.set(MON_0700_UTC)
    [prompt] = await round_.run()
    # The link names the post by a random token (issue 12), never by its number (3).
    link, _, token = prompt.private_link.partition("-")
    assert link == "gcheckin" and POST_TOKEN.fullmatch(token) and not prompt.private
    assert prompt.meta["link_label"] == "Check in privately"
    assert await round_.run() == [], "posted once"

    alice = await _member_checks_in(app, "alice", prompt.private_link, "Share a short line")
    await alice.send("Grateful for <b>this</b> group 🌱")
    assert "Here's how it would show" in alice.text()
    assert "Grateful for <b>this</b> group 🌱" in alice.text()
    await alice.tap("Change it")
    await alice.send("Grateful for this group")
    await alice.tap("Post it")
    assert "Shared with the group" in alice.text()
    [shared] = await round_.run()
    assert shared.text.endswith(": Grateful for this group") and not shared.private
    assert round_.poster.sent[-1].reply_to == "m1", "a reply to the prompt"
    await alice.choose(alice.last[0].choices[0].id if alice.last[0].choices else "gshare:post:1")
    assert await round_.run() == [], "a second tap posts nothing"

    bob = await _member_checks_in(app, "bob", prompt.private_link, "Share nothing")
    assert "Nothing was shared" in bob.text()
    clock.set(MON_0700_UTC + timedelta(hours=12))  # 21:00 Berlin: summary time
    assert await round_.run() == [], "two members: no summary"

    # The next day three check in, one shares a mood: now the totals appear.
    clock.set(MON_0700_UTC + timedelta(days=1))
    [prompt2] = await round_.run()
    for user, share in (("alice", "Share my mood only"), ("bob", "Share nothing")):
        await _member_checks_in(app, user, prompt2.private_link, share)
    carol = await _member_checks_in(app, "carol", prompt2.private_link, "Share nothing")
    assert "Nothing was shared" in carol.text()
    [mood] = await round_.run()
    assert "checked in today (mood 4 of 5)" in mood.text
    clock.set(MON_0700_UTC + timedelta(days=1, hours=12))
    [summary] = await round_.run()
    assert "3 of us checked in" in summary.text and "3 strong (7-10)" in summary.text
    assert "alice" not in summary.text.casefold()


async def test_an_old_or_unknown_post_link_is_a_kind_no(app: Unblend, chat: Chat) -> None:
    await chat.welcome()
    for payload in ("gcheckin-999", "gcheckin-abc", "gcheckin-"):
        await chat.send(f"/start {payload}")
        assert "isn't open any more" in chat.text() or "Welcome back" in chat.text(), payload


async def test_remind_at_local_time_with_pause_and_quiet_days(
    app: Unblend, clock: FakeClock, chat: Chat
) -> None:
    clock.set(datetime(2026, 6, 5, 12, 0, tzinfo=UTC))  # a Friday
    await chat.welcome()
    await chat.send("/remind")
    assert "no daily reminder" in chat.text()
    await chat.send("/remind 08:30")
    assert "Which timezone" in chat.text()
    await chat.send("/remind 8:30 America/Newyork")
    assert "Did you mean America/New_York?" in chat.text()
    await chat.send("/remind 08:30 America/New_York")
    assert "every day at 08:30 (America/New_York)" in chat.text()
    await chat.send("/remind quiet sat,sun")
    assert "Quiet days: weekends" in chat.text()
    await chat.send("/remind quiet funday")
    assert 'couldn\'t read "funday"' in chat.text()
    round_ = Round(app, clock)
    sent = []
    for _ in range(4 * 24):  # Friday noon to Tuesday noon, every hour
        clock.advance(timedelta(hours=1))
        sent += [(clock.now(), r) for r in await round_.run()]
    days = [when.astimezone().date().isoformat() for when, _ in sent]
    assert len(sent) == 2 and all("gentle reminder" in r.text for _, r in sent), days
    assert [when.hour for when, _ in sent] == [13, 13], "08:30 New York is 12:30 UTC"
    await chat.send("/remind pause")
    clock.advance(timedelta(days=1))
    assert await round_.run() == []
    await chat.send("/remind")
    assert "paused" in chat.text()
    await chat.send("/remind off")
    assert "removed" in chat.text()
