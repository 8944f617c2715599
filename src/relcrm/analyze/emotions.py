"""Plutchik emotions of one sentence, from relcrm's own lexicon and the CX rules.

Counting words is not enough in customer text: "not happy" is anger, not joy, and
"great, another outage" has no joy in it. So negation moves the weight of positive
emotions to anger and sadness, and sarcasm removes joy and trust.
"""

from __future__ import annotations

import math

from relcrm.analyze.lexicon import plutchik
from relcrm.analyze.rules import RuleHits
from relcrm.analyze.text import is_negated
from relcrm.models import Emotion

_POSITIVE = (Emotion.JOY, Emotion.TRUST, Emotion.ANTICIPATION)
_NEGATIVE = (Emotion.FEAR, Emotion.SADNESS, Emotion.DISGUST, Emotion.ANGER)

# Where the weight of a negated positive emotion goes ("don't trust" is disgust).
NEGATED_TO: dict[Emotion, tuple[tuple[Emotion, float], ...]] = {
    Emotion.JOY: ((Emotion.ANGER, 0.5), (Emotion.SADNESS, 0.4)),
    Emotion.TRUST: ((Emotion.DISGUST, 0.5), (Emotion.ANGER, 0.4)),
    Emotion.ANTICIPATION: ((Emotion.SADNESS, 0.4),),
}

# What each CX rule says about the customer's feelings.
_RULE_EMOTIONS: dict[str, tuple[tuple[Emotion, float], ...]] = {
    "praise": ((Emotion.JOY, 0.5), (Emotion.TRUST, 0.45)),
    "complaint": ((Emotion.ANGER, 0.55),),
    "sarcasm": ((Emotion.ANGER, 0.8), (Emotion.DISGUST, 0.3)),
    "churn": ((Emotion.ANGER, 0.45),),
    "trapped": ((Emotion.ANGER, 0.55), (Emotion.SADNESS, 0.4)),
}


def raw_emotions(sentence: str, tokens: list[str]) -> tuple[dict[Emotion, float], int]:
    """Summed lexicon weights per emotion, with negation applied, and the number of hits."""
    table = plutchik()
    sums: dict[Emotion, float] = {}
    hits = 0

    def add(emotion: Emotion, weight: float) -> None:
        sums[emotion] = sums.get(emotion, 0.0) + weight

    for index, token in enumerate(tokens):
        for emotion, weight in table.for_word(token):
            hits += 1
            if not is_negated(tokens, index):
                add(emotion, weight)
            else:
                for target, share in NEGATED_TO.get(emotion, ()):
                    add(target, weight * share)
    if table.phrase_pattern is not None:
        for found in table.phrase_pattern.finditer(sentence):
            for emotion, weight in table.phrases[found.group()]:
                hits += 1
                add(emotion, weight)
    return sums, hits


def emotion_lean(sentence: str, tokens: list[str]) -> float:
    """-1..1: how far the emotion words lean positive (joy, trust, anticipation) or negative.

    Used when VADER finds no sentiment word at all ("can't wait for the launch").
    """
    sums, _ = raw_emotions(sentence, tokens)
    positive = sum(sums.get(e, 0.0) for e in _POSITIVE)
    negative = sum(sums.get(e, 0.0) for e in _NEGATIVE)
    return (positive - negative) / (positive + negative + 1.0)


def sentence_emotions(
    sentence: str, tokens: list[str], rules: RuleHits, valence: float
) -> tuple[dict[Emotion, float], int]:
    """Intensities 0..1 for one sentence, consistent with its valence."""
    sums, hits = raw_emotions(sentence, tokens)
    fired = {
        "praise": rules.praise,
        "complaint": rules.complaint,
        "sarcasm": rules.sarcasm,
        "churn": rules.churn,
        "trapped": rules.trapped is not None,
    }
    for rule, on in fired.items():
        if on:
            for emotion, weight in _RULE_EMOTIONS[rule]:
                sums[emotion] = sums.get(emotion, 0.0) + weight
    if rules.sarcasm:
        for emotion in (Emotion.JOY, Emotion.TRUST):
            sums.pop(emotion, None)
    # Emotions that contradict how the sentence sounds are mostly the lexicon misfiring.
    if valence <= -0.25:
        for emotion in _POSITIVE:
            if emotion in sums:
                sums[emotion] *= 0.2
    elif valence >= 0.25:
        for emotion in _NEGATIVE:
            if emotion in sums:
                sums[emotion] *= 0.2
    # A clear feeling with no emotion word: complaints are mostly anger, praise mostly joy.
    if not any(weight >= 0.15 for weight in sums.values()):
        if valence <= -0.3:
            sums[Emotion.ANGER] = max(sums.get(Emotion.ANGER, 0.0), 0.3)
        elif valence >= 0.3:
            sums[Emotion.JOY] = max(sums.get(Emotion.JOY, 0.0), 0.3)
    return {emotion: saturate(weight) for emotion, weight in sums.items() if weight > 0}, hits


def saturate(weight: float) -> float:
    """Map a summed weight (0..∞) onto an intensity (0..1): more words, stronger, but capped."""
    return round(1.0 - math.exp(-1.2 * weight), 4)
