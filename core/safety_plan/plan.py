"""A member's own safety plan (Stanley-Brown): six optional sections, in their own words."""

from __future__ import annotations

from collections.abc import Mapping

from core.kernel.catalog import Catalog
from core.kernel.flows.schema import MAX_TEXT

# In the order of the plan: from noticing, to one's own coping, to other people, to safety.
SECTIONS: tuple[str, ...] = ("warning", "coping", "distract", "people", "pros", "safer")
FLOW_ID = "safetyplan"
MAX_SECTION_CHARS = 1000


def section_title(catalog: Catalog, section: str) -> str:
    return catalog.text(f"safetyplan.section_{section}")


def filled(plan: Mapping[str, str]) -> list[str]:
    """The sections the member has written, in plan order."""
    return [s for s in SECTIONS if plan.get(s, "").strip()]


def pack(blocks: list[str], limit: int = MAX_TEXT) -> list[str]:
    """Joins blocks into as few messages as fit the strictest platform limit."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        block = block[:limit]
        joined = f"{current}\n\n{block}" if current else block
        if len(joined) <= limit:
            current = joined
        else:
            messages.append(current)
            current = block
    if current:
        messages.append(current)
    return messages


def plan_messages(
    catalog: Catalog, plan: Mapping[str, str], heading_key: str, show_empty: bool
) -> list[str]:
    """The plan as text: a heading, then each section's title and the member's own words."""
    blocks = [catalog.text(heading_key)]
    for section in SECTIONS:
        body = plan.get(section, "").strip()
        if body:
            blocks.append(f"{section_title(catalog, section)}\n{body}")
        elif show_empty:
            blocks.append(
                f"{section_title(catalog, section)}\n{catalog.text('safetyplan.not_written')}"
            )
    return pack(blocks)
