"""/parts: the member's own parts map, and /parts talk: a gentle 6 F's talk with a protector.

Everything here stays at the protector level: a part the member calls young or hurt is met
warmly and pointed to a therapist (the flow's `gentle` step), never explored.
"""

from __future__ import annotations

from dataclasses import replace

from core.kernel.feature import Feature
from core.kernel.flows.engine import FlowState
from core.kernel.flows.schema import Answer
from core.kernel.model import Choice, Reply
from core.kernel.numbers import parse_number
from core.kernel.reopen import open_at
from core.kernel.shown import one_line
from core.kernel.turn import Invalid, Turn
from core.parts.content import FLOWS, MESSAGES
from core.parts.ports import stores
from core.parts.records import Part

PREFIX = "parts"
NAME_MAX = 60
# Each note; four full notes still fit in one message on every platform.
NOTE_MAX = 400
# Named parts become buttons in /checkin too: this keeps every platform's button limit.
MAX_PARTS = 15
ROLES = ("manager", "firefighter", "exile", "unsure")
EXILE = "exile"
NOTE_FIELDS = ("body", "says", "protects", "notes")
# What the member answered in /parts talk, and the note it goes into (with a label or not).
LEARNED: tuple[tuple[str, str, str | None], ...] = (
    ("find", "body", None),
    ("words", "says", None),
    ("job", "protects", "parts.learned_job"),
    ("fear", "protects", "parts.learned_fear"),
    ("image", "notes", "parts.learned_image"),
    ("how_long", "notes", "parts.learned_how_long"),
)
# A part the member had not named yet: what they said it is like -> its role.
KIND_ROLES = {"plans": "manager", "rushes": "firefighter", "unsure": "unsure"}
GROUND_ANSWERS = ("steady", "unblend", "gentle")

ADD_FLOW, RENAME_FLOW, DESCRIBE_FLOW, TALK_FLOW = (
    "parts_add",
    "parts_rename",
    "parts_describe",
    "parts_talk",
)


def _id(raw: str) -> int | None:
    return parse_number(raw)


def _role(part: Part) -> str:
    return part.role if part.role in ROLES else "unsure"


def _button(action: str, part: Part | None = None) -> str:
    return f"{PREFIX}:{action}" if part is None else f"{PREFIX}:{action}:{part.id}"


async def find_part(turn: Turn, part_id: int | None) -> Part | None:
    if part_id is None:
        return None
    return next(
        (p for p in await stores(turn.repos).parts.list(turn.member.id) if p.id == part_id), None
    )


async def name_problem(turn: Turn, raw: str, except_id: int | None = None) -> Invalid | None:
    name = one_line(raw)
    if not name:
        return Invalid("parts.name_empty")
    if len(name) > NAME_MAX:
        return Invalid("parts.name_too_long", {"limit": NAME_MAX, "got": len(name)})
    folded = name.casefold()
    for part in await stores(turn.repos).parts.list(turn.member.id):
        if part.id != except_id and part.name.casefold() == folded:
            return Invalid("parts.name_taken", {"name": part.name})
    return None


async def validate_part_name(turn: Turn, text: str) -> Invalid | None:
    """The `part_name` validator: renaming a part may keep its own name (in other capitals);
    a new part's name is only asked for while the map has room."""
    context = turn.session.context if turn.session is not None else {}
    part_id = _id(context.get("part", ""))
    if part_id is None and len(await stores(turn.repos).parts.list(turn.member.id)) >= MAX_PARTS:
        return Invalid("parts.map_full", {"limit": MAX_PARTS})
    return await name_problem(turn, text, part_id)


def _say_invalid(turn: Turn, invalid: Invalid) -> None:
    turn.say(invalid.key, (), **invalid.params)


# -- the map ------------------------------------------------------------------------------


async def show_map(turn: Turn, lead: str | None = None) -> None:
    parts = await stores(turn.repos).parts.list(turn.member.id)
    lines = [turn.cat.text(lead)] if lead else []
    choices = [Choice(_button("open", p), p.name) for p in parts]
    if parts:
        lines.append(turn.cat.text("parts.map_head"))
        lines += [
            turn.cat.text(
                "parts.map_line", name=p.name, role=turn.cat.text(f"parts.role.{_role(p)}")
            )
            for p in parts
        ]
    else:
        lines.append(turn.cat.text("parts.map_empty"))
    if len(parts) < MAX_PARTS:
        choices.append(Choice(_button("add"), turn.cat.text("parts.add")))
    choices.append(Choice(_button("talk"), turn.cat.text("parts.talk")))
    turn.add(Reply("\n".join(lines), choices=tuple(choices)))


def _detail_text(turn: Turn, part: Part) -> str:
    about = turn.cat.text(f"parts.role_about.{_role(part)}")
    lines = [turn.cat.text("parts.detail_head", name=part.name, role=about)]
    notes = [(f, getattr(part, f)) for f in NOTE_FIELDS if getattr(part, f)]
    for field, text in notes:
        lines.append(turn.cat.text("parts.detail_note", label=_label(turn, field), text=text))
    if not notes:
        lines.append(turn.cat.text("parts.detail_no_notes"))
    return "\n\n".join(lines)


def _label(turn: Turn, field: str) -> str:
    return turn.cat.text(f"parts.field.{field}")


async def show_part(turn: Turn, part: Part) -> None:
    actions = ("talk", "describe", "role", "rename", "remove")
    choices = [Choice(_button(a, part), turn.cat.text(f"parts.open_{a}")) for a in actions]
    choices.append(Choice(_button("list"), turn.cat.text("parts.back_to_map")))
    turn.add(Reply(_detail_text(turn, part), choices=tuple(choices)))


def _waiting_name(turn: Turn) -> str:
    """The name of a part still waiting for its role, if an unfinished /parts add has one."""
    state = turn.session
    if state is None or state.flow_id != ADD_FLOW or state.step != "role":
        return ""
    return one_line(_text(state.answers.get("name")) or state.context.get("name", ""))


async def _ask_role(turn: Turn, name: str, trail: tuple[str, ...] = ()) -> None:
    """The role question, with the part's name at its top."""
    waiting = _waiting_name(turn)
    if waiting:
        # A new /parts add while another part waits for its role: say that one was set aside.
        turn.say("parts.add_set_aside", name=waiting)
        turn.session = None
    answers: dict[str, Answer] = {"name": name} if trail else {}
    await open_at(turn, ADD_FLOW, "role", answers=answers, trail=trail, context={"name": name})
    if turn.replies and not turn.quiet:
        question = turn.replies[-1]
        lead = turn.cat.text("parts.role_for", name=name)
        turn.replies[-1] = replace(question, text=f"{lead}\n\n{question.text}")


async def start_add(turn: Turn, raw_name: str = "") -> None:
    if len(await stores(turn.repos).parts.list(turn.member.id)) >= MAX_PARTS:
        turn.say("parts.map_full", limit=MAX_PARTS)
        return
    if not raw_name.strip():
        if _waiting_name(turn):
            turn.say("parts.add_set_aside", name=_waiting_name(turn))
            turn.session = None
        await turn.start_flow(ADD_FLOW)
        return
    invalid = await name_problem(turn, raw_name)
    if invalid is not None:
        # Nothing is lost: the member can type another name right here.
        _say_invalid(turn, invalid)
        await turn.start_flow(ADD_FLOW)
        return
    await _ask_role(turn, one_line(raw_name))


async def parts_command(turn: Turn, args: tuple[str, ...]) -> None:
    """`/parts`, `/parts add [name]`, `/parts talk`, or `/parts <name>` to open one."""
    action = args[0].casefold() if args else ""
    if not args:
        await show_map(turn)
    elif action == "add":
        await start_add(turn, " ".join(args[1:]))
    elif action == "talk" and len(args) == 1:
        await show_talk_menu(turn)
    else:
        wanted = one_line(" ".join(args)).casefold()
        parts = await stores(turn.repos).parts.list(turn.member.id)
        part = next((p for p in parts if p.name.casefold() == wanted), None)
        if part is None:
            await show_map(turn, "parts.not_found_name")
        else:
            await show_part(turn, part)


async def parts_choice(turn: Turn, rest: str) -> None:
    action, _, raw_id = rest.partition(":")
    if action == "list":
        await show_map(turn)
    elif action == "add":
        await start_add(turn)
    elif action == "close":
        turn.say("parts.closed")
    elif action == "talk" and not raw_id:
        await show_talk_menu(turn)
    elif action == "talk" and raw_id == "new":
        await turn.start_flow(TALK_FLOW, {"part": ""})
    elif action in PART_ACTIONS:
        part = await find_part(turn, _id(raw_id))
        if part is None:
            await show_map(turn, "parts.gone")
        else:
            await PART_ACTIONS[action](turn, part)
    else:
        turn.say("flow.stale")


async def _open(turn: Turn, part: Part) -> None:
    await show_part(turn, part)


async def _describe(turn: Turn, part: Part) -> None:
    turn.say("parts.describe_intro", name=part.name)
    await turn.start_flow(DESCRIBE_FLOW, {"part": str(part.id)})


async def _change_role(turn: Turn, part: Part) -> None:
    turn.say("parts.role_intro", name=part.name, role=turn.cat.text(f"parts.role.{_role(part)}"))
    await turn.start_flow(DESCRIBE_FLOW, {"part": str(part.id)}, at="role")


async def _rename(turn: Turn, part: Part) -> None:
    turn.say("parts.rename_intro", name=part.name)
    await turn.start_flow(RENAME_FLOW, {"part": str(part.id)})


async def _remove(turn: Turn, part: Part) -> None:
    choices = (
        Choice(_button("remove_yes", part), turn.cat.text("parts.remove_yes")),
        Choice(_button("open", part), turn.cat.text("parts.remove_no")),
    )
    turn.say("parts.remove_confirm", choices, name=part.name)


async def _remove_yes(turn: Turn, part: Part) -> None:
    if await stores(turn.repos).parts.remove(turn.member.id, part.id):
        turn.say("parts.removed", name=part.name)
    else:
        await show_map(turn, "parts.gone")


async def _talk(turn: Turn, part: Part) -> None:
    context = {"part": str(part.id)}
    if part.role == EXILE:
        turn.say("parts.talk_exile_named", name=part.name)
        await turn.start_flow(TALK_FLOW, context, at="gentle")
    else:
        turn.say("parts.talk_with", name=part.name)
        await turn.start_flow(TALK_FLOW, context, at="before")


PART_ACTIONS = {
    "open": _open,
    "describe": _describe,
    "role": _change_role,
    "rename": _rename,
    "remove": _remove,
    "remove_yes": _remove_yes,
    "talk": _talk,
}


# -- flow finishers -------------------------------------------------------------------------


def _changed(part: Part, changes: dict[str, str]) -> Part:
    """`part` with a new role and notes where `changes` has them."""
    return replace(
        part,
        role=changes.get("role", part.role),
        notes=changes.get("notes", part.notes),
        body=changes.get("body", part.body),
        says=changes.get("says", part.says),
        protects=changes.get("protects", part.protects),
    )


def _text(answer: Answer) -> str:
    return answer if isinstance(answer, str) else ""


async def finish_add(turn: Turn, state: FlowState) -> None:
    name = one_line(_text(state.answers.get("name")) or state.context.get("name", ""))
    if not name:
        turn.say("parts.add_no_name")
        return
    if len(await stores(turn.repos).parts.list(turn.member.id)) >= MAX_PARTS:
        turn.say("parts.map_full", limit=MAX_PARTS)
        return
    invalid = await name_problem(turn, name)
    if invalid is not None:
        _say_invalid(turn, invalid)
        return
    if state.step == "name":
        # The name is given: the role question comes next, naming the part.
        await _ask_role(turn, name, trail=("name",))
        return
    role = _text(state.answers.get("role"))
    part = await stores(turn.repos).parts.add(
        turn.member.id, name, role if role in ROLES else "unsure", turn.now
    )
    turn.say("parts.added", name=part.name)
    await show_part(turn, part)


async def finish_rename(turn: Turn, state: FlowState) -> None:
    part = await find_part(turn, _id(state.context.get("part", "")))
    if part is None:
        await show_map(turn, "parts.gone")
        return
    name = one_line(_text(state.answers.get("name")))
    invalid = await name_problem(turn, name, part.id) if name else None
    if not name or invalid is not None:
        if invalid is not None:
            _say_invalid(turn, invalid)
        turn.say("parts.unchanged", name=part.name)
        return
    renamed = await stores(turn.repos).parts.rename(turn.member.id, part.id, name)
    if renamed is None:
        await show_map(turn, "parts.gone")
        return
    turn.say("parts.renamed", old=part.name, name=renamed.name)


async def finish_describe(turn: Turn, state: FlowState) -> None:
    part = await find_part(turn, _id(state.context.get("part", "")))
    if part is None:
        await show_map(turn, "parts.gone")
        return
    changes: dict[str, str] = {
        f: text.strip()[:NOTE_MAX] for f in NOTE_FIELDS if (text := _text(state.answers.get(f)))
    }
    role = _text(state.answers.get("role"))
    if role in ROLES:
        changes["role"] = role
    if not changes:
        turn.say("parts.unchanged", name=part.name)
        return
    updated = await stores(turn.repos).parts.update(_changed(part, changes))
    if updated is None:
        await show_map(turn, "parts.gone")
        return
    turn.say("parts.updated", name=updated.name)
    await show_part(turn, updated)


# -- /parts talk ----------------------------------------------------------------------------


async def show_talk_menu(turn: Turn, protectors_only: bool = False) -> None:
    parts = await stores(turn.repos).parts.list(turn.member.id)
    shown = [p for p in parts if not (protectors_only and p.role == EXILE)]
    choices = [Choice(_button("talk", p), p.name) for p in shown]
    choices.append(Choice(_button("talk") + ":new", turn.cat.text("parts.talk_new")))
    choices.append(Choice(_button("close"), turn.cat.text("parts.close")))
    turn.say("parts.talk_intro", tuple(choices))


def learned_notes(turn: Turn, part: Part, answers: dict[str, Answer]) -> tuple[Part, list[str]]:
    """`part` with what the talk brought added to its notes; the notes that were too full."""
    additions: dict[str, list[str]] = {}
    for step, field, label in LEARNED:
        text = _text(answers.get(step)).strip()
        if text:
            additions.setdefault(field, []).append(
                turn.cat.text(label, text=text) if label else text
            )
    changes: dict[str, str] = {}
    full: list[str] = []
    for field, lines in additions.items():
        merged = "\n".join([getattr(part, field), *lines]).strip()
        if len(merged) > NOTE_MAX:
            full.append(_label(turn, field))
        else:
            changes[field] = merged
    return _changed(part, changes), full


async def _save_learned(turn: Turn, part: Part, answers: dict[str, Answer]) -> list[str]:
    updated, full = learned_notes(turn, part, answers)
    lines = []
    if await stores(turn.repos).parts.update(updated) is None:
        return [turn.cat.text("parts.talk_part_gone")]
    if full:
        lines.append(turn.cat.text("parts.talk_not_fitted", fields=", ".join(full)))
    return lines


async def _talk_saving(turn: Turn, state: FlowState) -> list[str]:
    answers = state.answers
    if "kind" in answers:
        name = one_line(_text(answers.get("new_name")))
        if answers.get("save_new") != "add" or not name:
            return [turn.cat.text("parts.talk_not_saved")]
        invalid = await name_problem(turn, name)
        if invalid is not None:
            return [turn.cat.text(invalid.key, **invalid.params)]
        if len(await stores(turn.repos).parts.list(turn.member.id)) >= MAX_PARTS:
            return [turn.cat.text("parts.map_full", limit=MAX_PARTS)]
        role = KIND_ROLES.get(_text(answers.get("kind")), "unsure")
        added = await stores(turn.repos).parts.add(turn.member.id, name, role, turn.now)
        return [turn.cat.text("parts.talk_added", name=name)] + await _save_learned(
            turn, added, answers
        )
    if answers.get("save") != "yes":
        return [turn.cat.text("parts.talk_not_saved")]
    part = await find_part(turn, _id(state.context.get("part", "")))
    if part is None:
        return [turn.cat.text("parts.talk_part_gone")]
    return [turn.cat.text("parts.talk_saved", name=part.name)] + await _save_learned(
        turn, part, answers
    )


async def finish_talk(turn: Turn, state: FlowState) -> None:
    answers = state.answers
    if any(answers.get(step) == "ground" for step in GROUND_ANSWERS):
        turn.say("parts.talk_to_ground")
        ground = turn.app.registry.commands.get("ground")
        if ground is not None:
            await ground(turn, ())
        return
    if answers.get("gentle") == "protector":
        await show_talk_menu(turn, protectors_only=True)
        return
    if "after" not in answers and "save" not in answers and "save_new" not in answers:
        # Stopped by choice at the grounding offer or the gentle step.
        turn.say("parts.talk_ended")
        return
    lines = [turn.cat.text("parts.talk_thanks")]
    before, after = answers.get("before"), answers.get("after")
    if isinstance(before, int) and isinstance(after, int):
        lines.append(turn.cat.text("parts.talk_change", before=before, after=after))
    lines += await _talk_saving(turn, state)
    choices = (
        Choice("cmd:ground", turn.cat.text("parts.talk_offer_ground")),
        Choice(_button("list"), turn.cat.text("parts.back_to_map")),
    )
    turn.add(Reply("\n\n".join(lines), choices=choices))


FEATURE = Feature(
    name="parts",
    order=50,
    commands={"parts": parts_command},
    buttons=frozenset({"parts"}),
    choices={PREFIX: parts_choice},
    finishers={
        ADD_FLOW: finish_add,
        RENAME_FLOW: finish_rename,
        DESCRIBE_FLOW: finish_describe,
        TALK_FLOW: finish_talk,
    },
    validators={"part_name": validate_part_name},
    messages=MESSAGES,
    flows=FLOWS,
    member_data=("parts",),
)
