"""Issue 12, as a property: random sequences of five actors (a member and a moderator of group
G, the same of group H, and a stranger) doing commands, taps, deep links and forms, with
replayed and guessed payloads, members leaving, and rights that could not be checked.

After every step, whatever the outbox sent is checked against who is in which group right
then (the test platform's roster): nothing reaches a group but from its members; a request to
reach out goes only to members of the asker's group; nobody's words reach anyone outside
their group. At the end: no moderator action in a group but by its own moderator.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.app import Unblend
from core.groups.checkins.engine import GroupEngine
from core.groups.times import hhmm
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Reply, Space
from core.kernel.settings import Settings
from core.outbox.drainer import Delivery, OutboxDrainer, RecordingPoster
from core.repos import in_memory_repos
from tests.conftest import detector, library
from tests.roster import Roster

HOME = {"gm": "G", "gmod": "G", "hm": "H", "hmod": "H", "stranger": ""}
MODS = {"gmod", "hmod"}
ACTORS = tuple(HOME)
TAPS = (
    "s:mood:3",
    "s:urge:5",
    "s:share:line",
    "s:share:mood",
    "s:share:nothing",
    "s:reach:yes",
    "s:reach_line:line",
    "s:intro:ok",
    "s:keep:yes",
    *(f"gshare:post:{n}" for n in range(1, 6)),
    "gshare:edit:1",
    "vol:on:1",
    "vol:on:2",
    "reach:ack:0123456789abcdef",
)
GROUP_COMMANDS = (
    "/volunteer",
    "/help",
    "/group settings modchannel m9",
    "/group settings volunteers off",
    "/schedule add 11:00 UTC",
    "/group terms add lonely",
)

steps = st.tuples(
    st.sampled_from(ACTORS),
    st.one_of(
        st.sampled_from(["G", "H", "gcheckin-1", "gcheckin-2", "gcheckin-" + "a" * 32]).map(
            lambda w: ("link", w)
        ),
        st.sampled_from(["G", "H"]).map(lambda w: ("form", w)),
        st.sampled_from(TAPS).map(lambda t: ("tap", t)),
        st.just(("text", "")),
        st.sampled_from(GROUP_COMMANDS).map(lambda c: ("group", c)),
        st.just(("unchecked", "/group settings summary off")),
        st.just(("leave", "")),
        st.tuples(
            st.sampled_from(["G", "H", "gcheckin-1", "gcheckin-" + "a" * 32]),
            st.sampled_from(["Share a short line", "Share my mood only", "Share nothing"]),
        ).map(lambda w: ("checkin", "|".join(w))),
    ),
)


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.app = Unblend(
            in_memory_repos(), library(), detector(), self.clock, Settings(default_country="GB")
        )
        self.roster = Roster(everyone=False)
        self.app.membership.register("test", self.roster)
        self.poster = RecordingPoster()
        self.app.outbound.register("test", self.poster)
        self.engine = GroupEngine(self.app.repos, self.app.library.catalog(), self.clock)
        self.drainer = OutboxDrainer(self.app.repos, self.app.outbound, self.clock)
        self.links: dict[str, str] = {}
        self.seen = 0
        self.last: dict[str, list[Reply]] = {}

    def member(self, actor: str, group: str) -> bool:
        return (group, actor) in self.roster.members

    async def in_group(self, actor: str, group: str, text: str, unknown: bool = False) -> None:
        name, *args = text.split()
        moderator = actor in MODS and not unknown
        event = Event(
            "test",
            actor,
            Space.group(group),
            command=name,
            args=tuple(args),
            display_name=actor,
            is_moderator=moderator,
            moderator_unknown=unknown,
        )
        await self.app.handle(event)

    async def privately(self, actor: str, **what: object) -> None:
        event = Event("test", actor, Space.private(actor), display_name=actor, **what)  # type: ignore[arg-type]
        self.last[actor] = await self.app.handle(event)

    async def tap(self, actor: str, label: str) -> None:
        """Taps the button `label` on what the actor was last shown, if it is there."""
        for reply in self.last.get(actor, []):
            for choice in reply.choices:
                if choice.label == label:
                    await self.privately(actor, choice=choice.id)
                    return

    async def check_in(self, actor: str, link: str, share: str) -> None:
        """A whole group check-in in one go: the welcome if needed, answers, a line, post."""
        await self.privately(actor, command="/start", args=(link,))
        for label in ("Okay", "Yes, keep them", "4", "6", share):
            await self.tap(actor, label)
        if share == "Share a short line":
            await self.privately(actor, text=f"line-of-{actor}")
        for label in ("Yes, please", "My name and my line", "Post it"):
            await self.tap(actor, label)

    async def setup(self) -> None:
        for actor, group in HOME.items():
            if group:
                self.roster.join(group, actor)
        at = hhmm((self.clock.now() + timedelta(minutes=1)).time())
        for group, mod in (("G", "gmod"), ("H", "hmod")):
            await self.in_group(mod, group, f"/schedule add {at} UTC")
            await self.in_group(mod, group, "/group settings volunteers on")
            await self.in_group(mod, group, "/group settings modchannel mods")
        self.clock.advance(timedelta(minutes=1))
        await self.engine.run_due_posts()
        for delivery in await self.deliver():
            self.links[delivery.target] = delivery.reply.private_link

    async def deliver(self) -> list[Delivery]:
        await self.drainer.drain("test")
        new = self.poster.sent[self.seen :]
        self.seen = len(self.poster.sent)
        return new

    async def step(self, actor: str, kind: str, value: str) -> None:
        home = HOME[actor]
        if kind == "link":
            link = self.links.get(value, value)
            await self.privately(actor, command="/start", args=(link,))
        elif kind == "form":
            await self.privately(actor, text=f"/start {self.links[value]}")
        elif kind == "tap":
            await self.privately(actor, choice=value)
        elif kind == "text":
            await self.privately(actor, text=f"line-of-{actor}")
        elif kind in ("group", "unchecked") and home and self.member(actor, home):
            # A platform delivers a group's messages only from those in it.
            await self.in_group(actor, home, value, unknown=kind == "unchecked")
        elif kind == "leave" and home:
            self.roster.leave(home, actor)
        elif kind == "checkin":
            where, share = value.split("|")
            await self.check_in(actor, self.links.get(where, where), share)
        self.check(await self.deliver())

    def check(self, sent: list[Delivery]) -> None:
        for delivery in sent:
            text = delivery.reply.text
            about = [a for a in ACTORS if text.startswith((f"{a}:", f"{a} checked in", f"{a} "))]
            # Whole words: "line-of-hm" is inside "line-of-hmod".
            words = [a for a in ACTORS if re.search(rf"\bline-of-{a}\b", text)]
            if not delivery.private:
                group = delivery.target
                assert group in ("G", "H"), delivery
                for actor in about + words:
                    assert self.member(actor, group), (actor, "reached", group, text)
            else:
                reader = delivery.target
                for actor in about + words:
                    shared = [g for g in ("G", "H") if self.member(actor, g)]
                    assert any(self.member(reader, g) for g in shared), (actor, reader, text)

    async def finish(self) -> None:
        for group in await self.app.repos.groups.all():
            mod = {"G": "gmod", "H": "hmod"}[group.space_id]
            for entry in await self.app.repos.audit.recent(group.id, 100):
                assert entry.actor_name == mod, (group.space_id, entry)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(steps, min_size=1, max_size=30))
def test_only_a_groups_members_and_moderators_reach_into_it(
    actions: list[tuple[str, tuple[str, str]]],
) -> None:
    async def run() -> None:
        world = World()
        await world.setup()
        assert set(world.links) == {"G", "H"}
        for actor, (kind, value) in actions:
            await world.step(actor, kind, value)
        await world.finish()

    asyncio.run(run())
