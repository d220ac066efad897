"""Text shown to someone else: one honest line, and typed words echoed back only when plain.

`one_line` is the one sanitiser for everything that crosses from one person to another: shared
lines, display names, part and counter names, a member's words to moderators. Without it a line
"doing ok\\nAlice: I relapsed" reads in the group as two people talking, and U+202E turns a
line around so it says something else than it holds.

What it does, in order:
- every line break and other separator (Zl, Zp, any Unicode space, the C0/C1 separators that
  count as whitespace) becomes one space; runs of spaces collapse; the ends are trimmed;
- control, format, surrogate and private-use characters (Cc, Cf, Cs, Co) are removed: this
  covers the direction overrides and isolates (U+202A-U+202E, U+2066-U+2069), the marks U+200E,
  U+200F and U+061C, the zero-width characters (U+200B-U+200D, U+2060, U+FEFF) and the tag
  characters; so are the Hangul fillers, letters that show as nothing;
- letters, digits, punctuation and symbols of every script are kept as written.

Emoji: ZERO WIDTH JOINER is kept only inside an emoji sequence (between two emoji, as in a
family or a profession), where it cannot hide or reorder anything; anywhere else it goes, so
"Al<ZWJ>ice" cannot pass for "Alice". The emoji variation selector (U+FE0F, and U+FE0E) stays
after a symbol or digit (keycaps), never after a letter, where it would only make a look-alike.
Other variation selectors go. ZERO WIDTH NON-JOINER goes too, even in Persian or Indic
words: they stay readable, with the letters joined. Subdivision flags (tag sequences) lose
their tags and show as a black flag. At most MAX_MARKS combining marks follow one character:
enough for every script, too few to paint over the lines above and below.
"""

from __future__ import annotations

import unicodedata

ZWJ = "\u200d"
EMOJI_SELECTORS = frozenset("\ufe0e\ufe0f")
SKIN_TONES = ("\U0001f3fb", "\U0001f3ff")
# Letters (Lo) that render as nothing at all: used for blank names.
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
MAX_MARKS = 8
# A word repeated back in a reply: short, and only these besides letters and digits.
ECHO_LIMIT = 40
ECHO_EXTRA = frozenset(":/_-.+")


def _emoji_part(ch: str) -> bool:
    """An emoji, or what may sit between an emoji and a joiner (its selector or skin tone)."""
    return (
        unicodedata.category(ch) == "So"
        or ch in EMOJI_SELECTORS
        or SKIN_TONES[0] <= ch <= SKIN_TONES[1]
    )


def _variation_selector(ch: str) -> bool:
    return "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef"


def _selector_kept(previous: str) -> bool:
    return bool(previous) and not previous.isspace() and not previous.isalpha()


def one_line(text: str, limit: int | None = None) -> str:
    """`text` as one line anyone else may be shown (see the module note); at most `limit`
    characters when given."""
    out: list[str] = []
    marks = 0
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        if ch.isspace() or category in ("Zs", "Zl", "Zp"):
            out.append(" ")
            marks = 0
            continue
        previous = out[-1] if out else ""
        if ch == ZWJ:
            following = text[i + 1] if i + 1 < len(text) else ""
            if previous and _emoji_part(previous) and following and _emoji_part(following):
                out.append(ch)
            continue
        if category in DROPPED_CATEGORIES or ch in INVISIBLE_LETTERS:
            continue
        if _variation_selector(ch):
            if ch in EMOJI_SELECTORS and _selector_kept(previous):
                out.append(ch)
            continue
        if category in ("Mn", "Me"):
            marks += 1
            if marks > MAX_MARKS:
                continue
        else:
            marks = 0
        out.append(ch)
    cleaned = " ".join("".join(out).split())
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[:limit].rstrip().rstrip(ZWJ)
    return cleaned


def echo(word: str, fallback: str = "?", limit: int = ECHO_LIMIT) -> str:
    """A word the member typed, repeated back in a reply (which a group may see): exactly as
    typed when it is short and plain (letters and digits of any script, and `: / _ - . +` after
    the first); otherwise `fallback`. Never shortened, never cleaned: what is echoed is what was
    typed, or nothing."""
    plain = word[:1].isalnum() and all(ch.isalnum() or ch in ECHO_EXTRA for ch in word)
    if len(word) <= limit and plain and one_line(word) == word:
        return word
    return fallback
