"""BERT-style WordPiece tokenisation (uncased), in plain Python.

The learned layer's vocabulary is the one all-MiniLM-L6-v2 was trained with, so text is cut
into the same word pieces: lower case, accents stripped, punctuation and CJK characters split
off, then each word matched greedily, longest piece first, with ``##`` marking pieces inside a
word. Only the ids are needed, and only for the classifier; nothing here raises on any ``str``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping

_MAX_WORD_CHARS = 100
_CONTINUATION = "##"


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    # ASCII symbols count as punctuation for BERT even where Unicode says otherwise ("$", "^").
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B81F
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def basic_words(text: str) -> list[str]:
    """Lower-cased, accent-free words with punctuation and CJK characters split off."""
    if text.isascii():
        cleaned = text.lower()
        if cleaned.isalnum():
            return [cleaned]
    else:
        cleaned = _clean(text)
    words: list[str] = []
    for chunk in cleaned.split():
        if chunk.isalnum() and chunk.isascii():
            words.append(chunk)
            continue
        current: list[str] = []
        for char in chunk:
            if _is_punctuation(char) or _is_cjk(ord(char)):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(char)
            else:
                current.append(char)
        if current:
            words.append("".join(current))
    return words


def _clean(text: str) -> str:
    out: list[str] = []
    for char in unicodedata.normalize("NFD", text.lower()):
        code = ord(char)
        if code in (0, 0xFFFD):
            continue
        category = unicodedata.category(char)
        if category == "Mn":
            continue  # accents
        if char.isspace():
            out.append(" ")
        elif category.startswith("C"):
            continue  # control and format characters
        elif _is_cjk(code):
            out.append(f" {char} ")
        else:
            out.append(char)
    return "".join(out)


class WordPiece:
    """Text to vocabulary ids. ``vocab`` maps each piece to its id."""

    __slots__ = ("_cache", "_unknown", "_vocab")

    def __init__(self, vocab: Mapping[str, int], unknown: str = "[UNK]") -> None:
        self._vocab = dict(vocab)
        self._unknown = self._vocab[unknown]
        # Recovery talk reuses few words: remembering each word's pieces makes most lines cheap.
        self._cache: dict[str, tuple[int, ...]] = {}

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> WordPiece:
        return cls({line.rstrip("\n"): i for i, line in enumerate(lines)})

    def pieces(self) -> list[str]:
        """The vocabulary in id order (as ``from_lines`` reads it)."""
        return sorted(self._vocab, key=self._vocab.__getitem__)

    def ids(self, text: str) -> list[int]:
        result: list[int] = []
        cache = self._cache
        for word in basic_words(text):
            pieces = cache.get(word)
            if pieces is None:
                pieces = self._pieces(word)
                if len(cache) < 50_000:
                    cache[word] = pieces
            result.extend(pieces)
        return result

    def _pieces(self, word: str) -> tuple[int, ...]:
        if len(word) > _MAX_WORD_CHARS:
            return (self._unknown,)
        vocab = self._vocab
        found: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            piece_id = None
            while start < end:
                piece = word[start:end] if start == 0 else _CONTINUATION + word[start:end]
                piece_id = vocab.get(piece)
                if piece_id is not None:
                    break
                end -= 1
            if piece_id is None:
                return (self._unknown,)
            found.append(piece_id)
            start = end
        return tuple(found)
