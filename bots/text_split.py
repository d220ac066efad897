"""Long text in pieces a platform accepts: one rule for every renderer."""

from __future__ import annotations

from collections.abc import Callable

# How a platform counts a message's length: characters (Discord), UTF-16 units (Telegram).
Units = Callable[[str], int]


def _fit(text: str, limit: int, units: Units) -> int:
    """The longest prefix of `text` (in characters) within `limit` units."""
    if units is len:
        return min(len(text), limit)
    used = 0
    for i, ch in enumerate(text):
        used += units(ch)
        if used > limit:
            return i
    return len(text)


def split_text(text: str, limit: int, units: Units = len) -> list[str]:
    """Pieces within `limit`, cut at a paragraph break, else a line break, else a space."""
    pieces: list[str] = []
    rest = text
    while units(rest) > limit:
        end = _fit(rest, limit, units)
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = rest.rfind(sep, 0, end + 1)
            if cut > 0:
                break
        if cut <= 0:
            cut = end
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    pieces.append(rest)
    return [p for p in pieces if p.strip()]
