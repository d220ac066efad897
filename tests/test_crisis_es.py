"""Issue 16 item 6: crisis detection in Spanish, beside English, on every text.

The Spanish rules (core/safety/lexicon_es.toml) are pinned on the rules alone, so the learned
layer (trained on English) cannot hide a rule that broke. Figures are kept as floors on the
Spanish training voices; the held-out voices in tests/data/crisis_es/split.toml were scored
once for the README and are kept as floors too, never tuned on.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from core.safety import CrisisDetector, Level, evaluate, load_detector
from core.safety.labelled import LABELS, Row, held_out_voices, read_rows, split
from tests.chat import Chat
from tests.conftest import detector

ROOT = Path(__file__).resolve().parent.parent
SPANISH = ROOT / "tests" / "data" / "crisis_es"
ENGLISH = ROOT / "tests" / "data" / "crisis"

RULES = detector().rules_only()


def rules(text: str) -> Level:
    return RULES.assess(text)


# ------------------------------------------------------------------ the words of the brief


@pytest.mark.parametrize(
    "text",
    [
        "me quiero morir",
        "ya me quiero morir, no es broma",
        "me quiero matar",
        "quiero quitarme la vida",
        "voy a quitarme la vida esta noche",
        "estoy pensando en suicidarme",
        "tengo pensamientos suicidas todo el día",
        "ojalá no despierte mañana",
        "ya no quiero vivir",
        "ya no aguanto más, me quiero morir",
        "ya no aguanto vivir así",
        "me voy a matar, ya lo decidí",
        "mañana ya no voy a estar",
        # overdose, in the words of Spain and Latin America
        "me tomé todo el frasco de rivotril",
        "me tomé una caja entera de clonazepam",
        "me pasé con el perico y el corazón me va a explotar",
        "me metí fenta y no siento las piernas",
        "creo que me pasé con las pepas, ayúdenme",
        # self-harm, goodbyes, plans
        "me volví a cortar",
        "me corté los brazos otra vez",
        "me quemo con el cigarro para sentir algo",
        "este es mi último mensaje, los quiero",
        "díganle a mi mamá que la quiero",
        "escribí cartas de despedida para mis hijos",
        "estoy juntando las pastillas que me da el psiquiatra",
        "¿cuántas pastillas hacen falta para no despertar?",
    ],
)
def test_spanish_crisis(text: str) -> None:
    assert rules(text) is Level.CRISIS


@pytest.mark.parametrize(
    "text",
    [
        # idioms
        "me muero de risa",
        "me mata el calor",
        "este calor me está matando",
        "me muero de hambre",
        "me quiero morir de la vergüenza",
        "me muero por verte",
        "matando el tiempo antes de la reunión",
        "mi esposa me va a matar si llego tarde",
        "me voy a morir de hambre",
        # the past, a story, a game, someone else talking
        "se quería morir en la peli",
        "hace 3 años me quise matar",
        "hace tres años intenté suicidarme, hoy llevo dos años limpio",
        "antes me cortaba, ahora tengo un tatuaje encima",
        "me mataron diez veces en el Fortnite",
        "esa canción que dice me quiero morir la ponen en todas las cantinas",
        # negated
        "no me quiero matar ni nada, solo estoy cansado",
        "nunca me quitaría la vida",
        "no estoy pensando en suicidarme, solo necesito hablar",
        # everyday look-alikes
        "me corté pelando papas",
        "me cortaron el pelo muy corto",
        "me despido por hoy, nos vemos el jueves",
        "gracias por todo, nos vemos mañana",
        "en la charla explicaron que la naloxona revierte una sobredosis",
    ],
)
def test_spanish_hard_negatives(text: str) -> None:
    assert rules(text) is not Level.CRISIS


def test_tildes_capitals_and_quick_typing_change_nothing() -> None:
    for text in (
        "me quiero morir",
        "Me quiero morír",
        "ME QUIERO MORIR",
        "me kiero morir ya",
        "kiero kitarme la vida",
        "q ganas d suisidarme",
    ):
        assert rules(text) is Level.CRISIS, text
    assert rules("¡ME MUERO DE RISA!") is Level.NONE


def test_ya_no_aguanto_alone_is_concern_not_crisis() -> None:
    # "I can't take it any more" is can't-cope talk in the labelled set, as in English.
    assert rules("ya no aguanto") is Level.CONCERN
    assert rules("ya no aguanto más con el trabajo") is Level.CONCERN


def test_someone_else_wishing_to_die_is_concern() -> None:
    assert rules("mi amiga dice que se quiere morir") is Level.CONCERN


def test_someone_else_in_danger_now_is_a_crisis_about_them() -> None:
    for text in (
        "mi hermano se tomó todas las pastillas y no despierta",
        "mi amiga no respira y tiene los labios morados",
        "mi papá se encerró en el cuarto con la pistola",
        "mi primo está en el puente y dice que se va a tirar",
    ):
        verdict = RULES.judge(text)
        assert verdict.level is Level.CRISIS, text
        assert verdict.about_other, text
    own = RULES.judge("me tomé todas las pastillas de la caja")
    assert own.level is Level.CRISIS and not own.about_other


async def test_the_reply_about_someone_else_in_spanish_leads_with_the_emergency_number(
    chat: Chat,
) -> None:
    [reply] = await chat.send("mi hermano se tomó todas las pastillas y no despierta")
    assert reply.private
    assert "call 999 now" in reply.text.split("\n\n")[0]  # the test app's country is GB


# ------------------------------------------------------------------ both languages, every text


@pytest.mark.parametrize(
    "text",
    [
        "i can't do this anymore, me quiero morir",
        "estoy harto, i want to die",
        "ngl ya no quiero vivir",
        "my brother se tomó todas las pastillas y no despierta",
        "mi brother took a whole bottle and won't wake up",
    ],
)
def test_members_switch_languages_mid_sentence(text: str) -> None:
    assert rules(text) is Level.CRISIS


def test_someone_else_is_heard_in_either_language() -> None:
    assert RULES.judge("my brother se tomó todas las pastillas y no despierta").about_other
    assert RULES.judge("mi hermano took a whole bottle and won't wake up").about_other


def test_a_groups_own_terms_and_the_rules_alone_keep_the_spanish_rules() -> None:
    group = detector().with_terms(["white out"])
    assert group.assess("me quiero morir") is Level.CRISIS
    assert group.rules_only().assess("me quiero morir") is Level.CRISIS


def test_whatever_the_main_locale_spanish_runs_once(tmp_path: Path) -> None:
    # A content folder whose main lexicon is already Spanish does not load it twice.
    spanish = (ROOT / "core" / "safety" / "lexicon_es.toml").read_text(encoding="utf-8")
    path = tmp_path / "es" / "safety" / "lexicon.toml"
    path.parent.mkdir(parents=True)
    path.write_text(spanish, encoding="utf-8")
    only = load_detector(tmp_path, "es", classifier=None)
    hits = only.explain("me quiero morir")
    assert len(hits) == 1 and hits[0].outcome is Level.CRISIS
    assert only.assess("i want to die") is Level.NONE  # no English lexicon in that folder


def test_explain_names_the_spanish_rule_and_its_words() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bots.cli", "safety", "check", "--explain", "Me quiero morír"],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout.splitlines()
    assert out[0] == "crisis\tMe quiero morír"
    assert any(
        line.strip().startswith("rules: es:crisis.") and 'matched "me quiero morir"' in line
        for line in out
    ), out
    assert "  decided by the rules" in out


def test_a_spanish_safety_plan_describes_rather_than_happens() -> None:
    plan = "cuando empiezo a pensar en matarme llamo a mi madrina"
    assert RULES.assess(plan) is Level.CRISIS  # anywhere else, a crisis is a crisis
    assert not RULES.happening_now(plan)
    assert RULES.happening_now("esta noche me voy a matar")


def test_the_learned_layer_hears_spanish_the_rules_do_not() -> None:
    # Issue 15: the learned layer is trained on the Spanish voices too, so a Spanish way of
    # saying it that no pattern lists is heard; everyday Spanish stays below its threshold.
    both = detector()
    unseen = [
        "ojalá esta noche se me pare el corazón y ya",
        "ya organicé todo para que mis hijos no tengan que ocuparse de nada cuando yo falte",
    ]
    by_model = [t for t in unseen if both.judge(t).layer == "model"]
    assert by_model, "the learned layer caught none of these"
    assert all(RULES.assess(t) is not Level.CRISIS for t in by_model)
    for everyday in (
        "hoy fui al mercado con mi abuela y compramos mangos",
        "mañana tengo junta con mi padrino a las siete, nos vemos ahí",
    ):
        assert both.judge(everyday).level is Level.NONE, everyday


def test_spanish_rules_raise_no_false_alarm_on_the_english_sets() -> None:
    rows = read_rows(ROOT / "tests" / "data" / "crisis_labelled.tsv")
    for path in sorted(ENGLISH.glob("*.tsv")):
        rows += read_rows(path)
    spanish_alarms = [
        r.text
        for r in rows
        if r.label != "crisis"
        and any(
            h.rule_id.startswith("es:") and h.outcome is Level.CRISIS for h in RULES.explain(r.text)
        )
    ]
    assert spanish_alarms == []


# ------------------------------------------------------------------ the labelled set


def _spanish() -> tuple[list[Row], list[Row]]:
    return split(SPANISH)


def test_the_spanish_set_is_well_formed_and_split_by_voice() -> None:
    train, held = _spanish()
    rows = train + held
    assert len(rows) >= 1_000
    assert {r.label for r in rows} == set(LABELS)
    assert len({r.text for r in rows}) == len(rows), "duplicate lines"
    english = Counter(r.category for path in ENGLISH.glob("*.tsv") for r in read_rows(path))
    assert {r.category for r in rows} <= set(english), "the English categories"
    crisis = Counter(r.category for r in rows if r.label == "crisis")
    assert len(crisis) == 10 and min(crisis.values()) >= 60
    held_voices = held_out_voices(SPANISH)
    # Three drawn first, one of the voices added later and one of each later batch (split.toml
    # says how each was drawn).
    assert {r.voice for r in held} == held_voices and len(held_voices) == 9
    assert not held_voices & {r.voice for r in train}
    long = [r for r in rows if r.voice == "narrativo_largo"]
    assert long and all(40 <= len(r.text.split()) <= 150 for r in long)


def _scores(detector: CrisisDetector, rows: list[Row]) -> tuple[float, float]:
    scores = evaluate(detector, [(r.label, r.text) for r in rows])
    return scores.recall, scores.false_alarm_rate


# Floors, not targets: the figures when the Spanish rules were written (README, "Crisis
# detection figures"), a little below. The training voices flatter the rules, which were written
# on them; the held-out voices were scored once, after the rules were finished.


# The voices added later (split.toml's `added_later`: long messages, written after the rules)
# are measured apart, so the floors on the lines the rules were written on stay comparable.


def _later(rows: list[Row], later: bool) -> list[Row]:
    added = held_out_voices(SPANISH, "added_later")
    return [r for r in rows if (r.voice in added) is later]


def test_figures_on_the_spanish_training_voices() -> None:
    train, _ = _spanish()
    first = _later(train, later=False)
    recall, false_alarms = _scores(RULES, first)
    assert recall >= 0.97 and false_alarms <= 0.01, (recall, false_alarms)
    recall, false_alarms = _scores(detector(), first)
    assert recall >= 0.97 and false_alarms <= 0.02, (recall, false_alarms)


def test_figures_on_the_spanish_held_out_voices() -> None:
    # First run: rules 0.628 at 2.9%, both layers 0.692 at 2.9%, with a learned layer trained on
    # English only.
    _, held = _spanish()
    first = _later(held, later=False)
    recall, false_alarms = _scores(RULES, first)
    assert recall >= 0.60 and false_alarms <= 0.04, (recall, false_alarms)
    recall, false_alarms = _scores(detector(), first)
    assert recall >= 0.60 and false_alarms <= 0.05, (recall, false_alarms)
    # With the learned layer trained on the Spanish training voices too (issue 15): 0.859 at
    # 2.9% (the held-out voices were scored once, after every choice); after the third
    # retraining (more Spanish voices, batch c, the threshold set on the seen fresh sets): 0.910.
    assert recall >= 0.88, recall


def test_figures_on_the_spanish_voices_added_later() -> None:
    # Long messages, written after the rules. The rules take some long heavy posts for a crisis
    # (a past attempt, a doctor's question answered "no"): 22% of the training voices' everyday
    # lines. The held-out voice's first run: 1.0 recall (12 crisis lines) at 0 of 12 everyday.
    # The second batch added later holds out `pr_foro_largo` (long heavy posts of a Puerto Rican
    # forum): with it, first run 1.0 recall (19 crisis lines) at 3 of 21 everyday lines, all three
    # the rules' (an overdose in the family told as over, a psychiatrist's question answered "no").
    train, held = _spanish()
    recall, false_alarms = _scores(detector(), _later(train, later=True))
    assert recall >= 0.97 and false_alarms <= 0.23, (recall, false_alarms)
    held_later = _later(held, later=True)
    first_batches = {"rioplatense_foro_largo", "pr_foro_largo"}
    recall, false_alarms = _scores(detector(), [r for r in held_later if r.voice in first_batches])
    # Since the fourth retraining 4 of 21 everyday lines: the fourth is the learned layer's (a
    # key left with the neighbour before a week's trip, told at length).
    assert recall >= 0.9 and false_alarms <= 0.20, (recall, false_alarms)
    # The third and fourth batches' held-out voices (Paraguayan jopara voice notes, a Galician
    # fisherman): first run 0.594 at 3.1%, the rules alone 0.375 at 2.3%; with the fourth
    # retraining 0.662 at 3.8%. The fifth batch's (a retired man from Murcia, a teenager from
    # Greater Buenos Aires), first run 0.725 at 6.2%; all four 0.694 at 5.0%.
    later = [r for r in held_later if r.voice not in first_batches]
    recall, false_alarms = _scores(detector(), later)
    assert recall >= 0.66 and false_alarms <= 0.06, (recall, false_alarms)
