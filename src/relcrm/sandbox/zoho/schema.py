"""The sandbox org's field metadata and how each data type takes and gives values.

Field metadata has the keys ``GET /crm/v8/settings/fields?module=...`` answers with
(``api_name``, ``field_label``, ``display_label``, ``data_type``, ``json_type``, ``length``,
``decimal_place``, ``custom_field``, ``read_only``, ``field_read_only``,
``system_mandatory``, ``pick_list_values`` with ``display_value``/``actual_value``,
``unique``, ``textarea``), after Zoho's OpenAPI description (``zoho/crm-oas``
``v8.0/fields.json``). The limits per type are Zoho's "data types and length limits" as the
Bigin field-type page states them for the shared platform (single line 255 characters,
integer 9 digits, decimal 16 digits with its decimal places, percent 5 digits); the three
multi-line sizes (small 2,000, large 32,000, rich text 50,000 characters) rest on memory of
the CRM's field-type page.

Values as written and read (Zoho's documented formats): dates ``yyyy-MM-dd``, date-times
``yyyy-MM-ddTHH:mm:ss±HH:mm`` (read back in the org's time zone), booleans as JSON
booleans, numbers as JSON numbers. The sandbox refuses date-times with ``Z`` or fractions
of a second; whether Zoho accepts those rests on memory, and relcrm's connector never
sends them. A picklist takes values outside its list (Zoho stores them; the official SDKs
validate picklists on the client, ``pick_list_validation``), as does this sandbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

MODULES: tuple[str, ...] = ("Contacts", "Leads", "Tasks")

TEXT_MAX = 255
INTEGER_MAX_DIGITS = 9
BIGINT_MAX_DIGITS = 18
DOUBLE_MAX_DIGITS = 16
DOUBLE_MAX_DECIMALS = 9
PERCENT_MAX_DIGITS = 5
TEXTAREA_SIZES: dict[str, int] = {"small": 2000, "large": 32000, "rich_text": 50000}
LABEL_MAX = 25
"""Field labels (a derived schema of the create-field body, ``api-evangelist/zoho``)."""
API_NAME_MAX = 50
API_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")

JSON_TYPES: dict[str, str] = {
    "text": "string",
    "textarea": "string",
    "email": "string",
    "phone": "string",
    "website": "string",
    "picklist": "string",
    "autonumber": "string",
    "integer": "integer",
    "bigint": "integer",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "boolean": "boolean",
    "date": "string",
    "datetime": "string",
    "ownerlookup": "jsonobject",
    "lookup": "jsonobject",
}
CREATABLE: frozenset[str] = frozenset(
    {
        "text",
        "textarea",
        "email",
        "phone",
        "website",
        "picklist",
        "integer",
        "bigint",
        "double",
        "currency",
        "percent",
        "boolean",
        "date",
        "datetime",
    }
)
"""Data types the sandbox creates custom fields of (Zoho has more: lookups, formulas...)."""


def parse_zone(text: str) -> tzinfo:
    """``+05:30``, ``-08:00`` or ``UTC``: the org's time zone, as a fixed offset."""
    if text.upper() in ("UTC", "Z", "+00:00"):
        return UTC
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", text)
    if match is None:
        raise ValueError(f"time zone {text!r}: expected +HH:MM or -HH:MM")
    sign = 1 if match.group(1) == "+" else -1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))


def render_datetime(moment: datetime, zone: tzinfo) -> str:
    """A date-time as Zoho gives it: in the org's zone, to the second, ``±HH:MM``."""
    local = moment.astimezone(zone).replace(microsecond=0)
    text = local.isoformat()
    return text if not text.endswith("Z") else text[:-1] + "+00:00"


@dataclass
class FieldDef:
    """One field of a module."""

    api_name: str
    field_label: str
    data_type: str
    id: str = ""
    length: int | None = None
    decimal_place: int | None = None
    custom_field: bool = False
    read_only: bool = False
    system_mandatory: bool = False
    unique: bool = False
    pick_list_values: list[str] = field(default_factory=list)
    textarea_type: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "api_name": self.api_name,
            "field_label": self.field_label,
            "display_label": self.field_label,
            "data_type": self.data_type,
            "json_type": JSON_TYPES.get(self.data_type, "string"),
            "id": self.id,
            "custom_field": self.custom_field,
            "read_only": self.read_only,
            "field_read_only": self.read_only,
            "system_mandatory": self.system_mandatory,
            "visible": True,
            "length": self.length,
            "decimal_place": self.decimal_place,
            "unique": {"casesensitive": "false"} if self.unique else {},
            "pick_list_values": [
                {
                    "display_value": value,
                    "actual_value": value,
                    "reference_value": value,
                    "id": f"{self.id}{index:03d}",
                    "sequence_number": index + 1,
                    "type": "used",
                    "colour_code": None,
                }
                for index, value in enumerate(self.pick_list_values)
            ],
            "created_source": "crm_ui" if self.custom_field else "default",
        }
        if self.data_type == "textarea":
            out["textarea"] = {"type": self.textarea_type or "small"}
        return out


def _f(api_name: str, label: str, data_type: str, **kw: Any) -> FieldDef:
    return FieldDef(api_name=api_name, field_label=label, data_type=data_type, **kw)


def default_fields(module: str) -> list[FieldDef]:
    """The standard fields of a fresh org's ``Contacts``, ``Leads`` or ``Tasks`` (a subset)."""
    if module == "Tasks":
        from relcrm.sandbox.zoho.tasks import task_fields  # builds on this module

        return task_fields()
    common = [
        _f("First_Name", "First Name", "text", length=40),
        _f("Last_Name", "Last Name", "text", length=80, system_mandatory=True),
        _f("Email", "Email", "email", length=100),
        _f("Secondary_Email", "Secondary Email", "email", length=100),
        _f("Phone", "Phone", "phone", length=30),
        _f("Mobile", "Mobile", "phone", length=30),
        _f(
            "Lead_Source",
            "Lead Source",
            "picklist",
            pick_list_values=["-None-", "Advertisement", "Cold Call", "Web Download"],
        ),
        _f("Description", "Description", "textarea", length=32000, textarea_type="large"),
        _f("Email_Opt_Out", "Email Opt Out", "boolean"),
        _f("Owner", "Contact Owner" if module == "Contacts" else "Lead Owner", "ownerlookup"),
        _f("Created_Time", "Created Time", "datetime", read_only=True),
        _f("Modified_Time", "Modified Time", "datetime", read_only=True),
    ]
    if module == "Contacts":
        extra = [_f("Date_of_Birth", "Date of Birth", "date")]
    else:
        extra = [
            _f("Company", "Company", "text", length=200),
            _f(
                "Lead_Status",
                "Lead Status",
                "picklist",
                pick_list_values=["-None-", "Not Contacted", "Contacted", "Junk Lead"],
            ),
        ]
    fields = common + extra
    base = 3_652_397_000_000_050_100 if module == "Contacts" else 3_652_397_000_000_050_300
    for offset, item in enumerate(fields):
        item.id = str(base + offset)
    return fields


class ValueProblem(Exception):
    """A value a field does not take: Zoho's ``INVALID_DATA`` details for it."""

    def __init__(self, **details: Any) -> None:
        super().__init__("invalid data")
        self.details = details


def _digits(number: Decimal) -> int:
    """Digits before the point of ``number``."""
    whole = abs(int(number))
    return len(str(whole)) if whole else 1


def accept(spec: FieldDef, value: Any) -> Any:
    """``value`` as stored for ``spec``, or :class:`ValueProblem`. ``None`` clears."""
    if value is None:
        return None
    kind = spec.data_type
    if kind in ("text", "email", "phone", "website", "picklist", "textarea"):
        if not isinstance(value, str):
            raise ValueProblem(expected_data_type=kind)
        limit = spec.length or (TEXTAREA_SIZES["small"] if kind == "textarea" else TEXT_MAX)
        if len(value) > limit:
            raise ValueProblem(maximum_length=limit)
        if kind == "email" and value and not EMAIL_RE.match(value):
            raise ValueProblem(expected_data_type="email")
        return value
    if kind in ("integer", "bigint"):
        if isinstance(value, bool):
            raise ValueProblem(expected_data_type=kind)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value.strip())
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise ValueProblem(expected_data_type=kind)
        cap = spec.length or (INTEGER_MAX_DIGITS if kind == "integer" else BIGINT_MAX_DIGITS)
        if _digits(Decimal(value)) > cap:
            raise ValueProblem(expected_data_type=kind, maximum_length=cap)
        return value
    if kind in ("double", "currency", "percent"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueProblem(expected_data_type=kind)
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueProblem(expected_data_type=kind) from None
        if not number.is_finite():
            raise ValueProblem(expected_data_type=kind)
        places = spec.decimal_place if spec.decimal_place is not None else 2
        cap = spec.length or (PERCENT_MAX_DIGITS if kind == "percent" else DOUBLE_MAX_DIGITS)
        if _digits(number) > cap - places:
            raise ValueProblem(expected_data_type=kind, maximum_length=cap)
        step = Decimal(1).scaleb(-places)
        return float(number.quantize(step, rounding=ROUND_HALF_UP))
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueProblem(expected_data_type="boolean")
        return value
    if kind == "date":
        if not isinstance(value, str) or not DATE_RE.match(value):
            raise ValueProblem(expected_data_type="date")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueProblem(expected_data_type="date") from None
    if kind == "datetime":
        if not isinstance(value, str) or not DATETIME_RE.match(value):
            raise ValueProblem(expected_data_type="datetime")
        try:
            return datetime.fromisoformat(value).astimezone(UTC)
        except ValueError:
            raise ValueProblem(expected_data_type="datetime") from None
    raise ValueProblem(expected_data_type=kind)


def render(spec: FieldDef | None, value: Any, zone: tzinfo) -> Any:
    """A stored value as the API gives it back."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return render_datetime(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    if spec is not None and spec.data_type in ("integer", "bigint") and isinstance(value, float):
        return int(value)
    return value
