"""A group's moderators: who may act as one, asked of the platform at the moment it matters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.kernel.model import Reply

if TYPE_CHECKING:
    from core.kernel.turn import Turn


def refused_moderator(turn: Turn, key: str) -> bool:
    """True, with a public reply, when the member may not act as the group's moderator now:
    `key` when the platform says they don't moderate; a kind "try again" when it could not be
    asked (the rights are never taken from a stale answer)."""
    if turn.event.is_moderator:
        return False
    shown = "trust.rights_unchecked" if turn.event.moderator_unknown else key
    turn.add(Reply(turn.cat.text(shown), private=False))
    return True
