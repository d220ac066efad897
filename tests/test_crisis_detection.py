"""Issue 15: crisis detection that holds on words it has never seen.

The rules' plain fixes and the rules that generalise are pinned on the rules alone (the learned
layer could otherwise hide a rule that broke); the learned layer, the policy that combines
them and `safety check --explain` are tested as members and moderators meet them.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Reply, Space
from core.kernel.settings import Settings
from core.repos import in_memory_repos
from core.safety import CrisisDetector, Level, load_detector
from core.safety.classifier import (
    MODEL_DIR,
    Blend,
    ConvPieces,
    HashedNgrams,
    load_classifier,
    looks_spanish,
    ngram_features,
    read_halves,
    write_halves,
)
from core.safety.forms import forms
from core.safety.wordpiece import WordPiece
from tests.chat import Chat
from tests.conftest import CONTENT, detector, library
from tests.launch import unblend

RULES = detector().rules_only()


def rules(text: str) -> Level:
    return RULES.assess(text)


# ------------------------------------------------------------------ item 1: plainly broken


def test_an_idiom_masks_only_when_the_member_wrote_all_of_it() -> None:
    # "fr" is "for real": "want to die for real" holds "to die for", which nobody wrote.
    assert rules("wanna die fr") is Level.CRISIS
    assert rules("i want to die fr fr") is Level.CRISIS
    assert rules("this cake is to die for") is Level.NONE
    assert rules("kmsl that video") is Level.NONE  # the whole idiom, from one written word


@pytest.mark.parametrize(
    "text",
    [
        "5 years ago today i tried to kill myself",
        "two years ago tonight i wanted to die, now i chair the meeting",
        "that was 2021, i wanted to die every day",
        "last time i tried to kill myself i ended up in hospital",
        "the last time i wanted to die was the week before my first meeting",
    ],
)
def test_history_is_history(text: str) -> None:
    assert rules(text) is Level.NONE


def test_now_still_beats_then() -> None:
    assert rules("years ago i tried and today i want to kill myself again") is Level.CRISIS
    assert rules("this is the last time i say goodbye, goodbye forever") is Level.CRISIS


def test_a_question_frames_a_longer_span() -> None:
    assert rules("they asked if i had thoughts of killing myself") is Level.NONE
    assert rules("my therapist asked me if i ever had any thoughts of killing myself") is (
        Level.NONE
    )
    assert rules("she asked if i was ok and i said i want to kill myself") is Level.CRISIS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cut my finger chopping onions, bleeding everywhere lol", Level.NONE),
        ("my nose was bleeding everywhere at work", Level.NONE),
        ("my cuts won't stop bleeding", Level.CRISIS),
        ("that was a lethal dose of cringe", Level.NONE),
        ("i looked up the lethal dose of my meds", Level.CRISIS),
        ("we jumped into the lake to cool off", Level.NONE),
        ("jumped off a cliff in zelda for a shortcut", Level.NONE),
        ("im going to jump off the bridge tonight", Level.CRISIS),
    ],
)
def test_bare_patterns_have_everyday_exclusions(text: str, expected: Level) -> None:
    assert rules(text) is expected


def test_someone_else_in_danger_now_is_a_crisis_about_them() -> None:
    for text in (
        "my partner took a whole bottle and won't wake up",
        "my sister cut herself badly and it won't stop bleeding",
        "my brother's on the overpass saying he's going to jump",
        "he's in the garage, door shut and the engine running",
    ):
        verdict = RULES.judge(text)
        assert verdict.level is Level.CRISIS, text
        assert verdict.about_other, text
    own = RULES.judge("i took too many pills")
    assert own.level is Level.CRISIS and not own.about_other
    # Someone else only wishing to die is not an emergency now: a gentle concern.
    assert rules("my friend says she wants to die") is Level.CONCERN


async def test_the_reply_about_someone_else_leads_with_the_emergency_number(chat: Chat) -> None:
    [reply] = await chat.send("my partner took a whole bottle and won't wake up")
    assert reply.private
    first = reply.text.split("\n\n")[0]
    assert "call 999 now" in first  # the test app's country is GB
    assert "naloxone" in reply.text
    assert "Samaritans" in reply.text and "Are you safe right now?" in reply.text
    mine = (await chat.send("i want to end my life"))[0].text
    assert mine.startswith("I'm really glad you said something")


# ------------------------------------------------------------------ item 2: rules that generalise


@pytest.mark.parametrize(
    "text",
    [
        # word forms
        "i want to walk into traffic",
        "thinking about walking into traffic",
        "i walked into traffic last night",
        # a scene in any order
        "door's locked, engine on, he's in the garage",
        "in the garage with the engine running and the door shut",
        # finality in other words
        "won't be around after tonight, take care of each other",
        "if you're reading this i'm gone",
        "signing off for good, sorry to leave it like this",
        "see you all on the other side",
        # doses and painless ways
        "would my sleeping pills and the whiskey be enough?",
        "is there a painless way to go",
        "how many of my heart pills would it take to go peacefully",
        # slang and abbreviations
        "sh'd again last night",
        "idw to be here anymore",
        "kms",
        "ctb tonight",
        "unaliving myself tonight",
        # emoji alone
        "🔪🩸",
        "💊💊💊⚰️",
        # someone else in danger now
        "my mate just sent a goodbye and his phone is off, he has a gun",
    ],
)
def test_rules_that_generalise(text: str) -> None:
    assert rules(text) is Level.CRISIS


@pytest.mark.parametrize(
    "text",
    [
        "the car is running fine again after the garage fixed it",
        "signing off for tonight, good night all",
        "i won't be at the meeting thursday, i'm on night shift",
        "walked into the bus station to meet my sponsor",
        "i'm going to rest now, long day",
        "my affairs are in order before the surgery next week",
        "😂💀",
    ],
)
def test_and_their_everyday_look_alikes_are_left_alone(text: str) -> None:
    assert rules(text) is not Level.CRISIS


def test_word_forms() -> None:
    assert forms("walk", {}) == ["walk", "walks", "walked", "walking", "walkin"]
    assert forms("stop", {}) == ["stop", "stops", "stopped", "stopping", "stoppin"]
    assert forms("cry", {})[:4] == ["cry", "cries", "cried", "crying"]
    assert forms("take", {"take": "took taken taking"}) == ["take", "took", "taken", "taking"]


def test_a_bad_forms_table_names_the_key(tmp_path: Path) -> None:
    lexicon = (CONTENT / "en" / "safety" / "lexicon.toml").read_text(encoding="utf-8")
    broken = lexicon.replace('take = "took', 'take = ["took"] # "', 1)
    path = tmp_path / "en" / "safety" / "lexicon.toml"
    path.parent.mkdir(parents=True)
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ValueError, match=r"forms\.take"):
        load_detector(tmp_path, classifier=None)


# ------------------------------------------------------------------ item 3: the learned layer


def test_the_shipped_model_loads_offline_and_is_small() -> None:
    model = load_classifier()
    assert 0 < model.threshold < 1
    # The n-grams (512 KB) and the convolution's int8 tables (about 5.7 MB); what it costs in
    # memory is bench/memory.py's to measure.
    shipped = sum(f.stat().st_size for f in MODEL_DIR.iterdir())
    assert shipped < 8_000_000
    readme = (MODEL_DIR / "README.md").read_text(encoding="utf-8")
    for fact in ("Apache", "generates no text", "tools/build_classifier.py", "nothing"):
        assert fact in readme


def test_the_model_hears_paraphrase_the_rules_do_not() -> None:
    both = detector()
    # Ways of saying it that no pattern lists.
    unseen = [
        "honestly the thought of not being around anymore is the only thing that calms me",
        "i keep planning how id do it and when nobody would be home",
    ]
    by_model = [t for t in unseen if both.judge(t).layer == "model"]
    assert by_model, "the learned layer caught none of these"
    assert all(rules(t) is not Level.CRISIS for t in by_model)


@pytest.mark.parametrize(
    "text",
    [
        # What members type into the parts flows; the first learned layer took the first two
        # for a crisis.
        "keep going, don't stop",
        "keeps me from being caught off guard",
        "that everything would fall apart",
    ],
)
def test_the_learned_layer_leaves_everyday_flow_answers_alone(text: str) -> None:
    verdict = detector().judge(text)
    assert verdict.level is not Level.CRISIS, verdict.score


def test_word_pairs_a_few_apart_are_features_only_when_the_model_asks() -> None:
    plain = ngram_features("keep going dont stop", 12)
    wide = ngram_features("keep going dont stop", 12, pairs_within=4)
    assert plain == ngram_features("keep going dont stop", 12, pairs_within=1)
    assert plain < wide
    assert len(wide) == len(plain) + 3 + 3  # trigrams, then pairs 2 and 3 words apart


def test_danger_in_the_second_half_of_a_long_message_is_not_averaged_away() -> None:
    model = load_classifier()
    normal = detector().normalize
    opening = "went to my home group tonight and had coffee with the old timers after. " * 12
    ending = "but honestly im done, i have the pills counted out and tonight i go through with it"
    assert model.score(normal(opening)) < model.threshold
    assert model.score(normal(opening + ending)) >= model.threshold


@given(st.text(max_size=400))
@settings(max_examples=200, deadline=None)
def test_the_model_never_raises_and_scores_between_zero_and_one(text: str) -> None:
    score = _MODEL.score(_NORMAL(text))
    assert 0.0 <= score <= 1.0 and not math.isnan(score)


_MODEL = load_classifier()
_NORMAL = detector().normalize


def test_a_damaged_model_is_refused_with_the_file_named(tmp_path: Path) -> None:
    (tmp_path / "model.toml").write_text('kind = "ngrams"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"model\.toml"):
        load_classifier(tmp_path)
    with pytest.raises(ValueError, match=r"model\.toml"):
        load_classifier(tmp_path / "missing")


def test_a_blend_whose_tables_do_not_match_its_vocabulary_is_refused(tmp_path: Path) -> None:
    shipped = (MODEL_DIR / "model.toml").read_text(encoding="utf-8")
    for name in ("ngrams.f16.bin", "vocab.txt", "conv.f16.bin"):
        (tmp_path / name).write_bytes((MODEL_DIR / name).read_bytes())
    (tmp_path / "model.toml").write_text(shipped, encoding="utf-8")
    (tmp_path / "conv.i8.bin").write_bytes(b"\x01" * 1000)  # cut short
    with pytest.raises(ValueError, match="differ in size"):
        load_classifier(tmp_path)
    (tmp_path / "model.toml").write_text(shipped.replace("[conv]", "[other]"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"model\.toml"):
        load_classifier(tmp_path)


def test_float16_weights_round_trip() -> None:
    values = [0.0, 1.5, -2.25, 0.333]
    assert list(read_halves(write_halves(values)))[:3] == [0.0, 1.5, -2.25]
    with pytest.raises(ValueError):
        read_halves(b"abc")


def _tiny_conv() -> ConvPieces:
    """One filter of width 1 that fires on "die", one of width 2 that fires on "want" followed
    by "to" (and not on "to want")."""
    vocab = ["[UNK]", "i", "want", "to", "die", "##s", "calm"]
    tokenizer = WordPiece({p: i for i, p in enumerate(vocab)})
    width1 = array("b", [0] * 7 * 2)
    width1[4 * 2 + 0] = 10  # "die" -> filter 0
    first, second = array("b", [0] * 7 * 2), array("b", [0] * 7 * 2)
    first[2 * 2 + 1] = 5  # "want" at the window's first place -> filter 1
    second[3 * 2 + 1] = 5  # "to" at its second place -> filter 1
    return ConvPieces(
        "conv",
        tokenizer,
        2,
        [[width1], [first, second]],
        [0.1, 0.1],
        [[0.0, 0.0], [0.0, -0.5]],  # filter 1 needs both pieces to rise above zero
        [1.0, 0.0, 0.0, 2.0],
        -0.5,
        0.5,
    )


def test_the_convolutional_layer_reads_pieces_and_their_order() -> None:
    tokenizer = _tiny_conv().tokenizer
    assert tokenizer.ids("I want to DIE") == [1, 2, 3, 4]
    assert tokenizer.ids("dies calmly") == [4, 5, 0]
    assert tokenizer.pieces()[4] == "die"
    conv = _tiny_conv()
    assert conv.logit("i die") == pytest.approx(1.0 * 1.0 - 0.5)
    assert conv.logit("i want to") == pytest.approx(2.0 * 0.5 - 0.5)  # the pair, in order
    assert conv.logit("i to want") == pytest.approx(-0.5)  # the same pieces, the other way
    assert conv.score("") == 0.0
    # The highest activation anywhere counts: a long calm message does not dilute it.
    assert conv.logit("calm " * 300 + "die") == conv.logit("die")


def test_a_blend_weighs_both_layers_and_spanish_by_its_own_weights() -> None:
    ngrams = HashedNgrams("ngrams", [0.0] * 16, 1.0, 0.5, 4)  # logit 1.0 for any text
    blend = Blend("blend", ngrams, _tiny_conv(), 2.0, 3.0, 0.5, 1.0, 0.0, -0.25)
    assert blend.logit("i die") == pytest.approx(2.0 * 1.0 + 3.0 * 0.5)
    # Spanish: the n-grams alone here, and the shift.
    assert blend.logit("ya no quiero vivir") == pytest.approx(1.0 - 0.25)
    assert blend.score("") == 0.0


def test_a_long_message_is_also_scored_in_windows_of_words() -> None:
    # One heavy word among many everyday ones: diluted in the whole message, heard in a window
    # only when it clears the window's extra margin.
    bits = 12
    weights = [0.0] * (1 << bits)
    for f in ngram_features("gone", bits):
        weights[f] = 3.0
    text = " ".join(f"day{i}" for i in range(60)) + " gone"  # distinct everyday words
    whole = HashedNgrams("ngrams", weights, -2.0, 0.5, bits)
    windowed = HashedNgrams("ngrams", weights, -2.0, 0.5, bits, window=8)
    strict = HashedNgrams("ngrams", weights, -2.0, 0.5, bits, window=8, window_margin=5.0)
    assert whole.score(text) < 0.5 < windowed.score(text)
    assert strict.score(text) == whole.score(text)
    short = "day gone"
    assert windowed.score(short) == whole.score(short)  # shorter than a window: one score


def test_a_spanish_message_is_held_to_its_own_threshold() -> None:
    assert looks_spanish("ya no quiero vivir , la neta")
    assert looks_spanish("me voy a matar esta noche y no es broma")
    assert not looks_spanish("i want to die lol")
    assert not looks_spanish("i cant anymore , me quiero morir")  # more English words
    flat = HashedNgrams("ngrams", [0.0] * 16, 0.0, 0.5, 4, spanish_shift=-1.0)
    assert flat.logit("ya no quiero vivir") == -1.0
    assert flat.logit("i want to die") == 0.0


def test_word_pieces_match_the_sentence_models_tokenizer() -> None:
    vocab = (Path(__file__).parent / "data" / "wordpiece_sample.txt").read_text(encoding="utf-8")
    tokenizer = WordPiece.from_lines(vocab.splitlines())
    # The same pieces the MiniLM tokenizer gives (checked against it when this was written).
    assert [vocab.splitlines()[i] for i in tokenizer.ids("Unalive-ing, héllo!")] == [
        "una",
        "##li",
        "##ve",
        "-",
        "ing",
        ",",
        "hello",
        "!",
    ]


# ------------------------------------------------------------------ item 5: policy


@dataclass(frozen=True)
class Heavy:
    """A stand-in learned layer that hears crisis in one marked phrase only."""

    name: str = "stand-in"
    threshold: float = 0.5

    def score(self, normal: str) -> float:
        return 0.99 if "heavy marker" in normal else 0.01


GROUP = Space.group("g1")


@pytest.fixture
def heavy_app(clock: FakeClock) -> Unblend:
    base = load_detector(CONTENT, classifier=Heavy())
    return Unblend(in_memory_repos(), library(), base, clock, Settings(default_country="GB"))


async def test_in_a_private_chat_either_layer_gets_the_crisis_reply(heavy_app: Unblend) -> None:
    chat = Chat(heavy_app)
    [reply] = await chat.send("heavy marker, that's all i can say")
    assert "Are you safe right now?" in reply.text and reply.private


async def _said(app: Unblend, text: str) -> list[Reply]:
    return await app.handle(Event("test", "u1", GROUP, text=text))


async def test_in_a_screened_group_the_model_alone_gets_a_private_gentle_check(
    heavy_app: Unblend,
) -> None:
    await heavy_app.handle(
        Event(
            "test",
            "mod",
            GROUP,
            command="/group",
            args=("settings", "screening", "on"),
            is_moderator=True,
        )
    )
    [gentle] = await _said(heavy_app, "heavy marker, that's all i can say")
    assert gentle.private and gentle.group_fallback is None, "nothing public"
    assert "That sounded heavy" in gentle.text and "/crisis" in gentle.text
    assert gentle.choices == ()
    # The rules still give the full private crisis reply, with the group's fallback.
    [crisis] = await _said(heavy_app, "honestly i want to kill myself tonight")
    assert "Are you safe right now?" in crisis.text and crisis.group_fallback is not None
    assert await _said(heavy_app, "see you all on thursday") == []


# ------------------------------------------------------------------ item 5: --explain


def _check(*args: str) -> list[str]:
    result = unblend("safety", "check", "--explain", *args, check=True)
    return result.stdout.splitlines()


def test_explain_names_the_rule_or_the_models_score() -> None:
    out = _check("i want to kill myself", "i would never kill myself")
    assert out[0] == "crisis\ti want to kill myself"
    assert any('crisis.ideation.patterns[1] matched "kill myself"' in line for line in out)
    assert any("model (" in line and "threshold" in line for line in out)
    assert "  decided by the rules" in out
    assert any("lowered to nothing (negation)" in line for line in out)


def test_explain_says_when_the_model_alone_decided() -> None:
    both = detector()
    line = next(
        t
        for t in (
            "honestly the thought of not being around anymore is the only thing that calms me",
            "i keep planning how id do it and when nobody would be home",
        )
        if both.judge(t).layer == "model"
    )
    out = _check(line)
    assert out[0] == f"crisis\t{line}"
    assert "  rules: no rule matched" in out
    assert any(x.startswith("  decided by the model alone") for x in out)


def test_a_detector_without_the_model_says_so(tmp_path: Path) -> None:
    plain: CrisisDetector = detector().rules_only()
    assert plain.classifier is None
    assert plain.judge("hello").score is None
