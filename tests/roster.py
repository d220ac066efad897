"""The test platform's word on who is in which group: the core's Membership port, faked.

`everyone` (the default for the `app` fixture): every user is in every group, as tests of
other things assume; a test of trust turns it off and says who is in, or has a member leave.
`down`: the platform cannot be asked (every answer is "could not ask"). Channels named in
`foreign` belong to another group: they may not be a moderators' channel, nor hold check-ins.
"""

from __future__ import annotations

from core.kernel.membership import Check
from core.kernel.model import Event


class Roster:
    def __init__(self, everyone: bool = True) -> None:
        self.everyone = everyone
        self.down = False
        self.members: set[tuple[str, str]] = set()  # (group, user)
        self.gone: set[tuple[str, str]] = set()  # left (or removed from) the group
        self.foreign: set[str] = set()
        self.asked: list[tuple[str, str]] = []

    def join(self, group: str, user_id: str) -> None:
        self.members.add((group, user_id))
        self.gone.discard((group, user_id))

    def leave(self, group: str, user_id: str) -> None:
        self.members.discard((group, user_id))
        self.gone.add((group, user_id))

    async def in_group(self, group: str, user_id: str) -> Check:
        self.asked.append((group, user_id))
        if self.down:
            return Check.UNKNOWN
        if (group, user_id) in self.gone:
            return Check.NO
        return Check.YES if self.everyone or (group, user_id) in self.members else Check.NO

    async def opens_from(self, group: str, event: Event) -> Check:
        return await self.in_group(group, event.user_id)

    async def channel_in_group(self, group: str, channel: str) -> Check:
        return await self.mod_channel(group, channel, None)

    async def mod_channel(self, group: str, channel: str, setter: str | None) -> Check:
        if self.down:
            return Check.UNKNOWN
        return Check.NO if channel in self.foreign else Check.YES
