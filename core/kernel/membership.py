"""Who is in a group, and where a group's messages may go: asked of the platform, at the moment
it matters (issue 12).

Nothing stored or sent by a member proves they belong to a group: a link or a button can be
guessed, replayed or forwarded. So before a private check-in of a group opens, before what a
member shares is posted there, before a volunteer is asked to reach out, before "tell a
moderator" reaches a group's moderators, before a moderators' channel is set or used, and
before a schedule's channel is set, the core asks the platform through this port. Each adapter
implements it (bots/telegram_groups.py, bots/discord_groups.py) and registers it for its
platform; the core keeps the product rules.

Every question has three answers: yes, no, or "could not ask" (the platform was unreachable).
The last is refused like a no (fail closed); only what the member is told differs.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Protocol

from core.kernel.model import Event

log = logging.getLogger(__name__)


class Check(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"  # the platform could not be asked: refused, and the member told so


class Membership(Protocol):
    """What a platform says about its groups. `group` is a group's space id (Space.id)."""

    async def in_group(self, group: str, user_id: str) -> Check:
        """Whether the user is in the group right now (Telegram: getChatMember says member,
        administrator, creator, or restricted while still a member; Discord: a member of the
        server)."""
        ...

    async def opens_from(self, group: str, event: Event) -> Check:
        """Whether `event` (a tap or a deep link, answered privately) may open something of
        the group: the platform's own rule for it (Telegram: the member is in the group;
        Discord: the tap came from inside that server, never from direct messages)."""
        ...

    async def channel_in_group(self, group: str, channel: str) -> Check:
        """Whether `channel` is inside the group, where its check-ins may be posted: the group
        itself, or a channel or thread in it (Discord: of the same server; Telegram: one of
        the group's topics)."""
        ...

    async def mod_channel(self, group: str, channel: str, setter: str | None) -> Check:
        """Whether `channel` may be the group's moderators' channel: the group itself, or a
        channel, thread or topic inside it; on Telegram also another chat where the bot is and
        `setter` (the moderator setting it) is an admin. `setter` None: re-checked before use,
        where only what does not depend on who set it is asked again."""
        ...


class MembershipRouter:
    """The core's side of the port: each platform's answer, or UNKNOWN when no adapter for
    the platform runs (or its answer failed): nothing is let through unasked."""

    def __init__(self) -> None:
        self._by_platform: dict[str, Membership] = {}

    def register(self, platform: str, membership: Membership) -> None:
        self._by_platform[platform] = membership

    def _of(self, platform: str) -> Membership | None:
        found = self._by_platform.get(platform)
        if found is None:
            log.warning("no membership check for platform=%s; refused", platform)
        return found

    async def in_group(self, platform: str, group: str, user_id: str) -> Check:
        membership = self._of(platform)
        if membership is None or not user_id:
            return Check.UNKNOWN
        try:
            return await membership.in_group(group, user_id)
        except Exception as exc:  # an adapter's failure is a "could not ask", never a yes
            log.warning("membership check failed (platform=%s, %s)", platform, type(exc).__name__)
            return Check.UNKNOWN

    async def opens_from(self, group: str, event: Event) -> Check:
        membership = self._of(event.platform)
        if membership is None:
            return Check.UNKNOWN
        try:
            return await membership.opens_from(group, event)
        except Exception as exc:
            log.warning(
                "opening check failed (platform=%s, %s)", event.platform, type(exc).__name__
            )
            return Check.UNKNOWN

    async def channel_in_group(self, platform: str, group: str, channel: str) -> Check:
        membership = self._of(platform)
        if membership is None:
            return Check.UNKNOWN
        try:
            return await membership.channel_in_group(group, channel)
        except Exception as exc:
            log.warning("channel check failed (platform=%s, %s)", platform, type(exc).__name__)
            return Check.UNKNOWN

    async def mod_channel(
        self, platform: str, group: str, channel: str, setter: str | None
    ) -> Check:
        membership = self._of(platform)
        if membership is None:
            return Check.UNKNOWN
        try:
            return await membership.mod_channel(group, channel, setter)
        except Exception as exc:
            log.warning("channel check failed (platform=%s, %s)", platform, type(exc).__name__)
            return Check.UNKNOWN
