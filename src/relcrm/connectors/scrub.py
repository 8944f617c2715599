"""Field values never leave a connector inside a message.

CRMs echo the offending value in their error messages (Salesforce: ``Reasons: data value
too large: <the whole reasons text> (max length=255)``; HubSpot: ``Property values were not
valid: [{"message": "Ecstatic was not one of the allowed options..."}]``). relcrm's values
are feelings, scores and reasons: personal data that must not reach stdout, ``--json``
reports, logs or the dead-letter table. So every CRM message a connector returns (in a
:class:`~relcrm.models.WriteResult`) or raises (in a connector error) is scrubbed:

- each connector first removes the value from the message shapes its CRM uses
  (``salesforce.errors.scrub_message``, ``hubspot.errors.scrub_message``), keeping the
  code, the field and what is wrong;
- :func:`without_values` then removes any value the write sent that is still there (a
  message shape nobody knew of, a validation rule an admin wrote).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

WITHHELD = "[value withheld]"
"""What stands where a CRM message quoted a value."""

MIN_TEXT = 3
"""Shorter text values are not searched for (``"ok"`` would match everywhere); the
message shapes each connector knows remove them anyway."""


def _number_forms(value: float | int) -> set[str]:
    forms = {str(value), repr(value)}
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:  # pragma: no cover - repr of a float is always a Decimal
        return forms
    if number.is_finite():
        plain = format(number, "f")
        forms.add(plain)
        if "." in plain:
            forms.add(plain.rstrip("0").rstrip("."))
        if number == number.to_integral_value():
            forms.add(str(int(number)))
            forms.add(f"{int(number)}.0")
    return {f for f in forms if f}


def value_forms(values: Iterable[object]) -> list[str]:
    """The texts under which ``values`` may appear in a message, longest first."""
    forms: set[str] = set()
    for value in values:
        if value is None or isinstance(value, bool):
            continue  # true/false/None are words every message uses; shapes handle them
        if isinstance(value, int | float):
            forms.update(f for f in _number_forms(value) if len(f.lstrip("-")) >= 2)
        else:
            text = str(value).strip()
            if len(text) >= MIN_TEXT:
                forms.add(text)
    return sorted(forms, key=len, reverse=True)


def without_values(message: str | None, values: Iterable[object]) -> str | None:
    """``message`` with every occurrence of one of ``values`` replaced by :data:`WITHHELD`.

    Numbers and short words are only replaced where they stand alone, so ``255`` in
    ``max length=2550`` is left alone while ``87`` in ``value: 87`` is not.
    """
    if not message:
        return message
    text = message
    for form in value_forms(values):
        if form not in text:
            continue
        if re.fullmatch(r"[\w.+-]+", form):
            pattern = rf"(?<![\w.]){re.escape(form)}(?![\w])"
            text = re.sub(pattern, WITHHELD, text)
        else:
            text = text.replace(form, WITHHELD)
    return text


__all__ = ["WITHHELD", "value_forms", "without_values"]
