"""Person lines of the usual shape read straight into store rows, without pydantic.

A file of a hundred thousand persons spent about 30 µs a person line before writing
anything: pydantic's validation, a date check walking the model, ``model_dump`` and a
sorted ``json.dumps``. Nearly every line has the same plain shape (an id, emails, a
consent, a few facts, as ``relcrm sample`` or a CRM export writes them), so
:class:`PersonLines` reads that shape with one regular expression and builds the row from
the pieces, in a few µs.

It is a shortcut, never a second reader: a line is taken only when its text is exactly
the compact rendering of the values read from it (a fixed key order, no white space, no
escapes, only ASCII), so JSON has one reading of it, the one pydantic makes; each value
passes the model's own rule (id pattern, email address, non-negative integers, a real
date with an offset, within the source's date range); and the stored JSON is filled into
a template that the model itself rendered (:func:`relcrm.store.store.canonical_json` of a
probe person), so a field added to the model appears with its default. Every other line,
unusual or wrong, returns None and goes the general way (pydantic), whose record or error
message is therefore unchanged. A test checks the two ways agree on varied lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from relcrm.models import Person
from relcrm.models.person import PERSON_ID_PATTERN
from relcrm.sources.dates import DateRange
from relcrm.store.store import PersonRow, canonical_json

_DATE = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
"""The plain ISO 8601 form. The offset's range is checked here: Python 3.11's
``fromisoformat`` (which checks the rest) reads ``+01:99`` as ``+02:39``, pydantic refuses it."""
_INT = r"(?:0|[1-9][0-9]{0,14})"  # non-negative, at most COUNT_LIMIT (fifteen digits)
_ID = PERSON_ID_PATTERN.removeprefix("^").removesuffix("$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
_EMAIL = re.compile(rf"({_LOCAL})@({_LABEL}(?:\.{_LABEL})+)")
_EMAIL_MAX = 254

_LINE = re.compile(
    rf'\{{"type":"person","id":"(?P<id>{_ID})"'
    r'(?:,"emails":\[(?P<emails>"[^"\\]*"(?:,"[^"\\]*")*)?\])?'
    r'(?:,"consent":\{(?P<consent>[^{}]*)\})?'
    r'(?:,"facts":\{(?P<facts>[^{}]*)\})?'
    r"\}\r?\n?"
)
"""The shape taken: type, id, emails, consent, facts, in the model's order, each but the
id optional. The emails, the consent and the facts are read again piece by piece."""

_CONSENT = re.compile(rf'(?:,"granted":(true|false))?(?:,"updated_at":"({_DATE})")?')
"""The inside of the consent object with a comma in front (as for the facts)."""
_FACTS = re.compile(
    rf'(?:,"customer_since":"({_DATE})")?'
    rf'(?:,"last_purchase_at":"({_DATE})")?'
    rf'(?:,"purchases_last_365d":({_INT}))?'
    rf'(?:,"renewals":({_INT}))?'
    r'(?:,"renewed_last_term":(true|false))?'
)
"""The inside of the facts object with a comma in front: the facts read, in the model's
order, each once (a date is checked further)."""

# The probe: one value per slot, each rendered once, so the model writes the template.
_PROBE_EMAIL = "probe-email@probe.example"
_PROBE_DATES: Final = {
    "updated_at": "2001-01-01T01:01:01Z",
    "customer_since": "2002-02-02T02:02:02Z",
    "last_purchase_at": "2003-03-03T03:03:03Z",
}
_PROBE_SLOTS: Final = (
    ('"id":"probe-id"', '"id":"{id}"'),
    (f'"emails":["{_PROBE_EMAIL}"]', '"emails":[{emails}]'),
    ('"granted":true', '"granted":{granted}'),
    *((f'"{name}":"{value}"', f'"{name}":{{{name}}}') for name, value in _PROBE_DATES.items()),
    ('"purchases_last_365d":123457', '"purchases_last_365d":{purchases_last_365d}'),
    ('"renewals":765433', '"renewals":{renewals}'),
    ('"renewed_last_term":true', '"renewed_last_term":{renewed_last_term}'),
)


def _template() -> str | None:
    """The stored JSON of a person with a slot per value this module reads, written by
    the model (None, and no shortcut, should the model render the probe otherwise)."""
    probe = Person.model_validate(
        {
            "id": "probe-id",
            "emails": [_PROBE_EMAIL],
            "consent": {"granted": True, "updated_at": _PROBE_DATES["updated_at"]},
            "facts": {
                "customer_since": _PROBE_DATES["customer_since"],
                "last_purchase_at": _PROBE_DATES["last_purchase_at"],
                "purchases_last_365d": 123457,
                "renewals": 765433,
                "renewed_last_term": True,
            },
        }
    )
    text = canonical_json(probe).replace("{", "{{").replace("}", "}}")
    for fragment, slot in _PROBE_SLOTS:
        escaped = fragment.replace("{", "{{").replace("}", "}}")
        if text.count(escaped) != 1:
            return None
        text = text.replace(escaped, slot)
    return text


_TEMPLATE: Final = _template()


def _stored_date(text: str, earliest: datetime, latest: datetime) -> str | None:
    """A date as the stored JSON writes it (an offset of zero as Z), or None when it is
    not a real date-time or lies outside ``earliest``..``latest``."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if not 1 < moment.year < 9999 or not earliest <= moment <= latest:
        return None
    if text.endswith(("Z", "+00:00", "-00:00")):
        return f'"{text[:19]}Z"'
    return f'"{text}"'


class PersonLines:
    """Reads person lines of the usual shape into store rows, for one chunk of lines."""

    def __init__(self, dates: DateRange, now: datetime | None = None) -> None:
        """``dates`` at ``now`` (by default the moment of the call) is the plausible range:
        read once, so no later than the general path's own reading."""
        self.earliest, self.latest = dates.bounds(now or datetime.now(UTC))
        self._render: Callable[..., str] | None = None if _TEMPLATE is None else _TEMPLATE.format

    def row(self, text: str) -> PersonRow | None:
        """The row of a person line (with or without its line ending) of the usual shape,
        equal to ``person_row`` of what the general path reads; None for any other line."""
        render = self._render
        if render is None or not text.startswith('{"type":"person"'):
            return None
        found = _LINE.fullmatch(text)
        if found is None:
            return None
        person_id, emails_text, consent_text, facts_text = found.groups()
        emails: list[str] = []
        if emails_text:
            # The strings hold no quote (the pattern says so): '","' separates them.
            for given in emails_text[1:-1].split('","'):
                address = _EMAIL.fullmatch(given)
                if address is None or len(given) > _EMAIL_MAX:
                    return None
                emails.append(f"{address[1]}@{address[2].lower()}")
        granted = updated = since = last = purchases = renewals = renewed = None
        if consent_text:
            consent = _CONSENT.fullmatch("," + consent_text)
            if consent is None:
                return None
            granted, updated = consent.groups()
        if facts_text:
            facts = _FACTS.fullmatch("," + facts_text)
            if facts is None:
                return None
            since, last, purchases, renewals, renewed = facts.groups()
        dates = []
        for value in (updated, since, last):
            if value is None:
                dates.append("null")
            elif (stored := _stored_date(value, self.earliest, self.latest)) is not None:
                dates.append(stored)
            else:
                return None
        data = render(
            id=person_id,
            emails=",".join([f'"{email}"' for email in emails]),
            granted=granted or "false",
            updated_at=dates[0],
            customer_since=dates[1],
            last_purchase_at=dates[2],
            purchases_last_365d=purchases or "null",
            renewals=renewals or "null",
            renewed_last_term=renewed or "null",
        )
        identities = frozenset([("email", email.lower()) for email in emails])
        return PersonRow(person_id, data, identities)
