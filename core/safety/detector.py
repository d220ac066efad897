"""The crisis-language detector: rules, and beside them a small learned layer.

No network and no generative AI. The rules are described below; the learned layer
(``classifier.py``, weights shipped in ``model/``) scores the same normalised text, and a score
at or above its threshold makes a crisis the rules did not see (:meth:`CrisisDetector.judge`
says which layer decided, and why).

How one message is judged
-------------------------
1. It is normalised (see ``normalize.py``): casefolded, apostrophes dropped, slang and typos
   mapped to canonical words, punctuation reduced to sentence (``.``) and clause (``,``) marks.
2. In a copy, figurative idioms from the lexicon ("killing myself at the gym", "die of
   embarrassment") are blanked out, so they cannot feed a crisis pattern.
   An idiom masks only what the member wrote: one that starts or ends inside a spelling
   variant's expansion ("fr" -> "for real") is left alone.
3. Crisis patterns (direct, passive and indirect ideation, plans and means, goodbyes,
   self-harm, overdoses and other emergencies happening now) are searched in that copy.
   Each match is then tested, inside its own sentence only, by the checks its category
   lists in the lexicon:

   * ``negation`` (NegEx style): a trigger ("not", "never", "no thoughts of") a few words
     before the match, with no terminator ("but", "and", a comma) in between, negates it.
     Pseudo-negations ("not sure", "trying not to", "can't promise") do not. A plain trigger
     does not reach across a new subject ("i'm not ok i want to die"); clause-level triggers
     ("i don't think", "no way") do.
   * ``past``: a past or remission marker ("used to", "years ago", "when i was") in the
     sentence makes it history, unless a present marker ("again", "tonight", "last night")
     sits in the same clause.
   * ``third_person``: the nearest subject before the match is someone else ("my friend
     wants to die"); this lowers the match to CONCERN, never to NONE.
   * ``topic``: news and topic talk ("an article about suicide rates") in the sentence.

   A pattern may also need some context nearby (``requires``: within a couple of hundred
   characters, so "I'm sorry for everything. Goodbye." counts; ``scene``: several cues, all
   nearby, in any order) or be cancelled by context in its own sentence (``unless``). One
   surviving match is enough for CRISIS. In an ``emergency`` category, a match about someone
   else ("my partner took a whole bottle") stays a crisis and is marked as about them.
4. A group's own terms (:meth:`CrisisDetector.with_terms`) are searched the same way.
5. The other languages' lexicons (``OTHER_LEXICONS``: Spanish) are searched the same way, each
   with its own normalisation, idioms and checks, on every text: members switch languages
   mid-sentence, so no language is guessed. Their rule ids carry the locale ("es:crisis...").
6. Otherwise concern patterns (hopeless, worthless, can't cope...) or a lowered crisis match
   give CONCERN; anything else is NONE.

Scopes are bounded (a sentence, at most a few hundred characters), so a crisis sentence
inside a 50,000-character note is judged exactly as it would be alone, in linear time.
Nothing here logs or stores the text it is given.
"""

from __future__ import annotations

import re
import tomllib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Literal, NoReturn

from core.safety.cache import CACHE_NAME, CachedWordAnalysis, WordAnalysis
from core.safety.classifier import Classifier, load_classifier
from core.safety.forms import expand_forms
from core.safety.literals import compact_alternations
from core.safety.normalize import CLAUSE_MARK, SENTENCE_MARK, Normalizer


class Level(StrEnum):
    CRISIS = "crisis"
    CONCERN = "concern"
    NONE = "none"


CHECKS = frozenset({"negation", "past", "third_person", "topic"})
# Bounds every look-around a check makes, so long texts stay linear.
_MAX_SCOPE_CHARS = 400
_CONTEXT_CHARS = 200
_MACRO = re.compile(r"%([A-Z][A-Z0-9_]*)%")
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")
# Checks applied to a group's own terms: they are plain phrases, so negation and history
# matter; person and topic do not.
_GROUP_CHECKS = frozenset({"negation", "past"})


@dataclass(frozen=True)
class Rule:
    """One compiled pattern and what a surviving match of it means."""

    rule_id: str
    regex: re.Pattern[str]
    level: Level
    checks: frozenset[str]
    requires: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None
    # A scene: each of these must also be within reach, in any order ("garage", "engine
    # running", "door shut").
    also: tuple[re.Pattern[str], ...] = ()
    # Danger now, whoever is in it: a match about someone else stays a crisis, and says so.
    emergency: bool = False


@dataclass(frozen=True)
class Hit:
    """A pattern match and its outcome; ``span`` is in the normalised text."""

    rule_id: str
    span: tuple[int, int]
    outcome: Level
    # "match"; "other" (someone else in danger now); or which check lowered it: "negation",
    # "past", "third_person", "topic", "excluded".
    reason: str
    # The matched words in its lexicon's normalised text (each language normalises its own way).
    words: str = ""


@dataclass(frozen=True)
class Verdict:
    """What both layers made of one message, and why (for replies and for moderators)."""

    level: Level
    layer: str | None  # "rules" or "model" for a crisis or concern; None for NONE
    rule_id: str | None  # the rule that decided, when the rules did
    score: float | None  # the model's probability, when it ran
    about_other: bool  # someone else is in danger now: the reply leads with emergency help
    hits: tuple[Hit, ...] = ()


@dataclass(frozen=True)
class _Gate:
    """Which rules could match a text: set operations on its words instead of every regex.

    Each rule is indexed by one set of words it cannot match without; a rule with more such
    sets (a wish *and* a death word) must meet them all before its regex runs.
    """

    by_word: Mapping[str, tuple[int, ...]]
    words: frozenset[str]
    always: tuple[int, ...]
    also: Mapping[int, tuple[frozenset[str], ...]]

    @classmethod
    def build(
        cls, sources: Sequence[str], common: frozenset[str], analysis: WordAnalysis | None = None
    ) -> _Gate:
        analysis = analysis or WordAnalysis()
        by_word: dict[str, list[int]] = {}
        always: list[int] = []
        also: dict[int, tuple[frozenset[str], ...]] = {}
        for index, source in enumerate(sources):
            primary = analysis.words(source, common)
            rest = tuple(s for s in analysis.word_sets(source, common) if s != primary)
            if rest:
                also[index] = rest
            if not primary:
                always.append(index)
                continue
            for word in primary:
                by_word.setdefault(word, []).append(index)
        frozen = {w: tuple(ix) for w, ix in by_word.items()}
        return cls(frozen, frozenset(frozen), tuple(always), also)

    def candidates(self, tokens: frozenset[str]) -> list[int]:
        found = set(self.always)
        for word in self.words.intersection(tokens):
            found.update(self.by_word[word])
        also = self.also.get
        result = []
        for index in found:
            sets = also(index)
            if sets is not None:
                for required in sets:
                    if required.isdisjoint(tokens):
                        break
                else:
                    result.append(index)
            else:
                result.append(index)
        result.sort()  # file order, so explain() is stable
        return result


@dataclass(frozen=True)
class _RuleSet:
    rules: tuple[Rule, ...]
    gate: _Gate

    @classmethod
    def build(
        cls,
        rules: Sequence[Rule],
        common: frozenset[str] = frozenset(),
        analysis: WordAnalysis | None = None,
    ) -> _RuleSet:
        return cls(tuple(rules), _Gate.build([r.regex.pattern for r in rules], common, analysis))

    def matches(self, text: str, tokens: frozenset[str]) -> Iterator[tuple[Rule, re.Match[str]]]:
        for index in self.gate.candidates(tokens):
            rule = self.rules[index]
            for match in rule.regex.finditer(text):
                yield rule, match


@dataclass(frozen=True)
class Checks:
    """The lexicon's negation, history, person and topic cues, compiled."""

    negation_pre: re.Pattern[str] | None
    negation_clause: re.Pattern[str] | None
    pseudo_negation: re.Pattern[str] | None
    negation_post: re.Pattern[str] | None
    terminators: re.Pattern[str] | None
    negation_window: int
    clause_window: int
    post_window: int
    past_markers: re.Pattern[str] | None
    present_markers: re.Pattern[str] | None
    past_terminators: re.Pattern[str] | None
    past_window: int
    subjects: re.Pattern[str] | None  # named groups "first" and "third"
    first_person_objects: re.Pattern[str] | None
    person_window: int
    topic: re.Pattern[str] | None
    # Safety work in the member's own words (see [described] in the lexicon).
    described_now: re.Pattern[str] | None = None
    described_framing: re.Pattern[str] | None = None

    def suppression(self, text: str, match: re.Match[str], checks: frozenset[str]) -> str | None:
        """The first check that lowers this match, or None if it stands."""
        around = _Around.of(text, match)
        if "negation" in checks and self._negated(around):
            return "negation"
        if "past" in checks and self._past(around):
            return "past"
        if "topic" in checks and self.topic and self.topic.search(around.sentence):
            return "topic"
        if "third_person" in checks and self._third_person(around):
            return "third_person"
        return None

    def _negated(self, around: _Around) -> bool:
        left = _tail(around.clause_left, self.terminators, self.negation_window)
        if left and self._negating_trigger(left):
            return True
        if self.negation_clause is not None and self.clause_window > self.negation_window:
            # "They asked if I had ever had thoughts of ...": a question frames a longer span.
            wide = _tail(around.clause_left, self.terminators, self.clause_window)
            if wide != left and self._clause_trigger(wide):
                return True
        if self.negation_post is None:
            return False
        right = _head(around.clause_right, self.terminators, self.post_window)
        return bool(right) and self.negation_post.match(right) is not None

    def _negating_trigger(self, left: str) -> bool:
        real = self._not_pseudo(left)
        if self.negation_pre is not None:
            for trigger in self.negation_pre.finditer(left):
                # "not" governs its own verb phrase; a new subject after it starts a new one.
                gap = left[trigger.end() :]
                if real(trigger) and not (self.subjects and self.subjects.search(gap)):
                    return True
        return self._clause_trigger(left)

    def _clause_trigger(self, left: str) -> bool:
        if self.negation_clause is None:
            return False
        real = self._not_pseudo(left)
        return any(real(t) for t in self.negation_clause.finditer(left))

    def _not_pseudo(self, left: str) -> Callable[[re.Match[str]], bool]:
        pseudo = self.pseudo_negation
        spans = [m.span() for m in pseudo.finditer(left)] if pseudo is not None else []

        def real(trigger: re.Match[str]) -> bool:
            return not any(a <= trigger.start() < b for a, b in spans)

        return real

    def _past(self, around: _Around) -> bool:
        markers = self.past_markers
        if markers is None:
            return False
        window = self.past_window
        left = _tail(around.left, self.past_terminators, window)
        right = _head(around.right, self.past_terminators, window)
        if not (markers.search(left) or markers.search(right)):
            return False
        present = self.present_markers
        if present is None:
            return True
        # "Years ago I tried... and tonight I will again": now beats then, within the clause.
        near_left = _tail(around.clause_left, self.terminators, window)
        near_right = _head(around.clause_right, self.terminators, window)
        return not any(present.search(part) for part in (near_left, around.matched, near_right))

    def about_other(self, text: str, match: re.Match[str]) -> bool:
        """Whether a match is about someone else: the nearest subject before it in its
        sentence (a few words across clauses, "my sister cut herself, it won't stop
        bleeding") is another person."""
        if self.subjects is None:
            return False
        around = _Around.of(text, match)
        # A pattern may start with its subject ("my sister cut herself ..."); else the nearest
        # subject before it counts ("my partner took a whole bottle").
        own = self.subjects.match(around.matched)
        if own is not None:
            return own.lastgroup == "third"
        left = " ".join(w for w in around.left[-_OTHER_WINDOW:] if w != CLAUSE_MARK)
        nearest = _last_match(self.subjects, left)
        return nearest is not None and nearest.lastgroup == "third"

    def _third_person(self, around: _Around) -> bool:
        if self.subjects is None:
            return False
        objects = self.first_person_objects
        if objects is not None and objects.search(around.matched):
            # "Everyone would be better off without me" is about the speaker.
            return False
        left = _tail(around.clause_left, self.terminators, self.person_window)
        nearest = _last_match(self.subjects, left)
        return nearest is not None and nearest.lastgroup == "third"


@dataclass(frozen=True)
class _Around:
    """The words around one match, within its sentence (and a bounded distance)."""

    left: list[str]
    matched: str
    right: list[str]

    @classmethod
    def of(cls, text: str, match: re.Match[str]) -> _Around:
        start, end = match.span()
        return cls(_left_words(text, start), match.group(), _right_words(text, end))

    @property
    def clause_left(self) -> list[str]:
        words = self.left
        for i in range(len(words) - 1, -1, -1):
            if words[i] == CLAUSE_MARK:
                return words[i + 1 :]
        return words

    @property
    def clause_right(self) -> list[str]:
        words = self.right
        for i, word in enumerate(words):
            if word == CLAUSE_MARK:
                return words[:i]
        return words

    @property
    def sentence(self) -> str:
        return " ".join([*self.left, self.matched, *self.right])


def _left_words(text: str, start: int) -> list[str]:
    """Words of the sentence before ``start``, at most _MAX_SCOPE_CHARS back."""
    cut = max(0, start - _MAX_SCOPE_CHARS)
    words = text[cut:start].split()
    if cut and words:
        words = words[1:]  # probably cut mid-word
    for i in range(len(words) - 1, -1, -1):
        if words[i] == SENTENCE_MARK:
            return words[i + 1 :]
    return words


def _right_words(text: str, end: int) -> list[str]:
    words = text[end : end + _MAX_SCOPE_CHARS].split()
    if end + _MAX_SCOPE_CHARS < len(text) and words:
        words = words[:-1]
    for i, word in enumerate(words):
        if word == SENTENCE_MARK:
            return words[:i]
    return words


# How far back (in words of the sentence) the subject of an emergency is looked for.
_OTHER_WINDOW = 12
# Terminators are at most this many words long; looking further back changes nothing.
_TERMINATOR_WORDS = 3


def _tail(words: list[str], terminators: re.Pattern[str] | None, window: int) -> str:
    """The last ``window`` words, after the last terminator ("but", "and") among them."""
    phrase = " ".join(words[-(window + _TERMINATOR_WORDS) :])
    if terminators is not None:
        last = _last_match(terminators, phrase)
        if last is not None:
            phrase = phrase[last.end() :]
    return " ".join(phrase.split()[-window:])


def _last_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    found = deque(pattern.finditer(text), maxlen=1)
    return found[0] if found else None


def _head(words: list[str], terminators: re.Pattern[str] | None, window: int) -> str:
    """The first ``window`` words, before the first terminator among them."""
    phrase = " ".join(words[: window + _TERMINATOR_WORDS])
    if terminators is not None:
        first = terminators.search(phrase)
        if first is not None:
            phrase = phrase[: first.start()]
    return " ".join(phrase.split()[:window])


def _sentence(text: str, start: int, end: int) -> str:
    left = " ".join(_left_words(text, start))
    right = " ".join(_right_words(text, end))
    return f"{left} {text[start:end]} {right}"


@dataclass(frozen=True)
class Lexicon:
    """Everything a locale's ``lexicon.toml`` says, compiled once."""

    normalizer: Normalizer
    common_words: frozenset[str]
    crisis: _RuleSet
    concern: _RuleSet
    idioms: tuple[re.Pattern[str], ...]
    idiom_gate: _Gate
    checks: Checks


@dataclass(frozen=True)
class _GroupTerms:
    terms: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    rules: _RuleSet = field(default_factory=lambda: _RuleSet.build(()))
    excluded: re.Pattern[str] | None = None


class CrisisDetector:
    """Judges one message: :data:`Level.CRISIS`, :data:`Level.CONCERN` or :data:`Level.NONE`.

    Build it with :func:`load_detector`. It is immutable and safe to share between tasks.
    """

    __slots__ = ("_classifier", "_group", "_lexicon", "_others")

    def __init__(
        self,
        lexicon: Lexicon,
        group: _GroupTerms | None = None,
        classifier: Classifier | None = None,
        others: Sequence[Lexicon] = (),
    ) -> None:
        self._lexicon = lexicon
        self._group = group or _GroupTerms()
        self._classifier = classifier
        # Other languages' rules, run on every text beside the main lexicon's.
        self._others = tuple(others)

    @property
    def classifier(self) -> Classifier | None:
        return self._classifier

    def rules_only(self) -> CrisisDetector:
        """The same detector without the learned layer."""
        return CrisisDetector(self._lexicon, self._group, others=self._others)

    def normalize(self, text: str) -> str:
        """The normalised form both layers read (see ``normalize.py``)."""
        return self._lexicon.normalizer.normalize(text)

    def assess(self, text: str) -> Level:
        """The level of ``text``. Pure and fast; never raises on any ``str``."""
        level = Level.NONE
        for hit in self._hits(text):
            if hit.outcome is Level.CRISIS:
                return Level.CRISIS
            if hit.outcome is Level.CONCERN:
                level = Level.CONCERN
        if self._classifier is not None and level is not Level.CRISIS:
            classifier = self._classifier
            if classifier.score(self.normalize(text)) >= classifier.threshold:
                return Level.CRISIS
        return level

    def happening_now(self, text: str) -> bool:
        """Whether crisis language in ``text`` says a crisis is happening now, rather than
        describing one ahead of time, as a safety plan's warning signs do.

        Only for places where a member writes safety work; anywhere else a crisis is a crisis.
        Without the lexicon's [described] cues every crisis counts as happening now.
        """
        checks = self._lexicon.checks
        if checks.described_now is None or checks.described_framing is None:
            return self.assess(text) is Level.CRISIS
        lexicons = (self._lexicon, *self._others)
        return any(self._happening_now(lexicon, text) for lexicon in lexicons)

    def _happening_now(self, lexicon: Lexicon, text: str) -> bool:
        checks = lexicon.checks
        hits = self._lexicon_hits(lexicon, text, group=lexicon is self._lexicon)
        if checks.described_now is None or checks.described_framing is None:
            return any(hit.outcome is Level.CRISIS for hit in hits)
        normal = lexicon.normalizer.normalize(text)
        for hit in hits:
            if hit.outcome is not Level.CRISIS:
                continue
            start, end = hit.span
            left = " ".join(_left_words(normal, start))
            matched = normal[start:end]
            sentence = f"{left} {matched} {' '.join(_right_words(normal, end))}"
            if checks.described_now.search(sentence):
                return True
            if checks.described_framing.search(left):
                continue
            subjects = checks.subjects
            if subjects is None:
                return True
            nearest = _last_match(subjects, left)
            opening = subjects.match(matched)
            if (nearest is not None and nearest.lastgroup == "first") or (
                opening is not None and opening.lastgroup == "first"
            ):
                return True
        return False

    def judge(self, text: str) -> Verdict:
        """Both layers' view of ``text``: the level, which layer decided and why.

        A crisis by the rules is decided by the rules (the first surviving match names the
        rule); otherwise the learned layer's score at or above its threshold makes a crisis.
        Concern comes from the rules only. The model's score is reported whenever it ran.
        """
        hits = tuple(self._hits(text))
        crisis = [h for h in hits if h.outcome is Level.CRISIS]
        score = None
        if self._classifier is not None:
            score = self._classifier.score(self.normalize(text))
        if crisis:
            other = any(h.reason == "other" for h in crisis)
            return Verdict(Level.CRISIS, "rules", crisis[0].rule_id, score, other, hits)
        classifier = self._classifier
        if score is not None and classifier is not None and score >= classifier.threshold:
            return Verdict(Level.CRISIS, "model", None, score, False, hits)
        concern = [h for h in hits if h.outcome is Level.CONCERN]
        if concern:
            return Verdict(Level.CONCERN, "rules", concern[0].rule_id, score, False, hits)
        return Verdict(Level.NONE, None, None, score, False, hits)

    def explain(self, text: str) -> tuple[Hit, ...]:
        """Every rule match and what became of it: for tests and for moderators."""
        return tuple(self._hits(text))

    def with_terms(
        self, extra_terms: Sequence[str] = (), exclusions: Sequence[str] = ()
    ) -> CrisisDetector:
        """A copy with a group's extra crisis terms and exclusion phrases added.

        Terms are plain phrases (not regexes), matched case-insensitively on word boundaries
        after the same normalisation as messages, so capitals, curly quotes, accents and the
        lexicon's spelling variants behave as in the core set. A term is subject to negation
        and past-tense checks ("I'm not <term>" is not a crisis) but not to the core idioms.

        Moderators can add, never remove, the core set. So an exclusion phrase only
        suppresses a match of the group's *own* terms that lies entirely inside an
        occurrence of the exclusion (term "white out", exclusion "white out pen"). No
        exclusion ever suppresses a core pattern: "I want to kill myself" is a crisis
        whatever a group excludes. The core set's own figurative idioms ("this craving is
        killing me") are fixed in the lexicon, not group settings.

        Calls accumulate: ``d.with_terms(["a"]).with_terms(["b"])`` has both terms. Blank
        phrases are ignored.
        """
        normalizer = self._lexicon.normalizer
        terms = self._group.terms + _phrases(normalizer, extra_terms)
        excluded = self._group.exclusions + _phrases(normalizer, exclusions)
        rules = [
            Rule(f"group.terms[{i}]", _phrase_regex(term), Level.CRISIS, _GROUP_CHECKS)
            for i, term in enumerate(terms)
        ]
        exclusion_regex = (
            re.compile("|".join(_phrase_regex(e).pattern for e in excluded)) if excluded else None
        )
        common = self._lexicon.common_words
        group = _GroupTerms(terms, excluded, _RuleSet.build(rules, common), exclusion_regex)
        return CrisisDetector(self._lexicon, group, self._classifier, self._others)

    def _hits(self, text: str) -> Iterator[Hit]:
        yield from self._lexicon_hits(self._lexicon, text, group=True)
        for other in self._others:
            yield from self._lexicon_hits(other, text, group=False)

    def _lexicon_hits(self, lexicon: Lexicon, text: str, group: bool) -> Iterator[Hit]:
        normal, glued = lexicon.normalizer.normalize_marked(text)
        if not normal:
            return
        # Masking only removes tokens, so the unmasked token set is a safe pre-filter.
        tokens = frozenset(normal.split())
        masked = self._mask(lexicon, normal, tokens, glued)
        yield from self._judge_all(lexicon, lexicon.crisis, masked, tokens, normal)
        if group:
            yield from self._group_hits(normal, tokens)
        yield from self._judge_all(lexicon, lexicon.concern, normal, tokens, normal)

    def _mask(
        self, lexicon: Lexicon, normal: str, tokens: frozenset[str], glued: frozenset[int]
    ) -> str:
        def blank(match: re.Match[str]) -> str:
            # An idiom masks only when the member wrote all of it: "wanna die fr" becomes
            # "want to die for real", which holds "to die for" without anyone saying it.
            start, end = match.span()
            if start - 1 in glued or end in glued:
                return match.group()
            return " " * (end - start)  # same length, so spans still line up

        masked = normal
        for index in lexicon.idiom_gate.candidates(tokens):
            masked = lexicon.idioms[index].sub(blank, masked)
        return masked

    def _judge_all(
        self, lexicon: Lexicon, rules: _RuleSet, text: str, tokens: frozenset[str], normal: str
    ) -> Iterator[Hit]:
        for rule, match in rules.matches(text, tokens):
            hit = self._judge(lexicon, rule, match, text)
            if hit is not None:
                start, end = hit.span
                yield replace(hit, words=normal[start:end])

    def _judge(self, lexicon: Lexicon, rule: Rule, match: re.Match[str], text: str) -> Hit | None:
        start, end = match.span()
        # Context that makes a pattern count may sit in a neighbouring sentence ("I'm sorry
        # for everything. Goodbye."); context that cancels it must be in its own sentence.
        # Both choices err towards flagging.
        if rule.requires is not None or rule.also:
            around = text[max(0, start - _CONTEXT_CHARS) : end + _CONTEXT_CHARS]
            if rule.requires is not None and not rule.requires.search(around):
                return None
            if not all(cue.search(around) for cue in rule.also):
                return None
        if rule.unless is not None and rule.unless.search(_sentence(text, start, end)):
            return None
        checks = lexicon.checks
        reason = checks.suppression(text, match, rule.checks)
        if reason is None:
            if rule.emergency and checks.about_other(text, match):
                return Hit(rule.rule_id, match.span(), rule.level, "other")
            return Hit(rule.rule_id, match.span(), rule.level, "match")
        # Someone else at risk still deserves a gentle check-in, never silence.
        outcome = Level.CONCERN if reason == "third_person" else Level.NONE
        return Hit(rule.rule_id, match.span(), outcome, reason)

    def _group_hits(self, normal: str, tokens: frozenset[str]) -> Iterator[Hit]:
        if not self._group.terms:
            return
        excluded = self._group.excluded
        for hit in self._judge_all(self._lexicon, self._group.rules, normal, tokens, normal):
            if (
                excluded is not None
                and hit.outcome is Level.CRISIS
                and _inside(excluded, normal, hit.span)
            ):
                yield replace(hit, outcome=Level.NONE, reason="excluded")
            else:
                yield hit


def _inside(pattern: re.Pattern[str], text: str, span: tuple[int, int]) -> bool:
    start, end = span
    lo = max(0, start - _MAX_SCOPE_CHARS)
    return any(
        m.start() <= start and end <= m.end()
        for m in pattern.finditer(text, lo, min(len(text), end + _MAX_SCOPE_CHARS))
    )


def _phrases(normalizer: Normalizer, phrases: Iterable[str]) -> tuple[str, ...]:
    normal = (normalizer.normalize_phrase(p) for p in phrases)
    return tuple(p for p in normal if p)


def _phrase_regex(phrase: str) -> re.Pattern[str]:
    # Normalised phrases are word tokens joined by spaces, so \b marks both ends.
    return re.compile(rf"\b{re.escape(phrase)}\b")


# --------------------------------------------------------------------------- loading


def load_detector(
    content_dir: Path,
    locale: str = "en",
    cache_dir: Path | None = None,
    classifier: Classifier | Literal["shipped"] | None = "shipped",
) -> CrisisDetector:
    """Load ``content_dir/<locale>/safety/lexicon.toml``, else the English one, and the
    learned layer (by default the one shipped in ``core/safety/model``; None: rules only).
    The other languages' lexicons (:data:`OTHER_LEXICONS`) run beside it on every text.

    With ``cache_dir`` (the data folder), the lexicon's word analysis is kept in a file there
    (see ``cache.py``), which makes the next start-up about a second faster; the detector is
    the same either way.

    Raises ValueError naming the file (and the key, where there is one) when the lexicon is
    malformed, and FileNotFoundError when neither file exists.
    """
    if not _LOCALE.fullmatch(locale):
        raise ValueError(f"not a locale code: {locale!r}")
    path = content_dir / locale / "safety" / "lexicon.toml"
    if not path.is_file():
        path = content_dir / "en" / "safety" / "lexicon.toml"
    data = _read_lexicon(path)
    model = load_classifier() if classifier == "shipped" else classifier
    analysis = WordAnalysis() if cache_dir is None else CachedWordAnalysis(cache_dir / CACHE_NAME)
    main = build_lexicon(data, str(path), analysis)
    meta = data.get("meta")
    others = other_lexicons(meta.get("locale") if isinstance(meta, Mapping) else None, analysis)
    if isinstance(analysis, CachedWordAnalysis):
        analysis.save()
    main, *others = _share_vocabulary([main, *others])
    return CrisisDetector(main, classifier=model, others=others)


# Languages whose rules run on every text, whatever the main locale: members switch languages
# mid-sentence (issue 16). Each file has the same layout as content/en/safety/lexicon.toml.
OTHER_LEXICONS: Mapping[str, Path] = {"es": Path(__file__).with_name("lexicon_es.toml")}


def other_lexicons(main_locale: object, analysis: WordAnalysis | None = None) -> list[Lexicon]:
    """The other languages' lexicons, beside a main lexicon of ``main_locale``."""
    return [
        build_lexicon(_read_lexicon(path), str(path), analysis, f"{code}:")
        for code, path in OTHER_LEXICONS.items()
        if code != main_locale
    ]


def _read_lexicon(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8: {exc}") from exc


# Shorter words are never typo-corrected (normalize.py), so only longer ones need sharing.
_SHARED_WORD_LEN = 5


def _share_vocabulary(lexicons: Sequence[Lexicon]) -> list[Lexicon]:
    """Each language's normaliser also knows the others' words, so a word of one language is
    never "corrected" into a look-alike of another (Spanish "suicida" is not a typo of
    "suicidal"). Only words long enough to be corrected at all are shared."""
    if len(lexicons) < 2:
        return list(lexicons)
    shared = []
    for lexicon in lexicons:
        foreign = frozenset(
            word
            for other in lexicons
            if other is not lexicon
            for word in other.normalizer.vocabulary
            if len(word) >= _SHARED_WORD_LEN
        )
        normalizer = replace(lexicon.normalizer, vocabulary=lexicon.normalizer.vocabulary | foreign)
        shared.append(replace(lexicon, normalizer=normalizer))
    return shared


def build_lexicon(
    data: Mapping[str, object],
    source: str,
    analysis: WordAnalysis | None = None,
    rule_prefix: str = "",
) -> Lexicon:
    """Compile a parsed lexicon; ``source`` names it in error messages, ``rule_prefix`` starts
    its rule ids (another language's: "es:")."""
    analysis = analysis or WordAnalysis()
    reader = _Reader(data, source)
    normalizer = _build_normalizer(reader, analysis)
    common = frozenset(reader.strings("prefilter.common_words", required=False))
    crisis = _build_rules(reader, "crisis", Level.CRISIS, rule_prefix)
    concern = _build_rules(reader, "concern", Level.CONCERN, rule_prefix)
    idioms = tuple(
        reader.compile(f"figurative.idioms[{i}]", _words(p))
        for i, p in enumerate(reader.patterns("figurative.idioms"))
    )
    return Lexicon(
        normalizer=normalizer,
        common_words=common,
        crisis=_RuleSet.build(crisis, common, analysis),
        concern=_RuleSet.build(concern, common, analysis),
        idioms=idioms,
        idiom_gate=_Gate.build([i.pattern for i in idioms], common, analysis),
        checks=_build_checks(reader),
    )


class _Reader:
    """Typed access to the parsed TOML; every error names the file and the key."""

    def __init__(self, data: Mapping[str, object], source: str) -> None:
        self.data = data
        self.source = source
        self.macros: dict[str, str] = {}
        self.irregular: dict[str, str] = {}
        forms = self.table("forms")
        for word, value in forms.items():
            if not isinstance(value, str) or not value.split():
                self.fail(f"forms.{word}", "expected the forms as one string of words")
            self.irregular[word] = value
        self._read_macros()

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ValueError(f"{self.source}: key '{key}': {problem}")

    def get(self, key: str) -> object | None:
        node: object = self.data
        for part in key.split("."):
            if not isinstance(node, Mapping):
                self.fail(key, "expected a table")
            node = node.get(part)
            if node is None:
                return None
        return node

    def table(self, key: str) -> Mapping[str, object]:
        value = self.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(key, "expected a table")
        return value

    def strings(self, key: str, *, required: bool = True) -> list[str]:
        value = self.get(key)
        if value is None:
            if required:
                self.fail(key, "missing")
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, "expected a list of strings")
        return list(value)

    def integer(self, key: str, default: int) -> int:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(key, "expected a positive integer")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(key, "expected true or false")
        return value

    def patterns(self, key: str, *, required: bool = True) -> list[str]:
        return [self.expand(key, p) for p in self.strings(key, required=required)]

    def expand(self, key: str, pattern: str) -> str:
        """Replace %NAME% macros; unknown names are an error, not silently literal."""

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.macros:
                self.fail(key, f"unknown macro %{name}%")
            return f"(?:{self.macros[name]})"

        return expand_forms(_MACRO.sub(substitute, pattern), self.irregular)

    def compile(self, key: str, pattern: str) -> re.Pattern[str]:
        if "(?P<" in pattern:
            self.fail(key, "named groups are reserved for the detector")
        try:
            return re.compile(compact_alternations(pattern))
        except re.error as exc:
            self.fail(key, f"bad regex: {exc}")

    def optional_regex(self, key: str) -> re.Pattern[str] | None:
        entries = self.patterns(key, required=False)
        if not entries:
            return None
        for i, entry in enumerate(entries):
            self.compile(f"{key}[{i}]", entry)
        return self.compile(key, _words("|".join(f"(?:{e})" for e in entries)))

    def _read_macros(self) -> None:
        # In file order, so a macro may use the ones defined before it.
        for name, value in self.table("macros").items():
            key = f"macros.{name}"
            if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name) or not isinstance(value, str):
                self.fail(key, "macro names are UPPER_CASE and values are strings")
            self.macros[name] = self.expand(key, value)


def _words(pattern: str) -> str:
    """Lexicon entries are whole words or phrases: wrap them in word boundaries."""
    return rf"\b(?:{pattern})\b"


def _build_normalizer(reader: _Reader, analysis: WordAnalysis) -> Normalizer:
    variants = reader.table("normalize.variants")
    for name, value in variants.items():
        if not isinstance(value, str):
            reader.fail(f"normalize.variants.{name}", "expected a string")
    rewrites: list[tuple[re.Pattern[str], str, frozenset[str] | None]] = []
    raw = reader.get("normalize.rewrites") or []
    if not isinstance(raw, list):
        reader.fail("normalize.rewrites", "expected a list of [pattern, replacement] pairs")
    for i, pair in enumerate(raw):
        key = f"normalize.rewrites[{i}]"
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            reader.fail(key, "expected a [pattern, replacement] pair of strings")
        regex = reader.compile(key, _words(pair[0]))
        rewrites.append((regex, pair[1], analysis.words(regex.pattern)))
    symbols = reader.table("normalize.symbols")
    for name, value in symbols.items():
        if len(name) != 1 or not isinstance(value, str) or not value.strip():
            reader.fail(f"normalize.symbols.{name}", "expected one character and a word")
    fuzzy = [w.casefold() for w in reader.strings("normalize.fuzzy_words", required=False)]
    clean_variants = {str(k): str(v) for k, v in variants.items()}
    return Normalizer(
        variants=clean_variants,
        rewrites=tuple(rewrites),
        vocabulary=_vocabulary(reader, clean_variants, fuzzy),
        fuzzy_words=frozenset(fuzzy),
        strip_accents=reader.boolean("normalize.strip_accents", True),
        fold_confusables=reader.boolean("normalize.fold_confusables", True),
        leet=reader.boolean("normalize.leet", True),
        symbols={str(k): str(v).casefold() for k, v in symbols.items()},
    )


def _vocabulary(
    reader: _Reader, variants: Mapping[str, str], fuzzy: Iterable[str]
) -> frozenset[str]:
    """Words the lexicon knows: used to undo "dieeee" and to leave real words untyped."""
    text = " ".join(str(v) for v in _all_strings(reader.data))
    text += " " + " ".join(variants) + " " + " ".join(variants.values())
    text = re.sub(r"\\.", " ", text)  # regex escapes are not words
    return frozenset(re.findall(r"[^\W\d_]{2,}", text.casefold())) | frozenset(fuzzy)


def _all_strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from _all_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _all_strings(value)


def _build_rules(reader: _Reader, section: str, level: Level, prefix: str) -> list[Rule]:
    rules: list[Rule] = []
    categories = reader.table(section)
    if not categories:
        reader.fail(section, "missing")
    for name in categories:
        for rule in _category_rules(reader, f"{section}.{name}", level):
            rules.append(replace(rule, rule_id=prefix + rule.rule_id) if prefix else rule)
    return rules


def _category_rules(reader: _Reader, key: str, level: Level) -> list[Rule]:
    checks = frozenset(reader.strings(f"{key}.checks"))
    unknown = checks - CHECKS
    if unknown:
        reader.fail(f"{key}.checks", f"unknown checks {sorted(unknown)}; known: {sorted(CHECKS)}")
    emergency = reader.boolean(f"{key}.emergency", False)
    rules = [
        Rule(
            f"{key}.patterns[{i}]",
            reader.compile(f"{key}.patterns[{i}]", _words(p)),
            level,
            checks,
            emergency=emergency,
        )
        for i, p in enumerate(reader.patterns(f"{key}.patterns", required=False))
    ]
    contextual = reader.get(f"{key}.contextual") or []
    if not isinstance(contextual, list):
        reader.fail(f"{key}.contextual", "expected an array of tables")
    for i, entry in enumerate(contextual):
        rule = _contextual_rule(reader, f"{key}.contextual[{i}]", entry, level, checks)
        rules.append(replace(rule, emergency=emergency))
    if not rules:
        reader.fail(key, "no patterns")
    return rules


def _contextual_rule(
    reader: _Reader, key: str, entry: object, level: Level, checks: frozenset[str]
) -> Rule:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("pattern"), str):
        reader.fail(f"{key}.pattern", "expected a table with a 'pattern' string")
    context: dict[str, re.Pattern[str] | None] = {}
    for name in ("requires", "unless"):
        value = entry.get(name)
        if value is not None and not isinstance(value, str):
            reader.fail(f"{key}.{name}", "expected a string")
        context[name] = (
            reader.compile(f"{key}.{name}", _words(reader.expand(f"{key}.{name}", value)))
            if value
            else None
        )
    scene = entry.get("scene") or []
    if not isinstance(scene, list) or not all(isinstance(cue, str) for cue in scene):
        reader.fail(f"{key}.scene", "expected a list of patterns")
    also = tuple(
        reader.compile(f"{key}.scene[{i}]", _words(reader.expand(f"{key}.scene[{i}]", cue)))
        for i, cue in enumerate(scene)
    )
    pattern = reader.expand(f"{key}.pattern", str(entry["pattern"]))
    regex = reader.compile(f"{key}.pattern", _words(pattern))
    return Rule(key, regex, level, checks, context["requires"], context["unless"], also)


def _build_checks(reader: _Reader) -> Checks:
    return Checks(
        negation_pre=reader.optional_regex("negation.pre"),
        negation_clause=reader.optional_regex("negation.pre_clause"),
        pseudo_negation=reader.optional_regex("negation.pseudo"),
        negation_post=reader.optional_regex("negation.post"),
        terminators=reader.optional_regex("negation.terminators"),
        negation_window=reader.integer("negation.window", 5),
        clause_window=reader.integer(
            "negation.clause_window", reader.integer("negation.window", 5)
        ),
        post_window=reader.integer("negation.post_window", 5),
        past_markers=reader.optional_regex("past.markers"),
        present_markers=reader.optional_regex("past.present"),
        past_terminators=reader.optional_regex("past.terminators"),
        past_window=reader.integer("past.window", 10),
        subjects=_subjects(reader),
        first_person_objects=reader.optional_regex("third_person.first_person_objects"),
        person_window=reader.integer("third_person.window", 6),
        topic=reader.optional_regex("topic.markers"),
        described_now=reader.optional_regex("described.now"),
        described_framing=reader.optional_regex("described.framing"),
    )


def _subjects(reader: _Reader) -> re.Pattern[str] | None:
    first = reader.optional_regex("third_person.first_person")
    third = reader.optional_regex("third_person.frames")
    if first is None or third is None:
        return None
    return re.compile(f"(?P<first>{first.pattern})|(?P<third>{third.pattern})")


# --------------------------------------------------------------------------- evaluation


_LABELS = frozenset(level.value for level in Level)


@dataclass(frozen=True)
class Scores:
    """Crisis is the positive class. With nothing to count, a rate is 1.0 (or 0.0 for
    false alarms): no crisis lines means none were missed."""

    precision: float
    recall: float
    false_alarm_rate: float
    n: int


def evaluate(detector: CrisisDetector, rows: Iterable[tuple[str, str]]) -> Scores:
    """Score ``detector`` on (label, text) rows; labels are crisis, concern or none."""
    flagged = true_flagged = crisis = caught = none = false_alarms = n = 0
    for label, text in rows:
        if label not in _LABELS:
            raise ValueError(f"unknown label {label!r} (expected crisis, concern or none)")
        n += 1
        is_flagged = detector.assess(text) is Level.CRISIS
        flagged += is_flagged
        if label == Level.CRISIS:
            crisis += 1
            caught += is_flagged
            true_flagged += is_flagged
        elif label == Level.NONE:
            none += 1
            false_alarms += is_flagged
    return Scores(
        precision=true_flagged / flagged if flagged else 1.0,
        recall=caught / crisis if crisis else 1.0,
        false_alarm_rate=false_alarms / none if none else 0.0,
        n=n,
    )
