"""/volunteer, and taking a reach-out request (issue 6). The logic lives in logic.py.

In a group, /volunteer answers with one line and a button into the private chat that names
the group (`/start volunteer-<group>`); privately a member opts in or out for a group they
belong to, sets quiet hours, or sees their status. Only groups with volunteers on take them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from core.groups.reachouts.content import MESSAGES
from core.groups.reachouts.logic import ACK_COMMAND, REACH_PREFIX, ack_command, reach_choice
from core.groups.reachouts.ports import stores
from core.groups.reachouts.records import Volunteer
from core.groups.records import Group
from core.groups.times import hhmm, parse_hhmm, parse_tz, suggest_tz
from core.kernel.feature import Command, Feature, Where
from core.kernel.membership import Check
from core.kernel.model import Choice, Reply, SpaceKind
from core.kernel.numbers import parse_number
from core.kernel.shown import echo
from core.kernel.turn import Host, Turn

VOLUNTEER_PREFIX = "vol"
QUIET = re.compile(r"(\d{1,2}[:.h]\d{2})-(\d{1,2}[:.h]\d{2})")
EX_QUIET = "/volunteer quiet 22:00-07:00 Europe/Berlin"


def _quiet(turn: Turn, v: Volunteer) -> str:
    if not v.quiet_from or not v.quiet_to:
        return turn.cat.text("volunteer.quiet_none")
    return turn.cat.text("volunteer.quiet_hours", start=v.quiet_from, end=v.quiet_to, tz=v.timezone)


async def _open_groups(turn: Turn) -> list[Group]:
    """The member's groups, on this platform, that have volunteers on."""
    found = []
    for group_id in await stores(turn.repos).reachouts.groups_of(turn.member.id):
        group = await stores(turn.repos).groups.by_id(group_id)
        if group is not None and group.platform == turn.event.platform and group.volunteers:
            found.append(group)
    return found


async def _mine(turn: Turn, group_id: int) -> Volunteer | None:
    for v in await stores(turn.repos).reachouts.volunteering(turn.member.id):
        if v.group_id == group_id:
            return v
    return None


async def volunteer_command(turn: Turn, args: tuple[str, ...]) -> None:
    if turn.event.space.kind is SpaceKind.GROUP:
        await _in_group(turn)
        return
    sub = args[0].casefold() if args else ""
    if not sub:
        await _status(turn)
    elif parse_number(sub) is not None:
        await _panel(turn, sub)
    elif sub in ("on", "off"):
        await _on_off(turn, sub == "on", args[1] if len(args) > 1 else "")
    elif sub == "quiet":
        await _set_quiet(turn, args[1:])
    else:
        turn.say("volunteer.unknown", got=echo(sub))
        turn.say("volunteer.help")


async def _in_group(turn: Turn) -> None:
    space = turn.event.space.id
    group = await stores(turn.repos).groups.get_or_create(turn.event.platform, space, turn.now)
    if not group.volunteers:
        turn.add(Reply(turn.cat.text("volunteer.group_off"), private=False))
        return
    text = turn.cat.text("volunteer.group_link")
    link = {"link_label": turn.cat.text("groups.open_button")}
    turn.add(Reply(text, private=False, private_link=f"volunteer-{group.id}", meta=link))


async def _status(turn: Turn) -> None:
    mine = await stores(turn.repos).reachouts.volunteering(turn.member.id)
    if not mine:
        turn.say("volunteer.status_none")
    else:
        lines = [turn.cat.text("volunteer.status_head")]
        lines += [
            turn.cat.text("volunteer.status_line", group=v.group_id, quiet=_quiet(turn, v))
            for v in mine
        ]
        turn.add(Reply("\n".join(lines)))
    turn.say("volunteer.help")


async def _group(turn: Turn, typed: str) -> Group | str:
    """A group the member belongs to with volunteers on, or why not (a message)."""
    groups = await _open_groups(turn)
    if typed:
        wanted = parse_number(typed)
        for group in groups:
            if group.id == wanted:
                return group
        if wanted is not None and wanted in await stores(turn.repos).reachouts.groups_of(
            turn.member.id
        ):
            return turn.cat.text("volunteer.group_off")
        return turn.cat.text("volunteer.unknown_group", got=echo(typed))
    if len(groups) == 1:
        return groups[0]
    if not groups:
        return turn.cat.text("volunteer.no_groups")
    numbers = ", ".join(str(g.id) for g in groups)
    return turn.cat.text(
        "volunteer.which_group", groups=numbers, example=f"/volunteer on {groups[0].id}"
    )


async def _panel(turn: Turn, typed: str) -> None:
    group = await _group(turn, typed)
    if isinstance(group, str):
        turn.add(Reply(group))
        return
    mine = await _mine(turn, group.id)
    c = turn.cat
    action = "off" if mine else "on"
    label = c.text(f"volunteer.{action}_button")
    choices = (Choice(f"{VOLUNTEER_PREFIX}:{action}:{group.id}", label),)
    state = c.text("volunteer.state_on" if mine else "volunteer.state_off")
    turn.say("volunteer.panel", choices, group=group.id, state=state)


async def _on_off(turn: Turn, on: bool, typed: str) -> None:
    if not on and not typed:
        mine = await stores(turn.repos).reachouts.volunteering(turn.member.id)
        if len(mine) == 1:
            typed = str(mine[0].group_id)
    group = await _group(turn, typed)
    if isinstance(group, str):
        number = parse_number(typed)
        if not on and number is not None:
            await _off(turn, number)
            return
        turn.add(Reply(group))
        return
    if on:
        await _on(turn, group)
    else:
        await _off(turn, group.id)


async def _on(turn: Turn, group: Group) -> None:
    mine = await _mine(turn, group.id)
    if mine is None:
        # Only someone in the group right now, as the platform says (issue 12): the groups a
        # member was seen in stay on record after they leave.
        check = await turn.app.membership.in_group(
            group.platform, group.space_id, turn.event.user_id
        )
        if check is Check.NO:
            await stores(turn.repos).reachouts.left(group.id, turn.member.id)
            turn.say("volunteer.not_member", group=group.id)
            return
        if check is Check.UNKNOWN:
            turn.say("volunteer.unchecked")
            return
        # Quiet hours, if the member set them for another group, come along.
        others = await stores(turn.repos).reachouts.volunteering(turn.member.id)
        base = others[0] if others else Volunteer(group.id, turn.member.id, timezone=group.timezone)
        mine = Volunteer(group.id, turn.member.id, base.quiet_from, base.quiet_to, base.timezone)
        await stores(turn.repos).reachouts.put_volunteer(mine, turn.now)
    turn.say("volunteer.opted_in", group=group.id, quiet=_quiet(turn, mine), example=EX_QUIET)


async def _off(turn: Turn, group_id: int) -> None:
    if await stores(turn.repos).reachouts.remove_volunteer(group_id, turn.member.id):
        turn.say("volunteer.opted_out", group=group_id)
    else:
        turn.say("volunteer.not_volunteering", group=group_id)


async def _set_quiet(turn: Turn, rest: tuple[str, ...]) -> None:
    mine = await stores(turn.repos).reachouts.volunteering(turn.member.id)
    if not mine:
        turn.say("volunteer.quiet_not_volunteer")
        return
    if not rest:
        turn.say("volunteer.quiet_missing", example=EX_QUIET)
        return
    if rest[0].casefold() in ("off", "none"):
        for v in mine:
            cleared = Volunteer(v.group_id, v.member_id, "", "", v.timezone)
            await stores(turn.repos).reachouts.put_volunteer(cleared, turn.now)
        turn.say("volunteer.quiet_cleared")
        return
    match = QUIET.fullmatch(rest[0].strip())
    start = parse_hhmm(match[1]) if match else None
    end = parse_hhmm(match[2]) if match else None
    if start is None or end is None:
        turn.say("volunteer.quiet_invalid", got=echo(rest[0]), example=EX_QUIET)
        return
    if start == end:
        turn.say("volunteer.quiet_same", example=EX_QUIET)
        return
    tz = mine[0].timezone
    if len(rest) > 1:
        if parse_tz(rest[1]) is None:
            suggestion = suggest_tz(rest[1])
            if suggestion:
                turn.say(
                    "schedule.tz_suggest",
                    got=echo(rest[1]),
                    suggestion=suggestion,
                    example=EX_QUIET,
                )
            else:
                turn.say("schedule.tz_invalid", got=echo(rest[1]), example=EX_QUIET)
            return
        tz = rest[1]
    for v in mine:
        updated = Volunteer(v.group_id, v.member_id, hhmm(start), hhmm(end), tz)
        await stores(turn.repos).reachouts.put_volunteer(updated, turn.now)
    turn.say("volunteer.quiet_saved", start=hhmm(start), end=hhmm(end), tz=tz)


async def volunteer_choice(turn: Turn, rest: str) -> None:
    action, _, raw = rest.partition(":")
    if action not in ("on", "off") or parse_number(raw) is None:
        turn.say("flow.stale")
        return
    await _on_off(turn, action == "on", raw)


async def purge(app: Host, now: datetime) -> int:
    """Belonging to a group (who "Tell a moderator" reaches) ends with the hard cap after the
    member's last activity there; it starts again the next time they take part."""
    cap = timedelta(days=max(1, app.settings.retention_days_max))
    return await stores(app.repos).reachouts.purge_members(now - cap)


FEATURE = Feature(
    name="reachout",
    order=130,
    commands={
        # Answered in the group for all to see; where a platform can answer one member in
        # place, to them alone.
        "volunteer": Command(volunteer_command, where=Where.GROUP, to_them=True),
        # The moderators' channel takes a request with a link: no menu, no slash command.
        ACK_COMMAND: Command(ack_command, button_only=True),
    },
    choices={VOLUNTEER_PREFIX: volunteer_choice, REACH_PREFIX: reach_choice},
    messages=MESSAGES,
    member_data=("reachouts",),
    purge=purge,
)
