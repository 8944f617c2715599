"""How a person's identities are keyed in the store, and how a lookup value is normalized.

Insert and lookup share these functions, so ``find_person`` matches exactly what
``upsert_person`` stored, whatever case or punctuation the caller typed.
"""

from __future__ import annotations

import re
from typing import Final, Literal, get_args

from relcrm.models import Person

IdentityKind = Literal["email", "phone", "handle", "crm"]
IDENTITY_KINDS: Final[tuple[str, ...]] = get_args(IdentityKind)

IDENTITY_FIELDS: Final[dict[str, str]] = {
    "email": "emails",
    "phone": "phones",
    "handle": "handles",
    "crm": "crm_records",
}
"""The Person field each identity kind comes from (named in conflict errors)."""

_NOT_DIGIT = re.compile(r"[^0-9]")

IdentityKey = tuple[str, str]
"""``(kind, normalized value)``: unique across all persons in a store."""


def normalize_identity(kind: str, value: str) -> str:
    """The stored form of ``value``.

    - email: the whole address lower-cased (the model only lower-cases the domain, but
      nobody means two people by ``Jane@x.com`` and ``jane@x.com``);
    - phone: digits, with a leading ``+`` kept, as the model keeps them;
    - handle: ``platform:handle`` lower-cased;
    - crm: ``system/object/id`` as given (CRM ids such as Salesforce's are case-sensitive).
    """
    text = value.strip()
    if kind == "email":
        return text.lower()
    if kind == "phone":
        return ("+" if text.startswith("+") else "") + _NOT_DIGIT.sub("", text)
    if kind == "handle":
        return text.lower()
    if kind == "crm":
        return text
    raise ValueError(f"unknown identity kind {kind!r}; use one of {', '.join(IDENTITY_KINDS)}")


def identity_keys(person: Person) -> set[IdentityKey]:
    """Every identity of ``person``, normalized; duplicates after normalization collapse."""
    keys: set[IdentityKey] = set()
    for email in person.emails:
        keys.add(("email", normalize_identity("email", email)))
    for phone in person.phones:
        keys.add(("phone", normalize_identity("phone", phone)))
    for handle in person.handles:
        keys.add(("handle", normalize_identity("handle", f"{handle.platform}:{handle.handle}")))
    for record in person.crm_records:
        keys.add(("crm", normalize_identity("crm", f"{record.system}/{record.object}/{record.id}")))
    return keys
