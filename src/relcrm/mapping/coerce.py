"""From a person to the values one mapping sends: transforms, then coercion per type.

Pure functions, no I/O: the sync engine calls :func:`values_for` per person (their
profile, and their behaviour facts and stated preferences when the mapping reads them) and gets
the values to send plus a record of every lossy change (a text cut to the field's
length) and of every value held back (a number too large for the field, a word the
restricted picklist does not allow). The CRM would reject such a value and the whole
record with it; holding one value back lets the other fields through and tells the
admin which mapping entry to fix.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping as AbstractMapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum
from typing import Any, Final

from relcrm.errors import FieldProblem, shorten
from relcrm.mapping.model import (
    FieldMapping,
    FormatDate,
    JoinReasons,
    JoinTopics,
    Lower,
    Mapping,
    Round,
    Scale0To100,
    Upper,
)
from relcrm.mapping.sources import NO_PREFERENCES, StatedPreferences, read_source
from relcrm.models import FieldType, FieldValue, Person, RelationshipProfile

ELLIPSIS: Final = "…"
"""One character, so a cut text loses as little as possible of its length."""

WORD_SEPARATOR: Final = "; "
"""Between two words of a list (topics) sent to a text field."""

OPTION_SEPARATOR: Final = ";"
"""Between two options of a multi-select picklist, as Salesforce and HubSpot take them."""


@dataclass(frozen=True)
class Adjustment:
    """A value that was sent changed, so a report can say what the CRM does not show."""

    field: str
    kind: str
    """``"truncated"`` for now; a stable word to count by."""
    detail: str


@dataclass(frozen=True)
class CoercedValues:
    """What one mapping sends for one person.

    ``values`` holds every field that is sent (``None`` clears a field whose fact no
    longer holds); a field in ``problems`` is absent from ``values``: it is not sent.
    """

    person_id: str
    values: dict[str, FieldValue]
    adjustments: tuple[Adjustment, ...] = ()
    problems: tuple[FieldProblem, ...] = ()
    fingerprints: dict[str, str] = field(default_factory=dict)
    """Per field, the fingerprint of the value sent (see :func:`field_fingerprint`)."""


class _Withheld(Exception):
    """A value that must not be sent; carries the problem for the report."""

    def __init__(self, problem: str, value: object) -> None:
        super().__init__(problem)
        self.problem = problem
        self.value = value


# --------------------------------------------------------------------------- helpers


def truncate(text: str, length: int) -> str:
    """``text`` cut to at most ``length`` characters at a word boundary, with ``…``.

    Breaks at the last whitespace that leaves room for the ellipsis, so no word is
    cut in half; only a single word longer than the field is cut inside. What is kept
    is always a prefix of ``text``.
    """
    if length < 1:
        raise ValueError("length must be at least 1")
    if len(text) <= length:
        return text
    budget = length - len(ELLIPSIS)
    kept = text[:budget]
    if budget < len(text) and not text[budget].isspace():
        space = max((i for i, ch in enumerate(kept) if ch.isspace()), default=-1)
        if space > 0:
            kept = kept[:space]
    return kept.rstrip() + ELLIPSIS


def iso_datetime(moment: datetime) -> str:
    """``2026-11-22T12:00:00.000Z``: UTC with milliseconds, which both CRMs accept."""
    value = moment.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _decimal(value: float | int, digits: int) -> Decimal:
    """Round half up, as the CRMs do, from the number's shortest decimal form."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _as_number(value: Decimal, digits: int) -> float | int:
    return int(value) if digits == 0 else float(value)


def _text_of(value: Any) -> str:
    if isinstance(value, tuple | list):
        return WORD_SEPARATOR.join(_text_of(v) for v in value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso_datetime(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


# --------------------------------------------------------------------------- per field


def _transformed(item: FieldMapping, value: Any) -> Any:
    """Apply the field's transform; None passes through (a transform never invents one)."""
    transform = item.transform
    if transform is None or value is None:
        return value
    if isinstance(transform, JoinReasons):
        return transform.separator.join(value) or None
    if isinstance(transform, JoinTopics):
        items = value[: transform.limit] if transform.limit else value
        words = (item if isinstance(item, str) else item.topic for item in items)
        return transform.separator.join(words) or None
    if isinstance(transform, Round):
        return _as_number(_decimal(value, transform.digits), transform.digits)
    if isinstance(transform, Scale0To100):
        return (float(value) + 1.0) * 50.0
    if isinstance(transform, FormatDate):
        return value.astimezone(UTC).strftime(transform.format)
    if isinstance(transform, Lower):
        return _text_of(value).lower()
    if isinstance(transform, Upper):
        return _text_of(value).upper()
    raise AssertionError(f"unhandled transform {transform!r}")  # pragma: no cover


def _number(item: FieldMapping, value: Any) -> float | int:
    precision = item.precision or 18
    scale = item.scale or 0
    number = float(value)
    if not math.isfinite(number):
        raise _Withheld("not a finite number", value)
    try:
        rounded = _decimal(value, scale)
    except InvalidOperation:  # pragma: no cover - finite floats always quantize
        raise _Withheld("cannot be rounded", value) from None
    if rounded.is_zero():
        rounded = abs(rounded)  # -0.0 and 0.0 are one value to the CRM and the fingerprint
    if abs(rounded) >= Decimal(10) ** (precision - scale):
        raise _Withheld(
            f"does not fit number({precision}, {scale}): at most "
            f"{precision - scale} digits before the point",
            value,
        )
    return _as_number(rounded, scale)


def _picklist(item: FieldMapping, value: Any) -> str:
    word = _text_of(value)
    word = item.values.get(word, word)
    if item.restricted and word not in item.picklist:
        raise _Withheld(
            "not a value of the restricted picklist "
            f"({', '.join(item.picklist)}); map it with values or add it to picklist",
            word,
        )
    return word


def _multi_picklist(item: FieldMapping, value: Any) -> str | None:
    """The options, each mapped by ``values``, once each, joined by ``;``. Like a single
    picklist, a word the restricted list lacks holds the field back: the CRM would
    reject the record."""
    words = value if isinstance(value, tuple | list) else (value,)
    chosen: list[str] = []
    for word in words:
        text = _text_of(word)
        sent = item.values.get(text, text)
        if OPTION_SEPARATOR in sent:
            raise _Withheld("contains ';', which separates a multi-select's options", sent)
        if item.restricted and sent not in item.picklist:
            raise _Withheld(
                "not a value of the restricted picklist "
                f"({', '.join(item.picklist)}); map it with values or add it to picklist",
                sent,
            )
        if sent not in chosen:
            chosen.append(sent)
    return OPTION_SEPARATOR.join(chosen) or None


def _coerce(item: FieldMapping, value: Any, adjustments: list[Adjustment]) -> FieldValue:
    if value is None:
        return None
    kind = item.type
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
        text = _text_of(value)
        length = item.length or len(text)
        cut = truncate(text, length)
        if cut != text:
            adjustments.append(
                Adjustment(item.name, "truncated", f"{len(text)} characters cut to {len(cut)}")
            )
        return cut
    if kind in (FieldType.NUMBER, FieldType.PERCENT):
        return _number(item, value)
    if kind is FieldType.CHECKBOX:
        return bool(value)
    if kind is FieldType.DATE:
        if isinstance(value, datetime):
            return value.astimezone(UTC).date().isoformat()
        return date.fromisoformat(str(value)).isoformat()  # pragma: no cover
    if kind is FieldType.DATETIME:
        return iso_datetime(value)
    if kind is FieldType.PICKLIST:
        return _picklist(item, value)
    if kind is FieldType.MULTI_PICKLIST:
        return _multi_picklist(item, value)
    raise AssertionError(f"unhandled field type {kind}")  # pragma: no cover


# --------------------------------------------------------------------------- public


def values_for(
    profile: RelationshipProfile,
    mapping: Mapping,
    *,
    person: Person | None = None,
    preferences: StatedPreferences = NO_PREFERENCES,
) -> CoercedValues:
    """The values ``mapping`` sends for ``profile``'s person, coerced to each field's type.

    ``person`` feeds ``facts.*`` sources and ``preferences`` the ``preferences.*`` ones
    (absent: those fields are empty). Every mapped field is either in ``values``
    (possibly ``None``, which clears it) or in ``problems`` (held back, the reason and
    value named); never both, never neither.
    """
    values: dict[str, FieldValue] = {}
    adjustments: list[Adjustment] = []
    problems: list[FieldProblem] = []
    for item in mapping.fields:
        raw = read_source(
            profile, item.source, person=person, preferences=preferences, constant=item.value
        )
        try:
            values[item.name] = _coerce(item, _transformed(item, raw), adjustments)
        except _Withheld as held:
            problems.append(FieldProblem(item.name, held.problem, shorten(held.value)))
    return CoercedValues(
        person_id=profile.person_id,
        values=values,
        adjustments=tuple(adjustments),
        problems=tuple(problems),
        fingerprints=field_fingerprints(values),
    )


def _canonical(value: FieldValue) -> str:
    """A value's JSON with its type kept apart (1, 1.0 and true differ), for hashing."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _tagged(value: FieldValue) -> str:
    """A value as text with its type first (``i1``, ``f1.0``, ``b1`` and ``s1`` differ):
    what :func:`field_fingerprint` hashes, without a JSON round (it runs per field and
    person on every sync)."""
    if value is None:
        return "n"
    if isinstance(value, bool):
        return "b1" if value else "b0"
    if isinstance(value, int):
        return f"i{value}"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a field value must be finite, got {value!r}")
        return f"f{value!r}"
    return f"s{value}"


def field_fingerprint(name: str, value: FieldValue) -> str:
    """A short, stable hash of one field's value: what the store keeps per field."""
    return hashlib.sha256(f"{name}\x00{_tagged(value)}".encode()).hexdigest()[:32]


def field_fingerprints(values: AbstractMapping[str, FieldValue]) -> dict[str, str]:
    """Per field, :func:`field_fingerprint`: compare them to send only changed fields."""
    return {name: field_fingerprint(name, value) for name, value in values.items()}


def fingerprint(values: CoercedValues | AbstractMapping[str, FieldValue]) -> str:
    """A stable hash of the values to send: equal values give an equal fingerprint,
    whatever the order of the keys, in any process (no ``hash()`` salt involved)."""
    mapping = values.values if isinstance(values, CoercedValues) else values
    pairs = sorted((name, _canonical(value)) for name, value in mapping.items())
    text = json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
