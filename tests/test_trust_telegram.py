"""Issue 12 on Telegram, end to end: the real PTB Application against the fake Bot API.

Who is in a group is asked of Telegram (getChatMember) when a check-in opens and again before
anything reaches the group; a moderators' channel must belong to the group; moderator rights
are asked again after five minutes, and when Telegram can't be asked the moderator is told so
kindly instead of being trusted on an old answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bots.telegram_adapter import TelegramAdapter
from core.app import Unblend
from core.kernel.clock import FakeClock
from tests.fake_telegram import BOT_ID, FakeTelegram, Member
from tests.rigs import telegram_bot, telegram_server
from tests.test_reachout_telegram import start_payload, volunteer
from tests.test_schedule_telegram import GROUP, TEN_IN_BERLIN, check_in
from tests.timer import ReachOutTimer as Timer

OTHER = -1009999999999  # another group the bot is in
ELSEWHERE = -1005555555555  # a group the bot is not in
TRIES = 4  # the limiter tries a hiccup again three times (tests.rigs.fast_limiter)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with telegram_server() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram, app: Unblend) -> AsyncIterator[TelegramAdapter]:
    async with telegram_bot(fake, app) as adapter:
        yield adapter


def group_says(fake: FakeTelegram) -> list[str]:
    return [o.text for o in fake.outbox if o.message.chat_id == GROUP]


async def prompt_link(fake: FakeTelegram, app: Unblend, clock: FakeClock) -> tuple[Timer, str]:
    host = Member(fake, 1, "Host")  # the group's creator: a moderator
    clock.set(TEN_IN_BERLIN - timedelta(hours=1))
    host.send("/schedule add 10:00 Europe/Berlin", group=GROUP)
    await host.expect("is set: 10:00", chat=GROUP)
    timer = Timer(app, clock)
    assert await timer.at(TEN_IN_BERLIN) == 1
    prompt = await host.expect("Time for our check-in", chat=GROUP)
    return timer, start_payload(prompt.message.buttons()[0]["url"])


async def meet(member: Member) -> None:
    member.send("/start")
    await member.expect("I'm Unblend")
    member.tap("Okay")
    await member.expect("keep your check-ins")
    member.tap("Yes, keep them")
    await member.expect("I'll keep your check-ins")


async def test_a_stranger_with_a_leaked_or_guessed_link_gets_nothing_into_the_group(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend, clock: FakeClock
) -> None:
    timer, link = await prompt_link(fake, app, clock)
    assert len(link.removeprefix("gcheckin-")) == 32, "a token, not the post's number"
    before = group_says(fake)
    mallory = Member(fake, 6666, "Mallory")  # never in the group
    await meet(mallory)
    mallory.send(f"/start {link}")
    await mallory.expect("for the members of the group it was posted in")
    asked = fake.calls_of("getChatMember")
    assert [(c.params["chat_id"], c.params["user_id"]) for c in asked] == [(GROUP, 6666)]
    for guess in ("gcheckin-1", "gcheckin-2"):
        mallory.send(f"/start {guess}")
        await mallory.expect("isn't open any more")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=5)) == 0
    assert group_says(fake) == before, "nothing reached the group"


async def test_membership_is_asked_again_before_a_line_is_posted(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend, clock: FakeClock
) -> None:
    timer, link = await prompt_link(fake, app, clock)
    before = group_says(fake)
    ann = Member(fake, 1001, "Ann")
    fake.join(GROUP, ann.user.id)
    await check_in(ann, link, "Share a short line", first_time=True)
    await ann.expect("short line you'd like to share")
    ann.send("I'm still here")
    await ann.expect("Here's how it would show")
    fake.leave(GROUP, ann.user.id, "kicked")
    ann.tap("Post it")
    await ann.expect("no longer in that group, so your line wasn't posted")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=5)) == 0
    assert group_says(fake) == before


async def test_restricted_members_count_only_while_still_in_the_group(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend, clock: FakeClock
) -> None:
    _, link = await prompt_link(fake, app, clock)
    rex, rita = Member(fake, 1002, "Rex"), Member(fake, 1003, "Rita")
    for member in (rex, rita):
        fake.join(GROUP, member.user.id, "restricted")
    fake.restricted_out.add((GROUP, rita.user.id))
    await check_in(rex, link, "Share nothing", first_time=True)
    await rex.expect("Nothing was shared")
    await meet(rita)
    rita.send(f"/start {link}")
    await rita.expect("for the members of the group it was posted in")


async def test_when_telegram_cannot_be_asked_the_check_in_does_not_open(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend, clock: FakeClock
) -> None:
    _, link = await prompt_link(fake, app, clock)
    ann = Member(fake, 1001, "Ann")
    fake.join(GROUP, ann.user.id)
    await meet(ann)
    fake.fail("getChatMember", 500, "Internal Server Error", times=TRIES)
    ann.send(f"/start {link}")
    await ann.expect("couldn't check just now that you're in this group")
    ann.send(f"/start {link}")
    await ann.expect("today's group check-in")


async def test_a_volunteer_who_left_the_group_is_not_asked(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend, clock: FakeClock
) -> None:
    host, vi = Member(fake, 1, "Host"), Member(fake, 1002, "Vi")
    clock.set(TEN_IN_BERLIN - timedelta(hours=2))
    host.send("/group settings volunteers on", group=GROUP)
    await host.expect("volunteers is now: on", chat=GROUP)
    await volunteer(fake, vi)
    timer, link = await prompt_link(fake, app, clock)
    fake.leave(GROUP, vi.user.id)
    ann = Member(fake, 1001, "Ann")
    fake.join(GROUP, ann.user.id)
    await check_in(ann, link, "Share nothing", first_time=True)
    await ann.expect("reach out to you")
    ann.tap("Yes, please")
    await ann.expect("there's nobody in this group I can ask")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=1)) == 0
    to_vi = [o.text for o in fake.outbox if o.message.chat_id == vi.user.id]
    assert not [text for text in to_vi if "asked for someone" in text]
    [group] = await app.repos.groups.all()
    assert await app.repos.reachouts.volunteers(group.id) == [], "who left volunteers no more"


async def test_moderator_rights_are_asked_again_after_minutes_and_never_taken_stale(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend, clock: FakeClock
) -> None:
    host, ada = Member(fake, 1, "Host"), Member(fake, 1005, "Ada")
    clock.set(TEN_IN_BERLIN)
    fake.join(GROUP, ada.user.id, "administrator")
    ada.send("/group settings summary 20:00", group=GROUP)
    await ada.expect("Saved. summary is now", chat=GROUP)
    fake.join(GROUP, ada.user.id, "member")  # demoted
    clock.advance(timedelta(minutes=5))
    ada.send("/group settings summary 19:00", group=GROUP)
    await ada.expect("Only this group's moderators can change its settings", chat=GROUP)
    # Telegram can't be asked: not even the creator acts on an older list of admins.
    clock.advance(timedelta(minutes=5))
    fake.fail("getChatAdministrators", 500, "Internal Server Error", times=TRIES)
    host.send("/group settings summary 18:00", group=GROUP)
    await host.expect("couldn't check your moderator rights just now", chat=GROUP)
    host.send("/group settings summary 18:00", group=GROUP)
    await host.expect("Saved. summary is now: at 18:00", chat=GROUP)
    [group] = await app.repos.groups.all()
    assert group.summary_time == "18:00"


async def test_a_moderators_channel_must_belong_to_the_group(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend
) -> None:
    ada = Member(fake, 1005, "Ada")
    fake.join(GROUP, ada.user.id, "administrator")
    fake.join(OTHER, ada.user.id, "member")  # the bot is there; Ada is not an admin there
    fake.chats[ELSEWHERE] = {1: "creator", ada.user.id: "administrator"}  # no bot there
    for channel in (str(OTHER), str(ELSEWHERE), "-100424242", "mods"):
        ada.send(f"/group settings modchannel {channel}", group=GROUP)
        await ada.expect("can't be this group's moderators' channel", chat=GROUP)
    [group] = await app.repos.groups.all()
    assert group.mod_channel == ""
    assert {r[0] for r in fake.rejections} == {"getChatMember"}
    fake.rejections.clear()
    checked = [c.params for c in fake.calls_of("getChatMember")]
    assert {"chat_id": OTHER, "user_id": BOT_ID} in checked, "is the bot there"
    assert {"chat_id": OTHER, "user_id": ada.user.id} in checked, "is the moderator an admin"
    # The group itself, one of its topics, or a group where the bot is and Ada is an admin.
    fake.join(OTHER, ada.user.id, "administrator")
    for channel in (str(GROUP), "42", str(OTHER)):
        ada.send(f"/group settings modchannel {channel}", group=GROUP)
        await ada.expect(f"Saved. modchannel is now: {channel}", chat=GROUP)
    [group] = await app.repos.groups.all()
    assert group.mod_channel == str(OTHER)


async def test_stop_back_and_skip_still_work_as_commands_during_a_text_step(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    ann = Member(fake, 1001, "Ann")
    await meet(ann)
    ann.send("/checkin")
    await ann.expect("How is your mood")
    for label, then in (("3", "How strong"), ("4", "Which part"), ("Not sure", "Is your body")):
        ann.tap(label)
        await ann.expect(then)
    ann.tap("Tired")
    await ann.expect("in your own words")
    ann.send("/back")
    await ann.expect("Is your body")
    ann.tap("Tired")
    await ann.expect("own words")
    ann.send("/skip")
    await ann.expect("I've kept it privately")
    ann.send("/checkin")
    await ann.expect("How is your mood")
    ann.send("/stop")
    await ann.expect("we've stopped")


async def tell_a_moderator(member: Member, expect: str) -> None:
    member.send("i can't go on, i want to end my life tonight")
    await member.expect("Are you safe right now?")
    member.tap("I'm not safe")
    await member.expect("emergency number")
    member.tap("Tell a moderator")
    await member.expect("let a moderator of your group know")
    member.tap("Only that I asked for support")
    await member.expect(expect)


async def test_a_moderators_chat_is_used_only_while_it_still_passes_the_check(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend, clock: FakeClock
) -> None:
    ada, ann = Member(fake, 1005, "Ada"), Member(fake, 1001, "Ann")
    for chat in (GROUP, OTHER):
        fake.join(chat, ada.user.id, "administrator")
    ada.send(f"/group settings modchannel {OTHER}", group=GROUP)
    await ada.expect(f"Saved. modchannel is now: {OTHER}", chat=GROUP)
    ann.send("/help", group=GROUP)  # Ann belongs to the group
    await ann.expect("Here is what I can do", chat=GROUP)
    await meet(ann)
    timer = Timer(app, clock)
    await tell_a_moderator(ann, "I've let a moderator know")
    assert await timer.at(clock.now()) == 1
    await ada.expect("Ann asked for support", chat=OTHER)
    # The bot is removed from the moderators' chat: it is no longer used.
    fake.leave(OTHER, BOT_ID)
    await tell_a_moderator(ann, "couldn't reach a moderator")
    assert await timer.at(clock.now()) == 0
    assert [r[2] for r in fake.rejections] == [
        "Forbidden: bot is not a member of the supergroup chat"
    ]
    fake.rejections.clear()
    # Ann leaves the group: its moderators are not told about her any more.
    fake.leave(OTHER, BOT_ID, "member")
    fake.leave(GROUP, ann.user.id)
    await tell_a_moderator(ann, "couldn't reach a moderator")
    assert await timer.at(clock.now()) == 0
