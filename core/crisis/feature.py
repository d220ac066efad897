"""After "I'm not safe": the offer to tell a moderator. Nothing is sent unless chosen."""

from __future__ import annotations

import logging

from core.crisis import country
from core.crisis.content import MESSAGES
from core.crisis.ports import host
from core.crisis.records import SupportRequest
from core.crisis.reply import SUPPORT_PREFIX, resources_text
from core.kernel.failures import log_failure
from core.kernel.feature import Feature
from core.kernel.model import Choice, Reply
from core.kernel.names import NAME_LIMIT
from core.kernel.shown import one_line
from core.kernel.turn import Turn

log = logging.getLogger(__name__)


def _key(turn: Turn) -> tuple[str, str]:
    return (turn.event.platform, turn.event.user_id)


async def support_choice(turn: Turn, rest: str) -> None:
    c = turn.cat
    words = host(turn.app).crisis_words.get(_key(turn), turn.now)
    if rest == "ask":
        choices = [Choice(f"{SUPPORT_PREFIX}:plain", c.text("support.plain"))]
        if words:
            choices.append(Choice(f"{SUPPORT_PREFIX}:words", c.text("support.with_words")))
        choices.append(Choice(f"{SUPPORT_PREFIX}:no", c.text("support.no")))
        turn.say("support.ask", tuple(choices))
    elif rest == "no":
        turn.say("support.not_told")
    elif rest in ("plain", "words"):
        if rest == "words" and not words:
            # Held only briefly and only in memory: after a while or a restart, it is gone.
            # The member chooses again; nothing is sent on a choice they did not make.
            again = (
                Choice(f"{SUPPORT_PREFIX}:plain", c.text("support.plain")),
                Choice(f"{SUPPORT_PREFIX}:no", c.text("support.no")),
            )
            turn.say("support.words_gone", again)
            return
        request = SupportRequest(
            platform=turn.event.platform,
            user_id=turn.event.user_id,
            handle=one_line(turn.event.display_name, NAME_LIMIT) or turn.event.user_id,
            at=turn.now,
            words=words if rest == "words" else None,
        )
        try:
            told = await host(turn.app).moderator_alerts.notify(request)
        except Exception:
            log_failure(log, "telling a moderator failed (platform=%s)", turn.event.platform)
            told = False
        if told:
            turn.say("support.told")
        else:
            text = c.text("support.no_moderator") + "\n\n" + resources_text(c, turn.country)
            turn.add(Reply(text))
    else:
        turn.say("flow.stale")


FEATURE = Feature(
    name="support",
    order=110,
    choices={SUPPORT_PREFIX: support_choice},
    # After a crisis reply, before any welcome; choosing stores nothing about the member.
    traceless=frozenset({SUPPORT_PREFIX}),
    messages=MESSAGES,
)

# /country is the crisis package's too: its module keeps it beside the resources it chooses.
FEATURES = (FEATURE, country.FEATURE)
