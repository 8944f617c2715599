"""Dense lexicon scores for the linear analyzer: what word lists know beyond the training data.

A model trained on a few thousand customer texts has never seen most sentiment words;
word lists have. Three enter the model as a handful of dense features:

- VADER's 7,500-word English lexicon (with relcrm's CX corrections), weighted by how
  likely the text is English, so VADER does not read German "die" as English;
- relcrm's Plutchik lexicon (English emotions), weighted the same way;
- relcrm's own multilingual sentiment words (``data/sentiment_words.tsv``: French, German,
  Spanish, Portuguese, Dutch, and English slang and customer-service words), read on the
  normalised text whatever its language, with negation in all six languages.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import TypeVar

from relcrm.analyze.emotions import NEGATED_TO, saturate
from relcrm.analyze.features import negated, normalise, tokens
from relcrm.analyze.lexicon import plutchik
from relcrm.analyze.vader import cx_vader
from relcrm.models import WHEEL, Emotion

DENSE_NAMES: tuple[str, ...] = (
    "d:vader+",
    "d:vader-",
    *(f"d:emo_{emotion.value}" for emotion in WHEEL),
    "d:words+",
    "d:words-",
    *(f"d:wemo_{emotion.value}" for emotion in WHEEL),
    "d:length",
)
"""Every dense feature, in column order (``d:length`` comes from the feature extractor)."""


@dataclass(frozen=True)
class _Term:
    valence: float
    emotion: Emotion | None


_T = TypeVar("_T")

VADER_CHARS = 300
"""VADER reads at most this much of a text: its compound saturates long before, and its
pure-Python scoring is the analyzer's largest single cost."""

_CACHE_LIMIT = 200_000
"""Words whose lookup is remembered (customer text repeats its words); cleared when full."""


@dataclass
class _WordList:
    exact: dict[str, _Term] = field(default_factory=dict)
    stems: dict[str, _Term] = field(default_factory=dict)
    phrases: dict[str, _Term] = field(default_factory=dict)
    phrase_starts: frozenset[str] = frozenset()
    _seen: dict[str, _Term | None] = field(default_factory=dict)

    def lookup(self, word: str) -> _Term | None:
        """The word's exact entry, else its longest stem's (three letters or more)."""
        if word in self._seen:
            return self._seen[word]
        found = self.exact.get(word)
        if found is None:
            for end in range(len(word), 2, -1):
                found = self.stems.get(word[:end])
                if found is not None:
                    break
        if len(self._seen) >= _CACHE_LIMIT:
            self._seen.clear()
        self._seen[word] = found
        return found


def _merge(table: dict[str, _Term], term: str, entry: _Term) -> None:
    """A term listed by two languages keeps the mean valence (and the first emotion)."""
    known = table.get(term)
    if known is None:
        table[term] = entry
    else:
        table[term] = _Term((known.valence + entry.valence) / 2, known.emotion or entry.emotion)


@cache
def sentiment_words() -> _WordList:
    """relcrm's multilingual sentiment words, all languages in one table."""
    text = files("relcrm.analyze").joinpath("data", "sentiment_words.tsv").read_text("utf-8")
    table = _WordList()
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        _, term, valence, emotion = line.split("\t")
        entry = _Term(float(valence), None if emotion == "-" else Emotion(emotion))
        if " " in term:
            _merge(table.phrases, term, entry)
        elif term.endswith("*"):
            _merge(table.stems, term[:-1], entry)
        else:
            _merge(table.exact, term, entry)
    table.phrase_starts = _starts(frozenset(table.phrases))
    return table


MAX_PHRASE_WORDS = 3


def _phrases(found: list[str], table: dict[str, _T], starts: frozenset[str]) -> Iterator[_T]:
    """Phrases of two or three words in ``found`` (looked up, not matched by a regex: with
    six languages' phrases a regex costs more than everything else together); ``starts``
    are the words phrases begin with, so most positions are skipped at once."""
    last = len(found) - 1
    for start, word in enumerate(found):
        if start == last or word not in starts:
            continue
        for length in range(2, MAX_PHRASE_WORDS + 1):
            if start + length > len(found):
                break
            entry = table.get(" ".join(found[start : start + length]))
            if entry is not None:
                yield entry


@cache
def _starts(phrases: frozenset[str]) -> frozenset[str]:
    return frozenset(phrase.split(" ", 1)[0] for phrase in phrases)


def _word_scores(found: list[str], negations: list[bool]) -> dict[str, float]:
    table = sentiment_words()
    total = 0.0
    emotions: dict[Emotion, float] = {}

    def add(term: _Term, negated: bool) -> None:
        nonlocal total
        total += -0.6 * term.valence if negated else term.valence
        if term.emotion is not None and not negated:
            emotions[term.emotion] = emotions.get(term.emotion, 0.0) + abs(term.valence) / 4

    for word, is_negated in zip(found, negations, strict=True):
        term = table.lookup(word)
        if term is not None:
            add(term, is_negated)
    for phrase in _phrases(found, table.phrases, table.phrase_starts):
        add(phrase, False)
    scores: dict[str, float] = {}
    if total:
        compound = total / math.sqrt(total * total + 15)
        scores["d:words+"] = max(compound, 0.0)
        scores["d:words-"] = max(-compound, 0.0)
    for emotion, weight in emotions.items():
        scores[f"d:wemo_{emotion.value}"] = saturate(weight)
    return scores


def _plutchik_scores(found: list[str], negations: list[bool], english: float) -> dict[str, float]:
    """relcrm's Plutchik lexicon over the words (negated joy and trust turn to anger,
    sadness and disgust, as in relcrm-cx), weighted by how likely the text is English."""
    table = plutchik()
    sums: dict[Emotion, float] = {}
    for word, is_negated in zip(found, negations, strict=True):
        entries = table.for_word(word)
        if not entries:
            continue
        for emotion, weight in entries:
            if not is_negated:
                sums[emotion] = sums.get(emotion, 0.0) + weight
            else:
                for target, share in NEGATED_TO.get(emotion, ()):
                    sums[target] = sums.get(target, 0.0) + weight * share
    for entries in _phrases(found, table.phrases, _starts(frozenset(table.phrases))):
        for emotion, weight in entries:
            sums[emotion] = sums.get(emotion, 0.0) + weight
    return {f"d:emo_{e.value}": english * saturate(w) for e, w in sums.items()}


def lexicon_scores(
    text: str,
    language_shares: dict[str, float],
    found: list[str] | None = None,
    negations: list[bool] | None = None,
) -> dict[str, float]:
    """Dense scores of ``text`` given the probability of each language.

    ``language_shares`` maps language codes to probabilities (the model's language head);
    ``found`` are the text's normalised tokens and ``negations`` which of them a negator
    reaches, if the caller has them already.
    """
    english = language_shares.get("en", 0.0)
    raw = text[:2000]
    if found is None:
        found = tokens(normalise(raw))
    if negations is None:
        negations = negated(found)
    scores: dict[str, float] = {}
    if english > 0.05:
        compound = cx_vader().compound(raw[:VADER_CHARS])
        scores["d:vader+"] = english * max(compound, 0.0)
        scores["d:vader-"] = english * max(-compound, 0.0)
        scores.update(_plutchik_scores(found, negations, english))
    scores.update(_word_scores(found, negations))
    return scores
