"""The one parser for numbers a member types: ids, days, a scale's answer, a button's number.

`str.isdigit` says yes to "²", "٣" and "１２", and `int()` then fails on some ("²") and quietly
reads others ("٣" as 3), and gives up on more than 4300 digits: each of those turned a typo into
the internal-error reply, with the member's text in the log. Only ASCII digits are a number here,
with a sign only where the caller says a negative makes sense, and never longer than a bound.
"""

from __future__ import annotations

# Ids and counts fit in 12 digits (SQLite's row ids would need 19; nobody types those).
MAX_DIGITS = 12
DIGITS = frozenset("0123456789")


def parse_number(text: str, *, signed: bool = False, max_digits: int = MAX_DIGITS) -> int | None:
    """The whole number in `text` (spaces around it allowed), or None when `text` is anything
    else: other digits than 0-9, a sign where `signed` is False, more than `max_digits` digits."""
    raw = text.strip()
    negative = False
    if signed and raw.startswith(("-", "+")):
        negative, raw = raw.startswith("-"), raw[1:]
    if not 0 < len(raw) <= max_digits or not DIGITS.issuperset(raw):
        return None
    number = int(raw)
    return -number if negative else number
