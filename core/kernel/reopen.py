"""Opening a flow at a given step, for features that check an answer before going on.

A step with `next = "end"` hands its answer to the flow's finisher; the finisher checks it
and, when it is fine, opens the following step with what was answered so far (and a trail,
so Back still works). When it is not, it says why and opens the same step again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from core.kernel.flows import engine
from core.kernel.flows.schema import Answer
from core.kernel.turn import Turn


async def open_at(
    turn: Turn,
    flow_id: str,
    step: str,
    *,
    answers: Mapping[str, Answer] | None = None,
    trail: tuple[str, ...] = (),
    context: dict[str, str] | None = None,
) -> None:
    if turn.session is not None and turn.session.flow_id != flow_id:
        turn.say("flow.replaced", title=turn.flow().title)
    flow = turn.cat.flows[flow_id]
    state = replace(
        engine.start(flow, turn.now, context),
        step=step,
        answers=dict(answers or {}),
        trail=trail,
        due_at=None,
    )
    turn.session = state
    await turn.repos.sessions.put(turn.member.id, state)
    await turn.reshow()
