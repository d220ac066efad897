"""Issue 12, as a property, on Telegram: the real python-telegram-bot Application against the fake
Bot API, driven by random sequences of five actors (tests/trust_rules.py): commands in their
group and privately, taps on their buttons, replayed callback data and deep links taken from
anyone's messages, guessed ones, leaked and made-up check-in links, words that only look like a
command, crises, members leaving, and time passing.

After every step, everything the fake received since is checked against the rules of trust:
what reached each group's chat, each actor's private chat (documents included), and whether a
group's settings changed at anyone's command but its moderator's. Each example starts a fresh
fake, bot and database. `test_the_property_finds_a_group_open_to_everyone` turns the
membership check off and shows the same search finds what that lets through.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from bots.telegram_adapter import TelegramAdapter
from core.app import Unblend
from core.groups.checkins.engine import GroupEngine
from core.groups.reachouts.logic import ReachOuts
from core.kernel.clock import FakeClock
from core.kernel.settings import Settings
from core.outbox.drainer import OutboxDrainer
from core.repos import in_memory_repos
from tests.conftest import detector, library
from tests.fake_telegram import BOT_ID, BotMessage, FakeTelegram, TgUser
from tests.rigs import telegram_bot, telegram_server
from tests.trust_rules import (
    ACTORS,
    CRISIS_WORDS,
    GUESSED_TOKEN,
    KNOWN_ATTACKS,
    MODERATOR,
    START,
    BreachError,
    EveryoneIsIn,
    Ledger,
    Step,
    answered_by,
    assert_finds_a_breach,
    group_state,
    open_checkin,
    search_settings,
    soon,
    steps,
    volunteers_of,
    whose,
    with_attacks,
)

PLATFORM = "telegram"
CHATS = {"G": -1001000000001, "H": -1002000000002}
SPACES = {group: str(chat) for group, chat in CHATS.items()}
USERS = {"gm": 1101, "gmod": 1102, "hm": 2201, "hmod": 2202, "stranger": 6666}
ACTOR_OF = {user: actor for actor, user in USERS.items()}
LINK = "start="


def payload_of(button: dict[str, object]) -> str:
    url = str(button.get("url", ""))
    return url.split(LINK, 1)[1] if LINK in url else ""


class TelegramWorld:
    """The fake Bot API, the real adapter, and the five actors, for one example."""

    def __init__(self, fake: FakeTelegram, adapter: TelegramAdapter, app: Unblend) -> None:
        self.fake, self.adapter, self.app = fake, adapter, app
        assert isinstance(app.clock, FakeClock)
        self.clock = app.clock
        self.ledger = Ledger()
        self.users = {actor: TgUser(uid, ACTORS[actor].name) for actor, uid in USERS.items()}
        self.engine = GroupEngine(app.repos, app.library.catalog(), self.clock)
        self.drainer = OutboxDrainer(app.repos, app.outbound, self.clock)
        self.reach = ReachOuts(app)
        self.drainer.on_gone.append(self.reach.on_gone)
        self.links: dict[str, str] = {}  # group -> the token of its latest prompt's link
        self.groups: dict[str, int] = {}  # group -> its number (as /volunteer names it)
        self.schedules: dict[str, int] = {}  # group -> its schedule's number
        self.seen = 0  # outbox entries already checked
        self.answers: set[tuple[int, str, str]] = set()
        self.volunteers: set[tuple[str, str]] = set()
        for group, chat in CHATS.items():
            # Each group with its moderator as creator, its member, and the bot.
            self.fake.chats[chat] = {BOT_ID: "member"}
            for actor in ACTORS.values():
                if actor.home == group:
                    status = "creator" if actor.moderator else "member"
                    self.fake.chats[chat][USERS[actor.key]] = status

    # -- what reaches the bot --------------------------------------------------------------

    async def settle(self) -> None:
        """Until the bot has fetched and fully handled every update so far."""
        await self.fake.fetched()
        await asyncio.wait_for(self.adapter.tg.update_queue.join(), 10)

    async def say(self, actor: str, text: str, group: str = "") -> None:
        self.fake.say(self.users[actor], text, CHATS[group] if group else None)
        await self.settle()

    async def send_data(self, actor: str, data: str) -> None:
        """A tap sending `data` from the actor's private chat (a button of theirs, or forged)."""
        if data.startswith("gshare:post:"):
            # Their own choice to post: the line of theirs it names may reach their group.
            member = await self.app.repos.members.find(PLATFORM, str(USERS[actor]))
            number = data.rsplit(":", 1)[1]
            share = (
                await self.app.repos.groups.share(member.id, int(number))
                if member is not None and number.isdigit()
                else None
            )
            if share is not None:
                self.ledger.choose(share.line)
        mine = [m for (chat, _), m in self.fake.messages.items() if chat == USERS[actor]]
        message = mine[-1] if mine else BotMessage(USERS[actor], 1, "…", "…")
        self.fake.tap(self.users[actor], message, data)
        await self.settle()

    async def tap(self, actor: str, label: str) -> None:
        """Taps `label` on the newest message the actor can see that has it, if any."""
        home = ACTORS[actor].home
        chats = {USERS[actor]} | ({CHATS[home]} if self.ledger.is_in(actor, home) else set())
        seen = [m for (chat, _), m in self.fake.messages.items() if chat in chats]
        for message in sorted(seen, key=lambda m: m.message_id, reverse=True):
            for button in message.buttons():
                if button.get("text") != label:
                    continue
                if "callback_data" in button:
                    await self.send_data(actor, str(button["callback_data"]))
                elif payload_of(button):
                    await self.say(actor, f"/start {payload_of(button)}")
                return

    async def write(self, actor: str) -> None:
        """Words of the actor's own: a line to share where a check-in asks for one."""
        member = await self.app.repos.members.find(PLATFORM, str(USERS[actor]))
        state = await self.app.repos.sessions.get(member.id) if member is not None else None
        at_line = state is not None and (state.flow_id, state.step) == ("group_checkin", "line")
        await self.say(actor, f"today {self.ledger.marker(actor, 'l' if at_line else 'p')}")

    # -- the steps ----------------------------------------------------------------------------

    def token(self, where: str) -> str:
        return {"guess": GUESSED_TOKEN, "number": "1"}.get(where) or self.links[where]

    def group_text(self, actor: str, command: str) -> str:
        home = ACTORS[actor].home
        other = "H" if home == "G" else "G"
        mark = self.ledger.marker(actor, "m")
        at = soon(self.clock.now())
        return {
            "schedule_add": f"/schedule add {at} UTC {mark}",
            "schedule_add_other": f"/schedule add {at} UTC in:{CHATS[other]} {mark}",
            "schedule_pause_own": f"/schedule pause {self.schedules[home]}",
            "schedule_pause_other": f"/schedule pause {self.schedules[other]}",
            "schedule_remove_own": f"/schedule remove {self.schedules[home]}",
            "schedule_remove_other": f"/schedule remove {self.schedules[other]}",
            "summary": "/group settings summary 20:00",
            "volunteers_off": "/group settings volunteers off",
            "modchannel_own": f"/group settings modchannel {CHATS[home]}",
            "modchannel_other": f"/group settings modchannel {CHATS[other]}",
            "terms": f"/group terms add {mark}",
            "volunteer": "/volunteer",
            "help": "/help",
            "checkin": "/checkin",
            "audit": "/group audit",
            "settings": "/group settings",
        }[command]

    def private_text(self, command: str) -> str:
        g, h = self.groups["G"], self.groups["H"]
        return {
            "start": "/start",
            "checkin": "/checkin",
            "volunteer": "/volunteer",
            "volunteer_on_G": f"/volunteer on {g}",
            "volunteer_on_H": f"/volunteer on {h}",
            "volunteer_off_G": f"/volunteer off {g}",
            "help": "/help",
            "history": "/history",
            "remind": "/remind 08:00 UTC",
            "schedule_add": "/schedule add 10:00 UTC",
            "open_volunteer_G": f"/start volunteer-{g}",
            "open_volunteer_H": f"/start volunteer-{h}",
            "export": "/export",
        }[command]

    def replayable(self) -> list[tuple[str, str]]:
        """Every callback data and deep link on any message so far, whoever it was sent to, in
        the order they were first sent (never by value: tokens are random, and an example
        must pick the same button each time it runs)."""
        found: dict[tuple[str, str], None] = {}
        for message in self.fake.messages.values():
            for button in message.buttons():
                if "callback_data" in button:
                    found[("data", str(button["callback_data"]))] = None
                elif payload_of(button):
                    found[("link", payload_of(button))] = None
        return list(found)

    async def step(self, actor: str, kind: str, value: str) -> None:
        home = ACTORS[actor].home
        if kind == "group" and self.ledger.is_in(actor, home):
            await self.say(actor, self.group_text(actor, value), group=home)
        elif kind == "private":
            await self.say(actor, self.private_text(value))
        elif kind == "link":
            await self.say(actor, f"/start gcheckin-{self.token(value)}")
        elif kind == "form":
            # Words that only look like a command (no command entity): never one.
            words = {"schedule": "/schedule add 10:00 UTC", "volunteer": "/volunteer on 1"}
            text = words.get(value) or f"/start gcheckin-{self.token(value)}"
            before = await open_checkin(self.app, PLATFORM, str(USERS[actor]))
            await self.say(actor, " " + text)
            if await open_checkin(self.app, PLATFORM, str(USERS[actor])) not in ("", before):
                raise BreachError(f"words typed by {actor} opened a check-in: {text!r}")
        elif kind == "write":
            await self.write(actor)
        elif kind == "tap":
            await self.tap(actor, value)
        elif kind == "replay":
            pool = self.replayable()
            if pool:
                what, data = pool[int(value) % len(pool)]
                if what == "data":
                    await self.send_data(actor, data)
                else:
                    await self.say(actor, f"/start {data}")
        elif kind == "guess":
            await self.send_data(actor, value)
        elif kind == "leave" and self.ledger.is_in(actor, home):
            self.fake.leave(CHATS[home], USERS[actor])
            self.ledger.leave(actor)
        elif kind == "checkin":
            await self.check_in(actor, *value.split("|"))
        elif kind == "time":
            await self.timer(self.clock.now() + timedelta(minutes=int(value)))
        elif kind == "crisis":
            await self.say(actor, CRISIS_WORDS)
            for label in ("I'm not safe", "Tell a moderator", "Only that I asked for support"):
                await self.tap(actor, label)

    async def check_in(self, actor: str, where: str, share: str, reach: str) -> None:
        where = whose(actor, where)
        await self.say(actor, f"/start gcheckin-{self.token(where)}")
        shares = {"line": "Share a short line", "mood": "Share my mood only"}
        for label in ("4", "6", shares.get(share, "Share nothing")):
            await self.tap(actor, label)
        if share == "line":
            await self.write(actor)
        await self.tap(actor, "Yes, please" if reach == "yes" else "No, thank you")
        await self.tap(actor, "My name and my line")
        await self.tap(actor, "Post it")

    async def timer(self, when: object) -> None:
        """What the schedule service does at a moment: posts due, requests expired, outbox."""
        self.clock.set(when)  # type: ignore[arg-type]
        await self.engine.run_due_posts(self.clock.now())
        await self.reach.expire_due(self.clock.now())

    # -- the checks ---------------------------------------------------------------------------

    def view(self, chat_id: int) -> str:
        groups = {chat: group for group, chat in CHATS.items()}
        if chat_id in groups:
            return groups[chat_id]
        return f"@{ACTOR_OF[chat_id]}" if chat_id in ACTOR_OF else f"chat {chat_id}"

    async def check(self) -> None:
        """Sends what the outbox holds, then checks everything sent since the last check."""
        await self.drainer.drain(PLATFORM)
        for out in self.fake.outbox[self.seen :]:
            view = self.view(out.message.chat_id)
            self.ledger.check(view, out.text, out.kind)
            if out.message.document is not None:
                self.ledger.check(view, out.message.document.decode("utf-8", "replace"), "file")
            for button in out.message.buttons():
                if view in CHATS and payload_of(button).startswith("gcheckin-"):
                    self.links[view] = payload_of(button).removeprefix("gcheckin-")
        self.seen = len(self.fake.outbox)
        answers = await answered_by(self.app, PLATFORM, SPACES)
        for post, group, user in answers - self.answers:
            actor = ACTOR_OF.get(int(user)) if user.isdigit() else None
            if actor is None or not self.ledger.is_in(actor, group):
                raise BreachError(f"{actor or user} answered post {post} of {group}")
        self.answers = answers
        volunteers = await volunteers_of(self.app, PLATFORM, SPACES)
        for group, user in volunteers - self.volunteers:
            actor = ACTOR_OF.get(int(user)) if user.isdigit() else None
            if actor is None or not self.ledger.is_in(actor, group):
                raise BreachError(f"{actor or user} became a volunteer of {group}")
        self.volunteers = volunteers

    async def states(self) -> dict[str, tuple[object, ...]]:
        return {g: await group_state(self.app, PLATFORM, str(c)) for g, c in CHATS.items()}

    async def run(self, actor: str, kind: str, value: str) -> None:
        before = await self.states()
        await self.step(actor, kind, value)
        await self.check()
        after = await self.states()
        for group in CHATS:
            by_moderator = kind == "group" and actor == MODERATOR[group]
            if after[group] != before[group] and not by_moderator:
                raise BreachError(f"{group} changed at {actor}'s {kind} {value!r}")

    async def setup(self) -> None:
        """Everyone met the bot; each group has a prompt a minute later, two volunteers, and a
        member's shared line and request to reach out."""
        self.clock.set(START)
        for actor in ACTORS:
            await self.say(actor, "/start")
            await self.tap(actor, "Okay")
            await self.tap(actor, "Yes, keep them")
        for group, mod in MODERATOR.items():
            mark = self.ledger.marker(mod, "m")
            await self.say(mod, f"/schedule add 09:01 UTC {mark}", group=group)
            await self.say(mod, "/group settings volunteers on", group=group)
        for actor in ("gm", "gmod", "hm", "hmod"):
            await self.say(actor, "/volunteer", group=ACTORS[actor].home)
            await self.tap(actor, "Open private chat")
            await self.tap(actor, "Volunteer for this group")
        await self.timer(START + timedelta(minutes=1))
        await self.check()
        # Each group's member has checked in, shared a line and asked for someone to reach
        # out: lines in the groups, requests with their buttons, all there to replay.
        for actor in ("gm", "hm"):
            await self.check_in(actor, ACTORS[actor].home, "line", "yes")
        await self.check()
        assert set(self.links) == {"G", "H"}, "each group's prompt is posted"
        for stored in await self.app.repos.groups.all():
            name = next(g for g, chat in CHATS.items() if str(chat) == stored.space_id)
            self.groups[name] = stored.id
            [schedule] = await self.app.repos.groups.schedules(stored.id)
            self.schedules[name] = schedule.id
        self.volunteers = await volunteers_of(self.app, PLATFORM, SPACES)
        assert len(self.volunteers) == 4, "two volunteers in each group"


async def explore(actions: list[Step], open_to_everyone: bool = False) -> None:
    clock = FakeClock()
    app = Unblend(in_memory_repos(), library(), detector(), clock, Settings(default_country="GB"))
    async with telegram_server() as fake, telegram_bot(fake, app) as adapter:
        if open_to_everyone:
            real = app.membership._by_platform[PLATFORM]
            app.membership.register(PLATFORM, EveryoneIsIn(real))
        world = TelegramWorld(fake, adapter, app)
        await world.setup()
        for actor, (kind, value) in actions:
            await world.run(actor, kind, value)
        expected = {"getChatMember"}  # "chat not found": a moderators' chat that isn't one
        assert {r[0] for r in fake.rejections} <= expected, fake.rejections


@search_settings(15)
@given(st.lists(steps, min_size=6, max_size=14))
@with_attacks(KNOWN_ATTACKS)
def test_on_telegram_only_a_groups_members_and_moderators_reach_into_it(
    actions: list[Step],
) -> None:
    asyncio.run(explore(actions))


def test_the_property_finds_a_group_open_to_everyone() -> None:
    """The same search, with the membership check answering yes for everyone, finds a breach."""
    assert_finds_a_breach(steps, explore)
