"""Is this English? A stop-word vote, and a rough score for es/fr/de/pt text.

VADER and relcrm's CX rules know English only. Text in another language must not be
scored as confidently, so the analyzer needs to know when it is probably out of its depth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from relcrm.analyze.lexicon import foreign
from relcrm.models import Emotion

ENGLISH = "en"

# Words frequent in one language and rare in the others (shared ones such as
# "a", "de", "no" are left out, so they do not vote).


def _split(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _split(
        "the and is to of i you it my for was this that with on have are your we be "
        "in not they me our at has been will would can could please what how why when "
        "there just from an it's i'm don't so all very if"
    ),
    "es": _split(
        "el la los las que y es por una mi muy con para del al estoy fue lo su pero "
        "ha yo me nos está cuál cuando llevo esta este como más"
    ),
    "fr": _split(
        "le les des du et est je une pas ne pour qui très mon ma mes vous il au avec "
        "suis tout ce cette sont nous mais été avez êtes votre"
    ),
    "de": _split(
        "der die das und ist ich nicht ein eine mit von zu war sehr mein meine wird auf "
        "den dem sie es wann bin habe hat auch noch nur aber wir ihr echt alles"
    ),
    "pt": _split(
        "o os as do da e é não um muito com para meu minha foi estou em no na dos "
        "das mas você seu sua isso ao"
    ),
}

NEGATORS: dict[str, frozenset[str]] = {
    "es": frozenset({"no", "nunca", "ni", "tampoco"}),
    "fr": frozenset({"pas", "jamais", "ni", "plus"}),
    "de": frozenset({"nicht", "kein", "keine", "keinen", "nie", "niemals"}),
    "pt": frozenset({"não", "nunca", "nem"}),
}


def guess_language(tokens: list[str]) -> str:
    """The language whose stop words the tokens use most; English when nothing votes."""
    votes = {lang: sum(token in words for token in tokens) for lang, words in _STOP_WORDS.items()}
    best = max(votes, key=lambda lang: (votes[lang], lang == ENGLISH))
    if best != ENGLISH and votes[best] > votes[ENGLISH]:
        return best
    return ENGLISH


@dataclass(frozen=True)
class ForeignScore:
    """What the small foreign lexicon found: a VADER-like compound, emotions, and hits."""

    compound: float
    emotions: dict[Emotion, float]
    hits: int


def score_foreign(tokens: list[str], lang: str) -> ForeignScore:
    """Sum the lexicon's valences, flipping those a nearby negator reaches."""
    lexicon = foreign().get(lang)
    if lexicon is None:
        return ForeignScore(0.0, {}, 0)
    negators = NEGATORS.get(lang, frozenset())
    total = 0.0
    hits = 0
    emotions: dict[Emotion, float] = {}
    for index, token in enumerate(tokens):
        term = lexicon.lookup(token)
        if term is None:
            continue
        hits += 1
        negated = any(word in negators for word in tokens[max(0, index - 3) : index])
        valence = -0.6 * term.valence if negated else term.valence
        total += valence
        if term.emotion is not None and not negated:
            emotions[term.emotion] = emotions.get(term.emotion, 0.0) + abs(term.valence) / 4
    compound = total / math.sqrt(total * total + 15) if total else 0.0
    return ForeignScore(compound, emotions, hits)
