"""A pure flow engine: (flow, state, input) -> outcome. No I/O, no clock of its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from core.kernel.flows.schema import END, Answer, Flow, Option, Step, StepKind
from core.kernel.model import Choice, Reply
from core.kernel.numbers import parse_number

STEP_PREFIX = "s"
# The message for words typed where only a button goes on (see `answer_text`).
TAP_CONTINUE = "input.tap_continue"
NAV_PREFIX = "nav"


class Nav(StrEnum):
    STOP = "stop"
    BACK = "back"
    SKIP = "skip"


@dataclass(frozen=True)
class FlowState:
    flow_id: str
    step: str
    answers: dict[str, Answer] = field(default_factory=dict)
    trail: tuple[str, ...] = ()
    # Small facts a flow carries along, e.g. the command to run after the welcome.
    context: dict[str, str] = field(default_factory=dict)
    updated_at: datetime | None = None
    # When a timed step moves on by itself; None when the flow waits for the member.
    due_at: datetime | None = None
    # A text answer held back by a crisis reply: applied once the member answers "are you
    # safe right now?" or moves on (core/app.py). Encrypted at rest with the rest of the state.
    held: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow_id,
            "step": self.step,
            "answers": self.answers,
            "trail": list(self.trail),
            "context": self.context,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            **({"held": self.held} if self.held is not None else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], updated_at: datetime) -> FlowState:
        return cls(
            flow_id=str(data["flow"]),
            step=str(data["step"]),
            answers=dict(data.get("answers", {})),
            trail=tuple(data.get("trail", ())),
            context=dict(data.get("context", {})),
            updated_at=updated_at,
            due_at=datetime.fromisoformat(data["due_at"]) if data.get("due_at") else None,
            held=str(data["held"]) if isinstance(data.get("held"), str) else None,
        )


class Status(StrEnum):
    NEXT = "next"  # moved to another step (or re-shown after `back`)
    DONE = "done"  # the last step was answered
    INVALID = "invalid"  # the input does not fit this step; stay
    STALE = "stale"  # a button from another step was tapped; stay
    AT_START = "at_start"  # `back` on the first step; stay


@dataclass(frozen=True)
class Outcome:
    status: Status
    state: FlowState
    problem: str = ""  # a message key from content
    params: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class NavLabels:
    stop: str
    back: str
    skip: str
    cont: str


def start(
    flow: Flow, now: datetime, context: dict[str, str] | None = None, at: str | None = None
) -> FlowState:
    """A fresh state at the flow's start, or at step `at` when a feature already knows more."""
    first = at or flow.start
    if first not in flow.steps:
        raise KeyError(f"flow {flow.id} has no step {first}")
    return FlowState(flow.id, first, {}, (), dict(context or {}), now, _due(flow, first, now))


def _due(flow: Flow, step_id: str, now: datetime) -> datetime | None:
    step = flow.step(step_id)
    return now + timedelta(seconds=step.seconds) if step.kind is StepKind.TIMED else None


def tick(flow: Flow, state: FlowState, now: datetime) -> Outcome | None:
    """Moves a timed step on once its time has come; None while it is not due."""
    if state.due_at is None or now < state.due_at:
        return None
    return _advance(flow, state, flow.step(state.step), "ok", now)


def choice_id(step: str, value: str | int) -> str:
    return f"{STEP_PREFIX}:{step}:{value}"


def nav_id(nav: Nav) -> str:
    return f"{NAV_PREFIX}:{nav.value}"


def options_for(step: Step, dynamic: Mapping[str, tuple[Option, ...]]) -> tuple[Option, ...]:
    extra = dynamic.get(step.options_from, ()) if step.options_from else ()
    return tuple(extra) + step.options


def render(
    flow: Flow,
    state: FlowState,
    labels: NavLabels,
    dynamic: Mapping[str, tuple[Option, ...]] | None = None,
) -> Reply:
    step = flow.step(state.step)
    choices: list[Choice] = []
    if step.kind is StepKind.CHOICE:
        choices += [
            Choice(choice_id(step.id, o.id), o.label) for o in options_for(step, dynamic or {})
        ]
    elif step.kind is StepKind.SCALE:
        choices += [Choice(choice_id(step.id, n), str(n)) for n in range(step.min, step.max + 1)]
    elif step.is_info_like:
        choices.append(Choice(choice_id(step.id, "ok"), step.continue_label or labels.cont))
    if not step.is_info_like:
        choices.append(Choice(nav_id(Nav.SKIP), labels.skip))
    if state.trail:
        choices.append(Choice(nav_id(Nav.BACK), labels.back))
    choices.append(Choice(nav_id(Nav.STOP), labels.stop))
    text = f"{step.intro}\n\n{step.text}" if step.intro else step.text
    if step.kind is StepKind.SCALE and (step.low_label or step.high_label):
        text += f"\n({step.min} = {step.low_label}, {step.max} = {step.high_label})"
    return Reply(
        text=text,
        choices=tuple(choices),
        expects_text=step.kind is StepKind.TEXT,
        text_max=step.max_length if step.kind is StepKind.TEXT else 0,
        # Paced steps of one flow may replace each other in place where a platform can edit.
        replace_key=f"pace:{flow.id}" if step.kind is StepKind.TIMED else "",
    )


def go_back(flow: Flow, state: FlowState, now: datetime) -> Outcome:
    if not state.trail:
        return Outcome(Status.AT_START, state)
    previous = state.trail[-1]
    answers = {k: v for k, v in state.answers.items() if k != previous}
    moved = replace(
        state,
        step=previous,
        answers=answers,
        trail=state.trail[:-1],
        updated_at=now,
        due_at=_due(flow, previous, now),
        held=None,
    )
    return Outcome(Status.NEXT, moved)


def skip(flow: Flow, state: FlowState, now: datetime) -> Outcome:
    step = flow.step(state.step)
    return _advance(flow, state, step, "ok" if step.is_info_like else None, now)


def answer_choice(
    flow: Flow,
    state: FlowState,
    step_id: str,
    value: str,
    now: datetime,
    dynamic: Mapping[str, tuple[Option, ...]] | None = None,
) -> Outcome:
    """A tapped button. A button from another step is stale: the member sees where we are."""
    if step_id != state.step:
        return Outcome(Status.STALE, state)
    step = flow.step(state.step)
    parsed = _parse_value(step, value, dynamic or {}, by_label=False)
    if isinstance(parsed, _Missing):
        return Outcome(Status.STALE, state)
    return _advance(flow, state, step, parsed, now)


def answer_text(
    flow: Flow,
    state: FlowState,
    text: str,
    now: datetime,
    dynamic: Mapping[str, tuple[Option, ...]] | None = None,
    labels: NavLabels | None = None,
) -> Outcome:
    """Typed words for the current step. With `labels`, an info or paced step goes on only
    for its own button's words ("Okay", "Continue"): anything else was not a yes."""
    step = flow.step(state.step)
    cleaned = text.strip()
    if step.kind is StepKind.TEXT:
        if not cleaned:
            return Outcome(Status.INVALID, state, "input.empty")
        if len(cleaned) > step.max_length:
            return Outcome(
                Status.INVALID,
                state,
                "input.too_long",
                {"limit": step.max_length, "got": len(cleaned)},
            )
        return _advance(flow, state, step, cleaned, now)
    if step.is_info_like:
        label = step.continue_label or (labels.cont if labels else "")
        said = cleaned.strip(".!?").casefold()
        if labels is not None and said not in {label.casefold(), labels.cont.casefold()}:
            return Outcome(Status.INVALID, state, TAP_CONTINUE, {"label": label})
        return _advance(flow, state, step, "ok", now)
    parsed = _parse_value(step, cleaned, dynamic or {}, by_label=True)
    if isinstance(parsed, _Missing):
        if step.kind is StepKind.SCALE:
            return Outcome(
                Status.INVALID, state, "input.not_in_scale", {"min": step.min, "max": step.max}
            )
        return Outcome(Status.INVALID, state, "input.not_an_option")
    return _advance(flow, state, step, parsed, now)


class _Missing:
    pass


_NO = _Missing()


def _parse_value(
    step: Step, raw: str, dynamic: Mapping[str, tuple[Option, ...]], by_label: bool
) -> Answer | _Missing:
    if step.is_info_like:
        return "ok" if raw == "ok" or by_label else _NO
    if step.kind is StepKind.SCALE:
        # "7" or "7/10"; a sign, for a scale that goes below zero.
        number = parse_number(raw.split("/")[0], signed=True, max_digits=3)
        if number is not None and step.min <= number <= step.max:
            return number
        return _NO
    if step.kind is StepKind.CHOICE:
        options = options_for(step, dynamic)
        for option in options:
            if raw == option.id:
                return option.id
        if by_label:
            folded = raw.casefold()
            for option in options:
                if folded == option.label.casefold():
                    return option.id
            number = parse_number(raw, max_digits=3)
            if number is not None and 1 <= number <= len(options):
                return options[number - 1].id
        return _NO
    return raw


def _advance(flow: Flow, state: FlowState, step: Step, value: Answer, now: datetime) -> Outcome:
    answers = {**state.answers, step.id: value}
    target = step.next_step(answers)
    if target == END:
        # Only the path actually walked counts: answers left behind by `back` are dropped.
        walked = {*state.trail, step.id}
        kept = {k: v for k, v in answers.items() if k in walked}
        done = replace(state, answers=kept, updated_at=now, due_at=None, held=None)
        return Outcome(Status.DONE, done)
    return Outcome(
        Status.NEXT,
        replace(
            state,
            step=target,
            answers=answers,
            trail=(*state.trail, step.id),
            updated_at=now,
            due_at=_due(flow, target, now),
            held=None,
        ),
    )


def parse_step_choice(choice: str) -> tuple[str, str] | None:
    """`s:<step>:<value>` -> (step, value); None for anything else."""
    parts = choice.split(":", 2)
    if len(parts) == 3 and parts[0] == STEP_PREFIX:
        return parts[1], parts[2]
    return None


def parse_nav(choice: str) -> Nav | None:
    prefix, _, rest = choice.partition(":")
    if prefix != NAV_PREFIX:
        return None
    try:
        return Nav(rest)
    except ValueError:
        return None
