"""Table and column definitions (metadata) of the sandbox: ``contact`` and ``lead`` with
their standard columns, custom columns created through the metadata API, option sets and
alternate keys.

Shapes follow the Web API transcripts Microsoft publishes [doc: create-update-column-
definitions-using-web-api: the POST bodies, ``204`` with ``OData-EntityId``, the GET of a
``BooleanAttributeMetadata``]: every attribute carries ``@odata.type``, ``AttributeType``,
``AttributeTypeName``, ``SchemaName``, ``LogicalName``, ``IsCustomAttribute``,
``IsValidFor*``, ``DisplayName``/``Description`` as ``Label`` structures and
``RequiredLevel``; string and memo columns add ``MaxLength``; numbers ``MinValue``,
``MaxValue`` (decimals ``Precision``: digits after the point); date columns ``Format`` and
``DateTimeBehavior``. ``OptionSet`` is a navigation property: it is only returned on the
typed cast path (``…/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata
?$expand=OptionSet``), as Microsoft's own Python SDK reads it
(PowerPlatform-Dataverse-Client 1.1.0, ``_bulk_fetch_picklists``, MIT).

Alternate keys (``EntityKeyMetadata``: ``KeyAttributes``, ``EntityKeyIndexStatus`` Pending /
InProgress / Active / Failed) are indexed in the background [doc: define-alternate-keys-entity;
sample: microsoft/PowerApps-Samples ``BulkOperations/Utility.cs`` polls the status until
Active, MIT]. Here the index job advances one step each time a client reads the key's
status, so a client that polls sees Pending, then InProgress, then Active (or Failed when
the column holds duplicates), and tests never depend on wall-clock time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

LANGUAGE = 1033
CRM = "Microsoft.Dynamics.CRM."

TYPE_NAMES: dict[str, tuple[str, str]] = {
    "String": ("StringAttributeMetadata", "StringType"),
    "Memo": ("MemoAttributeMetadata", "MemoType"),
    "Integer": ("IntegerAttributeMetadata", "IntegerType"),
    "BigInt": ("BigIntAttributeMetadata", "BigIntType"),
    "Decimal": ("DecimalAttributeMetadata", "DecimalType"),
    "Double": ("DoubleAttributeMetadata", "DoubleType"),
    "Money": ("MoneyAttributeMetadata", "MoneyType"),
    "Boolean": ("BooleanAttributeMetadata", "BooleanType"),
    "DateTime": ("DateTimeAttributeMetadata", "DateTimeType"),
    "Picklist": ("PicklistAttributeMetadata", "PicklistType"),
    "State": ("StateAttributeMetadata", "StateType"),
    "Status": ("StatusAttributeMetadata", "StatusType"),
    "Uniqueidentifier": ("UniqueIdentifierAttributeMetadata", "UniqueidentifierType"),
    "Owner": ("LookupAttributeMetadata", "OwnerType"),
}
"""AttributeType -> (metadata type behind ``@odata.type``, ``AttributeTypeName.Value``)."""

CREATABLE: dict[str, str] = {
    "StringAttributeMetadata": "String",
    "MemoAttributeMetadata": "Memo",
    "IntegerAttributeMetadata": "Integer",
    "DecimalAttributeMetadata": "Decimal",
    "DoubleAttributeMetadata": "Double",
    "BooleanAttributeMetadata": "Boolean",
    "DateTimeAttributeMetadata": "DateTime",
    "PicklistAttributeMetadata": "Picklist",
}
"""The column types the sandbox creates through ``POST …/Attributes``."""

OPTION_TYPES = frozenset({"Picklist", "State", "Status"})

STRING_MAX = 4000
MEMO_MAX = 1_048_576
INT_MIN, INT_MAX = -2_147_483_648, 2_147_483_647
DECIMAL_LIMIT = 100_000_000_000
DECIMAL_PRECISION_MAX = 10


def label(text: str) -> dict[str, Any]:
    """A ``Label`` as the Web API returns it (one localized label, and the user's)."""
    localized = {
        "Label": text,
        "LanguageCode": LANGUAGE,
        "IsManaged": False,
        "MetadataId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"label:{text}")),
        "HasChanged": None,
    }
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": dict(localized)}


def label_text(raw: Any) -> str | None:
    """The text of a ``Label`` body (``UserLocalizedLabel`` or the first localized one)."""
    if not isinstance(raw, dict):
        return None
    user = raw.get("UserLocalizedLabel")
    if isinstance(user, dict) and isinstance(user.get("Label"), str):
        return str(user["Label"])
    for item in raw.get("LocalizedLabels") or []:
        if isinstance(item, dict) and isinstance(item.get("Label"), str) and item["Label"]:
            return str(item["Label"])
    return None


@dataclass
class Attribute:
    """One column of a table."""

    logical_name: str
    schema_name: str
    kind: str  # AttributeType
    display_name: str
    description: str = ""
    custom: bool = False
    valid_for_update: bool = True
    valid_for_create: bool = True
    required: str = "None"
    max_length: int | None = None
    format_name: str | None = None
    min_value: float | int | None = None
    max_value: float | int | None = None
    precision: int | None = None
    date_format: str | None = None
    date_behavior: str | None = None
    options: list[tuple[int, str]] = field(default_factory=list)
    true_label: str = "Yes"
    false_label: str = "No"
    primary_id: bool = False
    primary_name: bool = False
    metadata_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    column_number: int = 0

    @property
    def odata_type(self) -> str:
        return TYPE_NAMES[self.kind][0]

    def option_value(self, value: int) -> bool:
        return any(v == value for v, _ in self.options)

    def to_json(self, entity: str, *, option_set: bool = False) -> dict[str, Any]:
        """The attribute as the Web API returns it; ``option_set`` adds the expanded
        ``OptionSet`` (only allowed on the typed cast path)."""
        type_name, type_value = TYPE_NAMES[self.kind]
        body: dict[str, Any] = {
            "@odata.type": f"#{CRM}{type_name}",
            "MetadataId": self.metadata_id,
            "HasChanged": None,
            "AttributeOf": None,
            "AttributeType": self.kind if self.kind != "Owner" else "Owner",
            "ColumnNumber": self.column_number,
            "EntityLogicalName": entity,
            "IsCustomAttribute": self.custom,
            "IsPrimaryId": self.primary_id,
            "IsPrimaryName": self.primary_name,
            "IsValidForCreate": self.valid_for_create,
            "IsValidForRead": True,
            "IsValidForUpdate": self.valid_for_update,
            "IsManaged": not self.custom,
            "IsLogical": False,
            "LogicalName": self.logical_name,
            "SchemaName": self.schema_name,
            "SourceType": 0,
            "AttributeTypeName": {"Value": type_value},
            "Description": label(self.description),
            "DisplayName": label(self.display_name),
            "RequiredLevel": {
                "Value": self.required,
                "CanBeChanged": True,
                "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
            },
        }
        if self.kind == "String":
            body["MaxLength"] = self.max_length
            body["DatabaseLength"] = (self.max_length or 0) * 2
            body["FormatName"] = {"Value": self.format_name or "Text"}
            body["Format"] = self.format_name or "Text"
        elif self.kind == "Memo":
            body["MaxLength"] = self.max_length
            body["Format"] = "TextArea"
        elif self.kind in ("Integer", "BigInt"):
            body["MinValue"] = self.min_value
            body["MaxValue"] = self.max_value
            body["Format"] = "None"
        elif self.kind in ("Decimal", "Double", "Money"):
            body["MinValue"] = self.min_value
            body["MaxValue"] = self.max_value
            body["Precision"] = self.precision
        elif self.kind == "Boolean":
            body["DefaultValue"] = False
        elif self.kind == "DateTime":
            body["Format"] = self.date_format or "DateAndTime"
            body["DateTimeBehavior"] = {"Value": self.date_behavior or "UserLocal"}
        elif self.kind in OPTION_TYPES:
            body["DefaultFormValue"] = -1
        if option_set and self.kind in OPTION_TYPES:
            body["OptionSet"] = self.option_set_json()
        elif option_set and self.kind == "Boolean":
            body["OptionSet"] = {
                "MetadataId": str(uuid.uuid5(uuid.UUID(self.metadata_id), "optionset")),
                "OptionSetType": "Boolean",
                "IsGlobal": False,
                "TrueOption": {"Value": 1, "Label": label(self.true_label)},
                "FalseOption": {"Value": 0, "Label": label(self.false_label)},
            }
        return body

    def option_set_json(self) -> dict[str, Any]:
        return {
            "MetadataId": str(uuid.uuid5(uuid.UUID(self.metadata_id), "optionset")),
            "Name": f"{self.logical_name}",
            "IsGlobal": False,
            "OptionSetType": "Picklist" if self.kind == "Picklist" else self.kind,
            "Options": [
                {"Value": value, "Label": label(text), "Color": None, "IsManaged": not self.custom}
                for value, text in self.options
            ],
        }


KEY_STEPS: tuple[str, ...] = ("Pending", "InProgress", "Active")


@dataclass
class EntityKey:
    """An alternate key and its background index job."""

    logical_name: str
    schema_name: str
    display_name: str
    key_attributes: tuple[str, ...]
    metadata_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    async_job: str = field(default_factory=lambda: str(uuid.uuid4()))
    reads: int = 0
    failed: bool = False
    steps: tuple[str, ...] = KEY_STEPS

    @property
    def status(self) -> str:
        if self.failed:
            return "Failed"
        return self.steps[min(self.reads, len(self.steps) - 1)]

    @property
    def active(self) -> bool:
        return self.status == "Active"

    def to_json(self, entity: str) -> dict[str, Any]:
        return {
            "MetadataId": self.metadata_id,
            "HasChanged": None,
            "LogicalName": self.logical_name,
            "SchemaName": self.schema_name,
            "EntityLogicalName": entity,
            "KeyAttributes": list(self.key_attributes),
            "EntityKeyIndexStatus": self.status,
            "AsyncJob": {"Id": self.async_job, "LogicalName": "asyncoperation", "Name": None},
            "IsManaged": False,
            "IsCustomizable": {
                "Value": True,
                "CanBeChanged": True,
                "ManagedPropertyLogicalName": "iscustomizable",
            },
            "DisplayName": label(self.display_name),
            "IsSecondaryKey": False,
        }


@dataclass
class Entity:
    """One table's definition."""

    logical_name: str
    entity_set: str
    primary_id: str
    primary_name: str
    object_type_code: int
    display_name: str
    attributes: dict[str, Attribute] = field(default_factory=dict)
    keys: dict[str, EntityKey] = field(default_factory=dict)
    metadata_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def add(self, attribute: Attribute) -> Attribute:
        attribute.column_number = len(self.attributes) + 1
        self.attributes[attribute.logical_name] = attribute
        return attribute

    def to_json(self) -> dict[str, Any]:
        return {
            "MetadataId": self.metadata_id,
            "LogicalName": self.logical_name,
            "SchemaName": self.logical_name.capitalize(),
            "EntitySetName": self.entity_set,
            "LogicalCollectionName": self.entity_set,
            "PrimaryIdAttribute": self.primary_id,
            "PrimaryNameAttribute": self.primary_name,
            "ObjectTypeCode": self.object_type_code,
            "IsCustomEntity": False,
            "TableType": "Standard",
            "DisplayName": label(self.display_name),
        }


def _text(name: str, label_: str, length: int, **kw: Any) -> Attribute:
    return Attribute(name, _schema(name), "String", label_, max_length=length, **kw)


SCHEMA_NAMES: dict[str, str] = {
    "firstname": "FirstName", "lastname": "LastName", "fullname": "FullName",
    "emailaddress1": "EMailAddress1", "emailaddress2": "EMailAddress2",
    "telephone1": "Telephone1", "mobilephone": "MobilePhone", "jobtitle": "JobTitle",
    "description": "Description", "donotemail": "DoNotEMail", "statecode": "StateCode",
    "statuscode": "StatusCode", "createdon": "CreatedOn", "modifiedon": "ModifiedOn",
    "birthdate": "BirthDate", "numberofchildren": "NumberOfChildren",
    "preferredcontactmethodcode": "PreferredContactMethodCode", "subject": "Subject",
    "companyname": "CompanyName", "leadsourcecode": "LeadSourceCode",
    "leadqualitycode": "LeadQualityCode",
}  # fmt: skip
"""The standard columns' schema names (the logical name is always the lower-cased one)."""


def _schema(name: str) -> str:
    return SCHEMA_NAMES.get(name, name)


def _options(kind: str, name: str, label_: str, options: list[tuple[int, str]]) -> Attribute:
    return Attribute(name, _schema(name), kind, label_, options=options)


def _read_only(attribute: Attribute) -> Attribute:
    attribute.valid_for_update = False
    attribute.valid_for_create = False
    return attribute


def _common(entity: Entity, states: list[tuple[int, str]], statuses: list[tuple[int, str]]) -> None:
    pk = Attribute(
        entity.primary_id,
        f"{entity.logical_name.capitalize()}Id",
        "Uniqueidentifier",
        entity.display_name,
        primary_id=True,
        valid_for_update=False,
    )
    entity.add(pk)
    entity.add(_text("firstname", "First Name", 50))
    entity.add(_text("lastname", "Last Name", 50))
    entity.add(_read_only(_text("fullname", "Full Name", 160, primary_name=True)))
    entity.add(_text("emailaddress1", "Email", 100, format_name="Email"))
    entity.add(_text("telephone1", "Business Phone", 50, format_name="Phone"))
    entity.add(_text("jobtitle", "Job Title", 100))
    entity.add(Attribute("description", _schema("description"), "Memo", "Description",
                         max_length=2000))  # fmt: skip
    entity.add(
        Attribute(
            "donotemail",
            "DoNotEMail",
            "Boolean",
            "Do not allow Emails",
            true_label="Do Not Allow",
            false_label="Allow",
        )
    )
    entity.add(_options("State", "statecode", "Status", states))
    entity.add(_options("Status", "statuscode", "Status Reason", statuses))
    for name, text in (("createdon", "Created On"), ("modifiedon", "Modified On")):
        entity.add(
            _read_only(
                Attribute(
                    name,
                    _schema(name),
                    "DateTime",
                    text,
                    date_format="DateAndTime",
                    date_behavior="UserLocal",
                )
            )
        )


def default_entities() -> dict[str, Entity]:
    """``contact`` and ``lead`` with the standard columns integrations touch (real logical
    names and lengths: ``emailaddress1`` 100, ``firstname``/``lastname`` 50, ``description``
    a 2,000-character memo...)."""
    contact = Entity("contact", "contacts", "contactid", "fullname", 2, "Contact")
    _common(contact, [(0, "Active"), (1, "Inactive")], [(1, "Active"), (2, "Inactive")])
    contact.add(_text("emailaddress2", "Email Address 2", 100, format_name="Email"))
    contact.add(_text("mobilephone", "Mobile Phone", 50, format_name="Phone"))
    contact.add(
        Attribute(
            "birthdate",
            "BirthDate",
            "DateTime",
            "Birthday",
            date_format="DateOnly",
            date_behavior="DateOnly",
        )
    )
    contact.add(
        Attribute(
            "numberofchildren",
            "NumberOfChildren",
            "Integer",
            "No. of Children",
            min_value=0,
            max_value=1_000_000_000,
        )
    )
    contact.add(
        _options(
            "Picklist",
            "preferredcontactmethodcode",
            "Preferred Method of Contact",
            [(1, "Any"), (2, "Email"), (3, "Phone"), (4, "Fax"), (5, "Mail")],
        )
    )
    lead = Entity("lead", "leads", "leadid", "fullname", 4, "Lead")
    _common(
        lead,
        [(0, "Open"), (1, "Qualified"), (2, "Disqualified")],
        [(1, "New"), (2, "Contacted"), (3, "Qualified"), (4, "Lost")],
    )
    lead.add(_text("subject", "Topic", 300))
    lead.add(_text("companyname", "Company Name", 100))
    lead.add(
        _options(
            "Picklist",
            "leadsourcecode",
            "Lead Source",
            [
                (1, "Advertisement"),
                (2, "Employee Referral"),
                (3, "External Referral"),
                (4, "Partner"),
                (5, "Public Relations"),
                (6, "Seminar"),
                (7, "Trade Show"),
                (8, "Web"),
                (9, "Word of Mouth"),
                (10, "Other"),
            ],
        )
    )
    lead.add(
        _options("Picklist", "leadqualitycode", "Rating", [(1, "Hot"), (2, "Warm"), (3, "Cold")])
    )
    from relcrm.sandbox.dataverse.tasks import extend  # builds on this module

    return extend({contact.logical_name: contact, lead.logical_name: lead})
