"""Suggestions while a member types (Discord's autocomplete): their part names, timezones."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import available_timezones

from core.parts.ports import stores

if TYPE_CHECKING:
    from core.kernel.turn import Host

MAX_SUGGESTIONS = 25


def _ranked(names: list[str], typed: str, limit: int) -> list[str]:
    """Names starting with what was typed first, then names containing it; case-blind."""
    want = typed.strip().casefold()
    starts = [n for n in names if n.casefold().startswith(want)]
    inside = [n for n in names if want in n.casefold() and n not in starts]
    return (starts + inside)[:limit]


async def part_names(
    app: Host, platform: str, user_id: str, typed: str, limit: int = MAX_SUGGESTIONS
) -> list[str]:
    """The member's own part names matching what they typed (only ever their own)."""
    member = await app.repos.members.get_or_create(platform, user_id, app.clock.now())
    names = [p.name for p in await stores(app.repos).parts.list(member.id)]
    return _ranked(names, typed, limit)


@cache
def _zones() -> list[str]:
    # Only Area/City names: legacy aliases (EST5EDT, Etc/GMT+3) would confuse more than help.
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


def timezones(typed: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """IANA timezones matching what was typed: "lon" -> Europe/London, "new_y" -> New_York."""
    want = typed.strip().replace(" ", "_")
    zones = _zones()
    if not want:
        return zones[:limit]
    by_city = [z for z in zones if z.rsplit("/", 1)[-1].casefold().startswith(want.casefold())]
    rest = [z for z in _ranked(zones, want, len(zones)) if z not in by_city]
    return (by_city + rest)[:limit]
