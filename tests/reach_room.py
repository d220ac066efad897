"""A group with a moderator, a scheduled check-in and named members: for reach-out tests."""

from __future__ import annotations

from datetime import timedelta

from core.app import Unblend
from core.groups.checkins.engine import GroupEngine
from core.groups.reachouts.logic import ReachOuts
from core.groups.times import hhmm
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Reply, Space
from core.outbox.drainer import Delivery, OutboxDrainer, RecordingPoster
from tests.chat import Chat
from tests.roster import Roster

GROUP = Space.group("g1")


class Person(Chat):
    """A member with a display name, talking privately to the bot."""

    def __init__(self, app: Unblend, user_id: str, name: str) -> None:
        super().__init__(app, user_id)
        self.name = name

    def _event(self, **kwargs: object) -> Event:
        return Event(
            platform=self.platform,
            user_id=self.user_id,
            space=Space.private(self.user_id),
            display_name=self.name,
            **kwargs,  # type: ignore[arg-type]
        )

    async def member_id(self) -> int:
        member = await self.app.repos.members.find(self.platform, self.user_id)
        assert member is not None
        return member.id


class Room:
    """The group g1 on the test platform; the outbox drained into a recording poster."""

    def __init__(self, app: Unblend, clock: FakeClock) -> None:
        self.app, self.clock = app, clock
        self.poster = RecordingPoster()
        app.outbound.register("test", self.poster)
        # Who is in the group, as the test platform says (everyone, unless a test says not).
        self.roster = Roster()
        app.membership.register("test", self.roster)
        self.engine = GroupEngine(app.repos, app.library.catalog(), clock)
        self.drainer = OutboxDrainer(app.repos, app.outbound, clock)
        self.reach = ReachOuts(app)
        self.drainer.on_gone.append(self.reach.on_gone)
        self.seen = 0

    async def say(
        self, text: str, user: str = "mod", moderator: bool = True, name: str = ""
    ) -> list[Reply]:
        command, *args = text.split()
        event = Event(
            "test",
            user,
            GROUP,
            command=command,
            args=tuple(args),
            is_moderator=moderator,
            display_name=name,
        )
        return await self.app.handle(event)

    async def text(self, text: str, user: str = "mod", moderator: bool = True) -> str:
        return "\n".join(r.text for r in await self.say(text, user, moderator))

    async def deliver(self) -> list[Delivery]:
        """Everything the outbox sends now, since the last call."""
        await self.drainer.drain("test")
        new = self.poster.sent[self.seen :]
        self.seen = len(self.poster.sent)
        return new

    async def post(self) -> str:
        """A check-in scheduled for the next minute, posted: its `/start` payload."""
        at = hhmm((self.clock.now() + timedelta(minutes=1)).time())
        said = await self.text(f"/schedule add {at} UTC")
        assert "is set" in said, said
        self.clock.advance(timedelta(minutes=1))
        await self.engine.run_due_posts()
        sent = await self.deliver()
        prompt = next(d for d in sent if d.reply.private_link.startswith("gcheckin-"))
        return prompt.reply.private_link


async def join(person: Person, room: Room) -> None:
    """The member uses a command in the group (so they belong to it) and meets the bot."""
    await room.say("/help", user=person.user_id, moderator=False, name=person.name)
    await person.send("/start")
    if "I'm Unblend" in person.text():
        await person.tap("Okay")
        await person.tap("Yes, keep them")


async def become_volunteer(person: Person, room: Room) -> None:
    replies = await room.say("/volunteer", user=person.user_id, moderator=False, name=person.name)
    [link] = [r.private_link for r in replies if r.private_link]
    assert link.startswith("volunteer-")
    await person.send(f"/start {link}")
    if "I'm Unblend" in person.text():
        await person.tap("Okay")
        await person.tap("Yes, keep them")
    await person.tap("Volunteer for this group")
    assert "you're a volunteer" in person.text()


async def check_in(person: Person, link: str, share: str = "Share nothing") -> None:
    await person.send(f"/start {link}")
    await person.tap("4")
    await person.tap("6")
    await person.tap(share)
