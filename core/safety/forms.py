"""Word forms for lexicon patterns: ``{walk}`` stands for walk, walks, walked, walking.

Patterns name a verb once and match how people write it in any tense, instead of each entry
listing the spellings it happened to think of ("walk into traffic" missed "walked into
traffic"). Regular English inflection is derived; irregular verbs come from the lexicon's
``[forms]`` table (``take = "took taken taking takes"``), where a locale can add its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# {word}: two or more lower-case letters in braces; a regex quantifier always has digits.
FORM = re.compile(r"\{([a-z]{2,})\}")
_VOWELS = frozenset("aeiou")


def _double_final(word: str) -> bool:
    """Short consonant-vowel-consonant words double their last letter: stop, stopped."""
    return (
        len(word) <= 4
        and word[-1] not in _VOWELS
        and word[-1] not in "wxy"
        and word[-2] in _VOWELS
        and word[-3] not in _VOWELS
    )


def regular_forms(word: str) -> list[str]:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        third = word + "es"
    elif word.endswith("y") and word[-2] not in _VOWELS:
        third = word[:-1] + "ies"
    else:
        third = word + "s"
    if word.endswith("e"):
        past = word + "d"
        ing = word[:-2] + "ying" if word.endswith("ie") else word[:-1] + "ing"
        if word.endswith("ee"):
            ing = word + "ing"
    elif word.endswith("y") and word[-2] not in _VOWELS:
        past, ing = word[:-1] + "ied", word + "ing"
    elif len(word) >= 3 and _double_final(word):
        past, ing = word + word[-1] + "ed", word + word[-1] + "ing"
    else:
        past, ing = word + "ed", word + "ing"
    # "walkin" for "walking": people drop the g, and the normaliser only restores known words.
    return [word, third, past, ing, ing[:-1]]


def forms(word: str, irregular: Mapping[str, str]) -> list[str]:
    known = irregular.get(word)
    found = [word, *known.split()] if known is not None else regular_forms(word)
    return list(dict.fromkeys(found))


def expand_forms(pattern: str, irregular: Mapping[str, str]) -> str:
    return FORM.sub(lambda m: "(?:" + "|".join(forms(m.group(1), irregular)) + ")", pattern)
