"""Redaction of verbatims before they are stored or leave the machine.

Customers paste contact details, card numbers, bank accounts and reset links into
surveys, tickets and posts. A verbatim is personal data already; these items make it
dangerous, so :func:`redact` replaces them with placeholders such as ``[email]``.

Design choices, and why:

- **Validated, not guessed.** Card numbers must pass Luhn and IBANs ISO 7064 mod-97 with
  their country's length, so order and invoice numbers survive and the feeling in the
  verbatim stays readable.
- **Linear time.** Verbatims come from strangers. Every pattern below either has
  bounded repetition or starts only at the beginning of a run (a negative lookbehind on
  the run's own characters), so no input can make a pattern backtrack badly.
- **Idempotent.** Placeholders (and, for phones, dates, times, IPs and amounts) are
  masked before each detector runs, so nothing is redacted inside a placeholder and
  redacting twice changes nothing.
- **Pure.** No I/O, no randomness, no state: same text and config, same result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "DEFAULT",
    "DEFAULT_URL_TOKEN_PARAMS",
    "CustomPattern",
    "Kind",
    "Redacted",
    "RedactionConfig",
    "iban_is_valid",
    "luhn_is_valid",
    "redact",
]


class Kind(StrEnum):
    """What was redacted; the keys of :attr:`Redacted.counts`."""

    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    IBAN = "iban"
    URL_TOKEN = "url_token"
    BARE_TOKEN = "bare_token"


#: The label each kind is shown as; both token kinds read ``[token]``.
LABELS: dict[Kind, str] = {
    Kind.EMAIL: "email",
    Kind.PHONE: "phone",
    Kind.CARD: "card",
    Kind.IBAN: "iban",
    Kind.URL_TOKEN: "token",
    Kind.BARE_TOKEN: "token",
}

DEFAULT_URL_TOKEN_PARAMS: frozenset[str] = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth_token",
        "key",
        "api_key",
        "apikey",
        "sig",
        "signature",
        "x-amz-signature",
        "password",
        "passwd",
        "pwd",
        "session",
        "sessionid",
        "session_id",
        "sid",
        "code",
        "auth",
        "secret",
        "client_secret",
        "otp",
    }
)

_LABEL_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_TEMPLATE_RE = re.compile(r"[^\w\s{}]{1,5}\{label\}[^\w\s{}]{1,5}")
_MASK = "\x00"


class CustomPattern(BaseModel):
    """A site-specific pattern (customer ids, badge numbers) and the label it becomes.

    Custom patterns run after the built-in detectors and never inside a placeholder.
    relcrm cannot bound their running time: keep them free of nested quantifiers.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    pattern: str

    @field_validator("label")
    @classmethod
    def _label_is_simple(cls, value: str) -> str:
        if not _LABEL_RE.fullmatch(value):
            raise ValueError("label must be lowercase letters, digits or _ (max 32)")
        if value in {kind.value for kind in Kind} | set(LABELS.values()):
            raise ValueError(f"label {value!r} is taken by a built-in kind")
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"pattern does not compile: {exc}") from None
        if compiled.fullmatch(""):
            raise ValueError("pattern must not match the empty string")
        return value


class RedactionConfig(BaseModel):
    """What to redact and how placeholders look. The defaults are the safe choice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    emails: bool = True
    phones: bool = True
    cards: bool = True
    ibans: bool = True
    url_tokens: bool = True
    #: Long hex / base64 / JWT runs outside URLs. Off by default: they are rare in
    #: verbatims and a long product code could look like one.
    bare_tokens: bool = False
    #: Query or fragment parameters whose values are secrets (matched case-insensitively;
    #: any name ending in token, secret, signature or password is also redacted).
    url_token_params: frozenset[str] = DEFAULT_URL_TOKEN_PARAMS
    #: How a placeholder looks; ``{label}`` becomes ``email``, ``phone``, ``card``, ...
    template: str = "[{label}]"
    custom_patterns: tuple[CustomPattern, ...] = Field(default=())

    @field_validator("template")
    @classmethod
    def _template_is_delimited(cls, value: str) -> str:
        # Delimiters that are neither word characters nor spaces keep placeholders from
        # merging with the words around them, which idempotence relies on.
        if not _TEMPLATE_RE.fullmatch(value):
            raise ValueError(
                "template must be '{label}' between 1-5 punctuation characters, "
                "e.g. '[{label}]' or '<{label}>'"
            )
        return value

    @field_validator("url_token_params")
    @classmethod
    def _lowercase_params(cls, value: frozenset[str]) -> frozenset[str]:
        return frozenset(name.lower() for name in value)

    @field_validator("custom_patterns")
    @classmethod
    def _unique_labels(cls, value: tuple[CustomPattern, ...]) -> tuple[CustomPattern, ...]:
        labels = [item.label for item in value]
        if len(labels) != len(set(labels)):
            raise ValueError("custom pattern labels must be unique")
        return value

    def placeholder(self, label: str) -> str:
        """The text that replaces an item with this label."""
        return self.template.replace("{label}", label)


DEFAULT = RedactionConfig()


@dataclass(frozen=True)
class Redacted:
    """The redacted text and how many items of each kind were replaced."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """How many items were replaced, of any kind."""
        return sum(self.counts.values())


# --------------------------------------------------------------------------- checks


def luhn_is_valid(digits: str) -> bool:
    """Whether a digit string passes the Luhn check used by every card scheme."""
    if not digits.isdigit() or not digits.isascii():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


#: IBAN length by country (SWIFT IBAN registry); used to cut trailing text off.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_is_valid(iban: str) -> bool:
    """Whether a compact IBAN has its country's length and passes ISO 7064 mod-97."""
    compact = iban.replace(" ", "").upper()
    if not compact.isascii() or not compact.isalnum():
        return False
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


# ------------------------------------------------------------------------- patterns

# Email: the local part may hold apostrophes, plus-addressing and the other RFC 5322
# atext characters, or be quoted. The lookbehind makes a match start only where a run
# of local-part characters starts, which keeps the search linear.
_LOCAL_CHARS = r"\w.!#$%&'*+/=?^`{|}~\-"
_EMAIL_RE = re.compile(
    rf"(?<![{_LOCAL_CHARS}])"
    rf"(?:\"[^\"\r\n@\x00]{{1,64}}\"|[{_LOCAL_CHARS}]+)"
    r"@(?:[^\W_](?:[\w\-]*[^\W_])?)(?:\.[^\W_](?:[\w\-]*[^\W_])?)+"
    r"(?![\w\-@])"
)
_EMAIL_LEADING = "'`{|}.!#$%&*/=?^~-"

# URL parameters: the value after name= in a query or fragment.
_URL_PARAM_RE = re.compile(r"(?<=[?&;#])([\w.\-]{1,64})=([^&#\s\"'<>\x00]+)")
_URL_VALUE_TRAILING = ".,;:!?)]}"
_SECRET_SUFFIXES = ("token", "secret", "signature", "password")

# IBAN: country, check digits, then 11-30 alphanumerics with optional single spaces.
_IBAN_RE = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}")

# Cards: a plain 13-19 digit run, or groups (4-4-4-4, 4-6-5, 4-4-4-4-3) split by spaces
# or dashes (one kind per number). Luhn and the digit count are checked in Python.
_CARD_RE = re.compile(r"(?<![\w+\-.,/])(?:\d{4}([ \-])\d{1,6}(?:\1\d{1,6}){1,3}|\d{13,19})(?!\w)")

# Phones: an optional +, then groups of digits (one may be in parentheses) split by a
# single separator. Bounded repetition keeps it linear; the shape is judged in Python.
_PHONE_RE = re.compile(
    r"(?<![\w+@$€£¥#%.,/\\\-])"
    r"\+?(?:\(\d{1,5}\)|\d{1,15})"
    r"(?:(?:[ .\-/]?\(\d{1,5}\)[ .\-]?|[ .\-/\u00a0])\d{1,15}){0,8}"
    r"(?![\w@%(]|[.,/\-]\d)"
)

# Things a phone pattern would otherwise eat: dates, times, IPs, versions and amounts.
# They are masked for the phone detector only, and never redacted.
_AMOUNT = r"(?:\d{1,3}(?:[ ,.\u00a0\u202f]\d{3}){1,6}|\d{1,15})(?:[.,]\d{1,2})?(?!\d)"
_CURRENCY = r"(?:[$€£¥]|(?:EUR|USD|GBP|CHF|JPY|CAD|AUD)\b)"
_PHONE_GUARD_RE = re.compile(
    r"(?<![\d.\-/])(?:\d{4}[\-/.]\d{1,2}[\-/.]\d{1,2}|\d{1,2}[\-/.]\d{1,2}[\-/.](?:\d{4}|\d{2}))"
    r"(?!\d|[\-/.]\d)"
    r"|(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])"
    r"|(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\.?\d)"
    r"|(?<![\w.])v?\d{1,4}\.\d{1,4}\.\d{1,4}(?![\d.])"
    rf"|{_CURRENCY}\s?{_AMOUNT}"
    rf"|(?<![\d.,])(?:\d{{1,3}}(?:[ ,.\u00a0\u202f]\d{{3}}){{1,6}}|\d{{1,15}})(?:[.,]\d{{1,2}})?"
    r"\s?(?:[$€£¥%]|(?:EUR|USD|GBP|CHF|euros?|dollars?)\b)"
)

# Bare tokens: hex (32+), base64 / base64url (32+) and JWTs, outside URLs.
_BARE_TOKEN_RE = re.compile(
    r"(?<![\w+/\-.])"
    r"(?:eyJ[\w\-]{8,}\.[\w\-]{8,}\.[\w\-]*|[A-Za-z0-9+/_\-]{32,}={0,2})"
    r"(?![\w+/\-=])"
)


# ------------------------------------------------------------------------ detectors

Span = tuple[int, int]
Detector = Callable[[str, "RedactionConfig"], Iterator[Span]]


def _emails(masked: str, config: RedactionConfig) -> Iterator[Span]:
    for match in _EMAIL_RE.finditer(masked):
        start, end = match.span()
        at = masked.index("@", start) if not match.group().startswith('"') else None
        if at is not None:
            # Quotes or dots that open a sentence are not part of the address.
            while start < at and masked[start] in _EMAIL_LEADING:
                start += 1
            if start == at:
                continue
        tld = match.group().rsplit(".", 1)[-1]
        if len(tld) >= 2 and tld.isalpha():
            yield start, end


def _url_tokens(masked: str, config: RedactionConfig) -> Iterator[Span]:
    for match in _URL_PARAM_RE.finditer(masked):
        name = match.group(1).lower()
        if name not in config.url_token_params and not name.endswith(_SECRET_SUFFIXES):
            continue
        start, end = match.span(2)
        while end > start and masked[end - 1] in _URL_VALUE_TRAILING:
            end -= 1
        if end > start:
            yield start, end


def _ibans(masked: str, config: RedactionConfig) -> Iterator[Span]:
    position = 0
    while match := _IBAN_RE.search(masked, position):
        position = match.end()
        text = match.group()
        length = IBAN_LENGTHS.get(text[:2].upper())
        if length is None:
            continue
        # Cut at the country's length; the cut must fall between groups, not in a word.
        # What follows (a BIC, a second IBAN) is searched again.
        seen = 0
        for offset, char in enumerate(text):
            seen += char != " "
            if seen == length:
                cut = offset + 1
                if (cut == len(text) or text[cut] == " ") and iban_is_valid(text[:cut]):
                    yield match.start(), match.start() + cut
                    position = match.start() + cut
                break


def _cards(masked: str, config: RedactionConfig) -> Iterator[Span]:
    position = 0
    while match := _CARD_RE.search(masked, position):
        position = match.end()
        groups = re.split(r"[ \-]", match.group())
        # The groups may run on into an expiry date, a quantity or a second card: take
        # the longest Luhn-valid prefix and look again right after it.
        for count in range(len(groups), 0, -1):
            digits = "".join(groups[:count])
            if 13 <= len(digits) <= 19 and luhn_is_valid(digits):
                length = sum(len(group) for group in groups[:count]) + count - 1
                yield match.start(), match.start() + length
                position = match.start() + length
                break
        else:
            # No card here; one may start at the next group (2026-10-02 4111 ...).
            position = match.start() + len(groups[0]) + 1


def _looks_like_phone(text: str) -> bool:
    """Whether a candidate digit group sequence has the shape of a phone number."""
    groups = re.findall(r"\d+", text)
    digits = "".join(groups)
    separators = set(re.findall(r"[^\d()+]", text))
    international = text.startswith("+") or (digits.startswith("00") and len(digits) >= 10)
    if international:
        count = len(digits) - (0 if text.startswith("+") else 2)
        if not 8 <= count <= 15:
            return False
    elif not 7 <= len(digits) <= 13:
        return False
    if not international and len(groups) == 1:
        # A bare run is a phone only with a trunk prefix (0612345678), not 4821345678.
        return digits.startswith("0") and 9 <= len(digits) <= 12
    if not international and len(groups) == 2 and not text.startswith(("0", "(")):
        return False  # 48213 48213: two numbers; two-group phones have a trunk 0
    if not international and not text.startswith("0") and sum(len(g) > 4 for g in groups) > 1:
        return False  # 9 48213 48213: national numbers have at most one long group
    if any(len(group) == 1 for group in groups[(2 if international else 1) :]):
        return False  # "1 2 3 4 5 6 7" is a list, not a phone
    if (
        not international
        and not text.startswith(("0", "("))
        and len(groups[0]) <= 2
        and all(len(group) == 3 for group in groups[1:])
        and separators <= {" ", ".", ",", "\u00a0"}
    ):
        return False  # 1 299 000 or 12.500.000: a number with thousands separators
    return not _date_shaped(groups, separators)


def _date_shaped(groups: list[str], separators: set[str]) -> bool:
    """2026-10-02, 02/10/2026 or 02.10.26: three groups and one date separator."""
    if len(groups) != 3 or len(separators) != 1 or not separators <= {"-", "/", "."}:
        return False
    sizes = tuple(len(group) for group in groups)
    return (sizes[0] == 4 and max(sizes[1:]) <= 2) or (max(sizes[:2]) <= 2 and sizes[2] in {2, 4})


def _phones(masked: str, config: RedactionConfig) -> Iterator[Span]:
    guarded = _PHONE_GUARD_RE.sub(lambda m: _MASK * len(m.group()), masked)
    for match in _PHONE_RE.finditer(guarded):
        if _looks_like_phone(match.group()):
            yield match.span()


def _bare_tokens(masked: str, config: RedactionConfig) -> Iterator[Span]:
    for match in _BARE_TOKEN_RE.finditer(masked):
        text = match.group()
        if text.startswith("eyJ"):
            yield match.span()
            continue
        has_digit = any(char.isdigit() for char in text)
        is_hex = all(char in "0123456789abcdefABCDEF" for char in text)
        mixed_case = any(char.islower() for char in text) and any(char.isupper() for char in text)
        if has_digit and (is_hex or mixed_case):
            yield match.span()


def _custom(pattern: re.Pattern[str]) -> Detector:
    def detect(masked: str, config: RedactionConfig) -> Iterator[Span]:
        for match in pattern.finditer(masked):
            if match.end() > match.start() and _MASK not in match.group():
                yield match.span()

    return detect


# ---------------------------------------------------------------------------- redact


def _placeholder_re(config: RedactionConfig) -> re.Pattern[str]:
    labels = set(LABELS.values()) | {item.label for item in config.custom_patterns}
    placeholders = sorted((config.placeholder(label) for label in labels), key=len, reverse=True)
    return re.compile("|".join(re.escape(item) for item in placeholders))


def _steps(config: RedactionConfig) -> list[tuple[str, str, Detector]]:
    """Detectors in priority order: (count key, label, detector)."""
    steps: list[tuple[str, str, Detector]] = []
    builtin: list[tuple[bool, Kind, Detector]] = [
        (config.url_tokens, Kind.URL_TOKEN, _url_tokens),
        (config.emails, Kind.EMAIL, _emails),
        (config.ibans, Kind.IBAN, _ibans),
        (config.cards, Kind.CARD, _cards),
        (config.phones, Kind.PHONE, _phones),
        (config.bare_tokens, Kind.BARE_TOKEN, _bare_tokens),
    ]
    for enabled, kind, detector in builtin:
        if enabled:
            steps.append((kind.value, LABELS[kind], detector))
    for item in config.custom_patterns:
        steps.append((item.label, item.label, _custom(re.compile(item.pattern))))
    return steps


def redact(text: str, config: RedactionConfig = DEFAULT) -> Redacted:
    """Replace emails, phones, cards, IBANs and URL secrets in ``text`` with placeholders.

    Detectors run one after the other, each on the text the previous one produced, with
    every placeholder masked, so a later detector never sees an earlier one's item.
    """
    placeholders = _placeholder_re(config)
    counts: dict[str, int] = {}
    for key, label, detector in _steps(config):
        masked = placeholders.sub(lambda m: _MASK * len(m.group()), text)
        spans = list(detector(masked, config))
        if not spans:
            continue
        replacement = config.placeholder(label)
        pieces: list[str] = []
        cursor = 0
        for start, end in spans:
            if start < cursor:
                continue  # overlapping candidates: the first one wins
            pieces.append(text[cursor:start])
            pieces.append(replacement)
            cursor = end
            counts[key] = counts.get(key, 0) + 1
        pieces.append(text[cursor:])
        text = "".join(pieces)
    return Redacted(text=text, counts=counts)
