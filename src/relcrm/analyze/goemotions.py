"""GoEmotions (Demszky et al. 2020, Apache-2.0) read as relcrm's labels.

Its 27 emotions map onto Plutchik's eight with the reference note's table
(``shared/reference/emotion-and-scoring.md`` section 3), and onto three sentiment
classes with the paper's own grouping; comments labelled only with ambiguous emotions
(confusion, curiosity, realization, surprise), or both ways, get no sentiment label.
Used by the training script and the evaluation; the data sits in ``data/goemotions``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from relcrm.models import Emotion

TO_PLUTCHIK: dict[str, Emotion] = {
    "admiration": Emotion.TRUST, "approval": Emotion.TRUST, "gratitude": Emotion.TRUST,
    "caring": Emotion.TRUST,
    "joy": Emotion.JOY, "amusement": Emotion.JOY, "excitement": Emotion.JOY,
    "love": Emotion.JOY, "pride": Emotion.JOY, "relief": Emotion.JOY,
    "optimism": Emotion.ANTICIPATION, "desire": Emotion.ANTICIPATION,
    "curiosity": Emotion.ANTICIPATION,
    "surprise": Emotion.SURPRISE, "realization": Emotion.SURPRISE,
    "confusion": Emotion.SURPRISE,
    "anger": Emotion.ANGER, "annoyance": Emotion.ANGER, "disapproval": Emotion.ANGER,
    "disgust": Emotion.DISGUST,
    "sadness": Emotion.SADNESS, "grief": Emotion.SADNESS, "disappointment": Emotion.SADNESS,
    "remorse": Emotion.SADNESS, "embarrassment": Emotion.SADNESS,
    "fear": Emotion.FEAR, "nervousness": Emotion.FEAR,
}  # fmt: skip

POSITIVE = frozenset(
    [
        "admiration",
        "amusement",
        "approval",
        "caring",
        "desire",
        "excitement",
        "gratitude",
        "joy",
        "love",
        "optimism",
        "pride",
        "relief",
    ]
)
NEGATIVE = frozenset(
    [
        "anger",
        "annoyance",
        "disappointment",
        "disapproval",
        "disgust",
        "embarrassment",
        "fear",
        "grief",
        "nervousness",
        "remorse",
        "sadness",
    ]
)


@dataclass(frozen=True)
class GoEmotion:
    """One comment: its text, 3-class sentiment (None when ambiguous) and Plutchik emotions."""

    text: str
    sentiment: str | None
    emotions: tuple[Emotion, ...]


def read(folder: Path, split: str) -> Iterator[GoEmotion]:
    """The comments of ``split`` (train, dev or test) in ``folder``."""
    labels = (folder / "labels.txt").read_text(encoding="utf-8").split()
    for line in (folder / f"{split}.tsv").read_text(encoding="utf-8").splitlines():
        text, ids, _ = line.split("\t")
        names = [labels[int(i)] for i in ids.split(",")]
        positive = any(n in POSITIVE for n in names)
        negative = any(n in NEGATIVE for n in names)
        if names == ["neutral"]:
            sentiment: str | None = "neutral"
        elif positive != negative:
            sentiment = "positive" if positive else "negative"
        else:
            sentiment = None
        emotions = tuple(dict.fromkeys(TO_PLUTCHIK[n] for n in names if n != "neutral"))
        yield GoEmotion(text, sentiment, emotions)
