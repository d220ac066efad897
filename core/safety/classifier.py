"""The learned layer: a small local classifier that scores how likely a message is a crisis.

It runs beside the rules (``detector.py``) and catches ways of saying it that no pattern
lists. It is a detector only: it reads one message and returns a number between 0 and 1. It
generates no text, sends nothing anywhere and downloads nothing; its weights ship inside the
package (``core/safety/model/``), with their source, licence and the command that rebuilt them
in ``model/README.md``. It is built by ``tools/build_classifier.py``.

Three kinds of model can be loaded (the build script measures all three and ships one):

``ngrams``
    Logistic regression on hashed word and character n-grams of the normalised text, and
    optionally word trigrams and pairs of words a few apart (so "dont ... stop" and "stop" are
    told apart even with a word between). One model reads English and Spanish alike (it was
    trained on both). Long messages may also be scored in windows of words (see the class).
``conv``
    A small convolutional network over word pieces whose vectors come from the sentence model
    all-MiniLM-L6-v2, folded at build time into per-piece tables (see ``ConvPieces``): it
    reads what words mean, not how they are spelt.
``blend``
    Both of the above, their logits weighed together (``Blend``).

All are plain Python at run time. Nothing here logs or stores the text it is given.
"""

from __future__ import annotations

import dataclasses
import math
import struct
import tomllib
import zlib
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import add
from pathlib import Path
from typing import Protocol

from core.safety.wordpiece import WordPiece

MODEL_DIR = Path(__file__).resolve().parent / "model"
MANIFEST = "model.toml"
# A message longer than this is scored on its first part only: the rules still read all of it.
MAX_CHARS = 20_000


class Classifier(Protocol):
    """Scores one (normalised) message: the model's probability that it is a crisis."""

    @property
    def name(self) -> str: ...

    @property
    def threshold(self) -> float: ...

    def score(self, normal: str) -> float: ...


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def read_halves(data: bytes) -> array[float]:
    """Little-endian float16 values (the weights' storage format), as a compact float array."""
    if len(data) % 2:
        raise ValueError("float16 data must have an even number of bytes")
    return array("f", struct.unpack(f"<{len(data) // 2}e", data))


def write_halves(values: Iterable[float]) -> bytes:
    items = list(values)
    return struct.pack(f"<{len(items)}e", *items)


def as_halves(values: Iterable[float]) -> array[float]:
    """The values as float16 would store them: what a model is scored with once shipped."""
    return read_halves(write_halves(values))


_NGRAM_MIN = 3
_NGRAM_MAX = 5

# Common words of one language and not the other (after normalisation: lower case, no accents).
_SPANISH_WORDS = frozenset(
    "que de la el y en los las por con para una mi ya pero es lo se te muy mas yo estoy esta "  # noqa: SIM905
    "porque como todo nada quiero tengo hoy aqui eso".split()
)
_ENGLISH_WORDS = frozenset(
    "the and i to of in it is my that this for with was but so im just have you not "  # noqa: SIM905
    "dont be on at all what".split()
)


def looks_spanish(normal: str) -> bool:
    """Whether more of a normalised message's words are common Spanish words than common
    English ones: which language's threshold applies (the model reads both)."""
    spanish = english = 0
    for word in normal[:MAX_CHARS].split():
        if word in _SPANISH_WORDS:
            spanish += 1
        elif word in _ENGLISH_WORDS:
            english += 1
    return spanish > english


def ngram_features(normal: str, bits: int, pairs_within: int = 1) -> set[int]:
    """Hashed word uni- and bigrams and character 3-5-grams of each word (stable across runs:
    CRC-32, not Python's salted hash). With ``pairs_within`` above 1, also word trigrams and
    pairs of words up to that many apart."""
    mask = (1 << bits) - 1
    words = [w for w in normal[:MAX_CHARS].split() if w not in (".", ",")]
    crc = zlib.crc32
    found: set[int] = set()
    previous = "<s>"
    for i, word in enumerate(words):
        found.add(crc(f"w {word}".encode()) & mask)
        found.add(crc(f"b {previous} {word}".encode()) & mask)
        if pairs_within > 1 and i:
            before = words[i - 2] if i >= 2 else "<s>"
            found.add(crc(f"t {before} {previous} {word}".encode()) & mask)
            for gap in range(2, min(pairs_within, i) + 1):
                found.add(crc(f"s {words[i - gap]} {word}".encode()) & mask)
        previous = word
        padded = f"<{word}>"
        for n in range(_NGRAM_MIN, _NGRAM_MAX + 1):
            for i in range(len(padded) - n + 1):
                found.add(crc(f"c {padded[i : i + n]}".encode()) & mask)
    return found


@dataclass(frozen=True)
class HashedNgrams:
    """Logistic regression on hashed n-grams (binary features, L2-normalised).

    With ``window`` above 0, a message longer than ``window`` words is also scored in windows of
    that many words (every ``window // 2`` words, the last one ending at the last word), and a
    window counts when it scores ``window_margin`` above the threshold: danger told in a few
    sentences at the end of a long, everyday message is not diluted by all the rest, while a
    stricter bar keeps one heavy sentence in a long story from counting as easily as a whole
    message does."""

    name: str
    weights: Sequence[float]
    bias: float
    threshold: float
    bits: int
    pairs_within: int = 1
    window: int = 0
    window_margin: float = 0.0
    # Added to the logit of a message that looks Spanish, so that one threshold holds each
    # language to the same false-alarm rate.
    spanish_shift: float = 0.0

    def _logit(self, normal: str) -> float:
        features = ngram_features(normal, self.bits, self.pairs_within)
        if not features:
            return -math.inf
        weights = self.weights
        return sum(weights[f] for f in features) / math.sqrt(len(features)) + self.bias

    def logit(self, normal: str) -> float:
        logit = self._windowed(normal)
        if self.spanish_shift and looks_spanish(normal):
            return logit + self.spanish_shift
        return logit

    def _windowed(self, normal: str) -> float:
        whole = self._logit(normal)
        window = self.window
        if window <= 0:
            return whole
        words = normal[:MAX_CHARS].split()
        if len(words) <= window:
            return whole
        step = max(1, window // 2)
        starts = list(range(0, len(words) - window + 1, step))
        if starts[-1] != len(words) - window:
            starts.append(len(words) - window)
        best = max(self._logit(" ".join(words[s : s + window])) for s in starts)
        return max(whole, best - self.window_margin)

    def score(self, normal: str) -> float:
        logit = self.logit(normal)
        return 0.0 if logit == -math.inf else _sigmoid(logit)


# The convolutional layer reads at most this many word pieces of a message: beyond them the
# n-grams' windows and the rules still read the rest.
CONV_MAX_PIECES = 512


@dataclass(frozen=True)
class ConvPieces:
    """A small convolutional network over static word pieces, with the convolution folded into
    per-piece tables.

    The pieces' vectors (distilled from all-MiniLM-L6-v2, then fine-tuned) pass through
    convolutions of a few widths, each filter's highest activation anywhere in the message is
    kept, and a linear head weighs them. Since a piece's vector never changes, what a filter of
    width ``w`` adds for the piece at offset ``k`` of its window is computed at build time: one
    int8 table per (width, offset), a row of ``filters`` values per piece, sharing one scale per
    width. Scoring a message is then row sums, a maximum and one dot product, in plain Python.
    Because it pools the highest activation, danger said once at the end of a long message
    counts in full."""

    name: str
    tokenizer: WordPiece
    filters: int
    # For each width (1, 2, ...): its offsets' tables (pieces x filters, flat), scale, biases.
    tables: Sequence[Sequence[array[int]]]
    scales: Sequence[float]
    biases: Sequence[Sequence[float]]
    head: Sequence[float]  # one weight per (width, filter)
    bias: float
    threshold: float

    def logit(self, normal: str) -> float:
        ids = self.tokenizer.ids(normal[:MAX_CHARS])[:CONV_MAX_PIECES]
        if not ids:
            return -math.inf
        f = self.filters
        pooled: list[float] = []
        for tables, scale, biases in zip(self.tables, self.scales, self.biases, strict=True):
            width = len(tables)
            best: Sequence[int] = ()
            # The window ending at each piece; offsets before the first piece add nothing.
            for end in range(len(ids)):
                start = end - width + 1
                summed: Sequence[int] = ()
                for k in range(max(0, -start), width):
                    at = ids[start + k] * f
                    row = tables[k][at : at + f]
                    summed = list(map(add, summed, row)) if summed else row
                best = list(map(max, best, summed)) if best else summed
            pooled += [max(0.0, b * scale + c) for b, c in zip(best, biases, strict=True)]
        return sum(w * x for w, x in zip(self.head, pooled, strict=True)) + self.bias

    def score(self, normal: str) -> float:
        logit = self.logit(normal)
        return 0.0 if logit == -math.inf else _sigmoid(logit)


@dataclass(frozen=True)
class Blend:
    """The n-grams and the convolutional layer together: a weighted sum of their logits (each
    weight also brings its model to a common spread), judged by one threshold. The n-grams see
    spellings and word order; the pieces' vectors carry what words mean, so a way of saying it
    that no training line used can still score. A message that looks Spanish has weights of its
    own (the pieces come from an English vocabulary, so they may count for less or nothing) and
    its logit shifted by ``spanish_shift``, so one threshold holds each language to the same
    false-alarm rate."""

    name: str
    ngrams: HashedNgrams
    conv: ConvPieces
    ngrams_weight: float
    conv_weight: float
    threshold: float
    spanish_ngrams_weight: float
    spanish_conv_weight: float
    spanish_shift: float = 0.0

    def logit(self, normal: str) -> float:
        spanish = looks_spanish(normal)
        a = self.ngrams.logit(normal)
        if a == -math.inf:
            return -math.inf
        if spanish:
            logit = self.spanish_ngrams_weight * a + self.spanish_shift
            weight = self.spanish_conv_weight
        else:
            logit = self.ngrams_weight * a
            weight = self.conv_weight
        if weight:
            meaning = self.conv.logit(normal)
            if meaning != -math.inf:
                logit += weight * meaning
        return logit

    def score(self, normal: str) -> float:
        logit = self.logit(normal)
        return 0.0 if logit == -math.inf else _sigmoid(logit)


def load_classifier(folder: Path = MODEL_DIR) -> Classifier:
    """The shipped model (``model.toml`` names its kind and files).

    Raises ValueError naming the file when it is missing or malformed.
    """
    manifest = folder / MANIFEST
    try:
        with manifest.open("rb") as handle:
            data = tomllib.load(handle)
        return _build(folder, data)
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, struct.error) as exc:
        raise ValueError(f"{manifest}: cannot load the classifier ({type(exc).__name__})") from exc


def _build(folder: Path, data: Mapping[str, object]) -> Classifier:
    kind = data["kind"]
    name = str(data["name"])
    threshold = float(_number(data["threshold"]))
    if kind == "ngrams":
        return dataclasses.replace(_ngrams(folder, data), name=name, threshold=threshold)
    if kind == "conv":
        return dataclasses.replace(_conv(folder, data), name=name, threshold=threshold)
    if kind == "blend":
        return Blend(
            name,
            _ngrams(folder, _table(data, "ngrams")),
            _conv(folder, _table(data, "conv")),
            float(_number(data["ngrams_weight"])),
            float(_number(data["conv_weight"])),
            threshold,
            float(_number(data["spanish_ngrams_weight"])),
            float(_number(data["spanish_conv_weight"])),
            float(_number(data.get("spanish_shift", 0.0))),
        )
    raise ValueError(f"{folder / MANIFEST}: unknown kind {kind!r}")


def _ngrams(folder: Path, data: Mapping[str, object]) -> HashedNgrams:
    weights = read_halves((folder / str(data["weights"])).read_bytes())
    bits = int(_number(data["bits"]))
    if len(weights) != 1 << bits:
        raise ValueError(f"{folder}: expected {1 << bits} weights")
    return HashedNgrams(
        "ngrams",
        weights,
        float(_number(data["bias"])),
        0.5,
        bits,
        int(_number(data.get("pairs_within", 1))),
        int(_number(data.get("window", 0))),
        float(_number(data.get("window_margin", 0.0))),
        float(_number(data.get("spanish_shift", 0.0))),
    )


def _table(data: Mapping[str, object], key: str) -> Mapping[str, object]:
    table = data[key]
    if not isinstance(table, dict):
        raise TypeError(f"{key} must be a table")
    return table


def _conv(folder: Path, data: Mapping[str, object]) -> ConvPieces:
    lines = (folder / str(data["vocab"])).read_text(encoding="utf-8").split("\n")
    tokenizer = WordPiece.from_lines(line for line in lines if line)
    pieces = len(lines) - lines.count("")
    filters = int(_number(data["filters"]))
    widths = data["widths"]
    scales = data["scales"]
    if not isinstance(widths, list) or not isinstance(scales, list) or len(widths) != len(scales):
        raise TypeError("widths and scales must be lists of the same length")
    packed = array("b", (folder / str(data["tables"])).read_bytes())
    small = read_halves((folder / str(data["params"])).read_bytes())
    size = pieces * filters
    if len(packed) != size * sum(int(_number(w)) for w in widths):
        raise ValueError(f"{folder}: the convolution tables and the vocabulary differ in size")
    if len(small) != 2 * filters * len(widths):
        raise ValueError(f"{folder}: expected {2 * filters * len(widths)} small weights")
    tables: list[list[array[int]]] = []
    biases: list[Sequence[float]] = []
    at = 0
    for i, width in enumerate(widths):
        offsets = []
        for _ in range(int(_number(width))):
            offsets.append(packed[at : at + size])
            at += size
        tables.append(offsets)
        biases.append(small[i * filters : (i + 1) * filters])
    head = small[len(widths) * filters :]
    return ConvPieces(
        "conv",
        tokenizer,
        filters,
        tables,
        [float(_number(x)) for x in scales],
        biases,
        head,
        float(_number(data["bias"])),
        0.5,
    )


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    return value
