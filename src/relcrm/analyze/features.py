"""Text to features for relcrm's linear analyzer: the same code trains the model and runs it.

Customer text is short, informal and multilingual, so the features are the ones that carry
over to text nobody trained on: word unigrams and bigrams, words inside a negation's reach
marked as negated (in six languages), character n-grams inside words (typos, inflections,
"déçue"/"decu", loanwords), the last sentence's words (long stories end on their verdict),
surface shape (shouting, "!!", "?", emoji), and the CX cues of :mod:`relcrm.analyze.cx_cues`
together with lexicon scores (VADER's for English, relcrm's own Plutchik and foreign word
lists), which reach words the training data never saw.

Features are strings; the trained model maps the ones it kept to columns. Nothing here
depends on Python's randomised ``hash``, so features are the same in every process.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from relcrm.analyze.cx_cues import CueHits, find_cues

FEATURE_VERSION = "3"
"""Changes whenever the features change: a model is only valid with the features it was
trained on, and the loader refuses a model trained on other ones."""

CHAR_NGRAMS = (3, 4, 5)
MAX_CHARS = 2000
"""Only the first this many characters are read: enough for any feedback, bounds time."""

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"(?<!\w)@\w+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_REPEAT = re.compile(r"([^\W\d_])\1{2,}")
_EMOJI = "[\U0001f000-\U0001faff\u2600-\u27bf\u2b50\u2b55\u2764\u203c\u2049]"
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|" + _EMOJI + r"|[!?]+|[.,;:…]+|_\w+_")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
"""Combining marks (accents) left by NFKD decomposition: removed, so "déçu" reads "decu"."""
_SHOUT = re.compile(r"\b[A-ZÀ-Þ]{3,}\b")

NEGATORS = frozenset(
    {
        # en
        "not", "no", "never", "nothing", "nobody", "none", "neither", "nor",
        "cannot", "can't", "cant", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt",
        "isn't", "isnt", "wasn't", "wasnt", "weren't", "aren't", "won't", "wont",
        "wouldn't", "couldn't", "shouldn't", "hasn't", "haven't", "hadn't", "ain't", "n't",
        # fr (accents are stripped before this is read)
        "pas", "jamais", "aucun", "aucune", "rien", "personne", "ni",
        # de
        "nicht", "kein", "keine", "keinen", "keiner", "keinem", "nie", "niemals", "nichts",
        # es / pt
        "nunca", "nada", "nadie", "ningun", "ninguna", "ninguno", "tampoco", "nao",
        "nem", "nenhum", "nenhuma",
        # nl
        "niet", "geen", "nooit", "niets", "niemand",
    }
)  # fmt: skip
"""Words that turn what follows around, in the six languages relcrm's corpus covers.
"Without" and its kin are left out: "without warning" is a complaint, not a negated one."""

NEGATION_REACH = 3
"""How many words after a negator are read as negated (a clause boundary ends it sooner)."""

_CLAUSE_WORDS = frozenset({"but", "mais", "aber", "pero", "mas", "maar"})


def ends_clause(token: str) -> bool:
    """Punctuation and "but" (in six languages) end a negation's reach."""
    return token in _CLAUSE_WORDS or (
        not (token[0].isalpha() or token[0] == "_") and (token[0] in ".,;:…!?")
    )


def negated(tokens: list[str]) -> list[bool]:
    """For each token, whether a negator within NEGATION_REACH words before it, in the
    same clause, turns it around ("not happy"; but "No refund. Great." is not negated)."""
    flags: list[bool] = []
    reach_until = -1
    for index, token in enumerate(tokens):
        if ends_clause(token):
            reach_until = -1
        flags.append(index <= reach_until)
        if token in NEGATORS:
            reach_until = index + NEGATION_REACH
    return flags


def normalise(text: str) -> str:
    """Lower case, accents off, links and handles as placeholders, numbers as 0,
    long letter runs cut to two ("soooo" -> "soo"), curly apostrophes made straight."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    text = text.replace("’", "'").replace("‘", "'")
    text = _URL.sub(" _url_ ", text)
    text = _HANDLE.sub(" _user_ ", text)
    text = _NUMBER.sub("0", text)
    text = _REPEAT.sub(r"\1\1", text.lower())
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def tokens(normalised: str) -> list[str]:
    """Words, emoji, runs of ! and ?, placeholders; in order."""
    return _TOKEN.findall(normalised)


def sentences(text: str) -> list[str]:
    """The text's sentences (split on end punctuation and line breaks), stripped."""
    return [part.strip() for part in _SENTENCE.split(text) if part.strip()]


@dataclass(frozen=True)
class TextFeatures:
    """What the analyzer reads from one text: sparse string features and dense values."""

    sparse: frozenset[str]
    dense: dict[str, float]
    cues: CueHits
    words: list[str] = field(default_factory=list)
    negations: list[bool] = field(default_factory=list)
    """For each of ``words``, whether a negator reaches it."""


def _is_word(token: str) -> bool:
    return token[0].isalpha()


def char_grams(word: str) -> list[str]:
    """The character n-gram features of one word (inside "<" and ">" marks)."""
    if not _is_word(word) or len(word) < 2:
        return []
    padded = "<" + word + ">"
    length = len(padded)
    return [
        "c:" + padded[start : start + n] for n in CHAR_NGRAMS for start in range(length - n + 1)
    ]


def _word_features(
    words: list[str], negations: list[bool], out: set[str], with_grams: bool
) -> None:
    previous = "<s>"
    for word, is_negated in zip(words, negations, strict=True):
        out.add("w:" + word)
        out.add("b:" + previous + " " + word)
        if is_negated:
            out.add("n:" + word)
        if with_grams:
            out.update(char_grams(word))
        previous = word
    out.add("b:" + previous + " </s>")


def _shape(raw: str, words: list[str], dense: dict[str, float], out: set[str]) -> None:
    count = sum(1 for w in words if _is_word(w))
    if count <= 2:
        out.add("s:words<=2")
    elif count <= 6:
        out.add("s:words<=6")
    elif count > 40:
        out.add("s:words>40")
    if _SHOUT.search(raw):
        out.add("s:shout")
    if "!!" in raw:
        out.add("s:!!")
    elif "!" in raw:
        out.add("s:!")
    if "??" in raw or "?!" in raw or "!?" in raw:
        out.add("s:?!")
    if raw.rstrip().endswith("?"):
        out.add("s:ends?")
    elif "?" in raw:
        out.add("s:?")
    dense["d:length"] = min(1.0, count / 60.0)


def extract(
    text: str, lexicon_scores: dict[str, float] | None = None, *, with_grams: bool = True
) -> TextFeatures:
    """Every feature of ``text``.

    ``lexicon_scores`` are dense values computed elsewhere (VADER, relcrm's lexicons);
    they are passed in so that this module stays free of any particular scorer. With
    ``with_grams=False`` the character n-grams are left out of ``sparse``: a caller that
    looks them up per word (and remembers them) adds :func:`char_grams` of ``words``.
    """
    raw = text[:MAX_CHARS]
    normalised = normalise(raw)
    words = tokens(normalised)
    out: set[str] = set()
    dense: dict[str, float] = dict(lexicon_scores or {})
    negations = negated(words)
    _word_features(words, negations, out, with_grams)
    parts = sentences(normalised)
    if len(parts) > 1:
        for word in tokens(parts[-1]):
            out.add("e:" + word)
        for word in tokens(parts[0]):
            out.add("f:" + word)
    _shape(raw, words, dense, out)
    cues = find_cues(normalised)
    for name in cues.names():
        out.add("r:" + name)
    return TextFeatures(frozenset(out), dense, cues, words, negations)


def feature_names(items: Iterable[TextFeatures]) -> set[str]:
    """All sparse feature names in ``items`` (used when building a vocabulary)."""
    names: set[str] = set()
    for item in items:
        names.update(item.sparse)
    return names
