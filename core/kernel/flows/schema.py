"""Flows are data: this module turns a flow's TOML into checked, frozen objects."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.kernel.problems import Problems

# The strictest platform limit (Discord) bounds every text we send in one message.
MAX_TEXT = 2000
MAX_LABEL = 80
MAX_STEP_ID = 24
MAX_OPTION_ID = 24


class StepKind(StrEnum):
    INFO = "info"
    # Like info, but the core moves on by itself after `seconds` (the member may go sooner).
    TIMED = "timed"
    CHOICE = "choice"
    SCALE = "scale"
    TEXT = "text"


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    GTE = "gte"
    LTE = "lte"
    GT = "gt"
    LT = "lt"
    IN = "in"
    ANSWERED = "answered"
    SKIPPED = "skipped"


Answer = int | str | None
END = "end"


@dataclass(frozen=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True)
class Condition:
    answer: str
    op: Op
    value: int | str | tuple[int | str, ...] | None = None

    def holds(self, answers: dict[str, Answer]) -> bool:
        given = self.answer in answers
        got = answers.get(self.answer)
        if self.op is Op.ANSWERED:
            return got is not None
        if self.op is Op.SKIPPED:
            return given and got is None
        if got is None:
            return False
        if self.op is Op.EQ:
            return got == self.value
        if self.op is Op.NE:
            return got != self.value
        if self.op is Op.IN:
            return isinstance(self.value, tuple) and got in self.value
        if not isinstance(got, int) or not isinstance(self.value, int):
            return False
        return {
            Op.GTE: got >= self.value,
            Op.LTE: got <= self.value,
            Op.GT: got > self.value,
            Op.LT: got < self.value,
        }[self.op]


def all_hold(conditions: tuple[Condition, ...], answers: dict[str, Answer]) -> bool:
    return all(c.holds(answers) for c in conditions)


@dataclass(frozen=True)
class Branch:
    when: tuple[Condition, ...]
    goto: str


@dataclass(frozen=True)
class Step:
    id: str
    kind: StepKind
    text: str
    next: str = END
    branches: tuple[Branch, ...] = ()
    options: tuple[Option, ...] = ()
    # A named source of member-specific options shown before the static ones (e.g. "parts").
    options_from: str | None = None
    min: int = 0
    max: int = 10
    low_label: str = ""
    high_label: str = ""
    max_length: int = 1000
    continue_label: str = ""
    seconds: int = 0
    # A text step's extra check, by name: a feature's `validators` entry (e.g. "part_name").
    validate: str = ""
    # Where a text step's words are safety work themselves ("plan": a safety plan's sections):
    # crisis language that describes rather than happens now gets a calm reply there.
    safety_context: str = ""
    # Shown above `text`; a feature that already knows the answer shows it alone (a scale's
    # exercise introduction, when the rating was given a moment ago).
    intro: str = ""

    @property
    def is_info_like(self) -> bool:
        return self.kind in (StepKind.INFO, StepKind.TIMED)

    def next_step(self, answers: dict[str, Answer]) -> str:
        for branch in self.branches:
            if all_hold(branch.when, answers):
                return branch.goto
        return self.next


@dataclass(frozen=True)
class Flow:
    id: str
    title: str
    start: str
    steps: dict[str, Step]
    # What the core does with the answers at the end: a finisher's name.
    finish: str = "none"
    end_text: str = ""

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]


DYNAMIC_SOURCES = frozenset({"parts"})
SAFETY_CONTEXTS = frozenset({"plan"})
_STEP_KEYS = {
    "kind",
    "text",
    "next",
    "branches",
    "options",
    "options_from",
    "min",
    "max",
    "low_label",
    "high_label",
    "max_length",
    "continue_label",
    "seconds",
    "validate",
    "safety_context",
    "intro",
}
MAX_SECONDS = 900


def parse_flow(data: dict[str, Any], where: str, problems: Problems) -> Flow | None:
    """Checks one flow file; every problem is recorded with file and key, none raised."""
    before = len(problems)
    fid = _req_str(data, "id", where, problems)
    title = _req_str(data, "title", where, problems)
    start = _req_str(data, "start", where, problems)
    finish = data.get("finish", "none")
    end_text = data.get("end_text", "")
    if not isinstance(finish, str):
        problems.add(where, "finish", 'must be text, for example finish = "none"')
    if not isinstance(end_text, str):
        problems.add(where, "end_text", "must be text")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, dict) or not raw_steps:
        problems.add(where, "steps", "a flow needs at least one [steps.<name>] table")
        return None
    steps: dict[str, Step] = {}
    for sid, raw in raw_steps.items():
        step = _parse_step(sid, raw, f"steps.{sid}", where, problems)
        if step is not None:
            steps[sid] = step
    _check_references(steps, start, where, problems)
    if len(problems) > before:
        return None
    assert isinstance(finish, str) and isinstance(end_text, str)
    assert fid is not None and title is not None and start is not None
    return Flow(fid, title, start, steps, finish, end_text)


def _parse_step(sid: str, raw: Any, key: str, where: str, problems: Problems) -> Step | None:
    if not isinstance(raw, dict):
        problems.add(where, key, "must be a table")
        return None
    if len(sid) > MAX_STEP_ID or not sid.replace("_", "").isalnum():
        problems.add(where, key, f"step names use letters, digits and _ (at most {MAX_STEP_ID})")
    for unknown in sorted(set(raw) - _STEP_KEYS):
        problems.add(where, f"{key}.{unknown}", "unknown key")
    try:
        kind = StepKind(raw.get("kind", ""))
    except ValueError:
        kinds = ", ".join(k.value for k in StepKind)
        problems.add(where, f"{key}.kind", f"must be one of: {kinds}")
        return None
    text = raw.get("text", "")
    if not isinstance(text, str) or not text.strip():
        problems.add(where, f"{key}.text", "every step needs a text")
        text = ""
    elif len(text) > MAX_TEXT:
        problems.add(where, f"{key}.text", f"is {len(text)} characters; the limit is {MAX_TEXT}")
    options = _parse_options(raw.get("options", []), f"{key}.options", where, problems)
    options_from = raw.get("options_from")
    if options_from is not None and options_from not in DYNAMIC_SOURCES:
        problems.add(where, f"{key}.options_from", f"must be one of: {sorted(DYNAMIC_SOURCES)}")
    if kind is StepKind.CHOICE and not options and options_from is None:
        problems.add(where, f"{key}.options", "a choice step needs options")
    lo, hi = raw.get("min", 0), raw.get("max", 10)
    if kind is StepKind.SCALE and (
        not isinstance(lo, int) or not isinstance(hi, int) or not 0 <= lo < hi <= 10
    ):
        problems.add(
            where, f"{key}.min", "a scale runs between whole numbers, 0 <= min < max <= 10"
        )
        lo, hi = 0, 10
    max_length = raw.get("max_length", 1000)
    if not isinstance(max_length, int) or not 1 <= max_length <= 4000:
        problems.add(where, f"{key}.max_length", "must be a whole number from 1 to 4000")
        max_length = 1000
    seconds = raw.get("seconds", 0)
    if kind is StepKind.TIMED and (not isinstance(seconds, int) or not 1 <= seconds <= MAX_SECONDS):
        problems.add(where, f"{key}.seconds", f"a timed step needs seconds = 1 to {MAX_SECONDS}")
        seconds = 60
    elif kind is not StepKind.TIMED and "seconds" in raw:
        problems.add(where, f"{key}.seconds", 'only timed steps have seconds (kind = "timed")')
    validate = raw.get("validate", "")
    if not isinstance(validate, str) or (validate and not validate.replace("_", "").isalnum()):
        problems.add(where, f"{key}.validate", 'must be a validator name, e.g. "part_name"')
        validate = ""
    elif validate and kind is not StepKind.TEXT:
        problems.add(where, f"{key}.validate", 'only text steps have validate (kind = "text")')
    safety_context = raw.get("safety_context", "")
    if safety_context and (safety_context not in SAFETY_CONTEXTS or kind is not StepKind.TEXT):
        problems.add(
            where, f"{key}.safety_context", 'only text steps have it, and only "plan" for now'
        )
        safety_context = ""
    intro = raw.get("intro", "")
    if not isinstance(intro, str):
        problems.add(where, f"{key}.intro", "must be text")
        intro = ""
    elif len(intro) + len(text) + 2 > MAX_TEXT:
        problems.add(where, f"{key}.intro", f"intro and text together exceed {MAX_TEXT}")
    branches = _parse_branches(raw.get("branches", []), f"{key}.branches", where, problems)
    nxt = raw.get("next", END)
    if not isinstance(nxt, str):
        problems.add(where, f"{key}.next", 'must be a step name or "end"')
        nxt = END
    labels = {k: raw.get(k, "") for k in ("low_label", "high_label", "continue_label")}
    for name, value in labels.items():
        if not isinstance(value, str) or len(value) > MAX_LABEL:
            problems.add(where, f"{key}.{name}", f"must be text of at most {MAX_LABEL} characters")
            labels[name] = ""
    return Step(
        id=sid,
        kind=kind,
        text=text,
        next=nxt,
        branches=branches,
        options=options,
        options_from=options_from if isinstance(options_from, str) else None,
        min=lo,
        max=hi,
        low_label=labels["low_label"],
        high_label=labels["high_label"],
        max_length=max_length,
        continue_label=labels["continue_label"],
        seconds=seconds if isinstance(seconds, int) else 0,
        validate=validate,
        safety_context=safety_context if isinstance(safety_context, str) else "",
        intro=intro,
    )


def _parse_options(raw: Any, key: str, where: str, problems: Problems) -> tuple[Option, ...]:
    if not isinstance(raw, list):
        problems.add(where, key, 'must be a list of { id = "...", label = "..." }')
        return ()
    options: list[Option] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        okey = f"{key}[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            problems.add(where, okey, 'needs id and label, e.g. { id = "tired", label = "Tired" }')
            continue
        oid, label = item["id"], item.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
            problems.add(where, f"{okey}.label", f"needs a label of 1-{MAX_LABEL} characters")
            continue
        if len(oid) > MAX_OPTION_ID or not oid.replace("_", "").isalnum():
            problems.add(
                where, f"{okey}.id", f"use letters, digits and _ (at most {MAX_OPTION_ID})"
            )
            continue
        if oid in seen:
            problems.add(where, f"{okey}.id", f'"{oid}" is used twice in this step')
        seen.add(oid)
        options.append(Option(oid, label))
    return tuple(options)


def _parse_branches(raw: Any, key: str, where: str, problems: Problems) -> tuple[Branch, ...]:
    if not isinstance(raw, list):
        problems.add(where, key, "must be a list of [[...branches]] tables")
        return ()
    branches: list[Branch] = []
    for i, item in enumerate(raw):
        bkey = f"{key}[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("goto"), str):
            problems.add(where, bkey, 'needs goto = "<step>" and when = [ ... ]')
            continue
        when_raw = item.get("when", [])
        if isinstance(when_raw, dict):
            when_raw = [when_raw]
        conds = [
            c
            for j, w in enumerate(when_raw)
            if (c := _cond(w, f"{bkey}.when[{j}]", where, problems))
        ]
        branches.append(Branch(tuple(conds), item["goto"]))
    return tuple(branches)


def _cond(raw: Any, key: str, where: str, problems: Problems) -> Condition | None:
    example = 'e.g. { answer = "urge", op = "gte", value = 7 }'
    if not isinstance(raw, dict) or not isinstance(raw.get("answer"), str):
        problems.add(where, key, f"a condition needs answer and op, {example}")
        return None
    try:
        op = Op(raw.get("op", ""))
    except ValueError:
        problems.add(where, f"{key}.op", f"must be one of: {', '.join(o.value for o in Op)}")
        return None
    value = raw.get("value")
    if isinstance(value, list):
        value = tuple(value)
    if op not in (Op.ANSWERED, Op.SKIPPED) and value is None:
        problems.add(where, f"{key}.value", f"op {op.value} needs a value, {example}")
        return None
    return Condition(raw["answer"], op, value)


def _check_references(
    steps: dict[str, Step], start: str | None, where: str, problems: Problems
) -> None:
    if start is not None and start not in steps:
        problems.add(where, "start", f'names a step "{start}" that does not exist')
    for step in steps.values():
        targets = [("next", step.next)] + [
            (f"branches[{i}].goto", b.goto) for i, b in enumerate(step.branches)
        ]
        for key, target in targets:
            if target != END and target not in steps:
                problems.add(where, f"steps.{step.id}.{key}", f'names an unknown step "{target}"')
        for i, branch in enumerate(step.branches):
            for cond in branch.when:
                if cond.answer not in steps:
                    problems.add(
                        where,
                        f"steps.{step.id}.branches[{i}]",
                        f'depends on "{cond.answer}", which is not a step of this flow',
                    )


def _req_str(data: dict[str, Any], key: str, where: str, problems: Problems) -> str | None:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.add(where, key, "is required text")
        return None
    return value
