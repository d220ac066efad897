"""The flow engine alone: pure functions over a flow and a state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.kernel.flows import engine
from core.kernel.flows.engine import NavLabels, Status
from core.kernel.flows.schema import Flow, Option, parse_flow
from core.kernel.problems import Problems

NOW = datetime(2026, 3, 1, tzinfo=UTC)
LABELS = NavLabels("Stop", "Back", "Skip", "Continue")


def make_flow() -> Flow:
    data = {
        "id": "demo",
        "title": "demo",
        "start": "level",
        "steps": {
            "level": {
                "kind": "scale",
                "text": "Level?",
                "min": 0,
                "max": 10,
                "next": "low",
                "branches": [
                    {"when": [{"answer": "level", "op": "gte", "value": 7}], "goto": "high"}
                ],
            },
            "high": {"kind": "info", "text": "High.", "next": "pick"},
            "low": {"kind": "info", "text": "Low.", "next": "pick"},
            "pick": {
                "kind": "choice",
                "text": "Pick",
                "options_from": "parts",
                "options": [{"id": "a", "label": "Apple"}],
                "next": "note",
            },
            "note": {"kind": "text", "text": "Note?", "max_length": 5},
        },
    }
    problems = Problems()
    flow = parse_flow(data, "demo.toml", problems)
    assert flow is not None, problems.lines()
    return flow


def test_branch_on_an_earlier_answer() -> None:
    flow = make_flow()
    state = engine.start(flow, NOW)
    high = engine.answer_choice(flow, state, "level", "8", NOW)
    assert high.state.step == "high"
    low = engine.answer_text(flow, state, "3", NOW)
    assert low.state.step == "low"


def test_dynamic_options_come_first_and_are_accepted() -> None:
    flow = make_flow()
    dynamic = {"parts": (Option("p7", "The Critic"),)}
    state = engine.answer_text(flow, engine.start(flow, NOW), "1", NOW).state
    state = engine.answer_text(flow, state, "ok", NOW).state
    reply = engine.render(flow, state, LABELS, dynamic)
    assert [c.label for c in reply.choices][:2] == ["The Critic", "Apple"]
    outcome = engine.answer_text(flow, state, "the critic", NOW, dynamic)
    assert outcome.state.answers["pick"] == "p7"


def test_text_step_caps_length_and_finishes() -> None:
    flow = make_flow()
    state = engine.start(flow, NOW)
    for answer in ("1", "ok", "Apple"):
        state = engine.answer_text(flow, state, answer, NOW).state
    too_long = engine.answer_text(flow, state, "abcdef", NOW)
    assert too_long.status is Status.INVALID and too_long.params == {"limit": 5, "got": 6}
    done = engine.answer_text(flow, state, "abc", NOW)
    assert done.status is Status.DONE
    assert done.state.answers == {"level": 1, "low": "ok", "pick": "a", "note": "abc"}


def test_back_forgets_the_abandoned_branch() -> None:
    flow = make_flow()
    state = engine.answer_text(flow, engine.start(flow, NOW), "9", NOW).state
    state = engine.answer_text(flow, state, "ok", NOW).state
    state = engine.go_back(flow, state, NOW).state
    state = engine.go_back(flow, state, NOW).state
    assert state.step == "level"
    state = engine.answer_text(flow, state, "2", NOW).state
    state = engine.answer_text(flow, state, "ok", NOW).state
    state = engine.skip(flow, state, NOW).state
    done = engine.skip(flow, state, NOW)
    assert done.status is Status.DONE
    assert "high" not in done.state.answers
    assert done.state.answers["pick"] is None


def test_state_round_trips_through_json() -> None:
    flow = make_flow()
    state = engine.answer_text(flow, engine.start(flow, NOW, {"then": "x"}), "4", NOW).state
    again = engine.FlowState.from_json(state.to_json(), NOW)
    assert again == state


def test_schema_errors_name_file_and_key() -> None:
    problems = Problems()
    data = {
        "id": "bad",
        "title": "Bad",
        "start": "nowhere",
        "steps": {
            "a": {"kind": "dance", "text": "x"},
            "b": {"kind": "choice", "text": "y", "next": "zzz"},
            "c": {"kind": "scale", "text": "z", "min": 5, "max": 2, "colour": "red"},
            "d": {
                "kind": "info",
                "text": "w",
                "branches": [{"when": [{"answer": "q", "op": "gte"}], "goto": "a"}],
            },
        },
    }
    assert parse_flow(data, "flows/bad.toml", problems) is None
    text = "\n".join(problems.lines())
    assert 'flows/bad.toml: start: names a step "nowhere"' in text
    assert "steps.a.kind: must be one of" in text
    assert "steps.b.options: a choice step needs options" in text
    assert 'steps.b.next: names an unknown step "zzz"' in text
    assert "steps.c.min" in text and "steps.c.colour: unknown key" in text
    assert "steps.d.branches[0].when[0].value" in text


def test_timed_steps_move_on_by_themselves_or_sooner() -> None:
    problems = Problems()
    data = {
        "id": "paced",
        "title": "paced",
        "start": "breathe",
        "steps": {
            "breathe": {"kind": "timed", "text": "Breathe.", "seconds": 60, "next": "rest"},
            "rest": {"kind": "timed", "text": "Rest.", "seconds": 30},
        },
    }
    flow = parse_flow(data, "paced.toml", problems)
    assert flow is not None, problems.lines()
    state = engine.start(flow, NOW)
    assert state.due_at == NOW + timedelta(seconds=60)
    assert engine.tick(flow, state, NOW + timedelta(seconds=59)) is None
    moved = engine.tick(flow, state, NOW + timedelta(seconds=60))
    assert moved is not None and moved.state.step == "rest"
    assert moved.state.due_at == NOW + timedelta(seconds=90)
    reply = engine.render(flow, moved.state, LABELS)
    assert reply.replace_key == "pace:paced"
    # The member may go on sooner; the last step then finishes the flow.
    assert engine.answer_text(flow, moved.state, "ok", NOW).status is Status.DONE
    back = engine.go_back(flow, moved.state, NOW + timedelta(seconds=70))
    assert back.state.due_at == NOW + timedelta(seconds=130)


def test_timed_step_needs_seconds() -> None:
    problems = Problems()
    data = {"id": "p", "title": "p", "start": "a", "steps": {"a": {"kind": "timed", "text": "x"}}}
    assert parse_flow(data, "p.toml", problems) is None
    assert "steps.a.seconds: a timed step needs seconds" in "\n".join(problems.lines())
