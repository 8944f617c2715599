"""relcrm's default analyzer: VADER plus relcrm's customer-experience (CX) layer.

VADER alone reads "great, another outage" as praise and "please reset my password" as
warm. The CX layer scores text sentence by sentence (VADER saturates on long text),
corrects VADER's word list for customer language, applies phrase rules for sarcasm,
churn intent, "trapped" customers, polite requests and praise idioms, reads Plutchik
emotions from relcrm's own lexicon, and lowers its confidence for text that is probably
not English. Everything is local and deterministic.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from relcrm.analyze.cues import Cue
from relcrm.analyze.emotions import emotion_lean, saturate, sentence_emotions
from relcrm.analyze.language import ENGLISH, guess_language, score_foreign
from relcrm.analyze.rules import (
    RuleHits,
    is_courtesy_only,
    match,
    strip_courtesy,
)
from relcrm.analyze.text import is_negated, sentences, words
from relcrm.analyze.vader import Vader, cx_vader, vader_version
from relcrm.models import WHEEL, Emotion, EmotionIntensities, PerceptionFlags, TextAnalysis

CX_LAYER_VERSION = "1.0.0"

RULE_SHIFT = 0.6
"""How far a praise or complaint idiom moves a sentence's compound score."""
SARCASM_CEILING = -0.5
CHURN_CEILING = -0.4
TRAPPED_CEILING = -0.4
EMOTION_LEAN_SHIFT = 0.4
"""Valence given per unit of emotion lean when VADER finds no sentiment word."""
POLITE_DAMPING = 0.1
"""A courteous request is a request: its problem words weigh this much, unless it
also complains outright (complaint phrase, sarcasm, churn, lock-in, strong words)."""
NON_ENGLISH_CONFIDENCE = 0.5
"""Confidence is multiplied by this for text that is probably not English."""

_HEDGE = re.compile(
    r"nothing special|nothing more|(?:not|n't) \w+,? but (?:it's |it is )?(?:not|n't) \w+ either"
    r"|neither \w+ nor \w+|\bi guess\b|so-so|\bit's okay\b|\bit's ok\b"
)
"""Lukewarm verdicts: the words are positive or negative, the verdict is neither."""

_AROUSAL: dict[Emotion, float] = {
    Emotion.ANGER: 0.85,
    Emotion.FEAR: 0.75,
    Emotion.SURPRISE: 0.8,
    Emotion.JOY: 0.6,
    Emotion.ANTICIPATION: 0.6,
    Emotion.DISGUST: 0.55,
    Emotion.TRUST: 0.3,
    Emotion.SADNESS: 0.25,
}
"""How activating each emotion is (Russell's circumplex, roughly)."""


@dataclass
class _Sentence:
    """What one sentence contributed."""

    valence: float
    emotions: dict[Emotion, float]
    evidence: int
    weight: float
    rules: RuleHits
    cues: list[Cue] = field(default_factory=list)


class CxAnalyzer:
    """VADER plus relcrm's CX layer: the default, offline analyzer (``relcrm-cx``)."""

    name: str = "relcrm-cx"

    def __init__(self) -> None:
        self.version: str = f"{CX_LAYER_VERSION}+vader-{vader_version()}"
        self._vader: Vader = cx_vader()

    def analyze(self, text: str) -> TextAnalysis:
        """Valence, arousal, emotions, flags, confidence and cues for ``text``."""
        parts = sentences(text)
        if not parts:
            return self._neutral((Cue.EMPTY.value,))
        all_tokens = words(text[:2000])
        lang = guess_language(all_tokens)
        if lang != ENGLISH:
            return self._foreign(text, lang)
        scored = [
            self._sentence(part, parts[i + 1] if i + 1 < len(parts) else "", len(parts))
            for i, part in enumerate(parts)
        ]
        return self._combine(text, scored)

    def _neutral(self, cues: tuple[str, ...]) -> TextAnalysis:
        return TextAnalysis(
            valence=0.0,
            arousal=0.0,
            confidence=0.0,
            analyzer=self.name,
            analyzer_version=self.version,
            cues=cues,
        )

    def _sentence(self, sentence: str, following: str, count: int) -> _Sentence:
        lower = sentence.lower()
        tokens = words(sentence)
        rules = match(lower, following.lower())
        cues: list[Cue] = []
        if count > 1 and is_courtesy_only(lower):
            # A sign-off ("Thank you!") after a request or complaint is not praise.
            return _Sentence(0.0, {}, 0, 0.0, rules)
        scored = strip_courtesy(sentence) if rules.polite_request else sentence
        compound = self._vader.compound(scored)
        evidence = 0
        for index, token in enumerate(tokens):
            valence = self._vader.valence_of(token)
            if valence:
                evidence += 1
                if is_negated(tokens, index):
                    cues.append(Cue.NEGATED_PRAISE if valence > 0 else Cue.NEGATED_COMPLAINT)
        hedged = bool(_HEDGE.search(lower))
        if hedged:
            compound = 0.0
        elif abs(compound) < 0.05 and not rules.any:
            compound = EMOTION_LEAN_SHIFT * emotion_lean(lower, tokens)
        if rules.polite_request:
            cues.append(Cue.POLITE_REQUEST)
            compound = min(compound, 0.0)
        if rules.praise:
            cues.append(Cue.PRAISE_IDIOM)
            compound = compound + RULE_SHIFT if compound > 0 else RULE_SHIFT
        if rules.complaint:
            cues.append(Cue.COMPLAINT)
            compound = compound - RULE_SHIFT if compound < 0 else -RULE_SHIFT
        if rules.sarcasm:
            cues.append(Cue.SARCASM)
            compound = min(compound, SARCASM_CEILING)
        if rules.churn:
            cues.append(Cue.CHURN)
            compound = min(compound, CHURN_CEILING)
        if rules.trapped is not None:
            cues.append(rules.trapped)
            compound = min(compound, TRAPPED_CEILING)
        compound = max(-1.0, min(1.0, compound))
        emotions, emotion_hits = sentence_emotions(lower, tokens, rules, compound)
        evidence += emotion_hits + int(rules.any)
        return _Sentence(compound, emotions, evidence, 0.25 + abs(compound), rules, cues)

    def _combine(self, text: str, scored: list[_Sentence]) -> TextAnalysis:
        counted = [s for s in scored if s.weight > 0] or scored
        total_weight = sum(s.weight for s in counted) or 1.0
        valence = sum(s.valence * s.weight for s in counted) / total_weight
        churn = any(s.rules.churn for s in scored)
        sarcasm = any(s.rules.sarcasm for s in scored)
        trapped = any(s.rules.trapped is not None for s in scored)
        if churn or trapped:
            valence = min(valence, -0.3)
        outright = any(
            s.rules.complaint or s.rules.sarcasm or s.rules.churn or s.rules.trapped for s in scored
        )
        polite = any(s.rules.polite_request for s in scored)
        if polite and not outright and min(s.valence for s in counted) > -0.6:
            valence *= POLITE_DAMPING
        cues: list[Cue] = [cue for s in scored for cue in s.cues]
        strongest = max(s.valence for s in counted)
        weakest = min(s.valence for s in counted)
        mixed = strongest >= 0.3 and weakest <= -0.3
        if mixed:
            cues.append(Cue.MIXED)

        emotions: dict[Emotion, float] = {}
        for s in counted:
            for emotion, value in s.emotions.items():
                emotions[emotion] = max(emotions.get(emotion, 0.0), value)
        intensities = _intensities(emotions)

        evidence = sum(s.evidence for s in counted)
        emphasis = _emphasis(text)
        if emphasis:
            cues.append(Cue.EMPHASIS)
        if not any(c in cues for c in (Cue.SARCASM, Cue.POLITE_REQUEST)):
            if valence >= 0.3:
                cues.append(Cue.POSITIVE_WORDS)
            elif valence <= -0.3:
                cues.append(Cue.NEGATIVE_WORDS)
        confidence = _confidence(evidence, len(words(text[:200])), mixed=mixed, sarcasm=sarcasm)
        return TextAnalysis(
            valence=round(max(-1.0, min(1.0, valence)), 4),
            arousal=_arousal(valence, intensities, emphasis, churn or sarcasm),
            emotions=intensities,
            flags=PerceptionFlags(churn_intent=churn, sarcasm=sarcasm),
            confidence=confidence,
            analyzer=self.name,
            analyzer_version=self.version,
            cues=tuple(cue.value for cue in dict.fromkeys(cues)),
        )

    def _foreign(self, text: str, lang: str) -> TextAnalysis:
        """Text in another language: relcrm's small lexicon, at much lower confidence."""
        tokens = words(text)
        found = score_foreign(tokens, lang)
        cues: list[Cue] = [Cue.NOT_ENGLISH]
        if found.hits:
            cues.append(Cue.FOREIGN_LEXICON)
            valence = found.compound
        else:
            valence = 0.3 * self._vader.compound(text)
        intensities = _intensities({e: saturate(w) for e, w in found.emotions.items()})
        emphasis = _emphasis(text)
        confidence = _confidence(found.hits, len(tokens), mixed=False, sarcasm=False)
        confidence *= NON_ENGLISH_CONFIDENCE if found.hits else NON_ENGLISH_CONFIDENCE * 0.6
        return TextAnalysis(
            valence=round(max(-1.0, min(1.0, valence)), 4),
            arousal=_arousal(valence, intensities, emphasis, False),
            emotions=intensities,
            confidence=round(confidence, 4),
            analyzer=self.name,
            analyzer_version=self.version,
            cues=tuple(cue.value for cue in cues),
        )


def _intensities(emotions: dict[Emotion, float]) -> EmotionIntensities:
    values = {e.value: round(min(1.0, max(0.0, emotions.get(e, 0.0))), 4) for e in WHEEL}
    return EmotionIntensities(**values)


def _emphasis(text: str) -> bool:
    """Exclamation marks or a shouted word ("AGAIN"): the customer raised their voice."""
    return "!" in text or bool(re.search(r"\b[A-Z]{3,}\b", text))


def _arousal(valence: float, emotions: EmotionIntensities, emphasis: bool, alarming: bool) -> float:
    """How activated the customer sounds: strength of feeling, kind of emotion, emphasis."""
    items = emotions.items()
    total = sum(value for _, value in items)
    emotional = sum(_AROUSAL[e] * value for e, value in items) / total if total else 0.0
    level = 0.1 + 0.4 * abs(valence) + 0.3 * emotional * min(1.0, total)
    if emphasis:
        level += 0.12
    if alarming:
        level += 0.08
    return round(min(1.0, max(0.0, level)), 4)


def _confidence(evidence: int, word_count: int, *, mixed: bool, sarcasm: bool) -> float:
    """How much the analysis rests on: words and rules that fired, and how clear they are."""
    confidence = 0.4 if evidence == 0 else 0.5 + 0.4 * (1.0 - math.exp(-evidence / 3))
    if mixed:
        confidence -= 0.15
    if sarcasm:
        confidence -= 0.1
    if word_count < 3:
        confidence *= 0.8
    return round(min(0.95, max(0.05, confidence)), 4)
