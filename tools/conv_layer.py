"""Build-time training of the convolutional candidate (``ConvPieces``) with torch.

Used by ``build_classifier.py``; never imported by the bot. The network: each word piece's
static vector (distilled from all-MiniLM-L6-v2, fine-tuned here at a small rate), convolutions
of widths ``WIDTHS`` with ``FILTERS`` filters each, the highest activation of each filter over the
message, dropout, one linear head. ``fold`` turns it into per-piece int8 tables for
``core/safety/classifier.py``.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Callable, Sequence
from typing import Any

from core.safety.classifier import CONV_MAX_PIECES, ConvPieces, as_halves
from core.safety.wordpiece import WordPiece

WIDTHS = (1, 2, 3)
FILTERS = 32
LEARNING_RATE = 1e-3
EMBEDDING_RATE = 1e-4
DROPOUT = 0.3
BATCH = 32
# Training reads at most this many pieces of a message (a few long posts are longer).
TRAIN_PIECES = 256


def _network(vectors: Any, seed: int) -> Any:
    import torch

    torch.manual_seed(seed)

    class Net(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding.from_pretrained(torch.tensor(vectors), freeze=False)
            dims = vectors.shape[1]
            self.convs = torch.nn.ModuleList(
                [torch.nn.Conv1d(dims, FILTERS, w, padding=w - 1) for w in WIDTHS]
            )
            self.drop = torch.nn.Dropout(DROPOUT)
            self.out = torch.nn.Linear(FILTERS * len(WIDTHS), 1)

        def forward(self, ids: Any, mask: Any) -> Any:
            x = self.emb(ids).transpose(1, 2)
            pooled = []
            for conv in self.convs:
                # Window ending at each piece (padding in front only): as ConvPieces reads it.
                h = torch.relu(conv(x))[:, :, : ids.shape[1]]
                pooled.append(h.masked_fill(~mask[:, None, :], -1e4).max(dim=2).values)
            return self.out(self.drop(torch.cat(pooled, 1))).squeeze(1)

    return Net()


class ConvTrainer:
    def __init__(self, tokens: list[str], vectors: Any) -> None:
        self.tokenizer = WordPiece.from_lines(tokens)
        self.vectors = vectors
        self.unknown = self.tokenizer.ids("[UNK]")[0]

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [(self.tokenizer.ids(t) or [self.unknown])[:TRAIN_PIECES] for t in texts]

    @staticmethod
    def _batch(seqs: Sequence[Sequence[int]]) -> tuple[Any, Any]:
        import torch

        longest = max(len(s) for s in seqs)
        ids = torch.zeros(len(seqs), longest, dtype=torch.long)
        mask = torch.zeros(len(seqs), longest, dtype=torch.bool)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = True
        return ids, mask

    def fit(
        self,
        ids: list[list[int]],
        labels: Sequence[int],
        epochs: int,
        seed: int,
        on_epoch: Callable[[int, Any], None] | None = None,
    ) -> Any:
        """The trained network (torch); ``on_epoch(epoch, network)`` after each epoch."""
        import torch

        net = _network(self.vectors, seed)
        rng = random.Random(seed)
        head = [p for n, p in net.named_parameters() if not n.startswith("emb")]
        optim = torch.optim.Adam(
            [
                {"params": head, "lr": LEARNING_RATE},
                {"params": net.emb.parameters(), "lr": EMBEDDING_RATE},
            ]
        )
        loss_fn = torch.nn.BCEWithLogitsLoss()
        # Batches of similar length (less padding), dealt in a seeded order each epoch.
        order = sorted(range(len(ids)), key=lambda i: (len(ids[i]), i))
        batches = [order[i : i + BATCH] for i in range(0, len(order), BATCH)]
        for epoch in range(1, epochs + 1):
            net.train()
            rng.shuffle(batches)
            for batch in batches:
                x, mask = self._batch([ids[i] for i in batch])
                target = torch.tensor([float(labels[i]) for i in batch])
                loss = loss_fn(net(x, mask), target)
                optim.zero_grad()
                loss.backward()
                optim.step()
            net.eval()
            if on_epoch is not None:
                on_epoch(epoch, net)
        return net

    def logits(self, net: Any, ids: Sequence[Sequence[int]]) -> list[float]:
        """The network's logits (float weights; close to what ``fold`` ships)."""
        import torch

        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        result = [0.0] * len(ids)
        with torch.no_grad():
            for start in range(0, len(order), 256):
                chunk = order[start : start + 256]
                x, mask = self._batch([ids[i] for i in chunk])
                for i, value in zip(chunk, net(x, mask).tolist(), strict=True):
                    result[i] = float(value)
        return result

    def fold(self, net: Any) -> ConvPieces:
        """Per-(width, offset) tables of what each piece adds to each filter, as int8 with one
        scale per width; biases and head as float16 values."""
        import torch

        tables: list[list[array[int]]] = []
        scales: list[float] = []
        biases: list[Any] = []
        with torch.no_grad():
            emb = net.emb.weight
            for conv in net.convs:
                per_offset = [emb @ conv.weight[:, :, k].T for k in range(conv.weight.shape[2])]
                top = max(float(t.abs().max()) for t in per_offset)
                scale = top / 127 if top else 1.0
                tables.append(
                    [
                        array("b", torch.round(t / scale).to(torch.int8).flatten().tolist())
                        for t in per_offset
                    ]
                )
                scales.append(scale)
                biases.append(as_halves(conv.bias.tolist()))
            head = as_halves(net.out.weight.squeeze(0).tolist())
            bias = float(net.out.bias.item())
        assert CONV_MAX_PIECES >= TRAIN_PIECES
        return ConvPieces("conv", self.tokenizer, FILTERS, tables, scales, biases, head, bias, 0.5)
