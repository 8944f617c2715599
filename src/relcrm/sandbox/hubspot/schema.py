"""Property definitions (HubSpot's own defaults per object) and value validation.

HubSpot validates every written value against its property's ``type``: numbers must parse,
enumerations take an option's ``value`` (not its label), ``date`` must be midnight UTC, and
unknown or read-only properties are refused. The connector formats values from these same
rules, so the sandbox must refuse exactly what the real portal refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

OBJECT_TYPE_IDS: dict[str, str] = {
    "contacts": "0-1",
    "companies": "0-2",
    "notes": "0-46",
    "tickets": "0-5",
    "tasks": "0-27",
}
OBJECT_ALIASES: dict[str, str] = {
    "contacts": "contacts",
    "contact": "contacts",
    "0-1": "contacts",
    "companies": "companies",
    "company": "companies",
    "0-2": "companies",
    "notes": "notes",
    "note": "notes",
    "0-46": "notes",
    "tickets": "tickets",
    "ticket": "tickets",
    "0-5": "tickets",
    "tasks": "tasks",
    "task": "tasks",
    "0-27": "tasks",
}
SINGULAR: dict[str, str] = {
    "contacts": "CONTACT",
    "companies": "COMPANY",
    "notes": "NOTE",
    "tickets": "TICKET",
    "tasks": "TASK",
}

PROPERTY_TYPES: frozenset[str] = frozenset(
    {"bool", "date", "datetime", "enumeration", "number", "phone_number", "string"}
)
FIELD_TYPES: frozenset[str] = frozenset(
    {
        "booleancheckbox",
        "calculation_equation",
        "checkbox",
        "date",
        "file",
        "html",
        "number",
        "phonenumber",
        "radio",
        "select",
        "text",
        "textarea",
    }
)
COMPATIBLE_FIELD_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset({"text", "textarea", "html", "phonenumber", "file"}),
    "phone_number": frozenset({"phonenumber", "text"}),
    "number": frozenset({"number", "calculation_equation"}),
    "enumeration": frozenset({"select", "radio", "checkbox", "booleancheckbox"}),
    "bool": frozenset({"booleancheckbox"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
}
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_now() -> str:
    """Now as HubSpot writes timestamps: ISO 8601, milliseconds, ``Z``."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    """``2024-05-01T12:00:00.000Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Option:
    """One enumeration option: clients must write ``value``; ``label`` is for people."""

    label: str
    value: str
    display_order: int = 0
    hidden: bool = False
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": self.value,
            "displayOrder": self.display_order,
            "hidden": self.hidden,
            "description": self.description,
        }


@dataclass
class PropertyDef:
    """One property of one object type, as the properties API describes it."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    description: str = ""
    options: list[Option] = field(default_factory=list)
    display_order: int = -1
    has_unique_value: bool = False
    hidden: bool = False
    form_field: bool = False
    hubspot_defined: bool = False
    read_only_value: bool = False
    read_only_definition: bool = False
    calculated: bool = False
    archived: bool = False
    created_at: str = field(default_factory=iso_now)
    updated_at: str = field(default_factory=iso_now)
    archived_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": [o.to_json() for o in self.options],
            "displayOrder": self.display_order,
            "calculated": self.calculated,
            "externalOptions": False,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.read_only_definition,
                "readOnlyValue": self.read_only_value,
            },
            "formField": self.form_field,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "archived": self.archived,
        }
        if self.archived_at is not None:
            out["archivedAt"] = self.archived_at
        return out


@dataclass
class GroupDef:
    """A property group (a folder of properties in HubSpot's UI)."""

    name: str
    label: str
    display_order: int = -1
    archived: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "displayOrder": self.display_order,
            "archived": self.archived,
        }


def _p(
    name: str,
    label: str,
    type_: str,
    field_type: str,
    group: str,
    *,
    options: list[tuple[str, str]] | None = None,
    read_only: bool = False,
    form_field: bool = False,
    calculated: bool = False,
) -> PropertyDef:
    return PropertyDef(
        name=name,
        label=label,
        type=type_,
        field_type=field_type,
        group_name=group,
        options=[
            Option(label=lab, value=val, display_order=i)
            for i, (lab, val) in enumerate(options or [])
        ],
        hubspot_defined=True,
        read_only_value=read_only,
        read_only_definition=True,
        form_field=form_field,
        calculated=calculated,
        created_at="2019-08-06T02:41:52.000Z",
        updated_at="2019-08-06T02:41:52.000Z",
    )


LIFECYCLE_OPTIONS = [
    ("Subscriber", "subscriber"),
    ("Lead", "lead"),
    ("Marketing Qualified Lead", "marketingqualifiedlead"),
    ("Sales Qualified Lead", "salesqualifiedlead"),
    ("Opportunity", "opportunity"),
    ("Customer", "customer"),
    ("Evangelist", "evangelist"),
    ("Other", "other"),
]
LEAD_STATUS_OPTIONS = [
    ("New", "NEW"),
    ("Open", "OPEN"),
    ("In Progress", "IN_PROGRESS"),
    ("Open Deal", "OPEN_DEAL"),
    ("Unqualified", "UNQUALIFIED"),
    ("Attempted to Contact", "ATTEMPTED_TO_CONTACT"),
    ("Connected", "CONNECTED"),
    ("Bad Timing", "BAD_TIMING"),
]
INDUSTRY_OPTIONS = [
    ("Accounting", "ACCOUNTING"),
    ("Airlines/Aviation", "AIRLINES_AVIATION"),
    ("Banking", "BANKING"),
    ("Computer Software", "COMPUTER_SOFTWARE"),
    ("Financial Services", "FINANCIAL_SERVICES"),
    ("Hospital & Health Care", "HOSPITAL_HEALTH_CARE"),
    ("Retail", "RETAIL"),
    ("Telecommunications", "TELECOMMUNICATIONS"),
]


TICKET_PIPELINE = "0"
"""The id of the default ("Support Pipeline") ticket pipeline every portal has."""
TICKET_STAGES: dict[str, str] = {
    "1": "New",
    "2": "Waiting on contact",
    "3": "Waiting on us",
    "4": "Closed",
}
"""Stage id -> label in the default pipeline; stage "4" is its only closed stage."""
CLOSED_TICKET_STAGES: frozenset[str] = frozenset({"4"})
TICKET_PRIORITIES = [("Low", "LOW"), ("Medium", "MEDIUM"), ("High", "HIGH"), ("Urgent", "URGENT")]
TICKET_CATEGORIES = [
    ("Product issue", "PRODUCT_ISSUE"),
    ("Billing issue", "BILLING_ISSUE"),
    ("Feature request", "FEATURE_REQUEST"),
    ("General inquiry", "GENERAL_INQUIRY"),
]
TICKET_SOURCES = [("Chat", "CHAT"), ("Email", "EMAIL"), ("Form", "FORM"), ("Phone", "PHONE")]


def ticket_properties() -> list[PropertyDef]:
    """HubSpot's own ticket properties that integrations read and write (a subset).

    ``hs_pipeline``/``hs_pipeline_stage`` are enumerations of pipeline and stage ids, as
    the real portal describes them (stage labels live in the pipelines API).
    """
    g = "ticketinformation"
    stages = [(label, stage) for stage, label in TICKET_STAGES.items()]
    return [
        _p("subject", "Ticket name", "string", "text", g, form_field=True),
        _p("content", "Ticket description", "string", "textarea", g, form_field=True),
        _p("hs_pipeline", "Pipeline", "enumeration", "select", g,
           options=[("Support Pipeline", TICKET_PIPELINE)]),
        _p("hs_pipeline_stage", "Ticket status", "enumeration", "select", g, options=stages),
        _p("hs_ticket_priority", "Priority", "enumeration", "select", g,
           options=TICKET_PRIORITIES),
        _p("hs_ticket_category", "Category", "enumeration", "checkbox", g,
           options=TICKET_CATEGORIES),
        _p("source_type", "Source", "enumeration", "select", g, options=TICKET_SOURCES),
        _p("closed_date", "Close date", "datetime", "date", g),
        _p("hs_object_id", "Record ID", "number", "number", g, read_only=True),
        _p("createdate", "Create date", "datetime", "date", g),
        _p("hs_lastmodifieddate", "Last modified date", "datetime", "date", g, read_only=True),
    ]  # fmt: skip


def default_groups(object_type: str) -> list[GroupDef]:
    """HubSpot's built-in property groups for ``object_type``."""
    if object_type == "contacts":
        return [
            GroupDef("contactinformation", "Contact information", 0),
            GroupDef("emailinformation", "Email information", 1),
            GroupDef("conversioninformation", "Conversion information", 2),
            GroupDef("sales_properties", "Sales properties", 3),
        ]
    if object_type == "companies":
        return [
            GroupDef("companyinformation", "Company information", 0),
            GroupDef("company_activity", "Company activity", 1),
            GroupDef("sales_properties", "Sales properties", 2),
        ]
    if object_type == "tickets":
        return [GroupDef("ticketinformation", "Ticket information", 0)]
    return [GroupDef("engagement", "Engagement", 0)]


def default_properties(object_type: str) -> list[PropertyDef]:
    """HubSpot's own properties for ``object_type`` (a representative subset)."""
    from relcrm.sandbox.hubspot.tasks import owner_property  # builds on this module

    if object_type == "contacts":
        g = "contactinformation"
        return [
            _p("email", "Email", "string", "text", g, form_field=True),
            _p("firstname", "First Name", "string", "text", g, form_field=True),
            _p("lastname", "Last Name", "string", "text", g, form_field=True),
            _p("phone", "Phone Number", "string", "phonenumber", g, form_field=True),
            _p("mobilephone", "Mobile Phone Number", "string", "phonenumber", g),
            _p("company", "Company Name", "string", "text", g, form_field=True),
            _p("jobtitle", "Job Title", "string", "text", g, form_field=True),
            _p("website", "Website URL", "string", "text", g),
            _p("city", "City", "string", "text", g),
            _p("country", "Country/Region", "string", "text", g),
            _p("zip", "Postal Code", "string", "text", g),
            _p("message", "Message", "string", "textarea", g, form_field=True),
            _p("date_of_birth", "Date of birth", "string", "text", g),
            _p("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", g,
               options=LIFECYCLE_OPTIONS),
            _p("hs_lead_status", "Lead Status", "enumeration", "radio", "sales_properties",
               options=LEAD_STATUS_OPTIONS),
            _p("hs_email_optout", "Unsubscribed from all email", "bool", "booleancheckbox",
               "emailinformation", options=[("Yes", "true"), ("No", "false")], read_only=True),
            _p("hs_email_domain", "Email Domain", "string", "text", g, read_only=True,
               calculated=True),
            _p("num_associated_deals", "Number of Associated Deals", "number", "number",
               "sales_properties", read_only=True, calculated=True),
            _p("hs_object_id", "Record ID", "number", "number", g, read_only=True),
            _p("createdate", "Create Date", "datetime", "date", g),
            _p("lastmodifieddate", "Last Modified Date", "datetime", "date", g,
               read_only=True),
            owner_property("sales_properties"),
        ]  # fmt: skip
    if object_type == "companies":
        g = "companyinformation"
        return [
            _p("name", "Company name", "string", "text", g),
            _p("domain", "Company Domain Name", "string", "text", g),
            _p("phone", "Phone Number", "string", "phonenumber", g),
            _p("city", "City", "string", "text", g),
            _p("country", "Country/Region", "string", "text", g),
            _p("industry", "Industry", "enumeration", "select", g, options=INDUSTRY_OPTIONS),
            _p("numberofemployees", "Number of Employees", "number", "number", g),
            _p("annualrevenue", "Annual Revenue", "number", "number", g),
            _p("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", g,
               options=LIFECYCLE_OPTIONS),
            _p("hs_object_id", "Record ID", "number", "number", g, read_only=True),
            _p("createdate", "Create Date", "datetime", "date", g),
            _p("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", g,
               read_only=True),
        ]  # fmt: skip
    if object_type == "tickets":
        return ticket_properties()
    if object_type == "tasks":
        from relcrm.sandbox.hubspot.tasks import task_properties  # builds on this module

        return task_properties()
    g = "engagement"
    return [
        _p("hs_note_body", "Note body", "string", "html", g),
        _p("hs_timestamp", "Activity date", "datetime", "date", g),
        _p("hs_attachment_ids", "Attached file IDs", "enumeration", "checkbox", g),
        _p("hs_object_id", "Record ID", "number", "number", g, read_only=True),
        _p("hs_createdate", "Create Date", "datetime", "date", g, read_only=True),
        _p("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", g, read_only=True),
    ]


DEFAULT_RETURNED: dict[str, tuple[str, ...]] = {
    "contacts": (
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    ),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "notes": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    "tickets": (
        "content",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "hs_pipeline",
        "hs_pipeline_stage",
        "hs_ticket_priority",
        "subject",
    ),
    "tasks": (
        "hs_createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "hs_task_status",
        "hs_task_subject",
        "hs_timestamp",
    ),
}
"""Properties a read returns when the caller names none (as the real API does)."""

MODIFIED_PROPERTY: dict[str, str] = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "notes": "hs_lastmodifieddate",
    "tickets": "hs_lastmodifieddate",
    "tasks": "hs_lastmodifieddate",
}
CREATED_PROPERTY: dict[str, str] = {
    "contacts": "createdate",
    "companies": "createdate",
    "notes": "hs_createdate",
    "tickets": "createdate",
    "tasks": "hs_createdate",
}


def problem(name: str, error: str, message: str) -> dict[str, Any]:
    """One entry of the "Property values were not valid" list."""
    return {
        "isValid": False,
        "message": message,
        "error": error,
        "name": name,
        "localizedErrorMessage": message,
    }


def _epoch_ms(text: str) -> int | None:
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int((parsed - EPOCH).total_seconds() * 1000)


def normalise_value(prop: PropertyDef, raw: str) -> tuple[str | None, dict[str, Any] | None]:
    """Check one written value; return what is stored (None clears) or a problem entry.

    Stored forms follow what HubSpot reads back: ``date`` as ``YYYY-MM-DD``, ``datetime``
    as ISO 8601 with milliseconds, ``bool`` lower-case, numbers as written.
    """
    name = prop.name
    if raw == "":
        return None, None
    if prop.type == "number":
        try:
            number = Decimal(raw.strip())
        except InvalidOperation:
            return None, problem(name, "INVALID_INTEGER", f"{raw} was not a valid number.")
        if not number.is_finite():
            return None, problem(name, "INVALID_INTEGER", f"{raw} was not a valid number.")
        return raw.strip(), None
    if prop.type == "bool":
        if raw.lower() not in ("true", "false"):
            return None, problem(
                name, "INVALID_BOOLEAN", f'"{raw}" is not a valid boolean: use true or false.'
            )
        return raw.lower(), None
    if prop.type == "enumeration":
        allowed = [o.value for o in prop.options]
        parts = raw.split(";") if prop.field_type == "checkbox" else [raw]
        for part in parts:
            if part not in allowed:
                return None, problem(
                    name,
                    "INVALID_OPTION",
                    f"{part} was not one of the allowed options: [{', '.join(allowed)}]",
                )
        return raw, None
    if prop.type == "date":
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            try:
                return date.fromisoformat(raw).isoformat(), None
            except ValueError:
                pass
        if re.fullmatch(r"-?\d+", raw):
            ms = int(raw)
            moment = datetime.fromtimestamp(ms / 1000, UTC)
            if ms % 86_400_000:
                frac = (ms % 1000) / 1000
                clock = f"{moment.hour}:{moment.minute}:{moment.second + frac}"
                return None, problem(
                    name, "INVALID_DATE", f"{raw} is at {clock} UTC, not midnight!"
                )
            return moment.date().isoformat(), None
        return None, problem(name, "INVALID_DATE", f"{raw} is not a valid date.")
    if prop.type == "datetime":
        stamp = _epoch_ms(raw)
        if stamp is None:
            return None, problem(name, "INVALID_DATETIME", f"{raw} is not a valid datetime.")
        return iso(datetime.fromtimestamp(stamp / 1000, UTC)), None
    return raw, None


def sortable(prop: PropertyDef | None, value: str) -> tuple[int, Any]:
    """A key that orders and compares values as their property type does (for search)."""
    if prop is not None and prop.type == "number":
        try:
            return (0, Decimal(value))
        except InvalidOperation:
            return (1, value)
    if prop is not None and prop.type in ("date", "datetime"):
        ms = _epoch_ms(value)
        if ms is None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            ms = _epoch_ms(value + "T00:00:00Z")
        return (0, ms) if ms is not None else (1, value)
    return (0, value.lower())


def copy_property(prop: PropertyDef) -> PropertyDef:
    """A deep-enough copy so a reset portal never shares mutable state with the defaults."""
    return replace(prop, options=[replace(o) for o in prop.options])
