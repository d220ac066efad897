"""The rules of trust that the adapters' property tests check (issue 12, "Show it"), on what the
fake platforms actually received, whatever the platform.

Five actors: a member and a moderator of group G, the same of group H, and a stranger who is in
neither. Every actor has a display name found nowhere in content/, and every word an actor
writes carries a marker of its own (`mk-<actor>-<n>-<kind>`), so whatever reaches someone can be
traced to who wrote it and why:
- kind `l`: a line written where a group check-in asks for one to share;
- kind `p`: anything else the actor wrote (notes, answers, stray words): private, always;
- kind `m`: a moderator's words for their group (a schedule's prompt, a crisis term).

The rules:
1. In a group's chat (and its threads and channels) an actor's name or line appears only while
   the actor is in that group, and a line only once its writer chose to post it; private words
   never; a moderator's words only in the moderator's own group.
2. Whatever reaches an actor privately names, or quotes, only people of their own group, and
   only while both are in it (a member who left gets nothing of it; only an asker is still
   told who took their own request); a request to reach out reaches only someone in the group
   right then, from someone in it right then.
3. Nothing reaches a place that is neither group's nor anyone's private one.
4. A group's schedules, settings and terms change only at a command of its own moderator;
   only the group's members answer its check-ins; only someone in the group right then joins
   its volunteers.
A broken rule raises `BreachError`.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import astuple, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from core.app import Unblend
from core.kernel.membership import Check
from core.kernel.model import Event

GROUPS = ("G", "H")
OPENED = "today's group check-in"  # the first words of a group check-in that opened
REQUEST = "asked for someone to reach out to them"  # a request to a volunteer or moderators
TAKEN = "from your group will reach out to you"  # the asker told who took their request


@dataclass(frozen=True)
class Actor:
    key: str
    name: str  # display name: in no message of content/, so wherever it shows, it was put there
    home: str  # "G", "H", or "" (the stranger)
    moderator: bool = False


ACTORS = {
    a.key: a
    for a in (
        Actor("gm", "Ysolde", "G"),
        Actor("gmod", "Yorick", "G", moderator=True),
        Actor("hm", "Zinnia", "H"),
        Actor("hmod", "Zebulon", "H", moderator=True),
        Actor("stranger", "Mallory", ""),
    )
}
MODERATOR = {a.home: a.key for a in ACTORS.values() if a.moderator}
MARKER = re.compile(r"\bmk-([a-z]+)-(\d+)-([lpm])\b")


class BreachError(AssertionError):
    """A rule of trust was broken: who saw what, where, and why it should not have been."""


class Ledger:
    """Who is in which group now, what each actor wrote, and which lines they chose to post."""

    def __init__(self) -> None:
        self.members = {g: {a.key for a in ACTORS.values() if a.home == g} for g in GROUPS}
        self.chosen: set[str] = set()  # line markers their writers tapped "Post it" for
        self._numbers = itertools.count(1)

    def marker(self, actor: str, kind: str) -> str:
        return f"mk-{actor}-{next(self._numbers)}-{kind}"

    def leave(self, actor: str) -> None:
        home = ACTORS[actor].home
        if home:
            self.members[home].discard(actor)

    def is_in(self, actor: str, group: str) -> bool:
        return actor in self.members.get(group, set())

    def choose(self, text: str) -> None:
        self.chosen.update(m[0] for m in MARKER.finditer(text))

    def check(self, view: str, text: str, why: str = "") -> None:
        """`view`: "G" or "H" (a group's chat), "@<actor>" (that actor's private view), or
        anything else (a place that belongs to neither). Raises BreachError."""
        if not text.strip():
            return
        shown = f"{text[:160]!r} ({why})" if why else repr(text[:160])
        if view in GROUPS:
            self._in_group(view, text, shown)
        elif view.startswith("@") and view[1:] in ACTORS:
            self._in_private(view[1:], text, shown)
        else:
            raise BreachError(f"sent to {view}, which is neither group's nor anyone's: {shown}")

    def _named(self, text: str) -> set[str]:
        return {a.key for a in ACTORS.values() if re.search(rf"\b{a.name}\b", text)}

    def _in_group(self, group: str, text: str, shown: str) -> None:
        for actor in self._named(text):
            if not self.is_in(actor, group):
                raise BreachError(
                    f"{ACTORS[actor].name} (not in {group}) shown in {group}: {shown}"
                )
        for found in MARKER.finditer(text):
            marker, writer, kind = found[0], found[1], found[3]
            if kind == "p":
                raise BreachError(f"{writer}'s private words posted in {group}: {shown}")
            if kind == "m" and MODERATOR.get(group) != writer:
                raise BreachError(f"{writer}'s words as a moderator posted in {group}: {shown}")
            if kind == "l" and not self.is_in(writer, group):
                raise BreachError(f"{writer}'s line (not in {group}) posted in {group}: {shown}")
            if kind == "l" and marker not in self.chosen:
                raise BreachError(f"{writer}'s line posted in {group} unasked: {shown}")

    def _in_private(self, reader: str, text: str, shown: str) -> None:
        home = ACTORS[reader].home
        # The one word about a group that still reaches an asker who left: who took their own
        # request (they asked for it while they were in).
        still_in = self.is_in(reader, home) or TAKEN in text
        if REQUEST in text and not self.is_in(reader, home):
            raise BreachError(f"a request to reach out reached {reader}, not in a group: {shown}")
        for actor in self._named(text) - {reader}:
            name = ACTORS[actor].name
            if not home or ACTORS[actor].home != home:
                raise BreachError(f"{name} shown to {reader} privately: {shown}")
            if not still_in:
                raise BreachError(f"{name} shown to {reader}, who left {home}: {shown}")
            if (REQUEST in text or TAKEN in text) and not self.is_in(actor, home):
                raise BreachError(
                    f"{name}, who left {home}, asked or took a request, to {reader}: {shown}"
                )
        for found in MARKER.finditer(text):
            writer, kind = found[1], found[3]
            if writer == reader:
                continue
            if kind == "p":
                raise BreachError(f"{writer}'s private words reached {reader}: {shown}")
            if not home or writer not in ACTORS or ACTORS[writer].home != home:
                raise BreachError(f"{writer}'s words reached {reader}, of another group: {shown}")
            if not still_in or not self.is_in(writer, home):
                raise BreachError(f"{writer}'s words reached {reader} after one left: {shown}")


# -- what a group is, as stored: only its moderator's commands change it ----------------------


async def group_state(app: Unblend, platform: str, space_id: str) -> tuple[object, ...]:
    """A group's schedules, settings and terms; () while no such group is stored."""
    found = [
        g for g in await app.repos.groups.all() if (g.platform, g.space_id) == (platform, space_id)
    ]
    if not found:
        return ()
    group = found[0]
    schedules = [
        astuple(s)[:-1]  # all but created_at
        for s in sorted(await app.repos.groups.schedules(group.id), key=lambda s: s.id)
    ]
    return (astuple(group), tuple(schedules), astuple(await app.group_safety.settings(group)))


async def answered_by(
    app: Unblend, platform: str, spaces: dict[str, str]
) -> set[tuple[int, str, str]]:
    """Every answer to every post: (post, the group it was posted in, the actor who answered)."""
    groups = {g.id: g.space_id for g in await app.repos.groups.all() if g.platform == platform}
    names = {space: group for group, space in spaces.items()}
    posts = []
    for post_id in itertools.count(1):
        post = await app.repos.groups.post(post_id)
        if post is None:
            break
        posts.append(post)
    of_post = {p.id: names.get(groups.get(p.group_id, ""), "?") for p in posts}
    found = set()
    for response in await app.repos.groups.responses([p.id for p in posts]):
        member = await app.repos.members.by_id(response.member_id)
        actor = member.user_id if member is not None else "?"
        found.add((response.post_id, of_post.get(response.post_id, "?"), actor))
    return found


async def volunteers_of(
    app: Unblend, platform: str, spaces: dict[str, str]
) -> set[tuple[str, str]]:
    """Every group's volunteers: (the group, the volunteer's platform user id)."""
    names = {space: group for group, space in spaces.items()}
    found = set()
    for group in await app.repos.groups.all():
        if group.platform != platform or group.space_id not in names:
            continue
        for volunteer in await app.repos.reachouts.volunteers(group.id):
            member = await app.repos.members.by_id(volunteer.member_id)
            found.add((names[group.space_id], member.user_id if member is not None else "?"))
    return found


async def open_checkin(app: Unblend, platform: str, user_id: str) -> str:
    """The post whose group check-in the member has open ("" when none): words that only look
    like a link must never change it."""
    member = await app.repos.members.find(platform, user_id)
    state = await app.repos.sessions.get(member.id) if member is not None else None
    if state is None or state.flow_id != "group_checkin":
        return ""
    return state.context.get("post", "?")


# -- the switch that shows the property can fail -------------------------------------------------


class EveryoneIsIn:
    """A membership port with its checks turned off: everyone is in every group, and any tap or
    link opens any group's check-in. Swapped in for the platform's own to show that the property
    tests find what that lets through."""

    def __init__(self, real: object) -> None:
        self.real = real

    async def in_group(self, group: str, user_id: str) -> Check:
        return Check.YES

    async def opens_from(self, group: str, event: Event) -> Check:
        return Check.YES

    async def channel_in_group(self, group: str, channel: str) -> Check:
        return await self.real.channel_in_group(group, channel)  # type: ignore[attr-defined,no-any-return]

    async def mod_channel(self, group: str, channel: str, setter: str | None) -> Check:
        return await self.real.mod_channel(group, channel, setter)  # type: ignore[attr-defined,no-any-return]


# -- what the actors do -------------------------------------------------------------------------

# In the actor's own group (skipped once they left it: a platform delivers a group's messages
# only from those in it). "_other" names the other group's chat, channel or schedule; a
# private command's "_G" and "_H" name a group by its number.
GROUP_COMMANDS = (
    "schedule_add",
    "schedule_add_other",
    "schedule_pause_own",
    "schedule_pause_other",
    "schedule_remove_own",
    "schedule_remove_other",
    "summary",
    "volunteers_off",
    "modchannel_own",
    "modchannel_other",
    "terms",
    "volunteer",
    "help",
    "checkin",
    "audit",
    "settings",
)
PRIVATE_COMMANDS = (
    "start",
    "checkin",
    "volunteer",
    "volunteer_on_G",
    "volunteer_on_H",
    "volunteer_off_G",
    "help",
    "history",
    "remind",
    "schedule_add",
    "open_volunteer_G",
    "open_volunteer_H",
    "export",
)
LABELS = (
    "Okay",
    "Yes, keep them",
    "4",
    "6",
    "Share a short line",
    "Share my mood only",
    "Share nothing",
    "Yes, please",
    "No, thank you",
    "Just my name",
    "My name and my line",
    "Post it",
    "Change it",
    "Keep it private",
    "I'll reach out",
    "Volunteer for this group",
    "Stop volunteering",
    "Check in privately",
)
GUESSES = (
    "gshare:post:1",
    "gshare:post:2",
    "gshare:post:3",
    "gshare:edit:1",
    "vol:on:1",
    "vol:on:2",
    "reach:ack:0123456789abcdef",
    "s:share:line",
    "s:reach:yes",
)
GUESSED_TOKEN = "0f" * 16  # the shape of a check-in link's token, made up
WHERE = ("G", "H", "guess", "number")  # whose link: G's or H's prompt (leaked), or made up

checkins = st.tuples(
    # "home": the actor's own group (for the stranger, G's link, leaked), as often as the rest.
    st.sampled_from(["home", "home", "home", "G", "H", "guess"]),
    st.sampled_from(["line", "mood", "nothing"]),
    st.sampled_from(["yes", "no"]),
).map(lambda t: ("checkin", "|".join(t)))
links = st.sampled_from(WHERE).map(lambda w: ("link", w))


Step = tuple[str, tuple[str, str]]


def whose(actor: str, where: str) -> str:
    """The group a check-in step names: "home" is the actor's own (the stranger's: G)."""
    return (ACTORS[actor].home or "G") if where == "home" else where


ACTIONS: tuple[st.SearchStrategy[tuple[str, str]], ...] = (
    st.sampled_from(GROUP_COMMANDS).map(lambda c: ("group", c)),
    st.sampled_from(PRIVATE_COMMANDS).map(lambda c: ("private", c)),
    links,
    links,
    st.sampled_from(("G", "H", "schedule", "volunteer")).map(lambda w: ("form", w)),
    st.just(("write", "")),
    st.sampled_from(LABELS).map(lambda label: ("tap", label)),
    st.integers(0, 99).map(lambda i: ("replay", str(i))),
    st.sampled_from(GUESSES).map(lambda g: ("guess", g)),
    st.just(("leave", "")),
    checkins,
    checkins,
    checkins,
    st.sampled_from(("10", "360")).map(lambda m: ("time", m)),
    st.just(("crisis", "")),
)


def steps_with(*more: st.SearchStrategy[tuple[str, str]]) -> st.SearchStrategy[Step]:
    """One step: an actor and what they do; `more`: a platform's own kinds of action."""
    return st.tuples(st.sampled_from(tuple(ACTORS)), st.one_of(*ACTIONS, *more))


steps = steps_with()
# Attacks that once worked, run as examples of their own on every platform (each starts from
# the setup: a request to reach out waiting with G's moderator, everyone a volunteer).
KNOWN_ATTACKS: tuple[list[Step], ...] = (
    # A volunteer who left after being asked takes the request anyway.
    [("gmod", ("leave", "")), ("gmod", ("tap", "I'll reach out"))],
    # A member who left volunteers again from the groups on record.
    [
        ("gm", ("leave", "")),
        ("gm", ("private", "volunteer_off_G")),
        ("gm", ("private", "volunteer_on_G")),
    ],
    # G's moderator schedules G's check-in in H's channel; it comes due.
    [("gmod", ("group", "schedule_add_other")), ("gm", ("time", "10"))],
)
CRISIS_WORDS = "i can't go on, i want to end my life tonight"
# Monday 5 January 2026, 09:00 UTC: each group's prompt is scheduled a minute later.
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def soon(now: datetime) -> str:
    """A schedule's time ten minutes from now (UTC): the next "time 10" step posts it."""
    return (now + timedelta(minutes=10)).strftime("%H:%M")


Explore = Callable[..., Coroutine[Any, Any, None]]


def search_settings(max_examples: int) -> settings:
    """The platforms' searches: reproducible in CI, each example a whole bot run."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


def with_attacks(
    attacks: Iterable[list[Step]],
) -> Callable[[Callable[[list[Step]], None]], Callable[[list[Step]], None]]:
    """Runs each known attack as a fixed example before the random ones."""

    def add(test: Callable[[list[Step]], None]) -> Callable[[list[Step]], None]:
        for attack in attacks:
            test = example(attack)(test)
        return test

    return add


def assert_finds_a_breach(
    steps: st.SearchStrategy[Step], explore: Explore, max_examples: int = 15
) -> None:
    """The same search with the membership check answering yes for everyone must find a
    breach: the property can fail."""

    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.lists(steps, min_size=1, max_size=12))
    def search(actions: list[Step]) -> None:
        asyncio.run(explore(actions, open_to_everyone=True))

    with pytest.raises(BreachError):
        search()
