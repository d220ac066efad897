"""Issue 12, as a property, on Discord: the real discord.py client against the fake Discord (REST
and gateway), driven by the same random sequences of five actors as on Telegram
(tests/trust_rules.py). Each group is a server of its own: G and H, each with a check-ins
channel and a moderators' channel; the stranger is in neither.

On Discord a check-in opens from a button, never a link: a "link" here is the prompt's button
forged, tapped from the actor's own server (a replay across servers) or from direct messages;
a "form" is a form submitted with words that only look like a command; a replay is any button
seen on any message so far, tapped from the actor's server or from direct messages; a guess is
a made-up button. Moderators tap and type with Manage Server in their own server, members
without it; nobody acts in a server they are not in (Discord delivers only what members do).

After every step, everything the fake received since is checked against the rules of trust:
what reached each server (its channels and threads), each actor's direct messages and the
answers only they can see, and whether a group's settings changed at anyone's command but its
moderator's. `test_the_property_finds_a_server_open_to_everyone` turns the membership check off
and shows the same search finds what that lets through.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bots.discord_adapter import DiscordAdapter
from core.app import Unblend
from core.groups.checkins.engine import GroupEngine
from core.groups.reachouts.logic import ReachOuts
from core.kernel.clock import FakeClock
from core.kernel.settings import Settings
from core.outbox.drainer import OutboxDrainer
from core.repos import in_memory_repos
from tests.conftest import detector, library
from tests.fake_discord import (
    CHANNEL_ID,
    GUILD_ID,
    MODS_CHANNEL_ID,
    Channel,
    DcUser,
    FakeDiscord,
    FakeMessage,
    Pending,
)
from tests.rigs import discord_bot, discord_server
from tests.test_discord_groups import MANAGE_SERVER
from tests.trust_rules import (
    ACTORS,
    CRISIS_WORDS,
    GUESSED_TOKEN,
    KNOWN_ATTACKS,
    MODERATOR,
    START,
    WHERE,
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
    steps_with,
    volunteers_of,
    whose,
    with_attacks,
)

PLATFORM = "discord"
H_GUILD = 820_000_000_000_000_001
GUILDS = {"G": GUILD_ID, "H": H_GUILD}
CHANNELS = {"G": CHANNEL_ID, "H": H_GUILD + 1}
MODS_CHANNELS = {"G": MODS_CHANNEL_ID, "H": H_GUILD + 5}
SPACES = {group: str(guild) for group, guild in GUILDS.items()}
USERS = {"gm": 1101, "gmod": 1102, "hm": 2201, "hmod": 2202, "stranger": 6666}
ACTOR_OF = {user: actor for actor, user in USERS.items()}
OPEN = "~open:"
CHECKIN = "~open:gcheckin-"
WRITE = "~write:"
TEXT_MODAL, TEXT_INPUT = "~text", "words"
MENTION = re.compile(r"<@!?(\d+)>")
# What Discord may refuse while the bot asks about someone who is not (or no longer) in a server.
EXPECTED_REFUSALS = {"Unknown Member"}

# On Discord a forged check-in button may also be tapped from direct messages.
discord_steps = steps_with(st.sampled_from(WHERE).map(lambda w: ("link_dm", w)))

Place = tuple[int, int]  # (server, channel); server 0: direct messages


class DiscordWorld:
    """The fake Discord, the real adapter, and the five actors, for one example."""

    def __init__(self, fake: FakeDiscord, adapter: DiscordAdapter, app: Unblend) -> None:
        self.fake, self.adapter, self.app = fake, adapter, app
        assert isinstance(app.clock, FakeClock)
        self.clock = app.clock
        self.ledger = Ledger()
        self.users = {actor: DcUser(uid, ACTORS[actor].name) for actor, uid in USERS.items()}
        self.engine = GroupEngine(app.repos, app.library.catalog(), self.clock)
        self.drainer = OutboxDrainer(app.repos, app.outbound, self.clock)
        self.reach = ReachOuts(app)
        self.drainer.on_gone.append(self.reach.on_gone)
        self.links: dict[str, str] = {}  # group -> the token of its latest prompt's button
        self.groups: dict[str, int] = {}
        self.schedules: dict[str, int] = {}
        self.seen = 0
        self.answers: set[tuple[int, str, str]] = set()
        self.volunteers: set[tuple[str, str]] = set()
        self.write_label = app.library.catalog().text("discord.write_button")

    # -- where things are ----------------------------------------------------------------------

    def group_of(self, channel_id: int) -> str:
        """ "G" or "H" for a channel or thread of that server; "" for anything else."""
        guild = self.fake.guild_of(channel_id)
        return next((g for g, gid in GUILDS.items() if gid == guild), "")

    def dm(self, actor: str) -> int:
        return self.fake.dm_channels.setdefault(USERS[actor], next(self.fake._ids))

    def view(self, message: FakeMessage) -> str:
        """Who sees a message: a group's server, one actor, or a place nobody should get."""
        if message.ephemeral:
            return f"@{ACTOR_OF.get(message.for_user or 0, message.for_user)}"
        dms = {channel: user for user, channel in self.fake.dm_channels.items()}
        if message.channel_id in dms:
            return f"@{ACTOR_OF.get(dms[message.channel_id], dms[message.channel_id])}"
        return self.group_of(message.channel_id) or f"channel {message.channel_id}"

    def visible(self, actor: str) -> list[FakeMessage]:
        """What the actor can see now: their direct messages and answers only for them, and
        what is posted in their server while they are in it."""
        home = ACTORS[actor].home
        server = home if self.ledger.is_in(actor, home) else ""
        mine = self.dm(actor)
        return [
            m
            for m in self.fake.messages.values()
            if m.channel_id == mine
            or (m.ephemeral and m.for_user == USERS[actor])
            or (not m.ephemeral and server and self.group_of(m.channel_id) == server)
        ]

    def place_of(self, actor: str, message: FakeMessage) -> Place:
        group = self.group_of(message.channel_id)
        return (GUILDS[group], message.channel_id) if group else (0, self.dm(actor))

    def home_place(self, actor: str) -> Place | None:
        """The actor's server's check-ins channel, while they are in it."""
        home = ACTORS[actor].home
        return (GUILDS[home], CHANNELS[home]) if self.ledger.is_in(actor, home) else None

    def permissions(self, actor: str, place: Place) -> int:
        moderates = ACTORS[actor].moderator and GUILDS.get(ACTORS[actor].home) == place[0]
        return MANAGE_SERVER if moderates else 0

    # -- what reaches the bot ------------------------------------------------------------------

    async def interact(
        self,
        actor: str,
        kind: int,
        data: dict[str, Any],
        place: Place | None = None,
        message: FakeMessage | None = None,
    ) -> Pending:
        """One interaction, waited for until the bot answered it and finished with it."""
        where = place or (0, self.dm(actor))
        pending = await self.fake.interact(
            self.users[actor],
            kind,
            data,
            message=message,
            permissions=self.permissions(actor, where),
            place=where if where[0] else None,
        )
        await self.fake.wait_for(lambda: pending.answered)
        busy = self.adapter._busy  # the adapter's interactions in flight
        while busy:
            await asyncio.wait(set(busy), timeout=10)
        return pending

    async def slash(
        self, actor: str, name: str, place: Place | None = None, sub: str = "", **options: Any
    ) -> None:
        types = {int: 4, str: 3, Channel: 7}
        given = [
            {"name": k, "type": types[type(v)], "value": str(v.id) if isinstance(v, Channel) else v}
            for k, v in options.items()
        ]
        data: dict[str, Any] = {
            "id": self.fake.command_id(name),
            "name": name,
            "type": 1,
            "options": [{"name": sub, "type": 1, "options": given}] if sub else given,
        }
        channels = [v for v in options.values() if isinstance(v, Channel)]
        if channels:
            data["resolved"] = {"channels": {str(c.id): c.to_json() for c in channels}}
        await self.interact(actor, 2, data, place)

    async def press(
        self, actor: str, custom_id: str, place: Place, message: FakeMessage | None = None
    ) -> None:
        """A tap on `custom_id`: on `message` if given (a button the actor sees), else on a
        message made up to carry it (a replayed or forged button)."""
        if message is None:
            button = {"type": 2, "style": 1, "label": "…", "custom_id": custom_id}
            message = FakeMessage(
                next(self.fake._ids),  # an id no message of the fake has
                place[1],
                "…",
                components=[{"type": 1, "components": [button]}],
            )
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": 2}
        pending = await self.interact(actor, 3, data, place, message)
        if pending.modal is not None:
            await self.submit(actor, place=place)

    async def submit(self, actor: str, text: str | None = None, place: Place | None = None) -> None:
        """The words form, submitted (after the bot opened it, or forged)."""
        words = text if text is not None else await self.own_words(actor)
        field = {"type": 4, "custom_id": TEXT_INPUT, "value": words}
        data = {"custom_id": TEXT_MODAL, "components": [{"type": 1, "components": [field]}]}
        await self.interact(actor, 5, data, place)

    async def own_words(self, actor: str) -> str:
        member = await self.app.repos.members.find(PLATFORM, str(USERS[actor]))
        state = await self.app.repos.sessions.get(member.id) if member is not None else None
        at_line = state is not None and (state.flow_id, state.step) == ("group_checkin", "line")
        return f"today {self.ledger.marker(actor, 'l' if at_line else 'p')}"

    async def tap(self, actor: str, label: str) -> None:
        """Taps `label` on the newest message the actor can see that has it, if any."""
        for message in sorted(self.visible(actor), key=lambda m: m.id, reverse=True):
            for button in message.buttons():
                value = ""
                if button.get("type") == 3:
                    found = [o for o in button.get("options", []) if o.get("label") == label]
                    if not found:
                        continue
                    value = str(found[0]["value"])
                elif button.get("label") != label:
                    continue
                await self.choose(actor, message, button, value)
                return

    async def choose(
        self, actor: str, message: FakeMessage, button: dict[str, Any], value: str = ""
    ) -> None:
        custom_id = str(button["custom_id"])
        if (value or custom_id).startswith("gshare:post:"):
            await self.chose_to_post(actor, value or custom_id)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": button["type"]}
        if value:
            data["values"] = [value]
        place = self.place_of(actor, message)
        pending = await self.interact(actor, 3, data, place, message)
        if pending.modal is not None:
            await self.submit(actor, place=place)

    async def chose_to_post(self, actor: str, data: str) -> None:
        """Their own choice to post: the line of theirs it names may reach their group."""
        member = await self.app.repos.members.find(PLATFORM, str(USERS[actor]))
        number = data.rsplit(":", 1)[1]
        share = (
            await self.app.repos.groups.share(member.id, int(number))
            if member is not None and number.isdigit()
            else None
        )
        if share is not None:
            self.ledger.choose(share.line)

    async def write(self, actor: str) -> None:
        """The actor's own words: through a "Write it" button they see, else a forged form."""
        for message in sorted(self.visible(actor), key=lambda m: m.id, reverse=True):
            for button in message.buttons():
                if str(button.get("custom_id", "")).startswith(WRITE):
                    await self.choose(actor, message, button)
                    return
        await self.submit(actor)

    # -- the steps -------------------------------------------------------------------------------

    def token(self, where: str) -> str:
        return {"guess": GUESSED_TOKEN, "number": "1"}.get(where) or self.links[where]

    async def open_checkin(self, actor: str, where: str, from_dm: bool = False) -> None:
        """The prompt's own button if the actor sees it; else that button forged, tapped from
        the actor's server (if they are in one) or from direct messages."""
        if where in GUILDS and not from_dm:
            custom_id = CHECKIN + self.links[where]
            for message in sorted(self.visible(actor), key=lambda m: m.id, reverse=True):
                if any(b.get("custom_id") == custom_id for b in message.buttons()):
                    await self.press(actor, custom_id, self.place_of(actor, message), message)
                    return
        home = None if from_dm else self.home_place(actor)
        await self.press(actor, CHECKIN + self.token(where), home or (0, self.dm(actor)))

    async def group_command(self, actor: str, command: str) -> None:
        home = ACTORS[actor].home
        other = "H" if home == "G" else "G"
        place = (GUILDS[home], CHANNELS[home])
        mark = self.ledger.marker(actor, "m")
        at = soon(self.clock.now())
        commands: dict[str, tuple[str, str, dict[str, Any]]] = {
            "schedule_add": ("schedule", "add", {"time": at, "prompt": mark}),
            "schedule_add_other": (
                "schedule",
                "add",
                {"time": at, "channel": Channel(CHANNELS[other]), "prompt": mark},
            ),
            "schedule_pause_own": ("schedule", "pause", {"number": self.schedules[home]}),
            "schedule_pause_other": ("schedule", "pause", {"number": self.schedules[other]}),
            "schedule_remove_own": ("schedule", "remove", {"number": self.schedules[home]}),
            "schedule_remove_other": ("schedule", "remove", {"number": self.schedules[other]}),
            "summary": ("group", "settings", {"setting": "summary", "value": "20:00"}),
            "volunteers_off": ("group", "settings", {"setting": "volunteers", "value": "off"}),
            "modchannel_own": (
                "group",
                "settings",
                {"setting": "modchannel", "channel": Channel(MODS_CHANNELS[home])},
            ),
            "modchannel_other": (
                "group",
                "settings",
                {"setting": "modchannel", "value": str(MODS_CHANNELS[other])},
            ),
            "terms": ("group", "terms", {"action": "add", "phrase": mark}),
            "volunteer": ("volunteer", "on", {}),
            "help": ("help", "", {}),
            "checkin": ("checkin", "", {}),
            "audit": ("group", "audit", {}),
            "settings": ("group", "settings", {}),
        }
        slash, sub, options = commands[command]
        await self.slash(actor, slash, place, sub, **options)

    async def private_command(self, actor: str, command: str) -> None:
        g, h = self.groups["G"], self.groups["H"]
        if command.startswith("open_volunteer_"):
            number = g if command.endswith("G") else h
            await self.press(actor, f"{OPEN}volunteer-{number}", (0, self.dm(actor)))
            return
        commands: dict[str, tuple[str, str, dict[str, Any]]] = {
            "start": ("start", "", {}),
            "checkin": ("checkin", "", {}),
            "volunteer": ("volunteer", "status", {}),
            "volunteer_on_G": ("volunteer", "on", {"group": g}),
            "volunteer_on_H": ("volunteer", "on", {"group": h}),
            "volunteer_off_G": ("volunteer", "off", {"group": g}),
            "help": ("help", "", {}),
            "history": ("history", "", {}),
            "remind": ("remind", "set", {"time": "08:00", "timezone": "UTC"}),
            "schedule_add": ("schedule", "add", {"time": "10:00", "timezone": "UTC"}),
            "export": ("export", "", {}),
        }
        slash, sub, options = commands[command]
        await self.slash(actor, slash, None, sub, **options)

    def replayable(self) -> list[str]:
        """Every button's custom_id (and select option) on any message so far, anyone's, in
        the order first sent (never by value: tokens are random, and an example must pick
        the same button each time it runs)."""
        found: dict[str, None] = {}
        for message in self.fake.messages.values():
            for button in message.buttons():
                if button.get("type") == 3:
                    found.update(
                        dict.fromkeys(
                            f"{button['custom_id']}={o['value']}" for o in button["options"]
                        )
                    )
                elif "custom_id" in button:
                    found[str(button["custom_id"])] = None
        return list(found)

    async def replay(self, actor: str, index: int) -> None:
        pool = self.replayable()
        if not pool:
            return
        custom_id, _, value = pool[index % len(pool)].partition("=")
        home = self.home_place(actor)
        place = home if home is not None and index % 2 == 0 else (0, self.dm(actor))
        if not value:
            await self.press(actor, custom_id, place)
            return
        select = {"type": 3, "custom_id": custom_id, "options": [{"label": "…", "value": value}]}
        message = FakeMessage(
            next(self.fake._ids), place[1], "…", components=[{"type": 1, "components": [select]}]
        )
        await self.choose(actor, message, select, value)

    async def step(self, actor: str, kind: str, value: str) -> None:
        home = ACTORS[actor].home
        if kind == "group" and self.ledger.is_in(actor, home):
            await self.group_command(actor, value)
        elif kind == "private":
            await self.private_command(actor, value)
        elif kind in ("link", "link_dm"):
            await self.open_checkin(actor, value, from_dm=kind == "link_dm")
        elif kind == "form":
            words = {"schedule": "/schedule add 10:00 UTC", "volunteer": "/volunteer on 1"}
            text = words.get(value) or f"/start gcheckin-{self.token(value)}"
            before = await open_checkin(self.app, PLATFORM, str(USERS[actor]))
            await self.submit(actor, text)
            if await open_checkin(self.app, PLATFORM, str(USERS[actor])) not in ("", before):
                raise BreachError(f"words typed by {actor} opened a check-in: {text!r}")
        elif kind == "write":
            await self.write(actor)
        elif kind == "tap":
            await self.tap(actor, value)
        elif kind == "replay":
            await self.replay(actor, int(value))
        elif kind == "guess":
            await self.press(actor, value, (0, self.dm(actor)))
        elif kind == "leave" and self.ledger.is_in(actor, home):
            self.fake.rosters[GUILDS[home]].discard(USERS[actor])
            self.ledger.leave(actor)
        elif kind == "checkin":
            await self.check_in(actor, *value.split("|"))
        elif kind == "time":
            await self.timer(self.clock.now() + timedelta(minutes=int(value)))
        elif kind == "crisis":
            await self.submit(actor, CRISIS_WORDS)
            for label in ("I'm not safe", "Tell a moderator", "Only that I asked for support"):
                await self.tap(actor, label)

    async def check_in(self, actor: str, where: str, share: str, reach: str) -> None:
        where = whose(actor, where)
        await self.open_checkin(actor, where)
        shares = {"line": "Share a short line", "mood": "Share my mood only"}
        for label in ("4", "6", shares.get(share, "Share nothing")):
            await self.tap(actor, label)
        if share == "line":
            await self.write(actor)
        await self.tap(actor, "Yes, please" if reach == "yes" else "No, thank you")
        await self.tap(actor, "My name and my line")
        await self.tap(actor, "Post it")

    async def timer(self, when: object) -> None:
        self.clock.set(when)  # type: ignore[arg-type]
        await self.engine.run_due_posts(self.clock.now())
        await self.reach.expire_due(self.clock.now())

    # -- the checks ----------------------------------------------------------------------------

    def named(self, text: str) -> str:
        """A mention (`<@id>`) shows as the person's name: checked as their name."""
        return MENTION.sub(
            lambda m: ACTORS[ACTOR_OF[int(m[1])]].name if int(m[1]) in ACTOR_OF else m[0], text
        )

    async def check(self) -> None:
        await self.drainer.drain(PLATFORM)
        for out in self.fake.outbox[self.seen :]:
            view = self.view(out.message)
            self.ledger.check(view, self.named(out.text), out.kind)
            for button in out.message.buttons():
                custom_id = str(button.get("custom_id", ""))
                if view in GUILDS and custom_id.startswith(CHECKIN):
                    self.links[view] = custom_id.removeprefix(CHECKIN)
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
        assert self.fake.unanswered() == [], "every interaction is answered"

    async def states(self) -> dict[str, tuple[object, ...]]:
        return {g: await group_state(self.app, PLATFORM, space) for g, space in SPACES.items()}

    async def run(self, actor: str, kind: str, value: str) -> None:
        before = await self.states()
        await self.step(actor, kind, value)
        await self.check()
        after = await self.states()
        for group in GUILDS:
            by_moderator = kind == "group" and actor == MODERATOR[group]
            if after[group] != before[group] and not by_moderator:
                raise BreachError(f"{group} changed at {actor}'s {kind} {value!r}")

    async def setup(self) -> None:
        """Everyone met the bot; each server has a prompt a minute later, two volunteers, and a
        member's shared line and request to reach out."""
        self.clock.set(START)
        for actor in ACTORS:
            await self.slash(actor, "start")
            await self.tap(actor, "Okay")
            await self.tap(actor, "Yes, keep them")
        for group, mod in MODERATOR.items():
            place = (GUILDS[group], CHANNELS[group])
            mark = self.ledger.marker(mod, "m")
            options = {"time": "09:01", "timezone": "UTC", "prompt": mark}
            await self.slash(mod, "schedule", place, "add", **options)
            options = {"setting": "volunteers", "value": "on"}
            await self.slash(mod, "group", place, "settings", **options)
        for actor in ("gm", "gmod", "hm", "hmod"):
            home = ACTORS[actor].home
            await self.slash(actor, "volunteer", (GUILDS[home], CHANNELS[home]), "on")
            await self.tap(actor, "Open private chat")
            await self.tap(actor, "Volunteer for this group")
        await self.timer(START + timedelta(minutes=1))
        await self.check()
        # Each group's member has checked in, shared a line and asked for someone to reach
        # out: lines in the groups, requests with their buttons, all there to replay.
        for actor in ("gm", "hm"):
            await self.check_in(actor, ACTORS[actor].home, "line", "yes")
        await self.check()
        assert set(self.links) == {"G", "H"}, "each server's prompt is posted"
        for stored in await self.app.repos.groups.all():
            name = next(g for g, space in SPACES.items() if space == stored.space_id)
            self.groups[name] = stored.id
            [schedule] = await self.app.repos.groups.schedules(stored.id)
            self.schedules[name] = schedule.id
        self.volunteers = await volunteers_of(self.app, PLATFORM, SPACES)
        assert len(self.volunteers) == 4, "two volunteers in each server"


def two_servers(fake: FakeDiscord) -> None:
    """G is the fake's own server, H another the bot is in; each lists who is in it."""
    fake.more_guilds[H_GUILD] = {CHANNELS["H"]: "check-ins", MODS_CHANNELS["H"]: "mods"}
    for group, guild in GUILDS.items():
        fake.rosters[guild] = {USERS[a.key] for a in ACTORS.values() if a.home == group}


async def explore(actions: list[Step], open_to_everyone: bool = False) -> None:
    clock = FakeClock()
    app = Unblend(in_memory_repos(), library(), detector(), clock, Settings(default_country="GB"))
    async with discord_server() as fake:
        two_servers(fake)
        async with discord_bot(fake, app) as adapter:
            if open_to_everyone:
                real = app.membership._by_platform[PLATFORM]
                app.membership.register(PLATFORM, EveryoneIsIn(real))
            world = DiscordWorld(fake, adapter, app)
            try:
                await world.setup()
                for actor, (kind, value) in actions:
                    await world.run(actor, kind, value)
            finally:
                # Asking about someone not in a server is refused, as Discord does; nothing else.
                refused = {r[2] for r in fake.rejections}
                fake.rejections.clear()
        assert refused <= EXPECTED_REFUSALS, refused


@search_settings(20)
@given(st.lists(discord_steps, min_size=6, max_size=14))
@with_attacks(KNOWN_ATTACKS)
def test_on_discord_only_a_groups_members_and_moderators_reach_into_it(
    actions: list[Step],
) -> None:
    asyncio.run(explore(actions))


def test_the_property_finds_a_server_open_to_everyone() -> None:
    """The same search, with the membership check answering yes for everyone, finds a breach."""
    assert_finds_a_breach(discord_steps, explore, max_examples=40)
