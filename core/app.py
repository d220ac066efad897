"""The one entry point adapters call: `await app.handle(event) -> list[Reply]`."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import timedelta

from core.catalog import Catalog, ContentLibrary
from core.clock import Clock
from core.crisis import (
    crisis_reply,
    own_plan_replies,
    parse_safe,
    resources_text,
    safe_followup,
)
from core.features import ALL_FEATURES
from core.features.base import Feature, build_registry
from core.flows import engine
from core.flows.engine import Nav
from core.locks import KeyedLocks
from core.model import MAX_LINK_PAYLOAD, Event, Reply, Space, SpaceKind
from core.outbound import OutboundRouter
from core.ports import Repos
from core.records import Member
from core.safety import CrisisDetector, Level
from core.turn import Turn

log = logging.getLogger(__name__)

# Commands that work before the welcome: safety never waits for paperwork.
NAV_WORDS = {n.value: n for n in Nav}
BUILTIN_COMMANDS = frozenset({"crisis", "sos", "help", "start", *NAV_WORDS})
# Commands answered in a group itself; every other one opens the private chat instead.
GROUP_COMMANDS = frozenset({"crisis", "sos", "help"})
LINK_PAYLOAD = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_LINK_PAYLOAD}}}")
CMD_PREFIX = "cmd"


@dataclass(frozen=True)
class Settings:
    default_country: str = "INTL"
    idle_timeout: timedelta = timedelta(hours=1)
    # The cold-water (TIPP) exercise has medical cautions: off unless the config turns it on.
    cold_water: bool = False
    # Anything longer is cut before any other work; steps have their own, smaller caps.
    max_input_chars: int = 20_000


def clean_text(raw: str, limit: int) -> str:
    """Drops control characters (keeping line breaks and tabs) and caps the length."""
    kept = (
        ch
        for ch in raw[: limit + 1]
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    )
    return "".join(kept)


def command_name(raw: str) -> str:
    """`/CheckIn@UnblendBot` -> `checkin`."""
    return raw.strip().lstrip("/").split("@", 1)[0].casefold()


class Unblend:
    def __init__(
        self,
        repos: Repos,
        library: ContentLibrary,
        detector: CrisisDetector,
        clock: Clock,
        settings: Settings | None = None,
        features: tuple[Feature, ...] = ALL_FEATURES,
    ) -> None:
        self.repos = repos
        self.library = library
        self.detector = detector
        self.clock = clock
        self.settings = settings or Settings()
        self.registry = build_registry(features)
        self.outbound = OutboundRouter()
        self._locks = KeyedLocks()

    async def handle(self, event: Event) -> list[Reply]:
        catalog = self.library.catalog(event.locale)
        if not event.platform or not event.user_id:
            log.warning("event without platform or user id ignored")
            return [Reply(catalog.text("error.internal"))]
        try:
            async with self._locks.hold((event.platform, event.user_id)):
                return await self._handle(catalog, event)
        except Exception:
            # The member gets a kind note; the log gets the failure, never their words.
            log.exception("handling an event failed (platform=%s)", event.platform)
            return [Reply(catalog.text("error.internal"))]

    async def run_due(self) -> int:
        """Moves every due timed step on; what it says goes out through the outbound port."""
        moved = 0
        for member_id in await self.repos.sessions.due(self.clock.now()):
            member = await self.repos.members.by_id(member_id)
            if member is None:
                await self.repos.sessions.delete(member_id)
                continue
            try:
                async with self._locks.hold((member.platform, member.user_id)):
                    replies = await self._tick(member)
                if replies:
                    await self.outbound.send(member.platform, member.user_id, replies)
                    moved += 1
            except Exception:
                log.exception("a paced step failed (platform=%s)", member.platform)
        return moved

    async def _tick(self, member: Member) -> list[Reply]:
        catalog = self.library.catalog()
        event = Event(member.platform, member.user_id, Space.private(member.user_id))
        turn = Turn(self, catalog, event, member)
        await turn.load_session()
        if turn.session is not None:
            outcome = engine.tick(turn.flow(), turn.session, turn.now)
            if outcome is not None:
                await turn.apply(outcome)
        return turn.replies

    async def _handle(self, catalog: Catalog, event: Event) -> list[Reply]:
        limit = self.settings.max_input_chars
        text = None if event.text is None else clean_text(event.text, limit)
        args = tuple(clean_text(a, limit) for a in event.args)
        member = await self.repos.members.get_or_create(
            event.platform, event.user_id, self.clock.now()
        )
        turn = Turn(self, catalog, event, member)
        screened = "\n".join(x for x in (text, " ".join(args)) if x)
        level = self.detector.assess(screened) if screened else Level.NONE
        in_group = event.space.kind is SpaceKind.GROUP
        if level is Level.CRISIS:
            log.info("crisis reply sent (platform=%s)", event.platform)
            turn.add(self._crisis(turn))
            if in_group or event.text is None:
                return turn.replies
            await turn.load_session()
            if not turn.expects_text():
                # Safety first: this input is not applied; the flow waits where it was.
                return turn.replies
            # Words written into a flow's text step (a note, a safety plan's warning signs)
            # are kept as the member meant them, after the crisis reply: nothing is lost.
            await turn.answer_text(text or "")
            return turn.replies
        if level is Level.CONCERN and not in_group:
            turn.say("concern.note")
        if in_group:
            # A group sees only answers to commands; nothing there touches a private flow.
            if event.command is not None:
                await self._command(turn, command_name(event.command), args)
            return turn.replies
        await turn.load_session()
        if event.command is not None:
            await self._command(turn, command_name(event.command), args)
        elif event.choice is not None:
            await self._choice(turn, event.choice)
        elif text is not None and text.strip():
            await self._text(turn, text)
        else:
            turn.say("input.empty")
            await turn.reshow()
        return turn.replies

    async def _command(self, turn: Turn, name: str, args: tuple[str, ...]) -> None:
        handler = self.registry.commands.get(name)
        if turn.event.space.kind is SpaceKind.GROUP and name not in GROUP_COMMANDS:
            # Private commands answer with one public line and a button into the private chat;
            # commands meant for other bots in the group are left alone.
            if (handler is not None or name in BUILTIN_COMMANDS) and LINK_PAYLOAD.fullmatch(name):
                text = turn.cat.text("groups.private_link", command=name)
                turn.add(Reply(text, private=False, private_link=name))
        elif name in ("crisis", "sos"):
            # The member's own safety plan first (when they wrote one), then the resources.
            turn.replies += await own_plan_replies(turn.cat, self.repos.plans, turn.member.id)
            turn.add(self._crisis(turn))
        elif name == "help" and turn.event.space.kind is SpaceKind.GROUP:
            turn.add(Reply(turn.cat.text("help.text"), private=False, private_link="start"))
        elif name == "help":
            turn.say("help.text")
        elif name in NAV_WORDS:
            await turn.nav(NAV_WORDS[name])
        elif name != "start" and handler is None:
            # Only a plain, short name is echoed back: never markup or odd characters.
            shown = name[:32] if name.isascii() and name.isalnum() else "?"
            turn.say("input.unknown_command", command=shown)
            await turn.reshow()
        elif name == "start" and args and self._startable(command_name(args[0])):
            # `/start <payload>` from a group's button runs that command (after the welcome).
            await self._command(turn, command_name(args[0]), ())
        elif not turn.member.introduced:
            await turn.start_flow("welcome", {"then": "" if name == "start" else name})
        elif name == "start":
            turn.say("welcome.again")
        elif handler is not None:
            await handler(turn, args)

    def _startable(self, name: str) -> bool:
        return name != "start" and (name in self.registry.commands or name in BUILTIN_COMMANDS)

    def _crisis(self, turn: Turn) -> Reply:
        reply = crisis_reply(turn.cat, turn.country)
        if turn.event.space.kind is not SpaceKind.GROUP:
            return reply
        # If the member cannot be reached privately, the group sees resources only: the
        # group's own country (not the member's), and how to open the private chat.
        public = "\n\n".join(
            [
                resources_text(turn.cat, self.settings.default_country),
                turn.cat.text("groups.crisis_start"),
            ]
        )
        return replace(reply, group_fallback=Reply(public, private=False))

    async def _choice(self, turn: Turn, choice: str) -> None:
        prefix, _, rest = choice.partition(":")
        nav = engine.parse_nav(choice)
        step_choice = engine.parse_step_choice(choice)
        safe = parse_safe(choice)
        if nav is not None:
            await turn.nav(nav)
        elif step_choice is not None:
            if turn.session is None:
                turn.say("flow.no_session_button")
                return
            step, value = step_choice
            await turn.apply(
                engine.answer_choice(
                    turn.flow(), turn.session, step, value, turn.now, await turn.dynamic()
                )
            )
        elif safe is not None:
            turn.add(safe_followup(turn.cat, safe, turn.country))
            if turn.session is not None:
                turn.say("crisis.resume")
                await turn.reshow()
        elif prefix == CMD_PREFIX and (rest in self.registry.buttons or rest in ("crisis", "help")):
            await self._command(turn, rest, ())
        elif prefix in self.registry.choices and turn.member.introduced:
            await self.registry.choices[prefix](turn, rest)
        else:
            turn.say("flow.stale")
            await turn.reshow()

    async def _text(self, turn: Turn, text: str) -> None:
        word = text.strip().strip(".!?").casefold()
        if word.startswith("/"):
            # Arguments keep their case: a part called "Sam" stays "Sam".
            name, *args = text.split()
            await self._command(turn, command_name(name), tuple(args))
        elif turn.session is None:
            turn.say("input.idle_text")
        elif word in NAV_WORDS:
            await turn.nav(NAV_WORDS[word])
        else:
            await turn.answer_text(text)
