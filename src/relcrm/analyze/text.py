"""Splitting text into sentences and words without NLTK (its models need a download)."""

from __future__ import annotations

import re

MAX_SENTENCES = 400
"""Above this many sentences the rest is ignored: enough for any verbatim, and it bounds time."""

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+|(?<=[.!?])(?=[A-Z][a-z])")
_WORD = re.compile(
    r"[^\W\d_]+(?:['’][^\W\d_]+)*|[\U0001F000-\U0001FAFF\u2600-\u27BF]",
)

NEGATORS = frozenset(
    {
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "neither",
        "nor",
        "without",
        "cannot",
        "can't",
        "cant",
        "don't",
        "dont",
        "doesn't",
        "didn't",
        "isn't",
        "wasn't",
        "weren't",
        "aren't",
        "won't",
        "wouldn't",
        "couldn't",
        "shouldn't",
        "hasn't",
        "haven't",
        "hadn't",
        "ain't",
        "n't",
    }
)
"""English negators; a negator reaches the next few words of its clause."""

NEGATION_REACH = 3


def sentences(text: str) -> list[str]:
    """The text's sentences, stripped, at most :data:`MAX_SENTENCES` of them."""
    parts = (part.strip() for part in _SENTENCE_END.split(text))
    return [part for part in parts if part][:MAX_SENTENCES]


def words(text: str) -> list[str]:
    """Lower-case words (apostrophes kept, curly ones made straight) and emoji, in order."""
    return [match.group().lower().replace("’", "'") for match in _WORD.finditer(text)]


def clauses(text: str) -> list[str]:
    """Parts of a sentence that negation does not cross (commas, semicolons, 'but')."""
    return [part for part in re.split(r"[,;:()]|\bbut\b|\bthough\b|\byet\b", text) if part.strip()]


def is_negated(tokens: list[str], index: int) -> bool:
    """True when a negator stands within :data:`NEGATION_REACH` words before ``index``."""
    start = max(0, index - NEGATION_REACH)
    return any(token in NEGATORS for token in tokens[start:index])
