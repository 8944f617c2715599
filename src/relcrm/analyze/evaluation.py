"""Scoring an analyzer against hand-labelled texts (used by the benchmark, training and tests).

Kept in the library so that a plugin author can measure their analyzer on the same terms
as relcrm's own: 3-class sentiment from valence (accuracy and macro-F1), Plutchik emotion
agreement (top-1, top-2), churn-intent / trapped / sarcasm F1, and all of it per failure
class and per language, with the analyzer's confidence on right and wrong answers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from relcrm.analyze.base import Analyzer
from relcrm.models import Emotion, TextAnalysis

Sentiment = Literal["positive", "neutral", "negative"]
SENTIMENTS: tuple[Sentiment, ...] = ("positive", "neutral", "negative")
FLAG_NAMES: tuple[str, ...] = ("churn_intent", "trapped", "sarcasm")

NEUTRAL_BAND = 0.05
"""|valence| below this counts as neutral (VADER's own convention)."""


def sentiment_of(valence: float) -> Sentiment:
    """The 3-class label a valence stands for."""
    if valence >= NEUTRAL_BAND:
        return "positive"
    if valence <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"


@dataclass(frozen=True)
class Labelled:
    """One hand-labelled text. Flags, language and failure class are optional: older sets
    label sentiment and emotions only."""

    text: str
    sentiment: Sentiment
    emotions: tuple[Emotion, ...]
    category: str
    flags: dict[str, bool] | None = None
    language: str | None = None
    id: str | None = None
    ranked: bool = True
    """Whether the first gold emotion is the main one (False: an unordered set, as in
    GoEmotions, where top-1 counts when the strongest emotion is any of the gold ones)."""


def _labelled(raw: dict[str, object], where: str) -> Labelled:
    sentiment = raw["sentiment"]
    if sentiment not in SENTIMENTS:
        raise ValueError(f"unknown sentiment {sentiment!r} in {where}")
    emotions = raw["emotions"]
    if not isinstance(emotions, list):
        raise ValueError(f"emotions must be a list in {where}")
    flags = (
        {name: bool(raw[name]) for name in FLAG_NAMES}
        if all(name in raw for name in FLAG_NAMES)
        else None
    )
    category = raw.get("failure_class", raw.get("category", "other"))
    language = raw.get("language")
    return Labelled(
        text=str(raw["text"]),
        sentiment=sentiment,
        emotions=tuple(Emotion(str(e)) for e in emotions),
        category=str(category),
        flags=flags,
        language=str(language) if language is not None else None,
        id=str(raw["id"]) if "id" in raw else None,
    )


def load_labelled(*paths: Path) -> list[Labelled]:
    """Read JSONL files of labelled texts: relcrm's corpus format (``data/analyzer/SPEC.md``)
    or the older one (text, sentiment, emotions, category)."""
    items: list[Labelled] = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                items.append(_labelled(json.loads(line), f"{path}:{number}"))
    return items


def top_emotions(analysis: TextAnalysis, k: int) -> list[Emotion]:
    """The ``k`` strongest emotions above zero, strongest first (ties in wheel order)."""
    ranked = sorted(analysis.emotions.items(), key=lambda item: -item[1])
    return [emotion for emotion, value in ranked[:k] if value > 0]


@dataclass
class Counts:
    """Binary outcomes: true and false positives, false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: bool, predicted: bool) -> None:
        self.tp += gold and predicted
        self.fp += predicted and not gold
        self.fn += gold and not predicted

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0


@dataclass
class Report:
    """How an analyzer did on a labelled set."""

    total: int = 0
    correct: int = 0
    emotion_items: int = 0
    top1: int = 0
    top2: int = 0
    no_emotion: int = 0
    """Texts with a gold emotion for which the analyzer gave none at all."""
    confusion: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    by_category: dict[str, list[int]] = field(default_factory=dict)
    by_language: dict[str, list[int]] = field(default_factory=dict)
    flags: dict[str, Counts] = field(default_factory=dict)
    confidence_right: list[float] = field(default_factory=list)
    confidence_wrong: list[float] = field(default_factory=list)
    misses: list[tuple[Labelled, TextAnalysis]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def macro_f1(self) -> float:
        scores = []
        for label in SENTIMENTS:
            counts = Counts()
            counts.tp = self.confusion[(label, label)]
            counts.fp = sum(self.confusion[(g, label)] for g in SENTIMENTS if g != label)
            counts.fn = sum(self.confusion[(label, p)] for p in SENTIMENTS if p != label)
            scores.append(counts.f1)
        return sum(scores) / len(scores)

    def class_f1(self, label: str) -> float:
        counts = Counts()
        counts.tp = self.confusion[(label, label)]
        counts.fp = sum(self.confusion[(g, label)] for g in SENTIMENTS if g != label)
        counts.fn = sum(self.confusion[(label, p)] for p in SENTIMENTS if p != label)
        return counts.f1

    @property
    def top1_agreement(self) -> float:
        return self.top1 / self.emotion_items if self.emotion_items else 0.0

    @property
    def top2_agreement(self) -> float:
        return self.top2 / self.emotion_items if self.emotion_items else 0.0

    @staticmethod
    def mean(values: Iterable[float]) -> float:
        items = list(values)
        return sum(items) / len(items) if items else 0.0


def _tally(table: dict[str, list[int]], key: str, hit: bool) -> None:
    counts = table.setdefault(key, [0, 0])
    counts[0] += hit
    counts[1] += 1


def evaluate(analyzer: Analyzer, items: list[Labelled]) -> Report:
    """Run ``analyzer`` over ``items`` and count agreements with the gold labels."""
    report = Report()
    for item in items:
        analysis = analyzer.analyze(item.text)
        predicted = sentiment_of(analysis.valence)
        report.total += 1
        report.confusion[(item.sentiment, predicted)] += 1
        hit = predicted == item.sentiment
        report.correct += hit
        (report.confidence_right if hit else report.confidence_wrong).append(analysis.confidence)
        _tally(report.by_category, item.category, hit)
        if item.language is not None:
            _tally(report.by_language, item.language, hit)
        if not hit:
            report.misses.append((item, analysis))
        if item.emotions:
            report.emotion_items += 1
            top = top_emotions(analysis, 2)
            report.no_emotion += not top
            first_ok = False
            if top:
                first_ok = top[0] == item.emotions[0] if item.ranked else top[0] in item.emotions
            report.top1 += bool(top) and first_ok
            report.top2 += bool(set(top) & set(item.emotions))
        if item.flags is not None:
            given = analysis.flags.model_dump()
            for name in FLAG_NAMES:
                report.flags.setdefault(name, Counts()).add(item.flags[name], bool(given[name]))
    return report
