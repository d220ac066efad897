"""One event for one member, handled under that member's lock: what every feature works with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from core.kernel.catalog import Catalog, ContentLibrary
from core.kernel.clock import Clock
from core.kernel.flows import engine
from core.kernel.flows.engine import FlowState, Nav, NavLabels, Outcome, Status
from core.kernel.flows.schema import Flow, Option, StepKind
from core.kernel.membership import Check, MembershipRouter
from core.kernel.model import Choice, Event, Reply
from core.kernel.outbound import OutboundRouter
from core.kernel.ports import Stores
from core.kernel.records import Member
from core.kernel.settings import Settings


# What a turn, and so every capability, may use of the app (core/app.py's Unblend provides it).
# A capability that needs another capability's service (the languages, a group's safety
# settings) declares a view of the app in its own `ports.py`; core/app.py proves Unblend fits.
class Host(Protocol):
    @property
    def repos(self) -> Stores: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def registry(self) -> Handlers: ...

    @property
    def library(self) -> ContentLibrary: ...

    @property
    def membership(self) -> MembershipRouter: ...

    @property
    def outbound(self) -> OutboundRouter: ...

    @property
    def erase_hooks(self) -> list[Callable[[Member], Awaitable[None]]]: ...

    async def catalog_for(self, event: Event) -> Catalog:
        """The language a member is answered in (see Unblend.catalog_for)."""
        ...

    def retention_days(self, member: Member) -> int: ...


class Turn:
    def __init__(
        self,
        app: Host,
        catalog: Catalog,
        event: Event,
        member: Member,
        own: Catalog | None = None,
    ) -> None:
        self.app = app
        self.repos: Stores = app.repos
        # What this turn says: in a group, in the group's language (issue 16).
        self.cat = catalog
        # What only the member sees, in their own language even in a group (a crisis reply).
        self.own = own or catalog
        self.event = event
        self.member = member
        self.now: datetime = app.clock.now()
        self.replies: list[Reply] = []
        self.session: FlowState | None = None
        self._after_save: list[Callable[[], Awaitable[None]]] = []
        # What the platform answered during this event, by question: asked once, before the
        # writes that depend on it (see Feature.preflights).
        self.asked: dict[str, Check] = {}
        self._loaded = False
        # An unfinished flow was set aside on loading (it was idle, or content changed).
        self.expired = False
        # While set, moving a flow on shows no next step: the member asked for something else.
        self.quiet = False

    # -- saying things --------------------------------------------------------------------

    def say(self, key: str, choices: tuple[Choice, ...] = (), **params: str | int) -> None:
        self.replies.append(Reply(self.cat.text(key, **params), choices=choices))

    def add(self, reply: Reply) -> None:
        self.replies.append(reply)

    @property
    def country(self) -> str:
        return self.member.country or self.app.settings.default_country

    # -- flows ----------------------------------------------------------------------------

    def flow(self) -> Flow:
        assert self.session is not None
        return self.cat.flows[self.session.flow_id]

    async def load_session(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        session = await self.repos.sessions.get(self.member.id)
        if session is None:
            return
        flow = self.cat.flows.get(session.flow_id)
        idle = session.updated_at is not None and (
            self.now - session.updated_at > self.app.settings.idle_timeout
        )
        if flow is None or session.step not in flow.steps or idle:
            # A flow that content no longer has, or one left idle, is set aside kindly.
            await self.repos.sessions.delete(self.member.id)
            # Said once, by whoever handles this turn (see Unblend._handle).
            self.expired = True
            return
        self.session = session

    async def dynamic(self) -> Mapping[str, tuple[Option, ...]]:
        """Member-specific options, read only when the current step shows them."""
        if self.session is None:
            return {}
        source = self.flow().step(self.session.step).options_from
        if not source or source not in self.app.registry.dynamic:
            return {}
        return {source: await self.app.registry.dynamic[source](self)}

    def nav_labels(self) -> NavLabels:
        c = self.cat
        return NavLabels(
            c.text("nav.stop"), c.text("nav.back"), c.text("nav.skip"), c.text("nav.continue")
        )

    def expects_text(self) -> bool:
        """Whether the flow in progress waits for the member's own words right now."""
        return (
            self.session is not None and self.flow().step(self.session.step).kind is StepKind.TEXT
        )

    def safety_context(self) -> str:
        """The current text step's `safety_context` ("plan" for a safety plan's sections)."""
        if not self.expects_text():
            return ""
        assert self.session is not None
        return self.flow().step(self.session.step).safety_context

    @property
    def holding(self) -> bool:
        return self.session is not None and self.session.held is not None

    async def hold(self, text: str) -> None:
        """Keeps a text answer back while a crisis reply stands alone (see `release`)."""
        assert self.session is not None
        if self.session.held is None:
            self.session = replace(self.session, held=text, updated_at=self.now)
            await self.repos.sessions.put(self.member.id, self.session)

    async def drop_held(self) -> None:
        """The member chose skip or back at the step: what was held is not their answer."""
        if self.session is not None and self.session.held is not None:
            self.session = replace(self.session, held=None)
            await self.repos.sessions.put(self.member.id, self.session)

    async def release(self, show_next: bool = True) -> bool:
        """Applies a held answer as the member meant it; whether there was one.

        `show_next`: whether the step it leads to is shown (not when the member asked for
        something else, which is answered instead).
        """
        if self.session is None or self.session.held is None:
            return False
        held = self.session.held
        self.session = replace(self.session, held=None)
        await self.repos.sessions.put(self.member.id, self.session)
        self.quiet = not show_next
        try:
            await self.answer_text(held)
        finally:
            self.quiet = False
        return True

    async def reshow(self) -> None:
        if self.session is not None and not self.quiet:
            self.replies.append(
                engine.render(self.flow(), self.session, self.nav_labels(), await self.dynamic())
            )

    async def start_flow(
        self, flow_id: str, context: dict[str, str] | None = None, at: str | None = None
    ) -> None:
        """Starts a flow at its start, or at step `at` when the feature already knows more."""
        if self.session is not None and self.session.flow_id != flow_id:
            self.say("flow.replaced", title=self.flow().title)
        flow = self.cat.flows[flow_id]
        self.session = engine.start(flow, self.now, context, at)
        await self.repos.sessions.put(self.member.id, self.session)
        await self.reshow()

    async def apply(self, outcome: Outcome) -> None:
        if outcome.status is Status.NEXT:
            self.session = outcome.state
            await self.repos.sessions.put(self.member.id, outcome.state)
            await self.reshow()
        elif outcome.status is Status.DONE:
            preflight = self.app.registry.preflights.get(
                self.cat.flows[outcome.state.flow_id].finish
            )
            if preflight is not None:
                await preflight(self, outcome.state)
            # The flow's end and what its finisher saves commit together: a crash between
            # them must not lose the answers (issue 12). On an error both stay undone, and the
            # member can finish again from the last step.
            async with self.repos.unit.atomic():
                await self.repos.sessions.delete(self.member.id)
                self.session = None
                await self.finish(outcome.state)
            steps, self._after_save = self._after_save, []
            for step in steps:
                await step()
        else:
            key = {Status.STALE: "flow.stale", Status.AT_START: "flow.at_start"}.get(
                outcome.status, outcome.problem
            )
            self.say(key, (), **outcome.params)
            await self.reshow()

    def after_save(self, step: Callable[[], Awaitable[None]]) -> None:
        """Runs `step` once the finished flow's writes are committed (see `apply`)."""
        self._after_save.append(step)

    async def answer_text(self, text: str) -> None:
        """Free text for the current step: a text step's validator speaks first, then the engine."""
        assert self.session is not None
        flow = self.flow()
        step = flow.step(self.session.step)
        check = self.app.registry.validators.get(step.validate) if step.validate else None
        if check is not None and text.strip():
            invalid = await check(self, text.strip())
            if invalid is not None:
                params = dict(invalid.params)
                await self.apply(Outcome(Status.INVALID, self.session, invalid.key, params))
                return
        outcome = engine.answer_text(
            flow, self.session, text, self.now, await self.dynamic(), self.nav_labels()
        )
        if outcome.problem == engine.TAP_CONTINUE:
            # Not a yes: one line with the step's buttons, rather than all of the step again.
            shown = engine.render(flow, self.session, self.nav_labels())
            self.say(outcome.problem, shown.choices, **outcome.params)
            return
        await self.apply(outcome)

    async def finish(self, state: FlowState) -> None:
        flow = self.cat.flows[state.flow_id]
        finisher = self.app.registry.finishers.get(flow.finish)
        if finisher is not None:
            await finisher(self, state)
        elif flow.end_text:
            self.replies.append(Reply(flow.end_text))

    async def nav(self, nav: Nav) -> None:
        if self.session is None:
            self.say("flow.nothing_active")
            return
        if nav is Nav.STOP:
            flow = self.flow()
            await self.repos.sessions.delete(self.member.id)
            self.session = None
            self.say("flow.stopped_nothing" if flow.finish == "checkin" else "flow.stopped")
        elif nav is Nav.BACK:
            await self.apply(engine.go_back(self.flow(), self.session, self.now))
        else:
            await self.apply(engine.skip(self.flow(), self.session, self.now))


CommandHandler = Callable[["Turn", tuple[str, ...]], Awaitable[None]]


ChoiceHandler = Callable[["Turn", str], Awaitable[None]]


FinishHandler = Callable[["Turn", FlowState], Awaitable[None]]


OptionSource = Callable[["Turn"], Awaitable[tuple[Option, ...]]]


@dataclass(frozen=True)
class Invalid:
    """Why a text answer does not fit: a message key from content and its placeholders."""

    key: str
    params: Mapping[str, str | int] = field(default_factory=dict)


# A text step's `validate = "<name>"` -> check(turn, stripped text); None when it fits.
Validator = Callable[["Turn", str], Awaitable[Invalid | None]]


class Handlers(Protocol):
    """What a turn calls of the features (core/kernel/feature.py's Registry provides it)."""

    @property
    def commands(self) -> Mapping[str, CommandHandler]: ...

    @property
    def finishers(self) -> Mapping[str, FinishHandler]: ...

    @property
    def dynamic(self) -> Mapping[str, OptionSource]: ...

    @property
    def preflights(self) -> Mapping[str, FinishHandler]: ...

    @property
    def validators(self) -> Mapping[str, Validator]: ...
