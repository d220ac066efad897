"""How complete each shipped translation is, held against English (issue 16).

At run time a locale falls back to English for anything it lacks, so a missing key would only
show as an English sentence in the middle of a Spanish conversation. `unblend content check`
reads each locale folder on its own (no English underneath) and fails when it lacks a message
key, a flow, a flow step, or a placeholder that English has. Keys English no longer has are
counted, not failed: they are harmless, and tidied when convenient.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.kernel.catalog import FALLBACK_LOCALE, ContentLibrary, _read_layer
from core.kernel.problems import Problems

# A step's texts that may carry placeholders.
STEP_TEXTS = ("text", "intro", "continue_label", "low_label", "high_label")


@dataclass(frozen=True)
class Coverage:
    locale: str
    messages: int
    messages_total: int
    flows: int
    flows_total: int
    steps: int
    steps_total: int
    placeholders_missing: int
    stale: int  # keys English no longer has

    @property
    def complete(self) -> bool:
        return (
            self.messages == self.messages_total
            and self.flows == self.flows_total
            and self.steps == self.steps_total
            and not self.placeholders_missing
        )

    def line(self) -> str:
        state = "complete" if self.complete else "incomplete"
        placeholders = (
            "every placeholder"
            if not self.placeholders_missing
            else f"{self.placeholders_missing} text(s) missing a placeholder"
        )
        stale = f", {self.stale} key(s) English no longer has" if self.stale else ""
        return (
            f"{self.locale}: {self.messages}/{self.messages_total} messages, "
            f"{self.flows}/{self.flows_total} flows, {self.steps}/{self.steps_total} steps, "
            f"{placeholders}{stale}: {state}"
        )


def _fields(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:
        return set()  # a broken placeholder is reported by the content check itself


def _mirror(english_file: str, base: Path, locale: str) -> str:
    """Where the locale keeps what English keeps in `english_file` (same relative path)."""
    try:
        relative = Path(english_file).relative_to(base / FALLBACK_LOCALE)
    except ValueError:
        return str(base / locale)
    return str(base / locale / relative)


def _steps(data: dict[str, Any]) -> dict[str, Any]:
    steps = data.get("steps")
    return steps if isinstance(steps, dict) else {}


def locale_coverage(base: Path) -> tuple[list[Coverage], Problems]:
    """Each shipped locale but English, held against English; what it lacks, as problems."""
    problems = Problems()
    english = _read_layer(base / FALLBACK_LOCALE, Problems())
    reports: list[Coverage] = []
    for locale in ContentLibrary(base).locales()[1:]:
        own = _read_layer(base / locale, Problems())  # read errors: the content check's
        missing_fields = 0
        for key, (where, text) in english.messages.items():
            if key not in own.messages:
                problems.add(_mirror(where, base, locale), key, "is missing; English has it")
                continue
            lacks = _fields(text) - _fields(own.messages[key][1])
            if lacks:
                missing_fields += 1
                shown = ", ".join(f"{{{name}}}" for name in sorted(lacks))
                problems.add(own.messages[key][0], key, f"lacks {shown}, which English uses")
        steps = steps_total = flows = 0
        for fid, (where, data) in english.flows.items():
            en_steps = _steps(data)
            steps_total += len(en_steps)
            if fid not in own.flows:
                problems.add(_mirror(where, base, locale), fid, "this flow is missing")
                continue
            flows += 1
            own_where, own_data = own.flows[fid]
            own_steps = _steps(own_data)
            for sid, step in en_steps.items():
                if sid not in own_steps:
                    problems.add(own_where, f"steps.{sid}", "this step is missing")
                    continue
                steps += 1
                for name in STEP_TEXTS:
                    theirs, ours = step.get(name), own_steps[sid].get(name)
                    if not isinstance(theirs, str):
                        continue
                    lacks = _fields(theirs) - _fields(ours if isinstance(ours, str) else "")
                    if lacks:
                        missing_fields += 1
                        shown = ", ".join(f"{{{n}}}" for n in sorted(lacks))
                        where_step = f"steps.{sid}.{name}"
                        problems.add(own_where, where_step, f"lacks {shown}, which English uses")
        reports.append(
            Coverage(
                locale,
                messages=sum(1 for key in english.messages if key in own.messages),
                messages_total=len(english.messages),
                flows=flows,
                flows_total=len(english.flows),
                steps=steps,
                steps_total=steps_total,
                placeholders_missing=missing_fields,
                stale=sum(1 for key in own.messages if key not in english.messages),
            )
        )
    return reports, problems
