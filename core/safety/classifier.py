"""The learned layer: a small local classifier that scores how likely a message is a crisis.

It runs beside the rules (``detector.py``) and catches ways of saying it that no pattern
lists. It is a detector only: it reads one message and returns a number between 0 and 1. It
generates no text, sends nothing anywhere and downloads nothing; its weights ship inside the
package (``core/safety/model/``), with their source, licence and the command that rebuilt them
in ``model/README.md``. It is built by ``tools/build_classifier.py``.

Two kinds of model can be loaded (the build script measures both and ships one):

``pieces``
    Static word-piece embeddings distilled from the sentence model all-MiniLM-L6-v2,
    fine-tuned with a linear head on mean-pooled pieces. A linear head on a mean is the mean of
    each piece's own score, so the head is folded into the embeddings at build time: what
    ships is one weight per word piece, and scoring is a sum. Long messages are scored in
    overlapping windows and the highest window counts, so danger in the second half of a long
    message is not averaged away.
``ngrams``
    Logistic regression on hashed word and character n-grams of the normalised text, and
    optionally word trigrams and pairs of words a few apart (so "dont ... stop" and "stop" are
    told apart even with a word between). One model reads English and Spanish alike (it was
    trained on both). Long messages may also be scored in windows of words (see the class).

Both are plain Python at run time. Nothing here logs or stores the text it is given.
"""

from __future__ import annotations

import math
import struct
import tomllib
import zlib
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class PieceWeights:
    """Per-piece weights (a linear head folded into static embeddings), mean-pooled."""

    name: str
    tokenizer: WordPiece
    weights: Sequence[float]
    bias: float
    threshold: float
    window: int  # pieces per window; shorter messages are one window
    stride: int

    def logit(self, normal: str) -> float:
        weights = self.weights
        values = [weights[i] for i in self.tokenizer.ids(normal[:MAX_CHARS])]
        if not values:
            return -math.inf
        window = self.window
        if len(values) <= window:
            return sum(values) / len(values) + self.bias
        # Running sums: every window's mean in one pass.
        best = -math.inf
        total = sum(values[:window])
        last_start = len(values) - window
        for start in range(last_start + 1):
            if start:
                total += values[start + window - 1] - values[start - 1]
            if start % self.stride == 0 or start == last_start:
                best = max(best, total)
        return best / window + self.bias

    def score(self, normal: str) -> float:
        logit = self.logit(normal)
        return 0.0 if logit == -math.inf else _sigmoid(logit)


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
    bias = float(_number(data["bias"]))
    threshold = float(_number(data["threshold"]))
    weights = read_halves((folder / str(data["weights"])).read_bytes())
    if kind == "pieces":
        lines = (folder / str(data["vocab"])).read_text(encoding="utf-8").split("\n")
        tokenizer = WordPiece.from_lines(line for line in lines if line)
        if len(weights) != len(lines) - lines.count(""):
            raise ValueError(f"{folder}: weights and vocabulary differ in length")
        window = int(_number(data["window"]))
        stride = int(_number(data["stride"]))
        return PieceWeights(name, tokenizer, weights, bias, threshold, window, stride)
    if kind == "ngrams":
        bits = int(_number(data["bits"]))
        if len(weights) != 1 << bits:
            raise ValueError(f"{folder}: expected {1 << bits} weights")
        pairs_within = int(_number(data.get("pairs_within", 1)))
        window = int(_number(data.get("window", 0)))
        margin = float(_number(data.get("window_margin", 0.0)))
        shift = float(_number(data.get("spanish_shift", 0.0)))
        return HashedNgrams(
            name, weights, bias, threshold, bits, pairs_within, window, margin, shift
        )
    raise ValueError(f"{folder / MANIFEST}: unknown kind {kind!r}")


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    return value
