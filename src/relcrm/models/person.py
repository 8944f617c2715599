"""The Person: one human, whatever records the CRMs keep of them."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Annotated, Final

from pydantic import AfterValidator, Field, StringConstraints

from relcrm.models._base import AwareDatetime, FrozenModel

PERSON_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
PersonId = Annotated[str, StringConstraints(pattern=PERSON_ID_PATTERN)]
"""relcrm's own id for a person: stable, chosen by the source (1-128 safe characters)."""


class UnconvertibleDatetimeError(ValueError):
    """A date-time with an offset that puts it outside the years 1-9999 in UTC.

    ``value`` is the date-time, so that a source can explain it against its plausible
    range (``relcrm.sources.dates``) rather than with this generic message."""

    def __init__(self, value: datetime) -> None:
        super().__init__(
            "this date-time cannot be converted to UTC (it falls outside the years 1-9999 "
            "there); correct the date in the source"
        )
        self.value = value


_MINUTE = timedelta(minutes=1)


def _storable(value: datetime) -> datetime:
    """A date-time that UTC can hold: ``0001-01-01T00:30:00+01:00`` is year 0 in UTC and
    ``9999-12-31T23:59:59-05:00`` year 10000, which no store (and no ``astimezone``) can
    represent. Sources reject implausible dates earlier, with their range in the message;
    this is the guarantee that no model reaches the store with one.

    An offset that is not a whole number of minutes (``+05:30:15``, a historical local
    mean time) becomes UTC: JSON writes an offset in hours and minutes only, so the
    instant read back would move by the seconds left out."""
    if not 1 < value.year < 9999:  # an offset moves a date by less than a day
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise UnconvertibleDatetimeError(value) from None
    offset = value.utcoffset()
    if offset is not None and offset % _MINUTE:
        return value.astimezone(UTC)
    return value


StorableDatetime = Annotated[AwareDatetime, AfterValidator(_storable)]
"""An aware date-time that can be converted to UTC (every date a record carries)."""

# -- text as people type and paste it ----------------------------------------------------

# Characters that render as nothing but make two strings differ: every "format" character
# (Unicode category Cf: zero-width space, joiners, byte-order mark, soft hyphen, bidi
# controls, tags), plus invisible fillers and variation selectors of other categories.
_INVISIBLE_EXTRA: Final = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u2800\u3164\uffa0"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
)


def _invisible(char: str) -> bool:
    return unicodedata.category(char) == "Cf" or char in _INVISIBLE_EXTRA


def clean_identity_text(value: str) -> str:
    """``value`` as one identity should compare: NFKC-normalised (full-width forms,
    ligatures and compatibility characters become their plain letters), without
    invisible characters, and trimmed. ASCII text comes back as it is (trimmed)."""
    if value.isascii():
        return value.strip()
    text = unicodedata.normalize("NFKC", value)
    return "".join(char for char in text if not _invisible(char)).strip()


# Scripts that may share one address (UTS #39 "highly restrictive"): Japanese writes Han,
# Hiragana and Katakana together, Chinese Han with Bopomofo, Korean Han with Hangul, and
# each may be mixed with Latin. Any other mix (Latin with Cyrillic or Greek, say) is how
# a lookalike of another address is made.
_SCRIPT_FAMILIES: Final = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
    frozenset({"Latin", "Han", "Hangul"}),
)
_SCRIPT_NAMES: Final = {"CJK": "Han", "IDEOGRAPHIC": "Han"}
# Letters of Cyrillic and Greek that are drawn exactly like Latin ones.
_LATIN_LOOKALIKES: Final = frozenset(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0455\u0456\u0458\u04bb\u0501\u051b\u051d\u04cf"
    "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0405\u0406\u0408"
    "\u03bf\u03bd\u03c1\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7"
)


def _script(char: str) -> str | None:
    """The script of a letter or digit, from its Unicode name; None for the characters
    every script shares (ASCII digits, punctuation, marks)."""
    if char.isascii():
        return "Latin" if char.isalpha() else None
    if unicodedata.category(char)[0] not in "LN":
        return None
    word = unicodedata.name(char, "").split(" ", 1)[0].split("-", 1)[0]
    if not word:
        return None
    return _SCRIPT_NAMES.get(word, word.title())


def _character(char: str) -> str:
    """How messages name a character: ``U+0430 CYRILLIC SMALL LETTER A``."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'UNNAMED CHARACTER')}"


def confusable_problem(text: str) -> str | None:
    """Why ``text`` (the local part of an address, a handle) looks like something it is
    not, or None. Two cases: letters of scripts that do not belong together (a Cyrillic
    ``а`` among Latin letters), and a word whose every letter is a Cyrillic or Greek
    lookalike of a Latin one. The message names the characters, not the text."""
    scripts: dict[str, list[str]] = {}
    for char in text:
        script = _script(char)
        if script is not None:
            scripts.setdefault(script, []).append(char)
    if not scripts:
        return None
    if len(scripts) > 1 and not any(set(scripts) <= family for family in _SCRIPT_FAMILIES):
        main = max(scripts, key=lambda name: len(scripts[name]))
        odd = [c for name, chars in scripts.items() if name != main for c in chars]
        named = ", ".join(_character(c) for c in dict.fromkeys(odd))
        return (
            f"mixes scripts: {named} among {main} letters, as lookalikes of other "
            "addresses do; correct the address in the source (an address in one script "
            "is accepted)"
        )
    if set(scripts) <= {"Cyrillic", "Greek"} and all(
        char in _LATIN_LOOKALIKES for chars in scripts.values() for char in chars
    ):
        named = ", ".join(_character(c) for c in dict.fromkeys(scripts[next(iter(scripts))]))
        return (
            f"looks like a Latin address but every letter is another script's ({named}); "
            "correct the address in the source"
        )
    return None


# Deliberately permissive on the local part (quotes and apostrophes are legal in real
# addresses, "o'brien@example.com"); strict about what would break a header or a query.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^\s@<>()\[\],;:\\\"]+@{_LABEL}(?:\.{_LABEL})+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{5,30}$")


def _email(value: str) -> str:
    value = clean_identity_text(value)
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError(f"not an email address: {value!r}")
    local, domain = value.rsplit("@", 1)
    if not local.isascii():
        problem = confusable_problem(local)
        if problem is not None:
            raise ValueError(problem)
    return f"{local}@{domain.lower()}"


def _phone(value: str) -> str:
    if not _PHONE.match(value):
        raise ValueError(f"not a phone number: {value!r}")
    digits = re.sub(r"[^0-9]", "", value)
    return ("+" if value.startswith("+") else "") + digits


Email = Annotated[str, AfterValidator(_email)]
"""An email address, normalised (NFKC, invisible characters removed) so that lookalike
forms of one address are one address; the domain is lower-cased so matching does not
depend on case. An address mixing scripts (see :func:`confusable_problem`) is refused."""
Phone = Annotated[str, AfterValidator(_phone)]
"""A phone number, kept as digits with an optional leading +."""


class SocialHandle(FrozenModel):
    """A handle on a social platform, e.g. ``{"platform": "x", "handle": "@jane"}``."""

    platform: Annotated[
        str,
        AfterValidator(clean_identity_text),
        StringConstraints(min_length=1, max_length=40, to_lower=True),
    ]
    handle: Annotated[
        str, AfterValidator(clean_identity_text), StringConstraints(min_length=1, max_length=100)
    ]


class CrmRecordRef(FrozenModel):
    """A record of this person in a CRM: the lead, the contact, the case requester."""

    system: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    object: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    id: Annotated[str, StringConstraints(min_length=1, max_length=80)]


class Consent(FrozenModel):
    """Whether this person's feelings may be processed and written to a CRM.

    Defaults to *no*: feelings are personal data, and a source must say so explicitly.
    """

    granted: bool = False
    updated_at: StorableDatetime | None = None
    source: str | None = Field(default=None, max_length=200)


COUNT_LIMIT = 10**15 - 1
"""The largest purchase or renewal count: fifteen digits, well inside the integers a
float holds exactly (the recipe divides counts as floats) and a 64-bit column."""


class BehaviourFacts(FrozenModel):
    """What the person does, from the CRM or billing: the behavioural side of loyalty.

    Dates rather than "days since" so that the facts stay true as time passes.
    """

    customer_since: StorableDatetime | None = None
    last_purchase_at: StorableDatetime | None = None
    purchases_last_365d: int | None = Field(default=None, ge=0, le=COUNT_LIMIT)
    renewals: int | None = Field(default=None, ge=0, le=COUNT_LIMIT)
    renewed_last_term: bool | None = None
    expected_purchases_per_year: float | None = Field(default=None, gt=0)
    behavioural_loyalty: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="An externally computed loyalty B in 0..1; wins over the other facts.",
    )

    def tenure_days(self, now: datetime) -> float | None:
        if self.customer_since is None:
            return None
        return max(0.0, (now - self.customer_since).total_seconds() / 86400.0)

    def days_since_last_purchase(self, now: datetime) -> float | None:
        if self.last_purchase_at is None:
            return None
        return max(0.0, (now - self.last_purchase_at).total_seconds() / 86400.0)


class Person(FrozenModel):
    """One human across their lead, contact, case and donor records."""

    id: PersonId
    display_name: str | None = Field(default=None, max_length=200)
    emails: tuple[Email, ...] = ()
    phones: tuple[Phone, ...] = ()
    handles: tuple[SocialHandle, ...] = ()
    crm_records: tuple[CrmRecordRef, ...] = ()
    consent: Consent = Consent()
    facts: BehaviourFacts = BehaviourFacts()
