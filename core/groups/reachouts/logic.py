"""Reach-outs, moderator alerts and gone channels: the platform-free logic (issues 6 and 7).

- A member who asks, at the end of a group check-in, for a peer to reach out: the request goes
  privately to the group's volunteers who are not in their quiet hours, or (volunteers off or
  none free) to the group's moderators' channel. The first to tap "I'll reach out" takes it and
  the member is told who; if nobody does within the timeout, the member is told kindly and
  shown crisis lines. Nothing is ever sent about a member without that member asking.
- "Tell a moderator" after a crisis reply reaches the moderators' channel of every group the
  member belongs to (where they used a command or answered a post).
- A group's scheduled post the platform says is GONE (channel deleted, bot removed) pauses its
  schedule; the group's moderators are told once, at their next command there. So are they
  of a notice about a schedule's posts (shared lines beside the prompt: no thread allowed).

Every send goes through the outbox; requests, acknowledgements and expiries write their outbox
rows in the same transaction as their own state.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.crisis.records import SupportRequest
from core.crisis.reply import resources_text
from core.crisis.support import moderator_message
from core.groups.reachouts.ports import ReachOutStores, host, stores
from core.groups.reachouts.records import GoneSchedule, NewReachOut, Volunteer
from core.groups.records import Group, Post
from core.groups.times import parse_hhmm, parse_tz
from core.kernel.catalog import Catalog
from core.kernel.flows.schema import Answer
from core.kernel.membership import Check, MembershipRouter
from core.kernel.model import Choice, Event, Reply
from core.kernel.names import name_slot, naming
from core.kernel.shown import one_line
from core.outbox.drainer import SendNotice, payload
from core.outbox.records import NewOutboxItem, OutboxItem

if TYPE_CHECKING:
    from core.groups.reachouts.ports import ReachOutHost
    from core.kernel.turn import Turn
    from core.language.languages import Languages

log = logging.getLogger(__name__)

REACH_PREFIX = "reach"  # the volunteers' private button: reach:ack:<token>
ACK_COMMAND = "reachack"  # the moderators' channel link: /start reachack-<token>
DEFAULT_TIMEOUT = timedelta(hours=2)
MAX_ASKED = 25  # volunteers asked at once for one request
GONE_REASON = "gone"
# What the moderators are told, by the reason a schedule was noted for.
NOTICE_TEXT = {GONE_REASON: "gone.notice", SendNotice.NO_THREAD.value: "gone.no_thread"}


TOKEN_BYTES = 16  # 128 random bits: "reach:ack:" + 32 characters is 42 of callback_data's 64


def new_token() -> str:
    # Lower-case hex (not token_urlsafe): taps and deep-link payloads are case-folded on the
    # way in, which would cost a mixed-case token bits.
    return secrets.token_hex(TOKEN_BYTES)


def in_quiet_hours(volunteer: Volunteer, now: datetime) -> bool:
    """Whether `now` falls in the volunteer's own quiet hours (which may span midnight)."""
    start, end = parse_hhmm(volunteer.quiet_from), parse_hhmm(volunteer.quiet_to)
    zone = parse_tz(volunteer.timezone)
    if start is None or end is None or zone is None or start == end:
        return False
    local = now.astimezone(zone).time().replace(second=0, microsecond=0, tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def mod_destination(group: Group) -> tuple[str, str] | None:
    """Where the group's moderators' channel is: (target, thread), or None when none is set.

    A value starting with "-" is a chat of its own (a Telegram moderators' group, whose ids are
    negative); anything else is a channel, thread or topic inside the group itself.
    """
    channel = group.mod_channel
    if not channel:
        return None
    if channel.startswith("-"):
        return channel, ""
    return group.space_id, channel


async def checked_destination(membership: MembershipRouter, group: Group) -> tuple[str, str] | None:
    """The moderators' channel, re-checked with the platform right before it is used (issue
    12): a value that no longer belongs to the group (or stored before that rule) is not used."""
    where = mod_destination(group)
    if where is None:
        return None
    check = await membership.mod_channel(group.platform, group.space_id, group.mod_channel, None)
    if check is not Check.YES:
        log.warning(
            "group %s: its moderators' channel did not pass the check (%s)", group.id, check
        )
        return None
    return where


def wait_text(cat: Catalog, timeout: timedelta) -> str:
    minutes = max(1, int(timeout.total_seconds() // 60))
    if minutes == 60:
        return cat.text("reach.wait_hour")
    if minutes % 60 == 0:
        return cat.text("reach.wait_hours", n=minutes // 60)
    return cat.text("reach.wait_minutes", n=minutes)


async def note_group_member(
    repos: ReachOutStores, event: Event, member_id: int, now: datetime
) -> None:
    """Remembers that the member belongs to the group an event came from (id 0: nothing)."""
    if not member_id:
        return
    group = await repos.groups.get_or_create(event.platform, event.space.id, now)
    await repos.reachouts.joined(group.id, member_id, now)


# -- asking for a reach-out ---------------------------------------------------------------------


async def can_take(repos: ReachOutStores, group: Group, member_id: int, now: datetime) -> bool:
    """Whether someone could be asked right now: a free volunteer, or a moderators' channel."""
    if mod_destination(group) is not None:
        return True
    if not group.volunteers:
        return False
    return any(
        v.member_id != member_id and not in_quiet_hours(v, now)
        for v in await repos.reachouts.volunteers(group.id)
    )


async def offer_reach_out(turn: Turn, group: Group) -> None:
    """The group check-in just opened: it asks about a reach-out only where one can be taken
    (the flow's never-shown `reach_ok` step, answered here)."""
    if turn.session is None or not await can_take(
        stores(turn.repos), group, turn.member.id, turn.now
    ):
        return
    turn.session.answers["reach_ok"] = "yes"
    await turn.repos.sessions.put(turn.member.id, turn.session)


async def after_group_checkin(turn: Turn, post: Post, answers: Mapping[str, Answer]) -> None:
    """The end of a group check-in: the member belongs to the group, and asked (or not)."""
    await stores(turn.repos).reachouts.joined(post.group_id, turn.member.id, turn.now)
    if answers.get("reach") != "yes":
        return
    line = answers.get("line")
    include = answers.get("share") == "line" and answers.get("reach_line") == "line"
    shared = one_line(line) if include and isinstance(line, str) else ""

    async def ask() -> None:
        # Volunteers and the moderators' channel are checked with the platform first: after
        # the check-in is saved, so no network call holds the write lock.
        await ask_for_reach_out(turn, post, shared or None)

    turn.after_save(ask)


async def ask_for_reach_out(turn: Turn, post: Post, line: str | None) -> None:
    """The member said yes at the end of a group check-in; `line` only if they chose to include
    it. Says what happened; sends nothing when nobody can be asked."""
    repos, member = stores(turn.repos), turn.member
    group = await repos.groups.by_id(post.group_id)
    if group is None:
        _nobody(turn, None)
        return
    # The request is about the group, for its volunteers and moderators: in its language.
    cat = host(turn.app).languages.for_group(group)
    await repos.reachouts.joined(group.id, member.id, turn.now)
    if await repos.reachouts.open_for(group.id, member.id) is not None:
        turn.say("reach.already_open")
        return
    # The asker's name is filled in when the request is sent (core.kernel.names): erasing them
    # erases it from every copy.
    name = await name_slot(repos.names, member.id, turn.event.display_name, turn.now)
    text = cat.text("reach.request", name=name)
    if line:
        text += "\n\n" + cat.text("reach.request_line", line=line)
    token = new_token()
    # How to reach the member, and the language for the words an adapter adds to it.
    contact = {**_contact(turn, cat, name), "locale": cat.locale}
    items = (
        await _volunteer_items(turn, cat, group, text, token, contact) if group.volunteers else []
    )
    sent_to = "volunteers"
    where = await checked_destination(turn.app.membership, group) if not items else None
    if not items and where is not None:
        sent_to = "moderators"
        target, thread = where
        reply = Reply(
            text + "\n\n" + cat.text("reach.request_mods"),
            private=False,
            private_link=f"{ACK_COMMAND}-{token}",
            meta={"link_label": cat.text("reach.ack_button"), **contact},
        )
        data = _naming(turn, cat, payload(reply, thread=thread))
        items = [NewOutboxItem(group.platform, target, data, member_id=member.id)]
    if not items:
        _nobody(turn, group)
        return
    timeout = turn.app.settings.reach_out_timeout
    request = NewReachOut(group.id, member.id, post.id, token, sent_to, turn.now + timeout)
    await repos.reachouts.open_request(request, items, turn.now)
    log.info("reach-out asked (group=%s, to %s, %d messages)", group.id, sent_to, len(items))
    key = "reach.asked_volunteers" if sent_to == "volunteers" else "reach.asked_moderators"
    turn.say(key, wait=wait_text(turn.cat, timeout))


def _contact(turn: Turn, cat: Catalog, name: str) -> dict[str, str]:
    """How whoever takes the request can reach the member who asked: their platform user id
    (never anything they wrote), which each adapter renders its own way (Telegram: a button
    to their profile; Discord: their name as a mention). Only on requests the member made."""
    user_id = turn.event.user_id
    if not user_id:
        return {}
    if one_line(turn.event.display_name):
        label = cat.text("reach.contact_button", name=name)
    else:
        label = cat.text("reach.contact_button_plain")
    return {"contact_user": user_id, "contact_label": label}


async def _volunteer_items(
    turn: Turn, cat: Catalog, group: Group, text: str, token: str, contact: dict[str, str]
) -> list[NewOutboxItem]:
    button = Choice(f"{REACH_PREFIX}:ack:{token}", cat.text("reach.ack_button"))
    items: list[NewOutboxItem] = []
    for volunteer in await stores(turn.repos).reachouts.volunteers(group.id):
        if volunteer.member_id == turn.member.id or in_quiet_hours(volunteer, turn.now):
            continue
        who = await turn.repos.members.by_id(volunteer.member_id)
        if who is None or who.platform != group.platform:
            continue
        # A request goes only to someone the platform says is in the group right now.
        check = await turn.app.membership.in_group(group.platform, group.space_id, who.user_id)
        if check is Check.NO:
            await stores(turn.repos).reachouts.left(group.id, volunteer.member_id)
        if check is not Check.YES:
            continue
        reply = Reply(text + "\n\n" + cat.text("reach.request_volunteer"), (button,), meta=contact)
        data = _naming(turn, cat, payload(reply, private=True))
        items.append(NewOutboxItem(who.platform, who.user_id, data, member_id=turn.member.id))
        if len(items) >= MAX_ASKED:
            break
    return items


def _naming(turn: Turn, cat: Catalog, data: dict[str, Any]) -> dict[str, Any]:
    """A request's payload names the member who asked (or "A member", once erased)."""
    return naming(data, [turn.member.id], cat.text("gcheckin.someone"))


def _country(turn: Turn, group: Group | None) -> str:
    if turn.member.country:
        return turn.member.country
    return (group.country if group is not None else "") or turn.app.settings.default_country


def _nobody(turn: Turn, group: Group | None) -> None:
    text = turn.cat.text("reach.nobody") + "\n\n" + resources_text(turn.cat, _country(turn, group))
    turn.add(Reply(text))


# -- taking a request ---------------------------------------------------------------------------


async def acknowledge(turn: Turn, token: str) -> None:
    """A volunteer (or moderator) tapped "I'll reach out": the first tap takes it."""
    repos = stores(turn.repos)
    reach = await repos.reachouts.by_token(token) if token else None
    if reach is None:
        turn.say("reach.unknown")
        return
    if reach.member_id == turn.member.id:
        turn.say("reach.own")
        return
    if reach.state == "acked":
        turn.say("reach.already_taken")
        return
    if reach.state != "open":
        turn.say("reach.closed")
        return
    if not await _still_in_group(turn, reach.group_id):
        return
    asker = await repos.members.by_id(reach.member_id)
    items = []
    if asker is not None:
        # Stored for the asker with the volunteer's id, never their name: the volunteer's
        # /forget leaves "A volunteer" there (issue 12).
        name = await name_slot(repos.names, turn.member.id, turn.event.display_name, turn.now)
        reply = Reply(turn.cat.text("reach.taken_member", name=name))
        unnamed = turn.cat.text("reach.someone")
        data = naming(payload(reply, private=True), [turn.member.id], unnamed)
        items.append(NewOutboxItem(asker.platform, asker.user_id, data, member_id=asker.id))
    if await repos.reachouts.acknowledge(reach.id, turn.member.id, items, turn.now):
        log.info("reach-out taken (group=%s)", reach.group_id)
        turn.say("reach.taken_volunteer")
    else:
        turn.say("reach.already_taken")


async def _still_in_group(turn: Turn, group_id: int) -> bool:
    """Whether whoever is taking a request is in its group right now, as the platform says: one
    who left (after being asked) takes nothing, and the asker is never told they will reach
    out. Could not ask: nothing is taken yet, and they can tap again."""
    repos = stores(turn.repos)
    group = await repos.groups.by_id(group_id)
    if group is None or group.platform != turn.event.platform:
        turn.say("reach.closed")
        return False
    check = await turn.app.membership.in_group(group.platform, group.space_id, turn.event.user_id)
    if check is Check.NO:
        await repos.reachouts.left(group.id, turn.member.id)
        turn.say("reach.take_not_member")
    elif check is Check.UNKNOWN:
        turn.say("reach.take_unchecked")
    return check is Check.YES


async def reach_choice(turn: Turn, rest: str) -> None:
    action, _, token = rest.partition(":")
    if action != "ack":
        turn.say("flow.stale")
        return
    await acknowledge(turn, token.strip().casefold()[: TOKEN_BYTES * 2])


async def ack_command(turn: Turn, args: tuple[str, ...]) -> None:
    await acknowledge(turn, args[0].strip().casefold()[: TOKEN_BYTES * 2] if args else "")


# -- what time drives: requests nobody took -----------------------------------------------------


class ReachOuts:
    """What the schedule service runs: expiries each round, and the outbox's GONE hook."""

    def __init__(self, app: ReachOutHost) -> None:
        self.app = app
        self.repos = stores(app.repos)

    async def expire_due(self, now: datetime | None = None) -> int:
        """Requests nobody took in time: the member is told kindly, with crisis lines."""
        now = now or self.app.clock.now()
        closed = 0
        for reach in await self.repos.reachouts.due(now):
            member = await self.repos.members.by_id(reach.member_id)
            group = await self.repos.groups.by_id(reach.group_id)
            items = []
            if member is not None:
                cat = self.app.languages.for_member(member)
                country = (
                    member.country
                    or (group.country if group is not None else "")
                    or self.app.settings.default_country
                )
                text = cat.text("reach.timeout") + "\n\n" + resources_text(cat, country)
                data = payload(Reply(text), private=True)
                items.append(
                    NewOutboxItem(member.platform, member.user_id, data, member_id=member.id)
                )
            if await self.repos.reachouts.expire(reach.id, items, now):
                log.info("reach-out not taken in time (group=%s)", reach.group_id)
                closed += 1
        return closed

    async def on_gone(self, item: OutboxItem) -> None:
        """The outbox was told a group's scheduled post can never be delivered."""
        if item.post_id is None:
            return
        post = await self.repos.groups.post(item.post_id)
        if post is None or post.schedule_id is None:
            return
        now = self.app.clock.now()
        for schedule in await self.repos.groups.schedules(post.group_id):
            if schedule.id == post.schedule_id:
                if not schedule.paused:
                    paused = replace(schedule, paused=True)
                    await self.repos.groups.update_schedule(paused, now)
                if await self._noted(post.group_id, schedule.id, lambda g: g.reason != GONE_REASON):
                    # A lesser notice still waiting gives way: that the schedule is paused.
                    await self.repos.reachouts.clear_gone(schedule.id)
                await self.repos.reachouts.mark_gone(schedule.id, post.group_id, GONE_REASON, now)
                log.warning("schedule %s paused: its channel is gone", schedule.id)

    async def on_notice(self, item: OutboxItem, notice: SendNotice) -> None:
        """A group's post went out with something its moderators should hear of, once."""
        post_id = item.post_id or item.payload.get("reply_to_post")
        post = await self.repos.groups.post(post_id) if isinstance(post_id, int) else None
        if post is None or post.schedule_id is None:
            return
        schedule_id = post.schedule_id
        if await self._noted(post.group_id, schedule_id, lambda g: g.reason == notice.value):
            return  # heard already (or about to be)
        if await self._noted(post.group_id, schedule_id, lambda g: not g.told):
            return  # something else waits to be told first (a paused schedule)
        await self.repos.reachouts.clear_gone(schedule_id)
        await self.repos.reachouts.mark_gone(
            schedule_id, post.group_id, notice.value, self.app.clock.now()
        )
        log.info("schedule %s noted for its moderators (%s)", schedule_id, notice.value)

    async def _noted(
        self, group_id: int, schedule_id: int, which: Callable[[GoneSchedule], bool]
    ) -> bool:
        return any(
            g.schedule_id == schedule_id and which(g)
            for g in await self.repos.reachouts.gone(group_id)
        )


async def tell_gone(turn: Turn, group: Group) -> None:
    """At a moderator's command in the group: once, what was paused because it was gone, and
    any notice about its posts (shared lines that could not have their thread)."""
    if not turn.event.is_moderator:
        return
    gone = [g for g in await stores(turn.repos).reachouts.gone(group.id) if not g.told]
    if not gone:
        return
    existing = {s.id for s in await stores(turn.repos).groups.schedules(group.id)}
    for notice in gone:
        key = NOTICE_TEXT.get(notice.reason)
        if notice.schedule_id in existing and key is not None:
            turn.add(Reply(turn.cat.text(key, id=notice.schedule_id), private=False))
    await stores(turn.repos).reachouts.mark_told([g.schedule_id for g in gone])


# -- "Tell a moderator" after a crisis reply ----------------------------------------------------


class GroupModeratorAlerts:
    """Delivers a member's own "tell a moderator" to the moderators' channel of every group the
    member belongs to, through the outbox. False when no such channel exists."""

    def __init__(
        self,
        repos: ReachOutStores,
        catalog: Catalog,
        membership: MembershipRouter,
        languages: Languages | None = None,
    ) -> None:
        self.repos, self.cat, self.membership = repos, catalog, membership
        # Each group's moderators read the alert in the group's language (issue 16).
        self.languages = languages

    async def notify(self, request: SupportRequest) -> bool:
        member = await self.repos.members.find(request.platform, request.user_id)
        if member is None:
            return False
        # The member's handle is filled in when the alert is sent (core.kernel.names); once erased,
        # their platform id stands in (the alert is erased with them anyway).
        handle = await name_slot(self.repos.names, member.id, request.handle, request.at)
        shown = replace(request, handle=handle)
        told = 0
        unnamed = request.user_id
        for group_id in await self.repos.reachouts.groups_of(member.id):
            group = await self.repos.groups.by_id(group_id)
            if group is None or group.platform != request.platform or not group.mod_channel:
                continue
            # Only a group the platform says the member is still in; one they left forgets them.
            check = await self.membership.in_group(group.platform, group.space_id, request.user_id)
            if check is Check.NO:
                await self.repos.reachouts.left(group.id, member.id)
            where = (
                await checked_destination(self.membership, group) if check is Check.YES else None
            )
            if where is None:
                continue
            target, thread = where
            cat = self.languages.for_group(group) if self.languages is not None else self.cat
            text = moderator_message(cat, shown)
            data = naming(payload(Reply(text, private=False), thread=thread), [member.id], unnamed)
            item = NewOutboxItem(group.platform, target, data, member_id=member.id)
            await self.repos.outbox.enqueue(item, request.at)
            told += 1
        log.info("moderator alert queued for %d group(s) (platform=%s)", told, request.platform)
        return told > 0
