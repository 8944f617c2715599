"""Scoring an analyzer against hand-labelled sentences (used by the benchmark and tests).

Kept in the library so that a plugin author can measure their analyzer on the same
terms as relcrm's own: 3-class sentiment from valence, and Plutchik top-1/top-2 agreement.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from relcrm.analyze.base import Analyzer
from relcrm.models import Emotion, TextAnalysis

Sentiment = Literal["positive", "neutral", "negative"]
SENTIMENTS: tuple[Sentiment, ...] = ("positive", "neutral", "negative")

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
    """One hand-labelled sentence."""

    text: str
    sentiment: Sentiment
    emotions: tuple[Emotion, ...]
    category: str


def load_labelled(path: Path) -> list[Labelled]:
    """Read a JSONL file of labelled sentences (text, sentiment, emotions, category)."""
    items: list[Labelled] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        sentiment = raw["sentiment"]
        if sentiment not in SENTIMENTS:
            raise ValueError(f"unknown sentiment {sentiment!r} in {path}")
        items.append(
            Labelled(
                text=raw["text"],
                sentiment=sentiment,
                emotions=tuple(Emotion(e) for e in raw["emotions"]),
                category=raw["category"],
            )
        )
    return items


def top_emotions(analysis: TextAnalysis, k: int) -> list[Emotion]:
    """The ``k`` strongest emotions above zero, strongest first (ties in wheel order)."""
    ranked = sorted(analysis.emotions.items(), key=lambda item: -item[1])
    return [emotion for emotion, value in ranked[:k] if value > 0]


@dataclass
class Report:
    """How an analyzer did on a labelled set."""

    total: int = 0
    correct: int = 0
    emotion_items: int = 0
    top1: int = 0
    top2: int = 0
    confusion: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    by_category: dict[str, list[int]] = field(default_factory=dict)
    misses: list[tuple[Labelled, TextAnalysis]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def macro_f1(self) -> float:
        scores = []
        for label in SENTIMENTS:
            tp = self.confusion[(label, label)]
            fp = sum(self.confusion[(g, label)] for g in SENTIMENTS if g != label)
            fn = sum(self.confusion[(label, p)] for p in SENTIMENTS if p != label)
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            both = precision + recall
            scores.append(2 * precision * recall / both if both else 0.0)
        return sum(scores) / len(scores)

    @property
    def top1_agreement(self) -> float:
        return self.top1 / self.emotion_items if self.emotion_items else 0.0

    @property
    def top2_agreement(self) -> float:
        return self.top2 / self.emotion_items if self.emotion_items else 0.0


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
        counts = report.by_category.setdefault(item.category, [0, 0])
        counts[0] += hit
        counts[1] += 1
        if not hit:
            report.misses.append((item, analysis))
        if item.emotions:
            report.emotion_items += 1
            top = top_emotions(analysis, 2)
            report.top1 += bool(top) and top[0] == item.emotions[0]
            report.top2 += bool(set(top) & set(item.emotions))
    return report
