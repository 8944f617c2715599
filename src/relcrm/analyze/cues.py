"""The plain phrases an analyzer reports as ``TextAnalysis.cues``.

Stable strings, so a profile can explain itself ("churn intent stated") and code can
match on them; none of them ever quotes the customer's text.
"""

from __future__ import annotations

from enum import StrEnum


class Cue(StrEnum):
    """What relcrm's CX layer reacted to."""

    EMPTY = "no text"
    NOT_ENGLISH = "text likely not in English"
    FOREIGN_LEXICON = "sentiment words in another language"
    PRAISE_IDIOM = "praise idiom"
    COMPLAINT = "complaint phrase"
    NEGATED_PRAISE = "negated praise"
    NEGATED_COMPLAINT = "negated complaint"
    SARCASM = "sarcastic praise around a problem"
    CHURN = "churn intent stated"
    TRAPPED_CONTRACT = "trapped by a contract or lock-in"
    TRAPPED_SWITCHING_COST = "trapped by switching costs"
    TRAPPED_NO_ALTERNATIVE = "trapped by lack of alternatives"
    POLITE_REQUEST = "polite request, not praise"
    MIXED = "mixed feelings"
    EMPHASIS = "emphasis (exclamation or capitals)"
    POSITIVE_WORDS = "positive wording"
    NEGATIVE_WORDS = "negative wording"
    TRAPPED = "stays without wanting to (contract, costs or no choice)"
    IMPLICIT_COMPLAINT = "complaint without sentiment words"
    POLITE_CHASER = "polite chaser about an unsolved problem"
    REQUEST = "request or question"
    LUKEWARM = "lukewarm verdict"
    SLANG_POSITIVE = "praise in slang or emoji"
    SLANG_NEGATIVE = "complaint in slang or emoji"
    ULTIMATUM = "ultimatum or threat to escalate"


TRAPPED_CUES = frozenset(
    {Cue.TRAPPED_CONTRACT, Cue.TRAPPED_SWITCHING_COST, Cue.TRAPPED_NO_ALTERNATIVE, Cue.TRAPPED}
)
"""Cues that say the customer stays without wanting to (Jones & Sasser's hostage)."""
