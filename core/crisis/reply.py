"""The crisis path: warmth, the member's resources, and 'are you safe right now?'."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING

from core.kernel.catalog import Catalog
from core.kernel.failures import log_failure
from core.kernel.model import Choice, Reply
from core.safety_plan.plan import plan_messages

if TYPE_CHECKING:
    from core.safety_plan.ports import SafetyPlanRepo

log = logging.getLogger(__name__)

SAFE_PREFIX = "safe"
SUPPORT_PREFIX = "support"


class SafeAnswer(StrEnum):
    SAFE = "yes"
    NOT_SAFE = "no"
    MISUNDERSTOOD = "misunderstood"


def resources_text(catalog: Catalog, country_code: str) -> str:
    country = catalog.country(country_code)
    lines = [catalog.text("crisis.resources_heading", country=country.name)]
    lines += [f"• {line}" for line in country.lines]
    lines.append(catalog.text("crisis.emergency", number=country.emergency))
    return "\n".join(lines)


def safe_choices(catalog: Catalog, disclosed: bool = True) -> tuple[Choice, ...]:
    """ "Are you safe right now?" choices; "you misunderstood me" only after words we read."""
    choices = (
        Choice(f"{SAFE_PREFIX}:{SafeAnswer.SAFE}", catalog.text("crisis.safe_yes")),
        Choice(f"{SAFE_PREFIX}:{SafeAnswer.NOT_SAFE}", catalog.text("crisis.safe_no")),
    )
    if not disclosed:
        return choices
    misunderstood = catalog.text("crisis.misunderstood")
    return (*choices, Choice(f"{SAFE_PREFIX}:{SafeAnswer.MISUNDERSTOOD}", misunderstood))


def crisis_reply(
    catalog: Catalog, country_code: str, disclosed: bool = True, about_other: bool = False
) -> Reply:
    """The crisis reply. `disclosed`: crisis words were read, so it opens with warmth for
    having said something; a member who asked with /crisis gets the resources first. When
    someone else is in danger now (`about_other`), it leads with the emergency number and what
    to do until help comes, then the lines for the member."""
    if about_other:
        number = catalog.country(country_code).emergency
        opening = [
            catalog.text("crisis.other_intro", number=number),
            catalog.text("crisis.other_steps"),
        ]
    else:
        opening = [catalog.text("crisis.intro")] if disclosed else []
    text = "\n\n".join(
        [*opening, resources_text(catalog, country_code), catalog.text("crisis.ask_safe")]
    )
    return Reply(text=text, choices=safe_choices(catalog, disclosed), private=True)


def parse_safe(choice: str) -> SafeAnswer | None:
    prefix, _, rest = choice.partition(":")
    if prefix != SAFE_PREFIX:
        return None
    try:
        return SafeAnswer(rest)
    except ValueError:
        return None


def safe_followup(catalog: Catalog, answer: SafeAnswer, country_code: str) -> Reply:
    if answer is SafeAnswer.SAFE:
        return Reply(catalog.text("crisis.reply_safe"))
    if answer is SafeAnswer.NOT_SAFE:
        text = (
            catalog.text("crisis.reply_not_safe") + "\n\n" + resources_text(catalog, country_code)
        )
        # Telling a moderator is only ever offered; the member decides (core/crisis/feature.py).
        tell = Choice(f"{SUPPORT_PREFIX}:ask", catalog.text("support.offer"))
        return Reply(text, choices=(*safe_choices(catalog)[:1], tell))
    # "You misunderstood" never ends the safety path: the resources stay in view.
    text = (
        catalog.text("crisis.reply_misunderstood") + "\n\n" + resources_text(catalog, country_code)
    )
    return Reply(text)


async def own_plan_replies(catalog: Catalog, plans: SafetyPlanRepo, member_id: int) -> list[Reply]:
    """/crisis: the member's own safety plan, shown before the resources; none when unwritten.

    Reading the plan must never stand between a member and the crisis lines: on any failure
    the resources are shown alone.
    """
    try:
        plan = await plans.get(member_id)
    except Exception:
        log_failure(log, "reading a safety plan for /crisis failed; resources shown alone")
        return []
    if not any(text.strip() for text in plan.values()):
        return []
    return [
        Reply(text, private=True) for text in plan_messages(catalog, plan, "crisis.own_plan", False)
    ]
