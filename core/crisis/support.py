"""After "I'm not safe": telling a moderator, only if the member chooses, and how much.

What the member wrote when the crisis reply came is held in memory for a short while (never
stored, never logged), so they can choose to include it; after that it is simply gone.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from core.crisis.records import SupportRequest
from core.kernel.catalog import Catalog
from core.kernel.shown import one_line

HOLD_FOR = timedelta(hours=1)
MAX_HELD = 10_000
MAX_WORDS = 1000


class NoModerators:
    """Until a group has a moderators' channel (issue 6), nobody can be told."""

    async def notify(self, request: SupportRequest) -> bool:
        return False


class CrisisWords:
    """The words that brought a crisis reply, per member, in memory only and briefly."""

    def __init__(self, hold_for: timedelta = HOLD_FOR, max_held: int = MAX_HELD) -> None:
        self._held: OrderedDict[tuple[str, str], tuple[str, datetime]] = OrderedDict()
        self.hold_for = hold_for
        self.max_held = max_held

    def remember(self, key: tuple[str, str], words: str, now: datetime) -> None:
        self._held[key] = (words[:MAX_WORDS], now)
        self._held.move_to_end(key)
        while len(self._held) > self.max_held:
            self._held.popitem(last=False)

    def get(self, key: tuple[str, str], now: datetime) -> str | None:
        held = self._held.get(key)
        if held is None or now - held[1] > self.hold_for:
            self._held.pop(key, None)
            return None
        return held[0]

    def forget(self, key: tuple[str, str]) -> None:
        self._held.pop(key, None)


def moderator_message(catalog: Catalog, request: SupportRequest) -> str:
    """What the moderators see: the handle, "asked for support", and the words only if chosen,
    as one line (core.kernel.shown).
    The handle is a name slot (core.kernel.names) or already one line."""
    text = catalog.text("support.moderator_note", handle=request.handle)
    words = one_line(request.words or "")
    if words:
        text += "\n\n" + catalog.text("support.moderator_words", words=words)
    return text
