"""Text normalisation for the crisis detector.

Every pattern in a lexicon is written against the *normalised* form, so this module defines
that form:

* NFKC, casefolded, lower-case; zero-width and bidi marks removed; other control characters
  become spaces; optionally accents stripped and common Cyrillic/Greek look-alikes folded to
  Latin (both are per-locale switches in the lexicon).
* Apostrophes are dropped (``i'm`` -> ``im``, ``don't`` -> ``dont``), because people type
  both forms and the patterns then only need one.
* Sentence punctuation becomes the token ``.`` and clause punctuation the token ``,`` so
  patterns never match across them and negation scopes can stop at them. Other symbols and
  emoji become spaces; words are separated by exactly one space.
* Letter runs of 3+ are shortened (``dieeee`` -> ``die``, ``killll`` -> ``kill``), using the
  lexicon's own words to choose between one and two letters.
* Token spelling variants (``wanna`` -> ``want to``, ``kms`` -> ``kill myself``) and one-edit
  typos of a few long key words (``suicdal``, ``myslef``) are mapped to the canonical form;
  then phrase rewrites (``my self`` -> ``myself``) run on the joined tokens.

Nothing here raises on any ``str``; nothing is logged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import product

# Curly and other look-alike apostrophes/quotes all mean the same to a reader.
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\uff07": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
    }
)

# Cyrillic and Greek letters that look like Latin ones; used to dodge keyword filters.
_CONFUSABLES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ı": "i",
        "ο": "o",
        "α": "a",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
    }
)

# Digits and symbols inside a word standing in for letters ("k1ll", "su1c1de", "s*icide").
_LEET = re.compile(r"(?<=[a-z])[013@*]+(?=[a-z])")
_LEET_MAP = str.maketrans({"0": "o", "1": "i", "3": "e", "@": "a", "*": ""})

_LEET_CHARS = "013@*"
_ELONGATED_WORD = re.compile(r"\w*?([a-z])\1{2,}\w*")
_RUN = re.compile(r"([a-z])\1{2,}")
# More runs than this in one word is noise; trying every combination would cost too much.
_MAX_RUNS = 4

SENTENCE_MARK = "."
CLAUSE_MARK = ","

# One translate() call turns punctuation into marks or spaces; regexes would cost more.
_PUNCTUATION = str.maketrans(
    {
        **{c: f" {SENTENCE_MARK} " for c in ".!?\n\r\u2026\u3002\uff01\uff1f"},
        **{c: f" {CLAUSE_MARK} " for c in ",;:\u060c\u061b\u2013\u2014"},
        "&": " & ",  # a token of its own, so a variant can spell it out
        **{c: " " for c in '"#$%()*+-/<=>@[\\]^_`{|}~\t\x0b\x0c'},
    }
)
# What translate() leaves that is neither word, space, mark nor apostrophe: emoji, symbols.
_OTHER = re.compile(r"[^\w\s.,']+|_")

_MIN_FUZZY_LEN = 5


def _fold_unicode(text: str, strip_accents: bool, fold_confusables: bool) -> str:
    """NFKC + casefold, invisible marks removed, controls turned into spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_QUOTES)
    if fold_confusables:
        folded = folded.translate(_CONFUSABLES)
    if strip_accents:
        folded = unicodedata.normalize("NFD", folded)
    out: list[str] = []
    for char in folded:
        category = unicodedata.category(char)
        if category == "Cf" or (strip_accents and category == "Mn"):
            # Zero-width joiners, bidi marks, soft hyphens; combining accents.
            continue
        # Newlines stay: they end sentences, which bounds negation and past-tense scopes.
        out.append(" " if category[0] == "C" and char not in "\n\r" else char)
    result = "".join(out)
    return unicodedata.normalize("NFC", result) if strip_accents else result


def _deletes(word: str) -> Iterable[str]:
    return (word[:i] + word[i + 1 :] for i in range(len(word)))


def build_fuzzy_index(words: Iterable[str]) -> dict[str, str]:
    """Symmetric-delete index: a word and each one-letter deletion of it -> the word.

    A token is then one edit (insert, delete, substitute, swap) from a key word when the
    token, or one of its own one-letter deletions, is in the index.
    """
    index: dict[str, str] = {}
    word_list = sorted(set(words))
    for word in word_list:
        index[word] = word
    for word in word_list:
        for variant in _deletes(word):
            index.setdefault(variant, word)
    return index


@dataclass(frozen=True)
class Normalizer:
    """Turns any text into the canonical form the lexicon's patterns are written for."""

    variants: Mapping[str, str] = field(default_factory=dict)
    # (pattern on normalised text, replacement, words one of which must be present or None)
    rewrites: tuple[tuple[re.Pattern[str], str, frozenset[str] | None], ...] = ()
    vocabulary: frozenset[str] = frozenset()
    fuzzy_words: frozenset[str] = frozenset()
    strip_accents: bool = True
    fold_confusables: bool = True
    leet: bool = True
    # Single symbols (emoji) that stand for a word: "💊⚰️" says "pills coffin".
    symbols: Mapping[str, str] = field(default_factory=dict)
    _symbol_table: Mapping[int, str] = field(init=False, repr=False, compare=False)
    _fuzzy_index: Mapping[str, str] = field(init=False, repr=False, compare=False)
    _fuzzy_initials: frozenset[str] = field(init=False, repr=False, compare=False)
    _fuzzy_max_len: int = field(init=False, repr=False, compare=False)
    _rewrite_words: frozenset[str] = field(init=False, repr=False, compare=False)
    _rewrite_always: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Derived lookup tables, computed once; the dataclass stays frozen for callers.
        fuzzy_max = max((len(w) for w in self.fuzzy_words), default=0) + 1
        rewrite_words: set[str] = set()
        for _, _, needs in self.rewrites:
            rewrite_words |= needs or set()
        derived = {
            "_fuzzy_index": build_fuzzy_index(self.fuzzy_words),
            "_fuzzy_initials": frozenset(w[0] for w in self.fuzzy_words),
            "_fuzzy_max_len": fuzzy_max,
            "_rewrite_words": frozenset(rewrite_words),
            "_rewrite_always": any(needs is None for _, _, needs in self.rewrites),
            "_symbol_table": {ord(k): f" {v} " for k, v in self.symbols.items() if len(k) == 1},
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def normalize(self, text: str) -> str:
        """The canonical form of ``text``: words and ``.``/``,`` marks, single spaces."""
        return self.normalize_marked(text)[0]

    def normalize_marked(self, text: str) -> tuple[str, frozenset[int]]:
        """:meth:`normalize`, and the offsets of the spaces a spelling variant put inside one
        written word ("fr" -> "for real"): a phrase that starts or ends at such a space was
        not all written by the member."""
        if text.isascii():
            # Fast path for the common case: nothing to fold but case.
            folded = text.lower()
        else:
            folded = _fold_unicode(text, self.strip_accents, self.fold_confusables)
            if self._symbol_table:
                folded = folded.translate(self._symbol_table)
        if self.leet and any(c in folded for c in _LEET_CHARS):
            folded = _LEET.sub(lambda m: m.group(0).translate(_LEET_MAP), folded)
        if _RUN.search(folded):
            folded = _ELONGATED_WORD.sub(self._shorten, folded)
        words = [w for w in map(self._canonical, _tokens(folded)) if w]
        normal = " ".join(words)
        glued = frozenset(_inner_spaces(words)) if any(" " in w for w in words) else _NO_SPACES
        if self._rewrite_always or not self._rewrite_words.isdisjoint(words):
            rewritten = self._rewrite(normal, frozenset(words))
            if rewritten != normal:
                # Offsets moved: the same rewrites on a copy whose glued spaces are marked
                # find them again, unless a rewrite reached across one (then none are known).
                marked = self._rewrite(_mark(normal, glued), frozenset(words))
                glued = _NO_SPACES
                if marked.replace(_GLUE, " ") == rewritten:
                    glued = frozenset(i for i, c in enumerate(marked) if c == _GLUE)
                normal = rewritten
        return normal, glued

    def _rewrite(self, normal: str, words: frozenset[str]) -> str:
        for pattern, replacement, needs in self.rewrites:
            if needs is None or not needs.isdisjoint(words):
                normal = pattern.sub(replacement, normal)
        return normal

    def normalize_phrase(self, text: str) -> str:
        """Like :meth:`normalize`, without sentence/clause marks (for moderators' phrases)."""
        words = self.normalize(text).split()
        return " ".join(w for w in words if w not in (SENTENCE_MARK, CLAUSE_MARK))

    def _canonical(self, token: str) -> str:
        variant = self.variants.get(token)
        if variant is not None:
            return variant
        if len(token) < _MIN_FUZZY_LEN and "'" not in token:
            return token  # the common case, without further calls
        if "'" in token:
            # Variants may spell the apostrophe ("od'd" is not "odd"); then it goes.
            token = token.replace("'", "")
            variant = self.variants.get(token)
            if variant is not None:
                return variant
        return self._correct_typo(token) or self._dropped_g(token) or token

    def _dropped_g(self, token: str) -> str | None:
        """ "thinkin" -> "thinking", when the lexicon knows the -ing word."""
        if token.endswith("in") and token not in self.vocabulary and token + "g" in self.vocabulary:
            return token + "g"
        return None

    def _correct_typo(self, token: str) -> str | None:
        if (
            len(token) < _MIN_FUZZY_LEN
            or len(token) > self._fuzzy_max_len
            or token[0] not in self._fuzzy_initials
            or token in self.vocabulary
        ):
            return None
        hit = self._fuzzy_index.get(token)
        if hit is not None:
            return hit
        for variant in _deletes(token):
            hit = self._fuzzy_index.get(variant)
            if hit is not None:
                return hit
        return None

    def _shorten(self, match: re.Match[str]) -> str:
        """Shorten letter runs of 3+ to two or one letters, preferring a known word."""
        word = match.group(0)
        runs = list(_RUN.finditer(word))
        if len(runs) <= _MAX_RUNS:
            for lengths in product((2, 1), repeat=len(runs)):
                candidate = _rebuild(word, runs, lengths)
                if candidate in self.vocabulary or candidate in self.variants:
                    return candidate
        return _RUN.sub(r"\1\1", word)


_GLUE = "\x1f"
_NO_SPACES: frozenset[int] = frozenset()


def _inner_spaces(words: list[str]) -> Iterable[int]:
    offset = 0
    for word in words:
        if " " in word:
            yield from (offset + i for i, c in enumerate(word) if c == " ")
        offset += len(word) + 1


def _mark(normal: str, glued: frozenset[int]) -> str:
    chars = list(normal)
    for i in glued:
        chars[i] = _GLUE
    return "".join(chars)


def _rebuild(word: str, runs: list[re.Match[str]], lengths: tuple[int, ...]) -> str:
    parts: list[str] = []
    last = 0
    for run, length in zip(runs, lengths, strict=True):
        parts.append(word[last : run.start()])
        parts.append(run.group(1) * length)
        last = run.end()
    parts.append(word[last:])
    return "".join(parts)


def _tokens(text: str) -> list[str]:
    """Split into words (apostrophes still in) and ``.``/``,`` marks."""
    text = text.translate(_PUNCTUATION)
    if not text.isascii():
        text = _OTHER.sub(" ", text)
    return text.split()
