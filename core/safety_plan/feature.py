"""/safetyplan: the member's own safety plan, six optional sections in their own words."""

from __future__ import annotations

from dataclasses import replace

from core.kernel.feature import Command, Feature
from core.kernel.flows.engine import FlowState
from core.kernel.model import Choice, Reply
from core.kernel.reopen import open_at
from core.kernel.turn import Turn
from core.safety_plan.content import FLOWS, MESSAGES
from core.safety_plan.plan import (
    FLOW_ID,
    MAX_SECTION_CHARS,
    SECTIONS,
    filled,
    plan_messages,
    section_title,
)
from core.safety_plan.ports import stores

PREFIX = "splan"
WALK = "walk"


def _see_plan(turn: Turn) -> tuple[Choice, ...]:
    return (Choice("cmd:safetyplan", turn.cat.text("safetyplan.see_plan")),)


async def show_plan(turn: Turn, args: tuple[str, ...] = ()) -> None:
    plan = await stores(turn.repos).plans.get(turn.member.id)
    c = turn.cat
    if not filled(plan):
        turn.say(
            "safetyplan.invite",
            (
                Choice(f"{PREFIX}:{WALK}", c.text("safetyplan.write_all")),
                Choice(f"{PREFIX}:pick", c.text("safetyplan.write_one")),
            ),
        )
        return
    for text in plan_messages(c, plan, "safetyplan.heading", show_empty=True):
        turn.add(Reply(text))
    turn.say(
        "safetyplan.menu",
        (
            Choice(f"{PREFIX}:pick", c.text("safetyplan.edit")),
            Choice(f"{PREFIX}:{WALK}", c.text("safetyplan.walk")),
            Choice(f"{PREFIX}:clear", c.text("safetyplan.clear")),
        ),
    )


async def open_section(turn: Turn, section: str, walk: bool, trail: tuple[str, ...] = ()) -> None:
    """Shows what the section says now (if anything), then asks for the member's words."""
    current = (await stores(turn.repos).plans.get(turn.member.id)).get(section, "").strip()
    context = {WALK: "1"} if walk else {}
    await open_at(turn, FLOW_ID, section, trail=trail, context=context)
    if current and turn.replies and not turn.quiet:
        # Under the section's heading (its text's first paragraph), before the question.
        question = turn.replies[-1]
        heading, _, rest = question.text.partition("\n\n")
        now = turn.cat.text("safetyplan.current", text=current)
        text = f"{heading}\n\n{now}\n\n{rest}" if rest else f"{now}\n\n{heading}"
        turn.replies[-1] = replace(question, text=text)


async def finish_section(turn: Turn, state: FlowState) -> None:
    """Each section is saved as soon as it is answered; skip leaves it as it was."""
    section = state.step
    if section not in SECTIONS:
        turn.say("safetyplan.unknown")
        return
    title = section_title(turn.cat, section)
    answer = state.answers.get(section)
    text = answer.strip() if isinstance(answer, str) else ""
    walk = state.context.get(WALK) == "1"
    if len(text) > MAX_SECTION_CHARS:
        # Only reachable when content allows longer answers than storage keeps.
        turn.say("input.too_long", limit=MAX_SECTION_CHARS, got=len(text))
        await open_at(turn, FLOW_ID, section, trail=state.trail, context=dict(state.context))
        return
    if text:
        await stores(turn.repos).plans.put_section(turn.member.id, section, text, turn.now)
    if not walk:
        key = "safetyplan.saved" if text else "safetyplan.unchanged"
        turn.say(key, _see_plan(turn), section=title)
        return
    if text:
        turn.say("safetyplan.saved_step", section=title)
    following = SECTIONS.index(section) + 1
    if following < len(SECTIONS):
        await open_section(turn, SECTIONS[following], True, (*state.trail, section))
    else:
        turn.say("safetyplan.walk_done", _see_plan(turn))


async def plan_choice(turn: Turn, rest: str) -> None:
    action, _, section = rest.partition(":")
    c = turn.cat
    plan = await stores(turn.repos).plans.get(turn.member.id)
    if action == WALK and not section:
        turn.say("safetyplan.walk_intro")
        await open_section(turn, SECTIONS[0], True)
    elif action == "pick" and not section:
        choices = tuple(Choice(f"{PREFIX}:edit:{s}", section_title(c, s)) for s in SECTIONS)
        turn.say("safetyplan.pick_edit", choices)
    elif action == "edit" and section in SECTIONS:
        await open_section(turn, section, False)
    elif action == "clear" and not section:
        written = filled(plan)
        if not written:
            turn.say("safetyplan.nothing_to_clear")
            return
        choices = tuple(Choice(f"{PREFIX}:clr:{s}", section_title(c, s)) for s in written)
        turn.say("safetyplan.pick_clear", choices)
    elif action == "clr" and section in SECTIONS:
        choices = (
            Choice(f"{PREFIX}:clryes:{section}", c.text("safetyplan.clear_yes")),
            Choice(f"{PREFIX}:keep", c.text("safetyplan.clear_no")),
        )
        turn.say("safetyplan.confirm_clear", choices, section=section_title(c, section))
    elif action == "clryes" and section in SECTIONS:
        await stores(turn.repos).plans.clear_section(turn.member.id, section)
        turn.say("safetyplan.cleared", _see_plan(turn), section=section_title(c, section))
    elif action == "keep" and not section:
        turn.say("safetyplan.kept")
    else:
        turn.say("safetyplan.unknown")


FEATURE = Feature(
    name="safety_plan",
    order=60,
    commands={"safetyplan": Command(show_plan, takes_args=False)},
    buttons=frozenset({"safetyplan"}),
    choices={PREFIX: plan_choice},
    finishers={"safetyplan": finish_section},
    messages=MESSAGES,
    flows=FLOWS,
    member_data=("plans",),
)
