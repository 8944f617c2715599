"""Loading relcrm's own word lists shipped in ``analyze/data`` (emotion, valence, languages).

The lists are data rather than code so that a reviewer can read and amend them without
touching the rules, and so that their licence (relcrm's own) is stated in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import TypeVar

from relcrm.models import Emotion


def _rows(filename: str) -> Iterator[list[str]]:
    text = files("relcrm.analyze").joinpath("data", filename).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            yield line.split("\t")


_V = TypeVar("_V")


def _exact_or_stem(exact: dict[str, _V], stems: dict[str, _V], word: str) -> _V | None:
    """The word's exact entry, else the entry of its longest stem (three letters or more)."""
    found = exact.get(word)
    if found is not None:
        return found
    for end in range(len(word), 2, -1):
        stem = stems.get(word[:end])
        if stem is not None:
            return stem
    return None


@dataclass(frozen=True)
class TermTable:
    """Terms mapped to values: exact words, word stems (``disappoint*``) and phrases."""

    exact: dict[str, list[tuple[Emotion, float]]] = field(default_factory=dict)
    stems: dict[str, list[tuple[Emotion, float]]] = field(default_factory=dict)
    phrases: dict[str, list[tuple[Emotion, float]]] = field(default_factory=dict)
    phrase_pattern: re.Pattern[str] | None = None

    def for_word(self, word: str) -> list[tuple[Emotion, float]]:
        """What a single word signals: its exact entry, else its longest matching stem."""
        return _exact_or_stem(self.exact, self.stems, word) or []


@cache
def plutchik() -> TermTable:
    """relcrm's Plutchik lexicon (``data/plutchik.tsv``)."""
    table = TermTable()
    for term, emotion_name, weight in _rows("plutchik.tsv"):
        entry = (Emotion(emotion_name), float(weight))
        if " " in term:
            table.phrases.setdefault(term, []).append(entry)
        elif term.endswith("*"):
            table.stems.setdefault(term[:-1], []).append(entry)
        else:
            table.exact.setdefault(term, []).append(entry)
    ordered = sorted(table.phrases, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p) for p in ordered) + r")(?!\w)")
    return TermTable(table.exact, table.stems, table.phrases, pattern)


@cache
def cx_valence() -> dict[str, float]:
    """relcrm's corrections to VADER's word valences (``data/cx_valence.tsv``)."""
    return {word: float(value) for word, value in _rows("cx_valence.tsv")}


@dataclass(frozen=True)
class ForeignTerm:
    """A sentiment word in another language: its valence and the emotion it carries."""

    valence: float
    emotion: Emotion | None


@dataclass(frozen=True)
class ForeignLexicon:
    """One language's sentiment words: exact words and stems."""

    exact: dict[str, ForeignTerm] = field(default_factory=dict)
    stems: dict[str, ForeignTerm] = field(default_factory=dict)

    def lookup(self, word: str) -> ForeignTerm | None:
        return _exact_or_stem(self.exact, self.stems, word)


@cache
def foreign() -> dict[str, ForeignLexicon]:
    """relcrm's small es/fr/de/pt sentiment lexicon (``data/foreign.tsv``), by language."""
    lexicons: dict[str, ForeignLexicon] = {}
    for lang, term, valence, emotion_name in _rows("foreign.tsv"):
        lexicon = lexicons.setdefault(lang, ForeignLexicon())
        entry = ForeignTerm(float(valence), None if emotion_name == "-" else Emotion(emotion_name))
        if term.endswith("*"):
            lexicon.stems[term[:-1]] = entry
        else:
            lexicon.exact[term] = entry
    return lexicons
