"""Plutchik's eight primary emotions, their intensities, and the dyads they form."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from relcrm.models._base import FrozenModel


class Emotion(StrEnum):
    """Plutchik's primaries, in wheel order (each is adjacent to its neighbours)."""

    JOY = "joy"
    TRUST = "trust"
    FEAR = "fear"
    SURPRISE = "surprise"
    SADNESS = "sadness"
    DISGUST = "disgust"
    ANGER = "anger"
    ANTICIPATION = "anticipation"


WHEEL: tuple[Emotion, ...] = tuple(Emotion)

PRIMARY_DYADS: dict[frozenset[Emotion], str] = {
    frozenset({Emotion.JOY, Emotion.TRUST}): "love",
    frozenset({Emotion.TRUST, Emotion.FEAR}): "submission",
    frozenset({Emotion.FEAR, Emotion.SURPRISE}): "awe",
    frozenset({Emotion.SURPRISE, Emotion.SADNESS}): "disapproval",
    frozenset({Emotion.SADNESS, Emotion.DISGUST}): "remorse",
    frozenset({Emotion.DISGUST, Emotion.ANGER}): "contempt",
    frozenset({Emotion.ANGER, Emotion.ANTICIPATION}): "aggressiveness",
    frozenset({Emotion.ANTICIPATION, Emotion.JOY}): "optimism",
}
"""Adjacent pairs on the wheel and the feeling they make together."""

POSITIVE_EMOTIONS = frozenset({Emotion.JOY, Emotion.TRUST, Emotion.ANTICIPATION})
NEGATIVE_EMOTIONS = frozenset({Emotion.FEAR, Emotion.SADNESS, Emotion.DISGUST, Emotion.ANGER})


def _unsigned(value: float) -> float:
    """-0.0 is 0.0 (absent): both store layouts then keep the same value (one leaves a
    zero out of the stored JSON, the other would keep its sign)."""
    return value + 0.0


Intensity = Annotated[float, Field(ge=0.0, le=1.0), AfterValidator(_unsigned)]


class EmotionIntensities(FrozenModel):
    """Intensity of each primary emotion, 0 (absent) to 1 (as strong as it gets).

    A model rather than a dict so that an unknown emotion name ("rage", "happy") is
    rejected with the name in the error instead of being ignored.
    """

    joy: Intensity = 0.0
    trust: Intensity = 0.0
    fear: Intensity = 0.0
    surprise: Intensity = 0.0
    sadness: Intensity = 0.0
    disgust: Intensity = 0.0
    anger: Intensity = 0.0
    anticipation: Intensity = 0.0

    def get(self, emotion: Emotion) -> float:
        value: float = getattr(self, emotion.value)
        return value

    def items(self) -> list[tuple[Emotion, float]]:
        return [(emotion, self.get(emotion)) for emotion in WHEEL]

    def is_empty(self) -> bool:
        return all(value == 0.0 for _, value in self.items())
