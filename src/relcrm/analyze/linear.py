"""relcrm's default analyzer: a linear model over words, character n-grams, CX cues and
lexicon scores, trained offline on customer feedback in six languages and on GoEmotions.

Why linear: it runs thousands of texts a second on one core with numpy alone, ships in a
few megabytes, gives the same answer every time, and each weight can be read. The CX cues
(:mod:`relcrm.analyze.cx_cues`) enter as features, so training decides what they are worth;
what the model card (``docs/analyzer.md``) reports was measured on texts written by people
who never saw the cues or the model.
"""

from __future__ import annotations

import math

import numpy as np

from relcrm.analyze.cues import Cue
from relcrm.analyze.cx_cues import CueHits
from relcrm.analyze.features import char_grams, extract
from relcrm.analyze.lexicon_features import lexicon_scores
from relcrm.analyze.linear_model import (
    FLAGS,
    LANGUAGES,
    HeadLayout,
    LinearModel,
    shipped_model,
)
from relcrm.models import WHEEL, Emotion, EmotionIntensities, PerceptionFlags, TextAnalysis

ANALYZER_NAME = "relcrm-linear"

NEUTRAL_BAND = 0.04
"""A text the model calls neutral gets a valence inside ±0.04 (labels use ±0.05)."""
EMPHASIS_FEATURES = frozenset({"s:shout", "s:!!", "s:?!"})
"""Shouting, "!!", "??" or "?!": the customer raised their voice (so does an ultimatum)."""
GRAM_CACHE_WORDS = 200_000
"""Words whose n-gram rows are remembered; the memory is cleared when it is full."""
CALM_DAMPING = 0.5
"""The strength (valence and arousal) of a courteous chaser is multiplied by this."""
MIN_INTENSITY = 0.02
"""Emotion intensities below this are reported as 0."""
FLAG_VALENCE_CEILING = -0.3
"""A confident flag (stated churn, a trapped customer, sarcasm) is at least this negative."""
CONFIDENT_FLAG = 0.6
"""The probability from which a flag overrides the sentiment head."""

_AROUSAL: dict[Emotion, float] = {
    Emotion.ANGER: 0.9,
    Emotion.FEAR: 0.8,
    Emotion.SURPRISE: 0.8,
    Emotion.JOY: 0.6,
    Emotion.ANTICIPATION: 0.6,
    Emotion.DISGUST: 0.55,
    Emotion.TRUST: 0.3,
    Emotion.SADNESS: 0.25,
}
"""How activating each emotion is (Russell's circumplex, roughly)."""

_POSITIVE = tuple(e in (Emotion.JOY, Emotion.TRUST, Emotion.ANTICIPATION) for e in WHEEL)
_NEGATIVE = tuple(
    e in (Emotion.ANGER, Emotion.DISGUST, Emotion.SADNESS, Emotion.FEAR) for e in WHEEL
)
_AROUSAL_VECTOR = tuple(_AROUSAL[e] for e in WHEEL)

_CUE_PHRASES: dict[str, Cue] = {
    "churn": Cue.CHURN,
    "trapped": Cue.TRAPPED,
    "sarcasm": Cue.SARCASM,
    "polite_chaser": Cue.POLITE_CHASER,
    "request": Cue.REQUEST,
    "lukewarm": Cue.LUKEWARM,
    "implicit_complaint": Cue.IMPLICIT_COMPLAINT,
    "praise": Cue.PRAISE_IDIOM,
    "slang_positive": Cue.SLANG_POSITIVE,
    "slang_negative": Cue.SLANG_NEGATIVE,
    "ultimatum": Cue.ULTIMATUM,
}


def _softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    shifted = [math.exp(x - top) for x in logits]
    total = sum(shifted)
    return [x / total for x in shifted]


def _sigmoid(logits: list[float]) -> list[float]:
    return [1.0 / (1.0 + math.exp(-x)) for x in logits]


class LinearAnalyzer:
    """The default analyzer (``relcrm-linear``): see the module docstring."""

    name: str = ANALYZER_NAME

    def __init__(self, model: LinearModel | None = None) -> None:
        self._model = model if model is not None else shipped_model()
        self._layout = HeadLayout.standard()
        self._dense_index = {name: i for i, name in enumerate(self._model.dense_names)}
        self.version: str = self._model.version
        self._gram_cache: dict[str, tuple[int, ...]] = {}

    def analyze(self, text: str) -> TextAnalysis:
        """Valence, arousal, emotions, flags, confidence, language and cues for ``text``."""
        if not text.strip():
            return TextAnalysis(
                valence=0.0,
                arousal=0.0,
                confidence=0.0,
                analyzer=self.name,
                analyzer_version=self.version,
                cues=(Cue.EMPTY.value,),
            )
        scores = self.scores(text)
        return self._analysis(scores, text)

    def scores(self, text: str) -> Scores:
        """The model's raw probabilities for ``text`` (used by training and evaluation)."""
        model, layout = self._model, self._layout
        found = extract(text, with_grams=False)
        vocabulary = model.vocabulary
        rows = {vocabulary[f] for f in vocabulary.keys() & found.sparse}
        for word in set(found.words):
            rows.update(self._gram_rows(word))
        summed = model.bias.copy()
        if rows:
            summed += model.sparse_weights.take(list(rows), axis=0).sum(axis=0)
        languages = _softmax(summed[layout.languages].tolist())
        shares = dict(zip(LANGUAGES, languages, strict=True))
        dense = np.zeros(len(model.dense_names), dtype=np.float32)
        for name, value in {
            **lexicon_scores(text, shares, found.words, found.negations),
            **found.dense,
        }.items():
            index = self._dense_index.get(name)
            if index is not None:
                dense[index] = value
        logits: list[float] = (summed + dense @ model.dense_weights).tolist()
        return Scores(
            languages=languages,
            sentiment=_softmax(logits[layout.sentiment]),
            emotions=_sigmoid(logits[layout.emotions]),
            flags=_sigmoid(logits[layout.flags]),
            cues=found.cues,
            emphasis=bool(found.sparse & EMPHASIS_FEATURES) or found.cues.ultimatum,
        )

    def _gram_rows(self, word: str) -> tuple[int, ...]:
        """The vocabulary rows of a word's character n-grams, remembered per word (the
        same words recur in every text, and their n-grams are most of the features)."""
        known = self._gram_cache.get(word)
        if known is None:
            vocabulary = self._model.vocabulary
            known = tuple(vocabulary[g] for g in char_grams(word) if g in vocabulary)
            if len(self._gram_cache) >= GRAM_CACHE_WORDS:
                self._gram_cache.clear()
            self._gram_cache[word] = known
        return known

    def _analysis(self, scores: Scores, text: str) -> TextAnalysis:
        flags = flags_of(scores, self._model.thresholds)
        negative, neutral, positive = (float(p) for p in scores.sentiment)
        valence = _valence(negative, neutral, positive)
        calm = scores.cues.polite_chaser
        if calm and abs(valence) > NEUTRAL_BAND:
            # A courteous chaser is a complaint, but a mild one: same side, less strength.
            valence = math.copysign(max(0.05, abs(valence) * CALM_DAMPING), valence)
        if max(scores.flags) >= CONFIDENT_FLAG:
            valence = min(valence, FLAG_VALENCE_CEILING)
        emotions = _emotions(scores.emotions, negative, neutral, positive)
        # Probabilities times factors below one: in 0..1 by construction, so the nested
        # models skip validation (TextAnalysis itself is still validated).
        intensities = EmotionIntensities.model_construct(
            None,
            **{
                e.value: round(min(1.0, float(v)), 4) if v >= MIN_INTENSITY else 0.0
                for e, v in zip(WHEEL, emotions, strict=True)
            },
        )
        alarming = flags["churn_intent"] or flags["sarcasm"]
        cues = [_CUE_PHRASES[name] for name in scores.cues.names() if name in _CUE_PHRASES]
        if flags["churn_intent"] and Cue.CHURN not in cues:
            cues.append(Cue.CHURN)
        if flags["trapped"] and Cue.TRAPPED not in cues:
            cues.append(Cue.TRAPPED)
        if scores.emphasis:
            cues.append(Cue.EMPHASIS)
        language = LANGUAGES[scores.languages.index(max(scores.languages))]
        if language != "en":
            cues.insert(0, Cue.NOT_ENGLISH)
        return TextAnalysis(
            valence=round(valence, 4),
            arousal=_arousal(valence, emotions, scores.emphasis, alarming, calm),
            emotions=intensities,
            flags=PerceptionFlags.model_construct(None, **flags),
            confidence=round(float(max(negative, neutral, positive)), 4),
            analyzer=self.name,
            analyzer_version=self.version,
            language=language,
            cues=tuple(cue.value for cue in dict.fromkeys(cues)),
        )


class Scores:
    """A text's probabilities per head, before they become a :class:`TextAnalysis`."""

    __slots__ = ("cues", "emotions", "emphasis", "flags", "languages", "sentiment")

    def __init__(
        self,
        *,
        languages: list[float],
        sentiment: list[float],
        emotions: list[float],
        flags: list[float],
        cues: CueHits,
        emphasis: bool,
    ) -> None:
        self.languages = languages
        self.sentiment = sentiment
        self.emotions = emotions
        self.flags = flags
        self.cues = cues
        self.emphasis = emphasis


CUE_FLAGS: dict[str, str] = {"trapped": "trapped", "sarcasm": "sarcasm"}
"""Flags whose cue alone sets them: on relcrm's corpus the trapped and sarcasm cues are
right about nine times in ten (the churn cue three in four, so the model decides it)."""


def flags_of(scores: Scores, thresholds: dict[str, float]) -> dict[str, bool]:
    """Each flag: the model's probability over its threshold, or its precise cue."""
    hits = scores.cues
    return {
        flag: bool(scores.flags[i] >= thresholds.get(flag, 0.5))
        or (flag in CUE_FLAGS and bool(getattr(hits, CUE_FLAGS[flag])))
        for i, flag in enumerate(FLAGS)
    }


def _valence(negative: float, neutral: float, positive: float) -> float:
    """p(positive) - p(negative), kept on the side of the most likely class."""
    raw = positive - negative
    if neutral >= negative and neutral >= positive:
        return NEUTRAL_BAND * raw
    if positive > negative:
        return max(raw, 0.05)
    return min(raw, -0.05)


def _emotions(
    probabilities: list[float], negative: float, neutral: float, positive: float
) -> list[float]:
    """Emotion probabilities, damped where they contradict the sentiment."""
    damping = 1.0 - 0.5 * neutral
    return [
        p * damping * ((1.0 - negative) if pos else (1.0 - positive) if neg else 1.0)
        for p, pos, neg in zip(probabilities, _POSITIVE, _NEGATIVE, strict=True)
    ]


def _arousal(
    valence: float, emotions: list[float], emphasis: bool, alarming: bool, calm: bool
) -> float:
    """How activated the customer sounds: the kind and strength of emotion first (anger
    and fear activate, sadness does not), then strength of feeling and emphasis. A
    courteous request or chaser is calm however negative, so it is damped."""
    total = sum(emotions)
    weighted = sum(e * a for e, a in zip(emotions, _AROUSAL_VECTOR, strict=True))
    emotional = weighted / total if total > 0 else 0.0
    level = 0.1 + 0.3 * abs(valence) + 0.4 * emotional * min(1.0, total)
    if emphasis:
        level += 0.15
    if alarming:
        level += 0.05
    if calm:
        level *= CALM_DAMPING
    return round(min(1.0, max(0.0, level)), 4)
