"""Build the Spanish labelled crisis-language set (tests/data/crisis_es/) from its sources.

    python tools/build_crisis_es.py

Sources are ``tests/data/crisis_es/src/<voice>.txt``, one message a line as ``code|text`` (codes
below; ``#`` lines are notes). The long-message voice, ``narrativo_largo``, is composed here
(seeded): each everyday first half in ``gen/openers.txt`` is reused 4-5 times with second halves
from ``gen/endings.txt``, which carry the label. Writes ``<voice>.tsv`` (the same layout as
``tests/data/crisis/``: ``label\\tcategory\\tvoice\\ttext``) and ``COUNTS.txt``; exits 1 on a
format error, a duplicate line (accents and punctuation folded) or a missed target.
"""

from __future__ import annotations

import random
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "tests" / "data" / "crisis_es"
HEADER = "label\tcategory\tvoice\ttext"
LONG_VOICE = "narrativo_largo"
LONG_SEED = 16

CODES: dict[str, tuple[str, str]] = {
    # crisis (C-SSRS-style, plus overdose, someone else in danger now, and goodbyes)
    "wd": ("crisis", "wish_dead"),
    "at": ("crisis", "active_thoughts"),
    "me": ("crisis", "method"),
    "in": ("crisis", "intent"),
    "pl": ("crisis", "plan"),
    "pr": ("crisis", "preparatory"),
    "sh": ("crisis", "self_harm"),
    "od": ("crisis", "overdose"),
    "ot": ("crisis", "other_now"),
    "gb": ("crisis", "goodbye"),
    # concern
    "ho": ("concern", "hopeless"),
    "wo": ("concern", "worthless"),
    "cc": ("concern", "cant_cope"),
    "cr": ("concern", "craving"),
    "sa": ("concern", "shame"),
    "lo": ("concern", "lonely"),
    # none
    "id": ("none", "idiom"),
    "ng": ("none", "negated"),
    "pa": ("none", "past"),
    "tp": ("none", "third_person"),
    "mv": ("none", "media"),
    "mc": ("none", "medical"),
    "ev": ("none", "everyday"),
    "ed": ("none", "education"),
    "gm": ("none", "gaming"),
    "hu": ("none", "humour"),
}

# Words that also occur in crisis talk (on accent-folded, lower-case text): an everyday line
# holding one is a hard negative. Spanish first, then the English members mix in.
SHARED_WORDS = re.compile(
    r"morir|muer[eoat]|muri|morim|\bmato\b|matar|mata[nrsdm]?\b|matad|mataste|matao|mate\b|"
    r"mataron|suicid|quitar(me|se|le) (la vida|de en medio)|quito la vida|quitarse|vida\b|"
    r"desaparec|despert|despiert|dormir(me)? y no|no volver|"
    r"pastill|pepa|chocho|pirula|rula|frasco|bote\b|caja entera|dosis|sobredosis|\bme pase|"
    r"se paso|pasao|pase|palida|amarillo|blancazo|mono\b|malill|naloxona|narcan|"
    r"cort[aeo]|cortad|cortao|sangr|quem[aeo]|cicatri|"
    r"puente|vias|tren|azotea|terraza|balcon|soga|cuerda|pistola|revolver|escopeta|arma\b|cuerno|"
    r"navaja|cuchill|tirarme|tirar(se)?|aventar|saltar|"
    r"adios|despido|despedi|ultimo|carta|chau|me voy|"
    r"no aguanto|aguantar|acabar con|acabo con|terminar con|ya no puedo|"
    r"fenta|fentanil|azules|heroina|caballo|cristal|perico|farlopa|merca|falopa|paco\b|bazuco|"
    r"tusi|keta|coca\b|manteca|percs?\b|"
    r"urgencias|guardia|uci|hospital|ambulancia|112|911|123|024|107|"
    r"respir|labios|morad|azul|violeta|inconscien|convulsi|"
    r"kill|die\b|dying|dead|death|overdos|\bod\b|pills?\b|cut\b|cutting|goodbye|bye\b|"
    r"💀|🪦|⚰|💊|🔪|🩸",
)

Line = tuple[str, str, str, str]  # label, category, voice, text


def fold(text: str) -> str:
    """Casefolded without accents, so "morí", "mori" and "MORI" compare equal."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", " ", fold(text)).strip() or text.strip()


def _entries(path: Path) -> list[tuple[int, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(n, raw) for n, raw in enumerate(lines, 1) if raw.strip() and not raw.startswith("#")]


def compose_long(gen: Path) -> list[str]:
    """The long messages, as ``code|text`` lines: an everyday opener, then a labelled ending.

    Endings are shuffled with a fixed seed and dealt to the openers in turn, so each opener
    comes back 4-5 times with endings of every label.
    """
    openers = [raw.strip() for _, raw in _entries(gen / "openers.txt")]
    endings = [raw for _, raw in _entries(gen / "endings.txt")]
    random.Random(LONG_SEED).shuffle(endings)
    composed = []
    for i, ending in enumerate(endings):
        code, _, text = ending.partition("|")
        composed.append(f"{code}|{openers[i % len(openers)]} {text.strip()}")
    order = {code: i for i, code in enumerate(CODES)}
    composed.sort(key=lambda line: order.get(line.partition("|")[0], len(order)))
    return composed


def read_sources(src: Path, errors: list[str]) -> dict[str, list[Line]]:
    voices: dict[str, list[Line]] = {}
    for path in sorted(src.glob("*.txt")):
        voice = path.stem
        rows: list[Line] = []
        for number, raw in _entries(path):
            code, sep, text = raw.partition("|")
            text = text.strip()
            if not sep or code.strip() not in CODES or not text:
                errors.append(f"{path.name}:{number}: bad line {raw[:60]!r}")
                continue
            if any(c in text for c in "\t\r\n"):
                errors.append(f"{path.name}:{number}: tab or line break in the text")
                continue
            label, category = CODES[code.strip()]
            rows.append((label, category, voice, text))
        voices[voice] = rows
    return voices


def write_tsvs(folder: Path, voices: dict[str, list[Line]]) -> None:
    for voice, rows in voices.items():
        body = "".join("\t".join(row) + "\n" for row in rows)
        (folder / f"{voice}.tsv").write_text(HEADER + "\n" + body, encoding="utf-8")


def check_tsvs(folder: Path, errors: list[str]) -> list[Line]:
    """Re-read every written file as a consumer would."""
    categories = set(CODES.values())
    checked: list[Line] = []
    for path in sorted(folder.glob("*.tsv")):
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            errors.append(f"{path.name}: not UTF-8")
            continue
        lines = text.split("\n")
        if lines[0] != HEADER:
            errors.append(f"{path.name}: bad header")
        for number, line in enumerate(lines[1:], 2):
            if not line:
                continue
            fields = line.split("\t")
            if len(fields) != 4:
                errors.append(f"{path.name}:{number}: {len(fields)} fields")
                continue
            label, category, voice, message = fields
            if (label, category) not in categories:
                errors.append(f"{path.name}:{number}: bad label/category {label}/{category}")
            if voice != path.stem:
                errors.append(f"{path.name}:{number}: voice {voice} is not the file's")
            if not message.strip():
                errors.append(f"{path.name}:{number}: empty text")
            checked.append((label, category, voice, message))
    seen: dict[str, str] = {}
    for _, _, voice, message in checked:
        key = _key(message)
        if key in seen:
            errors.append(f"duplicate text ({voice} / {seen[key]}): {message[:70]!r}")
        seen.setdefault(key, voice)
    return checked


def report(rows: list[Line]) -> tuple[str, bool]:
    total = len(rows)
    by_label = Counter(r[0] for r in rows)
    by_category = Counter((r[0], r[1]) for r in rows)
    by_voice = Counter(r[2] for r in rows)
    by_voice_label = Counter((r[2], r[0]) for r in rows)
    hard = sum(1 for r in rows if r[0] == "none" and SHARED_WORDS.search(fold(r[3])))
    hard_concern = sum(1 for r in rows if r[0] == "concern" and SHARED_WORDS.search(fold(r[3])))
    long_rows = [r for r in rows if r[2] == LONG_VOICE]
    long_ok = sum(1 for r in long_rows if 40 <= len(r[3].split()) <= 150)

    def share(label: str) -> float:
        return by_label[label] / max(total, 1)

    crisis_categories = [c for label, c in CODES.values() if label == "crisis"]
    targets = [
        ("total >= 1500", total >= 1500),
        ("crisis 40-50%", 0.40 <= share("crisis") <= 0.50),
        ("concern 12-18%", 0.12 <= share("concern") <= 0.18),
        ("none 35-45%", 0.35 <= share("none") <= 0.45),
        (
            "every crisis category >= 60",
            all(by_category[("crisis", c)] >= 60 for c in crisis_categories),
        ),
        ("hard negatives (none) >= 400", hard >= 400),
        (">= 10 voices with >= 100 lines", sum(v >= 100 for v in by_voice.values()) >= 10),
        (f"{LONG_VOICE} lines 40-150 words", bool(long_rows) and long_ok == len(long_rows)),
    ]
    out = [f"total lines: {total}", "", "per label:"]
    for label in ("crisis", "concern", "none"):
        out.append(f"  {label:8} {by_label[label]:5}  ({100 * share(label):.1f}%)")
    out += ["", "per category:"]
    for label, category in CODES.values():
        out.append(f"  {label:8} {category:16} {by_category[(label, category)]:5}")
    out.append(f"\nhard negatives (none lines sharing words with crisis talk): {hard}")
    out.append(f"concern lines sharing words with crisis talk: {hard_concern}")
    out.append(f"{LONG_VOICE} lines within 40-150 words: {long_ok}/{len(long_rows)}")
    out += ["", "per voice (total / crisis / concern / none):"]
    for voice in sorted(by_voice):
        counts = [by_voice_label[(voice, label)] for label in ("crisis", "concern", "none")]
        out.append(f"  {voice:22} {by_voice[voice]:4} " + " ".join(f"{c:4}" for c in counts))
    out += ["", "targets:"]
    out += [f"  [{'ok' if ok else 'FAIL'}] {name}" for name, ok in targets]
    return "\n".join(out) + "\n", all(ok for _, ok in targets)


def main() -> int:
    errors: list[str] = []
    long_source = FOLDER / "src" / f"{LONG_VOICE}.txt"
    note = "# Composed by tools/build_crisis_es.py from gen/; edit gen/, not this file.\n"
    long_source.write_text(note + "\n".join(compose_long(FOLDER / "gen")) + "\n", "utf-8")
    write_tsvs(FOLDER, read_sources(FOLDER / "src", errors))
    rows = check_tsvs(FOLDER, errors)
    text, met = report(rows)
    text += f"\nformat errors (fields, labels, categories, duplicates): {len(errors)}\n"
    (FOLDER / "COUNTS.txt").write_text(text, encoding="utf-8")
    print(text)
    for error in errors[:80]:
        print("ERR", error)
    return 1 if errors or not met else 0


if __name__ == "__main__":
    sys.exit(main())
