"""Tests for the rule-based crisis detector (core/safety)."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.safety import CrisisDetector, Level, load_detector
from core.safety.cache import CACHE_NAME
from core.safety.detector import Lexicon, build_lexicon, evaluate
from core.safety.labelled import Row, held_out_voices, split, split_answers
from core.safety.literals import compact_alternations, required_words

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
LEXICON = CONTENT / "en" / "safety" / "lexicon.toml"
LABELLED = ROOT / "tests" / "data" / "crisis_labelled.tsv"
# The broad set (issue 15): 28 voices; split.toml names the fifth held out of every rule and
# model decision.
VOICES = ROOT / "tests" / "data" / "crisis"

# Written after the rules were finished and never used to tune them: a fresh sample of how
# people might say it, to estimate how well the rules generalise beyond the labelled set.
# Earlier held-out sets scored recall 0.73, 0.42, 0.76, 0.46, 0.70 and 0.60 on first run;
# each was looked at, the rules were broadened in general ways, and the set moved into the
# labelled data. This is the seventh such set.
HELD_OUT: list[tuple[str, str]] = [
    ("crisis", "i really think i'm going to kill myself this time"),
    ("crisis", "i want to end my life, i can't cope with the withdrawal"),
    ("crisis", "been thinking about suicide since my relapse"),
    ("crisis", "i feel like there's no way out except dying"),
    ("crisis", "i'm going to overdose tonight on purpose"),
    ("crisis", "i stockpiled my methadone"),
    ("crisis", "please help my friend took a lot of fentanyl and he's not breathing right"),
    ("crisis", "i cut myself pretty badly an hour ago"),
    ("crisis", "i have no reason to keep going"),
    ("crisis", "i'm tired of waking up every morning"),
    ("crisis", "i hope i don't wake up tomorrow morning"),
    ("crisis", "i'm so done, i want to die right now"),
    ("crisis", "i can't see any future for me so i want to end it"),
    ("crisis", "i just want to go to sleep and stay asleep"),
    ("crisis", "thinking of jumping off the bridge near my house"),
    ("crisis", "i am going to take my own life"),
    ("crisis", "everyone would be better off if i was dead"),
    ("crisis", "i don't want to be alive anymore, it hurts too much"),
    ("crisis", "i keep burning my skin with a hot spoon"),
    ("crisis", "my friend is not waking up and her lips are going blue"),
    ("crisis", "i've written letters to my family and i'm ready"),
    ("crisis", "i'm planning to take all my pills at once"),
    ("crisis", "goodbye everyone, i love you, i'm sorry"),
    ("crisis", "i want to kill myself but i'm scared"),
    ("crisis", "i wish i'd never woken up this morning"),
    ("crisis", "my life is pointless and i want to die"),
    ("crisis", "i'm in the bathroom with a razor"),
    ("crisis", "i wanna be dead so bad"),
    ("crisis", "suicidal thoughts won't stop today"),
    ("crisis", "i think my brother is overdosing, he's gurgling"),
    ("none", "i don't want to die, i want help with my drinking"),
    ("none", "when i was 20 i tried to kill myself, today i'm 15 years sober"),
    ("none", "this headache is killing me"),
    ("none", "i'm dying to try the new coffee place"),
    ("none", "the news about the overdose at the festival was awful"),
    ("none", "i'll never hurt myself again, i promised my kids"),
    ("none", "my sponsor killed it at her talk"),
    ("none", "i'm so bored i could die"),
    ("none", "i said goodbye to my old life and hello to recovery"),
    ("none", "i survived a suicide attempt years ago and now i volunteer"),
]


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    return load_detector(CONTENT)


def _labelled() -> list[tuple[str, str, str]]:
    with LABELLED.open(encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    assert lines[0] == "label\tcategory\ttext"
    rows = []
    for line in lines[1:]:
        if line:
            label, category, text = line.split("\t", 2)
            rows.append((label, category, text))
    return rows


# ------------------------------------------------------------------ accuracy


def test_labelled_set_is_well_formed() -> None:
    rows = _labelled()
    labels = Counter(label for label, _, _ in rows)
    assert set(labels) == {"crisis", "concern", "none"}
    assert len(rows) >= 320
    assert labels["crisis"] >= 130
    assert labels["none"] >= 130
    assert len({text for _, _, text in rows}) == len(rows), "duplicate lines"


def test_labelled_set_meets_targets(detector: CrisisDetector) -> None:
    scores = evaluate(detector, [(label, text) for label, _, text in _labelled()])
    assert scores.recall >= 0.95
    assert scores.false_alarm_rate <= 0.05


def _split() -> tuple[list[Row], list[Row]]:
    return split(VOICES, LABELLED)


def _scores(detector: CrisisDetector, rows: list[Row]) -> tuple[float, float]:
    scores = evaluate(detector, [(r.label, r.text) for r in rows])
    return scores.recall, scores.false_alarm_rate


def test_the_held_out_voices_are_whole_and_apart() -> None:
    train, held = _split()
    held_voices = {r.voice for r in held}
    # Six drawn first, two of the voices added later, one of the second batch added later,
    # three of each of the third and fourth and one of the fifth (split.toml says how each was
    # drawn).
    assert len(held_voices) == 16 and not held_voices & {r.voice for r in train}
    assert len(train) + len(held) >= 6_800
    assert sum(r.label == "crisis" for r in held) >= 500


# Floors, not targets: the figures measured when the rules and the model were last built
# (README, "Crisis detection figures"), a little below, so a change that loses ground fails.
# The training lines flatter both layers (the rules were written on them, the model learned
# them); the held-out voices were never used to choose anything.


# The voices added later (split.toml's `added_later`: long messages, written after the rules)
# are measured apart, so the floors on the lines the rules were written on stay comparable.


def _later(rows: list[Row], later: bool) -> list[Row]:
    added = held_out_voices(VOICES, "added_later")
    return [r for r in rows if (r.voice in added) is later]


def test_figures_on_the_training_lines(detector: CrisisDetector) -> None:
    train, _ = _split()
    first = _later(train, later=False)
    recall, false_alarms = _scores(detector.rules_only(), first)
    assert recall >= 0.56 and false_alarms <= 0.015, (recall, false_alarms)
    recall, false_alarms = _scores(detector, first)
    assert recall >= 0.91 and false_alarms <= 0.015, (recall, false_alarms)


def test_figures_on_the_held_out_voices(detector: CrisisDetector) -> None:
    _, held = _split()
    first = _later(held, later=False)
    recall, false_alarms = _scores(detector.rules_only(), first)
    assert recall >= 0.38 and false_alarms <= 0.04, (recall, false_alarms)
    recall, false_alarms = _scores(detector, first)
    # 0.749 at 4.2% with the layer trained before the fresh sets of batch b; retrained with them
    # and the second batch added later: 0.727 at 4.0%. The third retraining (the convolutional
    # layer blended in, batch c and the third and fourth batches added later, the threshold set
    # on the seen fresh sets): 0.834 at 4.0%; the fourth (batch d and a fifth batch): 0.865 at
    # 4.4%.
    assert recall >= 0.84 and false_alarms <= 0.05, (recall, false_alarms)


def test_figures_on_the_voices_added_later(detector: CrisisDetector) -> None:
    # Long messages with the danger at the end, and long heavy posts that are not a crisis. The
    # rules were not rewritten on them and take many of the heavy posts for a crisis (a past
    # attempt told as past, a doctor's question answered "no"): 14% of the training voices'
    # everyday lines, 8% of the held-out voices' (2 of 26). First run of the held-out voices with
    # the learned layer trained on the others: 0.741 recall at 15.4% false alarms.
    train, held = _split()
    recall, false_alarms = _scores(detector, _later(train, later=True))
    assert recall >= 0.97 and false_alarms <= 0.15, (recall, false_alarms)
    held_later = _later(held, later=True)
    first_batches = {"gambler_forum_long", "scots_recovery_cafe", "rig_worker_voice_to_text"}
    recall, false_alarms = _scores(detector, [r for r in held_later if r.voice in first_batches])
    assert recall >= 0.70 and false_alarms <= 0.16, (recall, false_alarms)
    # The third and fourth batches' six held-out voices (terse, dialect, trade, irony, faith):
    # first run 0.748 at 6.7% (Jamaican patois alone 0.338; algospeak's jokes take 10.8% false
    # alarms); with the fourth retraining 0.777 at 6.9%, and with the fifth batch's Hawaiian
    # Pidgin (first run 0.675 at 0%) 0.762 at 5.9%.
    later = [r for r in held_later if r.voice not in first_batches]
    recall, false_alarms = _scores(detector, later)
    assert recall >= 0.72 and false_alarms <= 0.08, (recall, false_alarms)


# The everyday answers (what members type into the bot's own text steps: check-in notes, what a
# part says, plan steps) count their false alarms on their own, apart from the crisis-language
# set's: at most 5% on the held-out voices; the floors below are the figures measured when the
# model was last built, a little looser. The few crisis lines among them must still be heard.


def test_the_held_out_answers_are_whole_and_apart() -> None:
    train, held = split_answers(VOICES)
    held_voices = {r.voice for r in held}
    assert len(held_voices) == 5 and not held_voices & {r.voice for r in train}
    assert len(train) + len(held) >= 3_000
    assert sum(r.label == "none" for r in held) >= 500


def test_everyday_answers_are_not_taken_for_a_crisis(detector: CrisisDetector) -> None:
    train, held = split_answers(VOICES)
    recall, false_alarms = _scores(detector, train)
    assert recall >= 0.95 and false_alarms <= 0.01, (recall, false_alarms)
    recall, false_alarms = _scores(detector, held)
    # 2.0% since the fourth retraining (11 of 546; 6 of them the learned layer's, whose threshold
    # is now set on fresh text and allows it 3% out of fold here: "This isn't good enough to
    # submit." is one). A false alarm in a private chat costs one tap on "you misunderstood".
    assert recall >= 0.9 and false_alarms <= 0.025, (recall, false_alarms)


def _held_out_misses(detector: CrisisDetector) -> list[str]:
    return [
        t for label, t in HELD_OUT if label == "crisis" and detector.assess(t) is not Level.CRISIS
    ]


def test_held_out_does_not_regress(detector: CrisisDetector) -> None:
    assert sum(1 for label, _ in HELD_OUT if label == "crisis") >= 20
    scores = evaluate(detector, HELD_OUT)
    # The first-run figure for this set; a rule change that loses any of it is a regression.
    assert scores.recall >= 0.86, _held_out_misses(detector)
    assert scores.false_alarm_rate == 0.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i want to die", Level.CRISIS),
        ("everyone would be better off without me", Level.CRISIS),
        ("my friend took too many pills and wont wake up", Level.CRISIS),
        ("he's blue and not breathing", Level.CRISIS),
        ("i tried to kill myself last night", Level.CRISIS),
        ("not sure i want to live", Level.CRISIS),
        ("i'm not suicidal", Level.NONE),
        ("i would never kill myself", Level.NONE),
        ("no thoughts of suicide", Level.NONE),
        ("i used to want to die", Level.NONE),
        ("years ago i tried", Level.NONE),
        ("an article about suicide rates", Level.NONE),
        ("a celebrity died by suicide", Level.NONE),
        ("this craving is killing me", Level.NONE),
        ("I killed it at work today", Level.NONE),
        ("i'm dying to go to the meeting", Level.NONE),
        ("i could murder a pizza", Level.NONE),
        ("my feet are killing me", Level.NONE),
        ("i nearly relapsed", Level.NONE),
        ("i feel so hopeless", Level.CONCERN),
        ("my friend says she wants to die", Level.CONCERN),
    ],
)
def test_examples_from_the_brief(detector: CrisisDetector, text: str, expected: Level) -> None:
    assert detector.assess(text) is expected


def test_spelling_and_unicode_variants(detector: CrisisDetector) -> None:
    variants = [
        "I\u2019m going to kill myself",  # curly apostrophe
        "i wa\u200bnt to d\u200bie",  # zero-width spaces
        "\u200fi want to kill myself\u200f",  # right-to-left marks
        "\uff49 \uff57\uff41\uff4e\uff54 \uff54\uff4f \uff44\uff49\uff45",  # full-width letters
        "i want to k\u0456ll myself",  # Cyrillic i
        "i want to di\u0301e",  # combining accent
        "i want to dieeeee",
        "k1ll mys3lf",
        "kms",
        "gonna unalive myself",
        "thinking about ctb",
        "I   WANT   TO   DIE!!!",
    ]
    missed = [v for v in variants if detector.assess(v) is not Level.CRISIS]
    assert not missed


def test_long_note_still_catches_one_crisis_sentence(detector: CrisisDetector) -> None:
    filler = "I went to a meeting today and talked with my sponsor about cravings. " * 600
    note = filler + "Honestly I want to kill myself. " + filler
    assert len(note) > 50_000
    assert detector.assess(note) is Level.CRISIS
    assert detector.assess(filler) is Level.NONE


# ------------------------------------------------------------------ robustness


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_never_raises_on_any_text(text: str) -> None:
    assert _DETECTOR.assess(text) in (Level.CRISIS, Level.CONCERN, Level.NONE)


_WORDS = ["i", "not", "want", "to", "die", ".", ",", "kill", "myself", "never", "ago", "he", "'"]
_WORDS += ["pills", "is", "years", "\u200b", "\u200f", "\U0001f494"]


@given(st.lists(st.sampled_from(_WORDS), max_size=30))
@settings(max_examples=200, deadline=None)
def test_never_raises_on_lexicon_like_text(words: list[str]) -> None:
    assert _DETECTOR.assess(" ".join(words)) in (Level.CRISIS, Level.CONCERN, Level.NONE)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00\x01\x02\x7f",
        "a" * 50_000,
        "kill myself " * 5_000,
        "not " * 12_000 + "kill myself",
        "\U0001f600" * 10_000,
        "\u202e\u2066\u200d\u200b\ufeff",
        "e\u0301" * 1_000,
        "\ud800",  # a lone surrogate
        "'" * 100,
    ],
)
def test_never_raises_on_odd_inputs(detector: CrisisDetector, text: str) -> None:
    assert detector.assess(text) in (Level.CRISIS, Level.CONCERN, Level.NONE)


# ------------------------------------------------------------------ group terms


def test_with_terms_adds_a_term(detector: CrisisDetector) -> None:
    # Group terms are a rules matter; the learned layer has its own view of this line.
    rules = detector.rules_only()
    group = rules.with_terms(extra_terms=["White Out"])
    assert group.assess("gonna white out tonight") is Level.CRISIS
    assert group.assess("i'm not going to white out") is Level.NONE
    assert rules.assess("gonna white out tonight") is Level.NONE  # the original is unchanged


def test_exclusion_suppresses_a_group_term(detector: CrisisDetector) -> None:
    group = detector.with_terms(extra_terms=["white out"], exclusions=["white out pen"])
    assert group.assess("lend me your white out pen") is Level.NONE
    assert group.assess("i want to white out") is Level.CRISIS


def test_exclusion_cannot_suppress_the_core_set(detector: CrisisDetector) -> None:
    group = detector.with_terms(
        exclusions=["i want to kill myself", "kill myself", "want to", "myself", "suicidal"]
    )
    assert group.assess("i want to kill myself") is Level.CRISIS
    assert group.assess("I'm suicidal") is Level.CRISIS


def test_with_terms_accumulates_and_ignores_blanks(detector: CrisisDetector) -> None:
    group = detector.with_terms(["blue pills"]).with_terms(["  ", "check out early"])
    assert group.assess("took the blue pills") is Level.CRISIS
    assert group.assess("gonna check out early") is Level.CRISIS


# ------------------------------------------------------------------ loading


def _write_lexicon(root: Path, text: str, locale: str = "en") -> Path:
    path = root / locale / "safety" / "lexicon.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = _write_lexicon(tmp_path, "[crisis\nbroken = ")
    with pytest.raises(ValueError, match=r"lexicon\.toml") as info:
        load_detector(tmp_path)
    assert str(path) in str(info.value)


def test_bad_regex_names_file_and_key(tmp_path: Path) -> None:
    text = LEXICON.read_text(encoding="utf-8").replace("'hopeless(?:ness)?", "'hopeless(?:ness", 1)
    path = _write_lexicon(tmp_path, text)
    with pytest.raises(ValueError) as info:
        load_detector(tmp_path)
    assert str(path) in str(info.value)
    assert "concern.distress.patterns[0]" in str(info.value)


@pytest.mark.parametrize(
    ("replace", "by", "key"),
    [
        ('checks = ["negation", "past", "third_person"]', 'checks = ["sarcasm"]', "checks"),
        ("%PILLS%", "%NOPE%", "unknown macro"),
        ("window = 5\n", 'window = "five"\n', "negation.window"),
    ],
)
def test_invalid_values_name_the_key(tmp_path: Path, replace: str, by: str, key: str) -> None:
    text = LEXICON.read_text(encoding="utf-8")
    assert replace in text
    _write_lexicon(tmp_path, text.replace(replace, by, 1))
    with pytest.raises(ValueError, match=key):
        load_detector(tmp_path)


def test_missing_section_is_reported(tmp_path: Path) -> None:
    _write_lexicon(tmp_path, "[meta]\nlocale = 'xx'\n")
    with pytest.raises(ValueError, match="'crisis'"):
        load_detector(tmp_path)


def test_unknown_locale_falls_back_to_english(tmp_path: Path) -> None:
    _write_lexicon(tmp_path, LEXICON.read_text(encoding="utf-8"))
    assert load_detector(tmp_path, "de").assess("i want to die") is Level.CRISIS


def test_locale_must_be_a_code() -> None:
    with pytest.raises(ValueError, match="locale"):
        load_detector(CONTENT, "../../etc")


# ------------------------------------------------------------------ internals


def _lexicon() -> Lexicon:
    with LEXICON.open("rb") as handle:
        return build_lexicon(tomllib.load(handle), str(LEXICON))


def test_prefilter_never_hides_a_match() -> None:
    """Every pattern that matches a labelled line is among the gate's candidates for it."""
    lexicon = _lexicon()
    texts = [text for _, _, text in _labelled()] + [text for _, text in HELD_OUT]
    texts += [r.text for r in _split()[0][1100::9]]  # a sample of the broad set
    for text in texts:
        normal = lexicon.normalizer.normalize(text)
        tokens = frozenset(normal.split())
        for rules in (lexicon.crisis, lexicon.concern):
            candidates = set(rules.gate.candidates(tokens))
            for index, rule in enumerate(rules.rules):
                if rule.regex.search(normal):
                    assert index in candidates, (rule.rule_id, text)


@given(st.lists(st.sampled_from(["a", "ab", "abc", "b", "ba", "kill", "killing", "k"]), min_size=3))
def test_compacting_keeps_the_same_words(words: list[str]) -> None:
    source = "(?:" + "|".join(words) + ")"
    compact = re.compile(compact_alternations(source))
    for candidate in {*words, "", "a b", "kil", "abcd", "killings"}:
        assert bool(compact.fullmatch(candidate)) == (candidate in words), (source, candidate)


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (r"\b(?:kill|killing) myself\b", {"myself"}),
        (r"\b(?:no (?:reason|point) to live)\b", {"live"}),
        (r"\b(?:pills?)\b", {"pill", "pills"}),
        (r"\b(?:a|b)?\b", None),
        (r"\b(?:\w+ \d+)\b", None),
    ],
)
def test_required_words(pattern: str, words: set[str] | None) -> None:
    found = required_words(pattern)
    assert (None if found is None else set(found)) == words


def test_evaluate_counts() -> None:
    scores = evaluate(
        _DETECTOR,
        [("crisis", "i want to die"), ("crisis", "hello"), ("none", "kill myself"), ("none", "hi")],
    )
    assert (scores.precision, scores.recall, scores.false_alarm_rate, scores.n) == (
        0.5,
        0.5,
        0.5,
        4,
    )
    with pytest.raises(ValueError, match="label"):
        evaluate(_DETECTOR, [("maybe", "text")])


def test_explain_reports_why(detector: CrisisDetector) -> None:
    reasons = {hit.reason for hit in detector.explain("i would never kill myself")}
    assert "negation" in reasons


# Module-level so hypothesis tests (which cannot take function-scoped fixtures) share it.
_DETECTOR = load_detector(CONTENT)


def test_a_detector_from_the_start_up_cache_judges_every_line_as_an_uncached_one(
    detector: CrisisDetector, tmp_path: Path
) -> None:
    """The cache (core/safety/cache.py) only saves time: cold or warm, nothing changes."""
    cold = load_detector(CONTENT, cache_dir=tmp_path)  # analyses, writes the cache
    assert (tmp_path / CACHE_NAME).is_file()
    warm = load_detector(CONTENT, cache_dir=tmp_path)  # reads it
    texts = [text for _, _, text in _labelled()] + [text for _, text in HELD_OUT]
    for text in texts:
        expected = detector.explain(text)
        assert cold.explain(text) == expected, text
        assert warm.explain(text) == expected, text
        assert warm.assess(text) is detector.assess(text)
