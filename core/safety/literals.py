"""Which whole words must appear in any match of a regex (a cheap pre-filter).

Python's ``re`` tries every branch of a big alternation at every position, so running a
lexicon of a few hundred patterns on each line is far too slow. Instead, each pattern gets a
small set of words such that *every* match contains at least one of them as a whole token.
A line none of whose tokens is in that set cannot match, and a set lookup per token is fast.

The analysis parses the regex source (the subset a lexicon uses: literals, groups,
alternation, quantifiers, classes, escapes, lookarounds) into a small tree, then asks of
each piece which literal strings every match of it contains, given the characters that can
stand next to it. A word counts as whole when a space or a word boundary (``\\b``, ``^``,
``$``) is on both sides. That relies on the normalised text being tokens of word characters
(or a lone ``.``/``,``) separated by single spaces. Anything the analysis does not
understand counts as "could be anything", which only makes the filter weaker, never wrong.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

# Above this many alternatives a set of exact strings stops being a useful filter.
_LIMIT = 64
# Stand-ins inside literal strings: a word boundary, and a character we know nothing about.
_BOUNDARY = "\x00"
_UNKNOWN = "\x01"
_WORD = re.compile(r"\w+")
_CLOSERS = frozenset({" ", _BOUNDARY})
_NOTHING = frozenset({""})


@dataclass(frozen=True)
class _Node:
    kind: str  # "lit", "edge", "empty", "any", "seq", "alt", "opt", "rep"
    text: str = ""
    children: tuple[_Node, ...] = ()


_ANY = _Node("any")
_EMPTY = _Node("empty")
_EDGE = _Node("edge")


def required_words(pattern: str, common: Iterable[str] = ()) -> frozenset[str] | None:
    """Words of which every match of ``pattern`` contains one as a token, or None.

    ``common`` words (``i``, ``to``, ``the``) are avoided when there is a choice: they are
    on most lines, so a filter made of them filters nothing.
    """
    try:
        tree, end = _Parser(pattern).alternation(0)
    except IndexError:
        return None
    if end != len(pattern):
        return None
    analysis = _Analysis(frozenset(common))
    strings = analysis.required(tree, frozenset({_UNKNOWN}), frozenset({_UNKNOWN}))
    return None if strings is None else analysis.words_of(strings)


def required_word_sets(pattern: str, common: Iterable[str] = ()) -> tuple[frozenset[str], ...]:
    """Several word sets that must *all* be met: one per part of a top-level sequence.

    "want ... to die" needs a word of the wish and a word of the death; checking both
    before running the regex filters far more lines than either alone. Best set first.
    """
    try:
        tree, end = _Parser(pattern).alternation(0)
    except IndexError:
        return ()
    if end != len(pattern):
        return ()
    analysis = _Analysis(frozenset(common))
    parts = analysis.flatten(tree)
    found: list[frozenset[str]] = []
    for i, part in enumerate(parts):
        before = analysis.neighbours(parts[:i][::-1], frozenset({_UNKNOWN}), last=True)
        after = analysis.neighbours(parts[i + 1 :], frozenset({_UNKNOWN}), last=False)
        strings = analysis.required(part, before, after)
        words = None if strings is None else analysis.words_of(strings)
        if words and words not in found:
            found.append(words)
    return tuple(sorted(found, key=lambda w: analysis.score_words(w), reverse=True))


# --------------------------------------------------------------------------- analysis


def _product(*sets: frozenset[str]) -> frozenset[str] | None:
    result = _NOTHING
    for part in sets:
        if len(result) * len(part) > _LIMIT:
            return None
        result = frozenset(a + b for a in result for b in part)
    return result


class _Analysis:
    def __init__(self, common: frozenset[str]) -> None:
        self.common = common

    # -- what a node can match

    def exact(self, node: _Node) -> frozenset[str] | None:
        """Every string the node can match, if that is a small finite set."""
        if node.kind == "lit":
            return frozenset({node.text})
        if node.kind == "edge":
            return frozenset({_BOUNDARY})
        if node.kind == "empty":
            return _NOTHING
        if node.kind == "seq":
            known = [p for p in map(self.exact, node.children) if p is not None]
            return _product(*known) if len(known) == len(node.children) else None
        if node.kind == "alt":
            result: set[str] = set()
            for child in node.children:
                sub = self.exact(child)
                if sub is None:
                    return None
                result |= sub
            return frozenset(result) if len(result) <= _LIMIT else None
        if node.kind == "opt":
            sub = self.exact(node.children[0])
            return None if sub is None else sub | _NOTHING
        return None

    def can_be_empty(self, node: _Node) -> bool:
        if node.kind in ("empty", "opt"):
            return True
        if node.kind in ("lit", "edge"):
            return False
        if node.kind == "seq":
            return all(self.can_be_empty(c) for c in node.children)
        if node.kind == "alt":
            return any(self.can_be_empty(c) for c in node.children)
        if node.kind == "rep":
            return self.can_be_empty(node.children[0])
        return True  # "any": could be anything, including nothing

    def ends(self, node: _Node, last: bool) -> frozenset[str]:
        """Characters a non-empty match can end with (last) or start with."""
        if node.kind == "lit":
            return frozenset({node.text[-1] if last else node.text[0]})
        if node.kind == "edge":
            return frozenset({_BOUNDARY})
        if node.kind == "empty":
            return frozenset()
        if node.kind in ("alt", "opt", "rep"):
            return frozenset().union(*(self.ends(c, last) for c in node.children))
        if node.kind == "seq":
            parts = node.children[::-1] if last else node.children
            result: set[str] = set()
            for part in parts:
                result |= self.ends(part, last)
                if not self.can_be_empty(part):
                    return frozenset(result)
            return frozenset(result)
        return frozenset({_UNKNOWN})

    # -- what every match contains

    def required(
        self, node: _Node, left: frozenset[str], right: frozenset[str]
    ) -> frozenset[str] | None:
        """Strings every match contains, framed by the characters ``left``/``right`` of it."""
        exact = self.exact(node)
        if exact is not None:
            if "" in exact:
                return None
            return _product(left, exact, right) or exact
        if node.kind == "alt":
            result: set[str] = set()
            for child in node.children:
                sub = self.required(child, left, right)
                if sub is None:
                    return None
                result |= sub
            return frozenset(result)
        if node.kind == "rep":
            child = node.children[0]
            # Each repetition sits next to the outside or to another repetition.
            return self.required(
                child, left | self.ends(child, last=True), right | self.ends(child, last=False)
            )
        if node.kind == "seq":
            return self.best(self._sequence_candidates(node.children, left, right))
        return None

    def _sequence_candidates(
        self, parts: tuple[_Node, ...], left: frozenset[str], right: frozenset[str]
    ) -> list[frozenset[str]]:
        candidates: list[frozenset[str]] = []
        for i in range(len(parts)):
            before = self.neighbours(parts[:i][::-1], left, last=True)
            for j in range(i, len(parts)):
                run = parts[i : j + 1]
                after = self.neighbours(parts[j + 1 :], right, last=False)
                node = run[0] if len(run) == 1 else _Node("seq", children=run)
                if len(run) > 1 and self.exact(node) is None:
                    break
                found = self.required(node, before, after)
                if found is not None:
                    candidates.append(found)
        return candidates

    def flatten(self, node: _Node) -> tuple[_Node, ...]:
        """A sequence's parts, with nested sequences spliced in (concatenation nests)."""
        if node.kind != "seq":
            return (node,)
        return tuple(part for child in node.children for part in self.flatten(child))

    def neighbours(
        self, parts: Iterable[_Node], outside: frozenset[str], last: bool
    ) -> frozenset[str]:
        """Characters that can stand next to a run, looking outward through ``parts``."""
        result: set[str] = set()
        for part in parts:
            result |= self.ends(part, last)
            if not self.can_be_empty(part):
                return frozenset(result)
        return frozenset(result | outside)

    # -- choosing among candidates

    def whole_words(self, literal: str) -> list[str]:
        """Runs of word characters with a space or boundary on both sides."""
        words = []
        for match in _WORD.finditer(literal):
            start, end = match.span()
            closed = start > 0 and literal[start - 1] in _CLOSERS
            if closed and end < len(literal) and literal[end] in _CLOSERS:
                words.append(match.group())
        return words

    def rank(self, word: str) -> int:
        return 0 if word in self.common else min(len(word), 5)

    def words_of(self, literals: frozenset[str]) -> frozenset[str] | None:
        """One whole word per literal, preferring uncommon words shared by many literals."""
        options = [self.whole_words(literal) for literal in literals]
        if not all(options):
            return None
        shared = Counter(word for words in options for word in set(words))
        return frozenset(
            max(words, key=lambda w: (self.rank(w) > 0, shared[w], self.rank(w), w))
            for words in options
        )

    def best(self, candidates: list[frozenset[str]]) -> frozenset[str] | None:
        return max(candidates, key=self.score) if candidates else None

    def score(self, strings: frozenset[str]) -> tuple[bool, int, int]:
        words = self.words_of(strings)
        return self.score_words(words) if words else (False, 0, 0)

    def score_words(self, words: frozenset[str]) -> tuple[bool, int, int]:
        # Fewest common words (those pass on most lines), then few and long words.
        common = sum(1 for w in words if w in self.common)
        weakest = min((self.rank(w) for w in words if w not in self.common), default=0)
        return (True, -common, weakest * 2 - len(words))


# --------------------------------------------------------------------------- parsing


class _Parser:
    """Recursive descent over regex source, building a small tree."""

    def __init__(self, source: str) -> None:
        self.src = source

    def alternation(self, i: int) -> tuple[_Node, int]:
        branches: list[_Node] = []
        while True:
            branch, i = self.sequence(i)
            branches.append(branch)
            if i < len(self.src) and self.src[i] == "|":
                i += 1
                continue
            break
        return (branches[0] if len(branches) == 1 else _Node("alt", children=tuple(branches))), i

    def sequence(self, i: int) -> tuple[_Node, int]:
        parts: list[_Node] = []
        while i < len(self.src) and self.src[i] not in "|)":
            atom, j = self.atom(i)
            node, i = self.quantified(atom, j)
            if node.kind == "lit" and parts and parts[-1].kind == "lit":
                # Plain text is one literal, not one node per character.
                parts[-1] = _Node("lit", parts[-1].text + node.text)
            else:
                parts.append(node)
        if not parts:
            return _EMPTY, i
        return (parts[0] if len(parts) == 1 else _Node("seq", children=tuple(parts))), i

    def atom(self, i: int) -> tuple[_Node, int]:
        char = self.src[i]
        if char == "(":
            return self.group(i)
        if char == "[":
            return _ANY, self._class_end(i)
        if char == "\\":
            return self.escape(i)
        if char == ".":
            return _ANY, i + 1
        if char in "^$":
            return _EDGE, i + 1
        return _Node("lit", char), i + 1

    def group(self, i: int) -> tuple[_Node, int]:
        src = self.src
        if src.startswith("(?:", i):
            inner, j = self.alternation(i + 3)
            return inner, self._close(j)
        for opener in ("(?=", "(?!", "(?<=", "(?<!"):
            if src.startswith(opener, i):
                # Lookarounds consume nothing; their text need not appear in the match.
                _, j = self.alternation(i + len(opener))
                return _EMPTY, self._close(j)
        if src.startswith("(?P<", i):
            inner, j = self.alternation(src.index(">", i) + 1)
            return inner, self._close(j)
        if src.startswith("(?", i):
            # Flags, comments, back-references, conditionals: give up on this group.
            return _ANY, self._skip_group(i)
        inner, j = self.alternation(i + 1)
        return inner, self._close(j)

    def escape(self, i: int) -> tuple[_Node, int]:
        code = self.src[i + 1]
        if code in "bAZ":
            return _EDGE, i + 2
        if code == "B":
            return _EMPTY, i + 2
        if code.isalnum():
            # Classes (\d \w \s), back-references, \x.. \u.. and the like.
            return _ANY, i + 2
        return _Node("lit", code), i + 2

    def quantified(self, atom: _Node, i: int) -> tuple[_Node, int]:
        src = self.src
        if i >= len(src):
            return atom, i
        low: int | None = None
        if src[i] in "?*":
            low, i = 0, i + 1
        elif src[i] == "+":
            low, i = 1, i + 1
        elif src[i] == "{":
            close = src.find("}", i)
            body = src[i + 1 : close] if close != -1 else ""
            if body and all(c.isdigit() or c == "," for c in body):
                low_text = body.split(",")[0]
                low = int(low_text) if low_text else 0
                i = close + 1
        if low is None:
            return atom, i
        if i < len(src) and src[i] in "?+":
            i += 1  # lazy or possessive: same strings
        return _Node("opt" if low == 0 else "rep", children=(atom,)), i

    def _close(self, i: int) -> int:
        if self.src[i] != ")":
            raise IndexError(i)
        return i + 1

    def _class_end(self, i: int) -> int:
        j = i + 1
        if self.src[j] == "^":
            j += 1
        if self.src[j] == "]":
            j += 1
        while self.src[j] != "]":
            j += 2 if self.src[j] == "\\" else 1
        return j + 1

    def _skip_group(self, i: int) -> int:
        depth = 0
        j = i
        while True:
            char = self.src[j]
            if char == "\\":
                j += 2
                continue
            if char == "[":
                j = self._class_end(j)
                continue
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1


# --------------------------------------------------------------------------- compacting

_PLAIN = re.compile(r"[\w ']+")
_Trie: TypeAlias = dict[str, "_Trie"]


def compact_alternations(pattern: str) -> str:
    """Rewrite each group of plain-word alternatives as a prefix tree.

    ``(?:want|wants|wanted|wish)`` becomes ``(?:w(?:ant(?:ed|s)?|ish))``: the same strings,
    but the regex engine tries a handful of first letters at each position instead of every
    alternative, which makes the big lexicon alternations two to three times faster.
    Groups containing anything but plain words are left as they are.
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("(?:", i):
            end = _group_end(pattern, i)
            words = _plain_words(pattern[i + 3 : end]) if end != -1 else None
            if words is not None and len(words) > 2:
                out.append(f"(?:{_trie(words)})")
                i = end + 1
                continue
        if pattern[i] == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append(pattern[i])
        i += 1
    return "".join(out)


_OPTIONAL_CHAR = re.compile(r"(\w)\?")
_LETTER_CLASS = re.compile(r"\[(\w+)\]")
# Expanding "a?b?[xyz]" multiplies words; past this it is not worth it.
_MAX_EXPANSION = 8


def _plain_words(body: str) -> list[str] | None:
    """The words a group body stands for, if it is only words, "s?" and "[sz]"."""
    words: list[str] = []
    for alternative in body.split("|"):
        expanded = [alternative]
        while any(_OPTIONAL_CHAR.search(w) or _LETTER_CLASS.search(w) for w in expanded):
            expanded = [v for w in expanded for v in _expand_once(w)]
            if len(expanded) > _MAX_EXPANSION:
                return None
        if not all(_PLAIN.fullmatch(w) for w in expanded):
            return None
        words.extend(expanded)
    return words


def _expand_once(word: str) -> list[str]:
    optional = _OPTIONAL_CHAR.search(word)
    if optional is not None:
        head, tail = word[: optional.start()], word[optional.end() :]
        return [head + optional.group(1) + tail, head + tail]
    letters = _LETTER_CLASS.search(word)
    if letters is not None:
        head, tail = word[: letters.start()], word[letters.end() :]
        return [head + c + tail for c in letters.group(1)]
    return [word]


def _group_end(pattern: str, start: int) -> int:
    """Index of the ")" closing the group at ``start``, or -1 if it holds other groups."""
    j = start + 3
    while j < len(pattern):
        char = pattern[j]
        if char == "\\":
            j += 2
            continue
        if char == "(":
            return -1
        if char == ")":
            return j
        j += 1
    return -1


def _trie(words: list[str]) -> str:
    root: _Trie = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here
    return _trie_source(root)


def _trie_source(node: _Trie) -> str:
    branches = [re.escape(char) + _trie_source(node[char]) for char in sorted(node) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:
        # A word may end here, so the rest is optional (greedy: longer words first).
        return f"(?:{body})?"
    return body
