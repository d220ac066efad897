"""First contact: what Unblend is, and the explicit choice to keep check-in history."""

from __future__ import annotations

from datetime import UTC, datetime

from core.kernel.feature import Command, Feature
from core.kernel.flows.engine import FlowState
from core.kernel.model import Choice
from core.kernel.turn import Turn
from core.welcome.content import FLOWS, MESSAGES
from core.welcome.ports import stores

CONSENT_PREFIX = "consent"


async def set_consent(turn: Turn, keep: bool) -> None:
    turn.member = await turn.repos.members.set_consent(turn.member.id, keep, turn.now)
    turn.say("consent.saved_yes" if keep else "consent.saved_no")


async def finish_welcome(turn: Turn, state: FlowState) -> None:
    await set_consent(turn, state.answers.get("keep") == "yes")
    # The command that brought the member here runs right after the welcome is saved (outside
    # its transaction: it may ask a platform something, and must not hold up others' writes).
    then = state.context.get("then", "")
    handler = turn.app.registry.commands.get(then)
    if handler is not None:
        arg = state.context.get("then_arg", "")
        turn.after_save(lambda: handler(turn, (arg,) if arg else ()))


async def consent_status(turn: Turn, args: tuple[str, ...]) -> None:
    member = turn.member
    choices = (
        Choice(f"{CONSENT_PREFIX}:keep", turn.cat.text("consent.keep")),
        Choice(f"{CONSENT_PREFIX}:dont", turn.cat.text("consent.dont_keep")),
    )
    if member.consent and member.consent_at is not None:
        turn.say("consent.status_yes", choices, when=member.consent_at.strftime("%Y-%m-%d"))
    else:
        turn.say("consent.status_no", choices)


async def consent_choice(turn: Turn, rest: str) -> None:
    if rest in ("keep", "dont"):
        await set_consent(turn, rest == "keep")
        if rest == "dont":
            await _ask_about_kept(turn)
    elif rest in ("erase", "hold"):
        checkins, exercises = await _kept(turn)
        if rest == "hold" or not (checkins or exercises):
            turn.say("consent.kept_kept")
            return
        checkins = await stores(turn.repos).checkins.erase(turn.member.id)
        exercises = await stores(turn.repos).practices.erase(turn.member.id)
        turn.say("consent.deleted_kept", checkins=checkins, exercises=exercises)
    else:
        turn.say("flow.stale")


async def _kept(turn: Turn) -> tuple[int, int]:
    checkins = await stores(turn.repos).checkins.count(turn.member.id)
    practices = await stores(turn.repos).practices.since(
        turn.member.id, datetime.min.replace(tzinfo=UTC)
    )
    return checkins, len(practices)


async def _ask_about_kept(turn: Turn) -> None:
    """No longer keeping new ones says nothing about the ones kept: the member decides."""
    checkins, exercises = await _kept(turn)
    if not (checkins or exercises):
        return
    choices = (
        Choice(f"{CONSENT_PREFIX}:erase", turn.cat.text("consent.delete_kept")),
        Choice(f"{CONSENT_PREFIX}:hold", turn.cat.text("consent.keep_kept")),
    )
    turn.say("consent.ask_delete", choices, checkins=checkins, exercises=exercises)


FEATURE = Feature(
    name="welcome",
    order=10,
    # Only one to one: left out of a group's menu.
    commands={"consent": Command(consent_status, takes_args=False, group_menu=False)},
    choices={CONSENT_PREFIX: consent_choice},
    finishers={"welcome": finish_welcome},
    messages=MESSAGES,
    flows=FLOWS,
)
