"""The fields and values the contract suite writes, derived from declared capabilities.

An adapter names fields by its CRM's rule (``relcrm_Health__c``, ``relcrm_health``); the
suite decides which fields there are (one per field type the connector declares, and a
unique key when it matches by external id) and which values go into them. So every
connector is checked on the same shapes: a number with a decimal, a percent, a
restricted picklist, a checkbox, a date, an aware datetime, text and long text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from relcrm.models import ConnectorCapabilities, FieldSpec, FieldType, FieldValue

BAND = ("healthy", "watch", "at_risk")
"""The restricted picklist's options (those of relcrm's health band)."""

REFUSED_TOKEN = "Zq7-refused"
"""Part of every value the suite expects the CRM to refuse: a message that quotes the
value would contain it, so the check can tell."""

_STEMS: tuple[tuple[str, str, FieldType, dict[str, object]], ...] = (
    ("health", "Contract Health", FieldType.NUMBER, {"precision": 5, "scale": 1}),
    ("share", "Contract Share", FieldType.PERCENT, {"precision": 5, "scale": 2}),
    ("band", "Contract Band", FieldType.PICKLIST, {"picklist_values": BAND, "restricted": True}),
    ("mood", "Contract Mood", FieldType.TEXT, {"length": 40}),
    ("reasons", "Contract Reasons", FieldType.LONG_TEXT, {"length": 32_000}),
    ("churn", "Contract Churn", FieldType.CHECKBOX, {}),
    ("since", "Contract Since", FieldType.DATE, {}),
    ("scored", "Contract Scored", FieldType.DATETIME, {}),
)


def contract_specs(
    name: Callable[[str], str], capabilities: ConnectorCapabilities
) -> list[FieldSpec]:
    """The fields the suite provisions: one per field type in ``capabilities``, named by
    ``name(stem)`` (``health``, ``band``...), and a unique ``key`` text field
    (``external_id``) when the connector matches by external id. Lengths stay within the
    declared text limits; labels within 25 characters (the tightest CRM's)."""
    specs: list[FieldSpec] = []
    for stem, label, kind, extra in _STEMS:
        if kind not in capabilities.field_types:
            continue
        options = dict(extra)
        if kind is FieldType.LONG_TEXT:
            options["length"] = min(32_000, capabilities.max_long_text_length)
        if kind is FieldType.TEXT:
            options["length"] = min(40, capabilities.max_text_length)
        fields = {"name": name(stem), "label": label, "type": kind, **options}
        specs.append(FieldSpec.model_validate(fields))
    if "external_id" in capabilities.match_by and FieldType.TEXT in capabilities.field_types:
        specs.append(
            FieldSpec(
                name=name("key"),
                label="Contract Key",
                type=FieldType.TEXT,
                length=min(40, capabilities.max_text_length),
                external_id=True,
            )
        )
    return specs


def key_spec(specs: Iterable[FieldSpec]) -> FieldSpec | None:
    """The unique key field among ``specs`` (``external_id``), if any."""
    return next((spec for spec in specs if spec.external_id), None)


BASE_TIME = datetime(2026, 10, 2, 14, 0, tzinfo=UTC)


def sample_value(spec: FieldSpec, n: int) -> FieldValue:
    """A value ``spec`` accepts, different for each ``n`` (relcrm's sending shapes: ISO
    dates and datetimes, numbers within precision and scale, an option of the list)."""
    if spec.type in (FieldType.NUMBER, FieldType.PERCENT):
        scale = spec.scale or 0
        whole_digits = (spec.precision or 9) - scale
        top: int = 10 ** min(whole_digits, 6) - 1
        whole: int = (40 + n) % max(top, 1)
        return whole + 0.5 if scale >= 1 else whole
    if spec.type is FieldType.CHECKBOX:
        return n % 2 == 0
    if spec.type is FieldType.DATE:
        return (BASE_TIME.date() + timedelta(days=n % 300)).isoformat()
    if spec.type is FieldType.DATETIME:
        return (BASE_TIME + timedelta(minutes=7 * n, seconds=n % 60)).isoformat()
    if spec.type is FieldType.PICKLIST:
        options: tuple[str, ...] = tuple(spec.picklist_values or BAND)
        return options[n % len(options)]
    if spec.type is FieldType.LONG_TEXT:
        return f"Trusts the team after {n} renewals; the outage in March still rankles."
    text = f"steady {n}"
    return text[: spec.length] if spec.length else text


def sample_values(specs: Iterable[FieldSpec], n: int) -> dict[str, FieldValue]:
    """A value for every field but the key (a key names the record; it is not data)."""
    return {spec.name: sample_value(spec, n) for spec in specs if not spec.external_id}


def refused_value(specs: Iterable[FieldSpec]) -> tuple[str, FieldValue]:
    """A field and a value every CRM refuses for one record: an option outside a
    restricted picklist, else text longer than its field. Raises :class:`LookupError`
    when ``specs`` have neither."""
    listed = list(specs)
    for spec in listed:
        if spec.type is FieldType.PICKLIST and spec.restricted:
            return spec.name, f"{REFUSED_TOKEN} option"
    for spec in listed:
        if spec.type is FieldType.TEXT and spec.length and not spec.external_id:
            return spec.name, REFUSED_TOKEN + "x" * spec.length
    raise LookupError("no restricted picklist or sized text field to refuse a value for")


def secret_values(settings: object) -> list[str]:
    """The values of every ``SecretStr``/``SecretBytes`` setting (for the repr checks)."""
    from pydantic import BaseModel, SecretBytes, SecretStr

    found: list[str] = []
    if not isinstance(settings, BaseModel):
        return found
    values: Mapping[str, object] = dict(settings)
    for value in values.values():
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, SecretBytes):
            found.append(value.get_secret_value().decode("utf-8", "replace"))
    return [secret for secret in found if len(secret) >= 4]


__all__ = [
    "BAND",
    "REFUSED_TOKEN",
    "contract_specs",
    "key_spec",
    "refused_value",
    "sample_value",
    "sample_values",
    "secret_values",
]
