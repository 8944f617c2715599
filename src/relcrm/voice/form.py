"""The page's form: what it offers, and what a sent form means once checked.

Every choice is from a fixed list, so a crafted POST cannot store a value the page never
offered; the comment is the only free text and is capped. Parsing is the standard
library's (``application/x-www-form-urlencoded``; the form has no file field), with a
cap on the body's size before anything is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import parse_qs

from relcrm.voice.settings import ScoreType

MAX_BODY_BYTES: Final = 32 * 1024
MAX_COMMENT_CHARS: Final = 2_000

CHANNELS: Final = ("email", "phone", "sms", "post")
FREQUENCIES: Final = {
    "weekly": "weekly",
    "monthly": "monthly",
    "quarterly": "quarterly",
    "changes": "only when something changes",
}
"""Form value -> the value stored (the wording other sources use)."""
TOPICS: Final = {
    "product_updates": "product updates",
    "billing": "billing",
    "events": "events",
    "tips": "tips",
}
LANGUAGE_CHOICES: Final = ("en", "fr", "de", "es")

ConsentChoice = Literal["yes", "no"]
FormPart = Literal["feedback", "preferences"]


def score_range(score: ScoreType) -> range:
    return range(0, 11) if score == "nps" else range(1, 6)


@dataclass(frozen=True)
class StatedPreferences:
    """The preference part of the form; ``None`` means "no preference" (nothing stored)."""

    channel: str | None = None
    frequency: str | None = None
    """A key of :data:`FREQUENCIES`."""
    language: str | None = None
    topics: tuple[str, ...] | None = None
    """Keys of :data:`TOPICS`; None when the person never said, () when they ticked none."""


@dataclass(frozen=True)
class Answer:
    """A checked form."""

    part: FormPart
    preferences: StatedPreferences
    consent: ConsentChoice | None
    score: int | None = None
    comment: str | None = None


@dataclass
class FormErrors:
    """Problems per field name, as catalogue keys (with their values) for the page."""

    problems: dict[str, tuple[str, dict[str, object]]] = field(default_factory=dict)

    def add(self, name: str, key: str, **values: object) -> None:
        self.problems.setdefault(name, (key, values))

    def __bool__(self) -> bool:
        return bool(self.problems)


class FormInvalid(Exception):
    """The form was read but has problems; the page is shown again with them."""

    def __init__(self, errors: FormErrors, raw: dict[str, list[str]]) -> None:
        super().__init__("invalid form")
        self.errors = errors
        self.raw = raw


def decode_form(body: bytes) -> dict[str, list[str]]:
    """The fields of a url-encoded body (raises ``ValueError`` for undecodable text)."""
    text = body.decode("utf-8", errors="strict")
    return parse_qs(
        text, keep_blank_values=True, max_num_fields=60, encoding="utf-8", errors="strict"
    )


def _one(raw: dict[str, list[str]], name: str) -> str | None:
    values = raw.get(name)
    if not values:
        return None
    value = values[0].strip()
    return value or None


def _choice(
    raw: dict[str, list[str]], name: str, allowed: tuple[str, ...], errors: FormErrors
) -> str | None:
    value = _one(raw, name)
    if value is None:
        return None
    if value not in allowed:
        errors.add(name, "err_choice")
        return None
    return value


def parse_answer(raw: dict[str, list[str]], *, part: FormPart, score: ScoreType) -> Answer:
    """The answer a form says, or :class:`FormInvalid` with every problem found."""
    errors = FormErrors()
    channel = _choice(raw, "channel", CHANNELS, errors)
    frequency = _choice(raw, "frequency", tuple(FREQUENCIES), errors)
    language = _choice(raw, "language", LANGUAGE_CHOICES, errors)
    topics: tuple[str, ...] | None = None
    if "topics_shown" in raw:  # the fieldset was on the page: no box ticked means none
        ticked = [value for value in raw.get("topics", []) if value]
        unknown = [value for value in ticked if value not in TOPICS]
        if unknown:
            errors.add("topics", "err_choice")
        topics = tuple(t for t in TOPICS if t in ticked)
    consent_text = _choice(raw, "consent", ("yes", "no"), errors)
    consent: ConsentChoice | None = None
    if consent_text == "yes":
        consent = "yes"
    elif consent_text == "no":
        consent = "no"
    value: int | None = None
    comment: str | None = None
    if part == "feedback":
        text = _one(raw, "score")
        allowed = score_range(score)
        if text is None or not text.isdigit() or int(text) not in allowed:
            errors.add("score", "err_score")
        else:
            value = int(text)
        comment = _one(raw, "comment")
        if comment is not None:
            comment = comment.replace("\r\n", "\n")
            if len(comment) > MAX_COMMENT_CHARS:
                errors.add("comment", "err_comment_long", max=MAX_COMMENT_CHARS)
    if errors:
        raise FormInvalid(errors, raw)
    return Answer(
        part=part,
        preferences=StatedPreferences(channel, frequency, language, topics),
        consent=consent,
        score=value,
        comment=comment,
    )


__all__ = [
    "CHANNELS",
    "FREQUENCIES",
    "LANGUAGE_CHOICES",
    "MAX_BODY_BYTES",
    "MAX_COMMENT_CHARS",
    "TOPICS",
    "Answer",
    "ConsentChoice",
    "FormErrors",
    "FormInvalid",
    "FormPart",
    "StatedPreferences",
    "decode_form",
    "parse_answer",
    "score_range",
]
