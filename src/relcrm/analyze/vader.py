"""VADER (the ``vaderSentiment`` package, MIT), wrapped: typed, loaded once, offline.

``vaderSentiment`` reads its lexicon from files inside the installed package and imports
only the standard library when used this way (``requests`` is imported only by its
command-line demo), so nothing is fetched at import or at run time.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from relcrm.analyze.lexicon import cx_valence
from relcrm.models import TextAnalysis

# Emoji VADER misreads (it turns them into their names: "fire" is negative, "pouting
# face" unknown), replaced by private words the CX lexicon scores.
_EMOJI = {"🔥": " relcrmemojifire ", "😡": " relcrmemojiangry ", "🤬": " relcrmemojiangry "}
_EMOJI_VALENCE = {"relcrmemojifire": 1.8, "relcrmemojiangry": -2.5}


def vader_version() -> str:
    """The installed vaderSentiment version (part of an analysis's provenance)."""
    try:
        return package_version("vaderSentiment")
    except PackageNotFoundError:  # pragma: no cover - only when run from a source tree
        return "unknown"


class Vader:
    """One VADER scorer with an optional word-valence overlay."""

    def __init__(self, overrides: dict[str, float] | None = None) -> None:
        self._analyzer: Any = SentimentIntensityAnalyzer()
        if overrides:
            self._analyzer.lexicon.update(overrides)
        self._lexicon: dict[str, float] = self._analyzer.lexicon

    def compound(self, text: str) -> float:
        """VADER's compound score for ``text``, -1..1."""
        for emoji, word in _EMOJI.items():
            if emoji in text:
                text = text.replace(emoji, word)
        scores: dict[str, float] = self._analyzer.polarity_scores(text)
        return float(scores["compound"])

    def valence_of(self, word: str) -> float:
        """The valence VADER gives one lower-case word (0 when it does not know it)."""
        return self._lexicon.get(word, 0.0)


@cache
def plain_vader() -> Vader:
    """VADER as shipped, shared (loading the lexicon takes tens of milliseconds)."""
    return Vader()


@cache
def cx_vader() -> Vader:
    """VADER with relcrm's CX corrections (``data/cx_valence.tsv``), shared."""
    return Vader({**cx_valence(), **_EMOJI_VALENCE})


class VaderAnalyzer:
    """Plain VADER, without relcrm's CX layer: the baseline the CX layer is measured against.

    Valence is VADER's compound; it reports no emotions and a fixed middling confidence.
    """

    name: str = "vader"

    def __init__(self) -> None:
        self.version: str = vader_version()

    def analyze(self, text: str) -> TextAnalysis:
        if not text.strip():
            return TextAnalysis(
                valence=0.0,
                arousal=0.0,
                confidence=0.0,
                analyzer=self.name,
                analyzer_version=self.version,
            )
        compound = plain_vader().compound(text)
        return TextAnalysis(
            valence=compound,
            arousal=min(1.0, abs(compound)),
            confidence=0.5,
            analyzer=self.name,
            analyzer_version=self.version,
        )
