"""Labelled crisis-language lines for measuring the detector, and their held-out split.

Two layouts are read: the original ``label\\tcategory\\ttext`` file, and the per-voice files
``label\\tcategory\\tvoice\\ttext`` in one folder, whose ``split.toml`` names the voices held
out of every rule and model decision. Its ``answers/`` subfolder holds the everyday answers
(what members type into the bot's own text steps), per voice too, with their own held-out
voices (``answers_held_out``); they are kept apart from the crisis-language set because their
false alarms are counted, and limited, on their own. Used by the tests, the benchmarks and the
classifier's build script; the running bot never reads these files.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

LABELS = ("crisis", "concern", "none")
# The everyday answers' subfolder.
ANSWERS = "answers"


@dataclass(frozen=True)
class Row:
    label: str
    category: str
    voice: str
    text: str


def read_rows(path: Path) -> list[Row]:
    """One labelled file, either layout; the original file's voice is ``labelled``."""
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    if header not in (["label", "category", "text"], ["label", "category", "voice", "text"]):
        raise ValueError(f"{path}: unexpected header {lines[0]!r}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        if len(header) == 3:
            label, category, text = line.split("\t", 2)
            voice = "labelled"
        else:
            label, category, voice, text = line.split("\t", 3)
        if label not in LABELS:
            raise ValueError(f"{path}:{number}: unknown label {label!r}")
        rows.append(Row(label, category, voice, text))
    return rows


def held_out_voices(folder: Path, key: str = "held_out") -> frozenset[str]:
    with (folder / "split.toml").open("rb") as handle:
        data = tomllib.load(handle)
    voices = data.get(key)
    if not isinstance(voices, list) or not all(isinstance(v, str) for v in voices):
        raise ValueError(f"{folder / 'split.toml'}: '{key}' must be a list of voices")
    return frozenset(voices)


def split(folder: Path, extra: Path | None = None) -> tuple[list[Row], list[Row]]:
    """(training rows, held-out rows) from the per-voice folder, plus ``extra`` for training.

    A voice is held out whole, so nothing it wrote can leak into training.
    """
    held = held_out_voices(folder)
    train: list[Row] = read_rows(extra) if extra is not None else []
    test: list[Row] = []
    for path in sorted(folder.glob("*.tsv")):
        for row in read_rows(path):
            (test if row.voice in held else train).append(row)
    return train, test


def split_answers(folder: Path) -> tuple[list[Row], list[Row]]:
    """(training rows, held-out rows) of the everyday answers in ``folder/answers``, split by
    voice as ``split.toml``'s ``answers_held_out`` says."""
    held = held_out_voices(folder, "answers_held_out")
    train: list[Row] = []
    test: list[Row] = []
    for path in sorted((folder / ANSWERS).glob("*.tsv")):
        for row in read_rows(path):
            (test if row.voice in held else train).append(row)
    return train, test
