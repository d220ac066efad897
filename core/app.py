"""The one entry point adapters call: `await app.handle(event) -> list[Reply]`."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime

from core.crisis.ports import CrisisHost, ModeratorAlerts
from core.crisis.reply import (
    SAFE_PREFIX,
    SUPPORT_PREFIX,
    SafeAnswer,
    crisis_reply,
    own_plan_replies,
    parse_safe,
    resources_text,
    safe_followup,
)
from core.crisis.support import CrisisWords
from core.features import ALL_FEATURES, CORE
from core.groups.checkins.ports import GroupCheckinHost
from core.groups.reachouts.logic import GroupModeratorAlerts, note_group_member
from core.groups.reachouts.ports import ReachOutHost
from core.groups.screening.ports import ScreeningHost
from core.groups.screening.settings import GroupSafety, configures_terms
from core.kernel.catalog import Catalog, ContentLibrary
from core.kernel.clock import Clock
from core.kernel.failures import log_failure
from core.kernel.feature import Feature, Where, build_registry
from core.kernel.flows import engine
from core.kernel.flows.engine import Nav
from core.kernel.locks import KeyedLocks
from core.kernel.membership import MembershipRouter
from core.kernel.model import MAX_LINK_PAYLOAD, Event, Reply, Space, SpaceKind
from core.kernel.outbound import OutboundRouter
from core.kernel.ratelimit import RateLimiter, Verdict
from core.kernel.records import Member
from core.kernel.settings import Settings
from core.kernel.shown import echo
from core.kernel.turn import Turn
from core.language import answered
from core.language.languages import Languages
from core.language.ports import LanguageHost
from core.outbox.drainer import queue_private
from core.privacy.ports import PrivacyHost
from core.privacy.retention import daily_cleanup
from core.repos import Repos
from core.safety import CrisisDetector, Level

log = logging.getLogger(__name__)

# Commands that work before the welcome: safety never waits for paperwork.
NAV_WORDS = {n.value: n for n in Nav}
# The app's own commands (declared in core/features.py with where each one answers).
BUILTIN_COMMANDS = frozenset(CORE.commands)
LINK_PAYLOAD = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_LINK_PAYLOAD}}}")
CMD_PREFIX = "cmd"
WELCOME = "welcome"
# What may follow a command's name: a few words (a part's or counter's name, a date, an id).
MAX_ARGS = 32
MAX_ARG_CHARS = 1000


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


def link_meta(cat: Catalog) -> dict[str, str]:
    """A button into the private chat, labelled in the language of the reply it rides on."""
    return {"link_label": cat.text("groups.open_button")}


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
        self.registry = build_registry((CORE, *features))
        self.outbound = OutboundRouter()
        # Who is in a group, asked of each platform's adapter at the moment it matters (issue
        # 12): a platform with no adapter registered answers "could not ask", never yes.
        self.membership = MembershipRouter()
        # Run by /forget before a member's data is erased. Issue 6's outbox adds one that
        # deletes the shared lines the bot posted for the member, where the platform allows.
        self.erase_hooks: list[Callable[[Member], Awaitable[None]]] = []
        # Which language each member and group is answered in (issue 16).
        self.languages = Languages(library, repos.group_safety.find_group, keep=not repos.shared)
        self.erase_hooks.append(self._forget_language)
        # "Tell a moderator" after a crisis reply: the moderators' channel of each group the
        # member belongs to, through the outbox (core.groups.reachouts); the words that brought the
        # reply wait in memory only, for the member's choice.
        self.moderator_alerts: ModeratorAlerts = GroupModeratorAlerts(
            repos, library.catalog(), self.membership, self.languages
        )
        self.crisis_words = CrisisWords()
        # Each group's own crisis terms, opt-in screening and retention (issue 7, brief H5).
        self.group_safety = GroupSafety(repos.group_safety, keep=not repos.shared)
        self._rate = RateLimiter(self.settings.rate_limit_events, self.settings.rate_limit_seconds)
        self._input_rate = RateLimiter(
            self.settings.rate_limit_inputs, self.settings.rate_limit_seconds
        )
        self._locks = KeyedLocks()

    async def handle(self, event: Event) -> list[Reply]:
        catalog = self.library.catalog()
        if not event.platform or not event.user_id:
            log.warning("event without platform or user id ignored")
            return [Reply(catalog.text("error.internal"))]
        try:
            catalog = await self.catalog_for(event)
            held = await self._rate_limited(catalog, event)
            if held is not None:
                return held
            async with self._turn(event.platform, event.user_id):
                return await self._handle(catalog, event)
        except Exception:
            # The member gets a kind note; the log gets the failure, never their words.
            log_failure(log, "handling an event failed (platform=%s)", event.platform)
            return [Reply(catalog.text("error.internal"))]

    @asynccontextmanager
    async def _turn(self, platform: str, user_id: str) -> AsyncIterator[None]:
        """One member's turns in order: within this process, then across the bots sharing the
        database (a paced step moved on by one never races the member's answer in another)."""
        local, across = self._locks.hold((platform, user_id)), self.repos.turns
        async with local, across.hold(f"{platform}:{user_id}"):
            yield

    async def catalog_for(self, event: Event) -> Catalog:
        """The language a member is answered in (core/language/answered.py)."""
        return await answered.catalog_for(self.languages, self.repos.members, event)

    async def member_catalog(self, platform: str, user_id: str) -> Catalog:
        """What is said to a member outside an event of theirs is in (the same module)."""
        return await answered.member_catalog(self.languages, self.repos.members, platform, user_id)

    async def _forget_language(self, member: Member) -> None:
        self.languages.forget(member.platform, member.user_id)

    async def run_due(self) -> int:
        """Moves every due timed step on; what it says goes out through the outbound port."""
        moved = 0
        for member_id in await self.repos.sessions.due(self.clock.now()):
            member = await self.repos.members.by_id(member_id)
            if member is None:
                await self.repos.sessions.delete(member_id)
                continue
            try:
                async with self._turn(member.platform, member.user_id):
                    replies = await self._tick(member)
                if replies:
                    await self._send_paced(member, replies)
                    moved += 1
            except Exception:
                log_failure(log, "a paced step failed (platform=%s)", member.platform)
        return moved

    async def _send_paced(self, member: Member, replies: list[Reply]) -> None:
        """Through this process's adapter; with several bots on one database (issue 17) the
        member's platform may run in another bot: the step then goes by the outbox, whose
        sender there delivers it in the member's direct messages within a second or so."""
        if self.outbound.sender(member.platform) is None and self.repos.shared:
            await queue_private(self.repos.outbox, member, replies, self.clock.now())
            return
        await self.outbound.send(member.platform, member.user_id, replies)

    async def _rate_limited(self, catalog: Catalog, event: Event) -> list[Reply] | None:
        """None when the event goes on; otherwise, too much at once: a kind note the first
        time, then quiet until it eases. Commands and taps/text have a bucket each."""
        if event.command is not None and self._held_back(event):
            limiter, note, what = self._rate, "limits.slow_down", "commands"
        elif event.command is None and self._input_held_back(event):
            limiter, note, what = self._input_rate, "limits.slow_down_input", "taps and text"
        else:
            return None
        key = (event.platform, event.user_id)
        verdict = limiter.check(key, self.clock.now())
        if verdict is Verdict.ALLOW:
            return None
        if event.command is None and await self._crisis_text(event):
            # Crisis language always passes; the note waits for the next refusal.
            if verdict is Verdict.NOTE:
                limiter.unnote(key)
            return None
        log.info("%s rate-limited (platform=%s)", what, event.platform)
        return [Reply(catalog.text(note))] if verdict is Verdict.NOTE else []

    def _input_held_back(self, event: Event) -> bool:
        """Taps and text in a private chat, except the crisis reply's own buttons. A group's
        screened conversation stores nothing and is answered only for a crisis: never held."""
        if event.space.kind is SpaceKind.GROUP:
            return False
        if event.choice is not None:
            prefix = event.choice.partition(":")[0]
            safety = parse_safe(event.choice) is not None or prefix == SUPPORT_PREFIX
            return not safety and event.choice != f"{CMD_PREFIX}:crisis"
        return event.text is not None

    async def _crisis_text(self, event: Event) -> bool:
        """Whether held-back text is crisis language (with the member's group's own terms)."""
        if event.text is None:
            return False
        text = clean_text(event.text, self.settings.max_input_chars)
        member = await self.repos.members.find(event.platform, event.user_id)
        detector = await self.group_safety.detector_for(
            self.detector, self.repos, event.platform, event.space, member.id if member else 0
        )
        return detector.assess(text) is Level.CRISIS

    async def timed_step_running(self, platform: str, user_id: str) -> bool:
        """Whether a paced exercise of this member is still moving on by itself."""
        member = await self.repos.members.find(platform, user_id)
        if member is None:
            return False
        state = await self.repos.sessions.get(member.id)
        if state is None or state.due_at is None:
            return False
        # One left idle is set aside at its next step rather than played out.
        idle = state.updated_at is not None and (
            self.clock.now() - state.updated_at > self.settings.idle_timeout
        )
        return not idle

    def _held_back(self, event: Event) -> bool:
        """Whether the rate limit applies: commands, except the crisis ones and crisis words."""
        if event.command is None or command_name(event.command) in ("crisis", "sos"):
            return False
        screened = " ".join(event.args)[: self.settings.max_input_chars]
        return not screened or self.detector.assess(screened) is not Level.CRISIS

    def retention_days(self, member: Member) -> int:
        """Days this member's check-ins, exercises and slips are kept: the default, under the
        hard cap. A group's own retention setting governs that group's check-in data (posts,
        answers, shared lines: see `purge`), never a member's own history."""
        return max(1, min(self.settings.retention_days, self.settings.retention_days_max))

    async def purge(self, now: datetime) -> int:
        """The daily clean-up (the runner calls it once a day): every feature's declared part,
        core/privacy/retention.py. Rows removed."""
        return await daily_cleanup(self, now)

    async def _tick(self, member: Member) -> list[Reply]:
        catalog = self.languages.for_member(member)
        event = Event(member.platform, member.user_id, Space.private(member.user_id))
        turn = Turn(self, catalog, event, member)
        await turn.load_session()
        if turn.expired:
            turn.say("flow.expired")
        if turn.session is not None:
            outcome = engine.tick(turn.flow(), turn.session, turn.now)
            if outcome is not None:
                await turn.apply(outcome)
        return turn.replies

    async def _handle(self, catalog: Catalog, event: Event) -> list[Reply]:
        limit = self.settings.max_input_chars
        text = None if event.text is None else clean_text(event.text, limit)
        args = tuple(clean_text(a, limit) for a in event.args)
        in_group = event.space.kind is SpaceKind.GROUP
        # A group's conversation is not even read unless its moderators turned screening on.
        if (
            in_group
            and event.command is None
            and not await self.group_safety.screens(event.platform, event.space.id)
        ):
            return []
        member = await self._member(event)
        turn = Turn(self, catalog, event, member)
        if in_group and event.command is not None:
            # Which groups a member belongs to: where "tell a moderator" reaches (issue 6).
            # Commands only: screened talk stores nothing, and costs no write per message.
            await note_group_member(self.repos, event, member.id, turn.now)
            private = self.registry.where(command_name(event.command)) is Where.PRIVATE
            if event.can_reply_privately_in_place and private:
                # Only this member sees the answer, where they typed it: the private command
                # runs as in their private chat (the platform difference is this one flag).
                event = replace(event, space=Space.private(event.user_id))
                in_group = False
                turn = Turn(self, catalog, event, member)
        if in_group:
            # What the group sees is in the group's language; what only the member sees
            # (a crisis reply, a gentle check) stays in theirs (`Turn.own`).
            group_locale = await self.languages.group_locale(event.platform, event.space.id)
            if group_locale:
                turn = Turn(self, self.languages.catalog(group_locale), event, member, catalog)
        # A moderator's `/group terms add <phrase>` names a phrase to look for: not screened,
        # or no crisis phrase could ever be added, excluded or removed.
        phrases = in_group and event.is_moderator and configures_terms(event)
        screened = "\n".join(x for x in (text, "" if phrases else " ".join(args)) if x)
        detector = await self.group_safety.detector_for(
            self.detector, self.repos, event.platform, event.space, member.id
        )
        verdict = detector.judge(screened) if screened else None
        level = verdict.level if verdict is not None else Level.NONE
        if level is Level.CRISIS and await self._calm_context(turn, detector, text):
            # Safety work in the member's own words (a safety plan's warning signs): a gentle
            # line and where /crisis is; the words are kept as written, like any answer.
            turn.say("crisis.calm_plan")
            level = Level.NONE
        if verdict is not None and level is Level.CRISIS and in_group and verdict.layer == "model":
            # In a group, the learned layer alone (the rules heard nothing) gets the member a
            # private, gentle word and nothing public: it is the less certain of the two.
            log.info("gentle check sent (platform=%s)", event.platform)
            turn.add(Reply(turn.own.text("screening.gentle_check"), private=True))
            if event.command is not None:
                await self._command(turn, command_name(event.command), args)
            return turn.replies
        if verdict is not None and level is Level.CRISIS:
            log.info("crisis reply sent (platform=%s, layer=%s)", event.platform, verdict.layer)
            self.crisis_words.remember((event.platform, event.user_id), screened, turn.now)
            turn.add(await self._crisis(turn, about_other=verdict.about_other))
            if in_group or event.text is None:
                return turn.replies
            await turn.load_session()
            if turn.expects_text() and text and text.strip():
                # The crisis reply stands alone. Words written into a text step (a note, a
                # section of the plan) are held, not lost: they are applied as the member
                # meant them once they answer "are you safe right now?" or move on.
                await turn.hold(text)
            # Anything else is not applied at all; the flow waits where it was.
            return turn.replies
        if level is Level.CONCERN and not in_group:
            turn.say("concern.note")
        if in_group:
            # A group sees only answers to commands; nothing there touches a private flow.
            if event.command is not None:
                await self._command(turn, command_name(event.command), args)
            return turn.replies
        await turn.load_session()
        if turn.expired and self._for_the_flow(event):
            # Words or buttons meant for a flow set aside: one note, nothing else.
            turn.say("flow.expired")
            return turn.replies
        if turn.holding and await self._moved_on(turn, event, text):
            return turn.replies
        if event.command is not None:
            await self._command(turn, command_name(event.command), args)
        elif event.choice is not None:
            await self._choice(turn, event.choice)
        elif text is not None and text.strip():
            await self._text(turn, text)
        else:
            turn.say("input.empty")
            await turn.reshow()
        if turn.expired:
            self._say_expired(turn, event)
        return turn.replies

    @staticmethod
    def _for_the_flow(event: Event) -> bool:
        """Whether an event answers the flow in progress (words, its buttons, stop/back/skip)."""
        choice = event.choice or ""
        if event.command is not None:
            return command_name(event.command) in NAV_WORDS
        return (
            choice == ""
            or engine.parse_nav(choice) is not None
            or engine.parse_step_choice(choice) is not None
        )

    @staticmethod
    def _say_expired(turn: Turn, event: Event) -> None:
        """One message about a flow set aside: at the top of the answer's own first one."""
        note = turn.cat.text("flow.expired")
        first = turn.replies[0] if turn.replies else None
        if first is None:
            turn.replies.append(Reply(note))
        elif first.image is None and first.file is None and len(first.text) + len(note) < 1900:
            turn.replies[0] = replace(first, text=f"{note}\n\n{first.text}")
        else:
            turn.replies.insert(0, Reply(note))

    async def _calm_context(self, turn: Turn, detector: CrisisDetector, text: str | None) -> bool:
        """Whether crisis words are safety work being written down, not a crisis happening now:
        text at a step with `safety_context = "plan"` that describes a hard moment ahead of
        time. Anything said in the present ("I have the pills ready") is a crisis everywhere."""
        if turn.event.space.kind is SpaceKind.GROUP or turn.event.command is not None or not text:
            return False
        await turn.load_session()
        if turn.holding or turn.safety_context() != "plan":
            return False
        return not detector.happening_now(text)

    async def _moved_on(self, turn: Turn, event: Event, text: str | None) -> bool:
        """A held answer (see `_handle`) is applied before the member's next step, except on
        the safety path itself. True when that already answered this event."""
        name = command_name(event.command) if event.command is not None else None
        prefix = (event.choice or "").partition(":")[0]
        if name in ("crisis", "sos") or prefix in (SAFE_PREFIX, SUPPORT_PREFIX):
            return False
        nav = NAV_WORDS.get(name) if name is not None else engine.parse_nav(event.choice or "")
        if nav is None and name is None and event.choice is None and text is not None:
            nav = NAV_WORDS.get(text.strip().strip(".!?").casefold())
        if nav in (Nav.SKIP, Nav.BACK):
            # Skip and Back act on the step itself: what was held was not the answer.
            await turn.drop_held()
            return False
        if nav is Nav.STOP:
            # Stop after words already sent: they count, and whatever remains is stopped.
            await turn.release(show_next=False)
            if turn.session is not None:
                await turn.nav(Nav.STOP)
            return True
        if name is None and event.choice is None:
            # Typing again moves on: the held words are applied and the flow shows what's next.
            await turn.release(show_next=True)
            return True
        await turn.release(show_next=False)
        return False

    async def _member(self, event: Event) -> Member:
        """The stored member; a traceless command (/privacy, /export, /forget) creates none."""
        if event.command is not None:
            name = command_name(event.command)
        else:
            name = (event.choice or "").partition(":")[0]
        # A group's screened conversation stores nothing either: no member row for talking.
        talk = event.space.kind is SpaceKind.GROUP and event.command is None
        if name in self.registry.traceless or talk:
            found = await self.repos.members.find(event.platform, event.user_id)
            # Id 0 is never stored: nothing is found for it, nothing is kept under it.
            return found or Member(0, event.platform, event.user_id)
        return await self.repos.members.get_or_create(
            event.platform, event.user_id, self.clock.now()
        )

    async def _command(self, turn: Turn, name: str, args: tuple[str, ...]) -> None:
        handler = self.registry.commands.get(name)
        if len(args) > MAX_ARGS or any(len(a) > MAX_ARG_CHARS for a in args):
            # No command takes this much after its name: say so, and do nothing else.
            if handler is not None or name in BUILTIN_COMMANDS:
                turn.say("limits.args_too_long", limit=MAX_ARG_CHARS, words=MAX_ARGS)
            return
        in_group = turn.event.space.kind is SpaceKind.GROUP
        where = self.registry.where(name)
        if in_group and where is not Where.PRIVATE and handler is not None:
            await handler(turn, args)
        elif in_group and where is Where.PRIVATE:
            # Private commands answer with one public line and a button into the private chat;
            # commands meant for other bots in the group are left alone.
            if (handler is not None or name in BUILTIN_COMMANDS) and LINK_PAYLOAD.fullmatch(name):
                text = turn.cat.text("groups.private_link", command=name)
                turn.add(Reply(text, private=False, private_link=name, meta=link_meta(turn.cat)))
        elif name in ("crisis", "sos"):
            # The member's own safety plan first (when they wrote one), then the resources.
            turn.replies += await own_plan_replies(turn.own, self.repos.plans, turn.member.id)
            turn.add(await self._crisis(turn, disclosed=False))
        elif name == "help" and turn.event.space.kind is SpaceKind.GROUP:
            help_text = turn.cat.text("help.text")
            turn.add(
                Reply(help_text, private=False, private_link="start", meta=link_meta(turn.cat))
            )
        elif name in ("help", ""):
            # "/" alone is someone looking for the commands.
            turn.say("help.text")
        elif name in NAV_WORDS:
            await turn.nav(NAV_WORDS[name])
        elif name != "start" and handler is None:
            # Only a plain, short name is echoed back: never markup or odd characters.
            turn.say("input.unknown_command", command=echo(name))
            await turn.reshow()
        elif name == "start" and args and self._startable(command_name(args[0]).split("-")[0]):
            # `/start <payload>` from a group's button runs that command (after the welcome);
            # `<command>-<arg>` carries one argument (a group check-in's token).
            link, _, arg = command_name(args[0]).partition("-")
            await self._command(turn, link, (arg,) if arg else ())
        elif not turn.member.introduced and name not in self.registry.traceless:
            then = {"then": "" if name == "start" else name}
            if len(args) == 1 and LINK_PAYLOAD.fullmatch(args[0]):
                then["then_arg"] = args[0]
            welcoming = turn.session is not None and turn.session.flow_id == WELCOME
            if welcoming and (name != "start" or args):
                await self._remind_welcome(turn, then)
            else:
                await turn.start_flow(WELCOME, then)
        elif name == "start":
            turn.say("welcome.again")
        elif handler is not None:
            await handler(turn, args)

    async def _remind_welcome(self, turn: Turn, then: dict[str, str]) -> None:
        """The welcome was shown a moment ago: one line and its buttons, not all of it again.
        The latest command is the one that runs after it."""
        assert turn.session is not None
        turn.session = replace(turn.session, context={**turn.session.context, **then})
        await self.repos.sessions.put(turn.member.id, turn.session)
        shown = engine.render(turn.flow(), turn.session, turn.nav_labels())
        turn.say("welcome.reminder", shown.choices)

    def _startable(self, name: str) -> bool:
        return name != "start" and (name in self.registry.commands or name in BUILTIN_COMMANDS)

    async def _crisis(self, turn: Turn, disclosed: bool = True, about_other: bool = False) -> Reply:
        reply = crisis_reply(turn.own, turn.country, disclosed, about_other)
        if turn.event.space.kind is not SpaceKind.GROUP:
            return reply
        # If the member cannot be reached privately, the group sees resources only: the
        # group's own country (not the member's), and how to open the private chat.
        event = turn.event
        country = await self.group_safety.group_country(event.platform, event.space.id)
        public = "\n\n".join(
            [
                resources_text(turn.cat, country or self.settings.default_country),
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
            if turn.holding and safe is not SafeAnswer.NOT_SAFE:
                # Only now do the words written with the crisis words go where they were meant.
                at = len(turn.replies)
                await turn.release(show_next=True)
                if turn.session is not None:
                    turn.replies.insert(at, Reply(turn.cat.text("crisis.resume")))
            elif turn.session is not None and not turn.holding:
                turn.say("crisis.resume")
                await turn.reshow()
        elif prefix == CMD_PREFIX and (rest in self.registry.buttons or rest in ("crisis", "help")):
            await self._command(turn, rest, ())
        elif prefix in self.registry.choices and (
            turn.member.introduced or prefix in self.registry.traceless
        ):
            await self.registry.choices[prefix](turn, rest)
        else:
            turn.say("flow.stale")
            await turn.reshow()

    async def _text(self, turn: Turn, text: str) -> None:
        # Free text is never a command, whatever it starts with (issue 12): only the adapter,
        # where the platform marks one, makes an Event a command. "/start ..." typed in a form
        # is just words.
        word = text.strip().strip(".!?").casefold()
        if turn.session is None:
            turn.say("input.idle_text")
        elif word in NAV_WORDS:
            await turn.nav(NAV_WORDS[word])
        else:
            await turn.answer_text(text)


def _fits_every_view(
    app: Unblend,
) -> tuple[CrisisHost, LanguageHost, PrivacyHost, GroupCheckinHost, ReachOutHost, ScreeningHost]:
    """Never called: the type checker proves here that Unblend provides every capability's view
    of the app, which each capability's `host()` relies on."""
    return (app, app, app, app, app, app)
