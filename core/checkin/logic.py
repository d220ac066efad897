"""What happens when a check-in's last step is answered: keep it (with consent) and reflect."""

from __future__ import annotations

from datetime import datetime

from core.checkin.records import Checkin
from core.kernel.catalog import Catalog
from core.kernel.flows.schema import Answer, all_hold
from core.parts.records import Part

# Generic part choices map to the IFS role they most often stand for.
GENERIC_PART_ROLES = {
    "manager": "manager",
    "relief": "firefighter",
    "hurt": "exile",
    "self": "self",
    "unsure": "unsure",
}
PART_OPTION_PREFIX = "p"
# A reflection stays short: the first matching rules (content orders them by importance).
MAX_REFLECTIONS = 3


def part_option_id(part: Part) -> str:
    return f"{PART_OPTION_PREFIX}{part.id}"


def part_role(answer: Answer, parts: list[Part]) -> str | None:
    if not isinstance(answer, str):
        return None
    if answer in GENERIC_PART_ROLES:
        return GENERIC_PART_ROLES[answer]
    for part in parts:
        if part_option_id(part) == answer:
            return part.role
    return None


def _int(value: Answer) -> int | None:
    return value if isinstance(value, int) else None


def _str(value: Answer) -> str | None:
    return value if isinstance(value, str) else None


def build_checkin(member_id: int, answers: dict[str, Answer], now: datetime) -> Checkin:
    return Checkin(
        member_id=member_id,
        at=now,
        mood=_int(answers.get("mood")),
        urge=_int(answers.get("urge")),
        part=_str(answers.get("part")),
        need=_str(answers.get("need")),
        note=_str(answers.get("note")),
    )


def answered(checkin: Checkin) -> bool:
    """Whether any question of a check-in was answered (one with none is not counted)."""
    return any(
        v is not None
        for v in (checkin.mood, checkin.urge, checkin.part, checkin.need, checkin.note)
    )


def reflection(
    catalog: Catalog, answers: dict[str, Answer], parts: list[Part]
) -> tuple[str, tuple[str, ...]]:
    """The first few matching rules' texts, and every matching rule's offers (deduplicated)."""
    facts: dict[str, Answer] = {**answers, "part_role": part_role(answers.get("part"), parts)}
    texts: list[str] = []
    offers: list[str] = []
    for rule in catalog.reflections:
        if all_hold(rule.when, facts):
            if rule.text and len(texts) < MAX_REFLECTIONS:
                texts.append(rule.text)
            offers += [o for o in rule.offers if o not in offers]
    return "\n\n".join(texts), tuple(offers)
