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
    told apart even with a word between).

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
    """Logistic regression on hashed n-grams (binary features, L2-normalised)."""

    name: str
    weights: Sequence[float]
    bias: float
    threshold: float
    bits: int
    pairs_within: int = 1

    def logit(self, normal: str) -> float:
        features = ngram_features(normal, self.bits, self.pairs_within)
        if not features:
            return -math.inf
        weights = self.weights
        return sum(weights[f] for f in features) / math.sqrt(len(features)) + self.bias

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
        return HashedNgrams(name, weights, bias, threshold, bits, pairs_within)
    raise ValueError(f"{folder / MANIFEST}: unknown kind {kind!r}")


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    return value
