"""Object and field definitions of the emulated org, and their describe renderings.

The describe output copies the key set and the typical values of a real org's answer
(recorded in ``shared/reference/cumulusci/shared_cassettes``): every field carries the
same 57 keys, with ``byteLength`` = 3 x length for text, ``soapType`` by type, and so on,
because clients (and relcrm's mapping checker) read these keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TEXT_TYPES = frozenset(
    {"string", "email", "phone", "url", "textarea", "picklist", "multipicklist", "combobox"}
)
NUMBER_TYPES = frozenset({"double", "percent", "currency", "int"})
_FULL_URLS = frozenset(
    {
        "approvalLayouts",
        "compactLayouts",
        "describe",
        "layouts",
        "listviews",
        "quickActions",
        "rowTemplate",
        "sobject",
    }
)
URL_KINDS: dict[str, frozenset[str]] = {
    "full": _FULL_URLS,
    "case": _FULL_URLS | {"caseArticleSuggestions", "caseRowArticleSuggestions"},
    "user": frozenset(
        {
            "compactLayouts",
            "describe",
            "layouts",
            "namedLayouts",
            "passwordUtilities",
            "quickActions",
            "rowTemplate",
            "sobject",
        }
    ),
    "minimal": frozenset({"describe", "rowTemplate", "sobject"}),
}
SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "double": "xsd:double",
    "percent": "xsd:double",
    "currency": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "address": "urn:address",
}


@dataclass
class FieldDef:
    """One field of one object, with the properties the emulator enforces."""

    name: str
    label: str
    type: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    digits: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    default_value: Any = None
    id_lookup: bool = False
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    picklist: tuple[str, ...] = ()
    picklist_default: str | None = None
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    child_relationship: str | None = None
    custom: bool = False
    name_field: bool = False
    auto_number: bool = False
    extra_type_info: str | None = None
    compound_field_name: str | None = None
    inline_help_text: str | None = None
    description: str | None = None
    requires_fls: bool = False
    """Created through the Tooling API: invisible to the API user until FLS grants it."""
    tooling_id: str | None = None
    visible_lines: int | None = None
    permissionable: bool | None = None
    """Override; by default a field is permissionable when it is optional and writable."""

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES

    @property
    def is_system(self) -> bool:
        return not self.createable and not self.updateable

    @property
    def is_permissionable(self) -> bool:
        """Whether field-level security applies (real orgs: optional, writable fields)."""
        if self.permissionable is not None:
            return self.permissionable
        optional = self.nillable or self.type == "boolean"
        return optional and not self.is_system and self.name != "Id"

    @property
    def required_on_create(self) -> bool:
        """Required as Salesforce defines it: not nillable, creatable, and not defaulted."""
        return (
            not self.nillable
            and self.createable
            and not self.defaulted_on_create
            and self.type != "boolean"
        )

    def describe(self, *, editable: bool = True) -> dict[str, Any]:
        """This field's entry of ``fields[]`` in ``GET sobjects/{T}/describe``.

        ``editable`` is the caller's field-level edit access: a real org reports
        ``createable``/``updateable`` as false to a user who may only read the field.
        """
        t = self.type
        createable = self.createable and editable
        updateable = self.updateable and editable
        text = self.is_text
        if t in ("id", "reference"):
            byte_length = 18
        elif text:
            byte_length = self.length * 3
        else:
            byte_length = 0
        picklist_values = [
            {
                "active": True,
                "defaultValue": value == self.picklist_default,
                "label": value,
                "validFor": None,
                "value": value,
            }
            for value in self.picklist
        ]
        long_text = t == "textarea" and self.length > 255
        return {
            "aggregatable": not long_text and t not in ("address", "boolean"),
            "aiPredictionField": False,
            "autoNumber": self.auto_number,
            "byteLength": byte_length,
            "calculated": False,
            "calculatedFormula": None,
            "cascadeDelete": False,
            "caseSensitive": self.case_sensitive,
            "compoundFieldName": self.compound_field_name,
            "controllerName": None,
            "createable": createable,
            "custom": self.custom,
            "defaultValue": self.default_value,
            "defaultValueFormula": None,
            "defaultedOnCreate": self.defaulted_on_create,
            "dependentPicklist": False,
            "deprecatedAndHidden": False,
            "digits": self.digits,
            "displayLocationInDecimal": False,
            "encrypted": False,
            "externalId": self.external_id,
            "extraTypeInfo": self.extra_type_info,
            "filterable": not long_text,
            "filteredLookupInfo": None,
            "formulaTreatNullNumberAsZero": False,
            "groupable": not long_text and t not in NUMBER_TYPES - {"int"} | {"datetime"},
            "highScaleNumber": False,
            "htmlFormatted": False,
            "idLookup": self.id_lookup,
            "inlineHelpText": self.inline_help_text,
            "label": self.label,
            "length": self.length if (text or t in ("id", "reference")) else 0,
            "mask": None,
            "maskType": None,
            "name": self.name,
            "nameField": self.name_field,
            "namePointing": False,
            "nillable": self.nillable,
            "permissionable": self.is_permissionable,
            "picklistValues": picklist_values,
            "polymorphicForeignKey": False,
            "precision": self.precision,
            "queryByDistance": False,
            "referenceTargetField": None,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "relationshipOrder": None,
            "restrictedDelete": False,
            "restrictedPicklist": self.restricted,
            "scale": self.scale,
            "searchPrefilterable": t == "reference"
            and self.createable
            and self.updateable
            and self.name != "OwnerId",
            "soapType": SOAP_TYPES.get(t, "xsd:string"),
            "sortable": not long_text,
            "type": t,
            "unique": self.unique,
            "updateable": updateable,
            "writeRequiresMasterRead": False,
        }


@dataclass
class ObjectDef:
    """One sObject type: its flags, key prefix and fields (in describe order)."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: dict[str, FieldDef] = field(default_factory=dict)
    custom: bool = False
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    queryable: bool = True
    feed_enabled: bool = False
    mergeable: bool = False
    tooling: bool = False
    layoutable: bool = True
    url_style: str = "full"

    def add(self, *defs: FieldDef) -> ObjectDef:
        for d in defs:
            self.fields[d.name] = d
        return self

    def field_ci(self, name: str) -> FieldDef | None:
        """Field by API name, case-insensitively (Salesforce names are)."""
        exact = self.fields.get(name)
        if exact is not None:
            return exact
        lowered = name.lower()
        for candidate in self.fields.values():
            if candidate.name.lower() == lowered:
                return candidate
        return None

    def urls(self, version: str) -> dict[str, str]:
        """The ``urls`` a real org lists for this kind of object (they differ by object)."""
        base = f"/services/data/v{version}/sobjects/{self.name}"
        every = {
            "compactLayouts": f"{base}/describe/compactLayouts",
            "rowTemplate": f"{base}/{{ID}}",
            "approvalLayouts": f"{base}/describe/approvalLayouts",
            "caseArticleSuggestions": f"{base}/suggestedArticles",
            "caseRowArticleSuggestions": f"{base}/{{ID}}/suggestedArticles",
            "listviews": f"{base}/listviews",
            "describe": f"{base}/describe",
            "quickActions": f"{base}/quickActions",
            "layouts": f"{base}/describe/layouts",
            "namedLayouts": f"{base}/describe/namedLayouts/{{relationshipName}}",
            "passwordUtilities": f"/services/data/v{version}/sobjects/User/{{ID}}/password",
            "sobject": base,
        }
        return {k: v for k, v in every.items() if k in URL_KINDS[self.url_style]}

    def global_entry(self, version: str) -> dict[str, Any]:
        """This object's entry of ``sobjects[]`` in the global describe."""
        return {
            "activateable": False,
            "associateEntityType": None,
            "associateParentEntity": None,
            "createable": self.createable,
            "custom": self.custom,
            "customSetting": False,
            "deepCloneable": False,
            "deletable": self.deletable,
            "deprecatedAndHidden": False,
            "feedEnabled": self.feed_enabled,
            "hasSubtypes": False,
            "isInterface": False,
            "isSubtype": False,
            "keyPrefix": self.key_prefix,
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": self.layoutable,
            "mergeable": self.mergeable,
            "mruEnabled": True,
            "name": self.name,
            "queryable": self.queryable,
            "replicateable": True,
            "retrieveable": True,
            "searchable": True,
            "triggerable": True,
            "undeletable": self.deletable,
            "updateable": self.updateable,
            "urls": self.urls(version),
        }

    def describe(
        self,
        version: str,
        instance_url: str,
        visible_fields: list[FieldDef],
        child_relationships: list[dict[str, Any]],
        editable: Callable[[FieldDef], bool] | None = None,
    ) -> dict[str, Any]:
        """The body of ``GET sobjects/{T}/describe`` for the calling user.

        ``editable`` tells whether the caller has field-level edit access to a field
        (``None``: every field is editable as defined, as the Tooling describe shows it).
        """
        entry = self.global_entry(version)
        entry.pop("urls")
        urls = self.urls(version)
        urls["uiDetailTemplate"] = f"{instance_url}/{{ID}}"
        urls["uiEditTemplate"] = f"{instance_url}/{{ID}}/e"
        urls["uiNewRecord"] = f"{instance_url}/{self.key_prefix}/e"
        entry.update(
            {
                "actionOverrides": [],
                "childRelationships": child_relationships,
                "compactLayoutable": True,
                "defaultImplementation": None,
                "extendedBy": None,
                "extendsInterfaces": None,
                "fields": [
                    f.describe(editable=editable(f) if editable is not None else True)
                    for f in visible_fields
                ],
                "implementedBy": None,
                "implementsInterfaces": None,
                "listviewable": None,
                "lookupLayoutable": None,
                "namedLayoutInfos": [],
                "networkScopeFieldName": None,
                "recordTypeInfos": [
                    {
                        "active": True,
                        "available": True,
                        "defaultRecordTypeMapping": True,
                        "developerName": "Master",
                        "master": True,
                        "name": "Master",
                        "recordTypeId": "012000000000000AAA",
                        "urls": {
                            "layout": f"/services/data/v{version}/sobjects/{self.name}"
                            "/describe/layouts/012000000000000AAA"
                        },
                    }
                ],
                "searchLayoutable": True,
                "sobjectDescribeOption": "FULL",
                "supportedScopes": [
                    {"label": f"All {self.label_plural.lower()}", "name": "everything"},
                    {"label": f"My {self.label_plural.lower()}", "name": "mine"},
                ],
                "urls": urls,
            }
        )
        return dict(sorted(entry.items()))


# ---------------------------------------------------------------- field helpers


def text(name: str, label: str, length: int, **kw: Any) -> FieldDef:
    return FieldDef(name, label, "string", length=length, **kw)


def picklist(name: str, label: str, values: tuple[str, ...], **kw: Any) -> FieldDef:
    kw.setdefault("length", 40 if not kw.get("custom") else 255)
    return FieldDef(name, label, "picklist", picklist=values, **kw)


def ref(
    name: str, label: str, target: str, relationship: str | None, child: str | None, **kw: Any
) -> FieldDef:
    return FieldDef(
        name,
        label,
        "reference",
        length=18,
        reference_to=(target,),
        relationship_name=relationship,
        child_relationship=child,
        **kw,
    )


def long_text(name: str, label: str, length: int = 32000, **kw: Any) -> FieldDef:
    return FieldDef(name, label, "textarea", length=length, extra_type_info="plaintextarea", **kw)


def flag(name: str, label: str, *, default: bool = False, **kw: Any) -> FieldDef:
    return FieldDef(
        name,
        label,
        "boolean",
        nillable=False,
        defaulted_on_create=True,
        default_value=default,
        **kw,
    )


def readonly(d: FieldDef) -> FieldDef:
    d.createable = False
    d.updateable = False
    return d


def system_fields(label: str, *, owner: bool = True) -> list[FieldDef]:
    """Id, IsDeleted, OwnerId and the audit fields every object carries."""
    result = [
        FieldDef(
            "Id",
            f"{label} ID",
            "id",
            length=18,
            nillable=False,
            createable=False,
            updateable=False,
            defaulted_on_create=True,
            id_lookup=True,
        ),
        readonly(flag("IsDeleted", "Deleted")),
    ]
    if owner:
        result.append(
            ref(
                "OwnerId",
                "Owner ID",
                "User",
                "Owner",
                None,
                nillable=False,
                defaulted_on_create=True,
            )
        )
    for name, lab, kind in (
        ("CreatedDate", "Created Date", "datetime"),
        ("CreatedById", "Created By ID", "reference"),
        ("LastModifiedDate", "Last Modified Date", "datetime"),
        ("LastModifiedById", "Last Modified By ID", "reference"),
        ("SystemModstamp", "System Modstamp", "datetime"),
    ):
        if kind == "reference":
            d = ref(name, lab, "User", name[:-2], None, nillable=False, defaulted_on_create=True)
        else:
            d = FieldDef(name, lab, kind, nillable=False, defaulted_on_create=True)
        result.append(readonly(d))
    return result


def _split_system(defs: list[FieldDef]) -> tuple[list[FieldDef], list[FieldDef]]:
    head = [d for d in defs if d.name in ("Id", "IsDeleted")]
    tail = [d for d in defs if d.name not in ("Id", "IsDeleted")]
    return head, tail


def make_object(
    name: str,
    label: str,
    plural: str,
    prefix: str,
    body: list[FieldDef],
    *,
    owner: bool = True,
    **kw: Any,
) -> ObjectDef:
    head, tail = _split_system(system_fields(label, owner=owner))
    obj = ObjectDef(name, label, plural, prefix, **kw)
    obj.add(*head, *body, *tail)
    return obj


SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
INDUSTRIES = (
    "Agriculture",
    "Banking",
    "Communications",
    "Education",
    "Energy",
    "Finance",
    "Healthcare",
    "Manufacturing",
    "Media",
    "Retail",
    "Technology",
    "Other",
)


def address(prefix: str, label_prefix: str) -> list[FieldDef]:
    p = prefix
    return [
        FieldDef(
            f"{p}Street",
            f"{label_prefix} Street",
            "textarea",
            length=255,
            compound_field_name=f"{p}Address",
            extra_type_info="plaintextarea",
        ),
        text(f"{p}City", f"{label_prefix} City", 40, compound_field_name=f"{p}Address"),
        text(f"{p}State", f"{label_prefix} State/Province", 80, compound_field_name=f"{p}Address"),
        text(
            f"{p}PostalCode",
            f"{label_prefix} Zip/Postal Code",
            20,
            compound_field_name=f"{p}Address",
        ),
        text(f"{p}Country", f"{label_prefix} Country", 80, compound_field_name=f"{p}Address"),
    ]


def standard_objects() -> list[ObjectDef]:
    """The standard objects the sandbox knows, with the fields integrations use."""
    contact = make_object(
        "Contact",
        "Contact",
        "Contacts",
        "003",
        [
            ref(
                "MasterRecordId",
                "Master Record ID",
                "Contact",
                "MasterRecord",
                None,
                createable=False,
                updateable=False,
            ),
            ref("AccountId", "Account ID", "Account", "Account", "Contacts"),
            text(
                "LastName",
                "Last Name",
                80,
                nillable=False,
                compound_field_name="Name",
                extra_type_info="personname",
            ),
            text(
                "FirstName",
                "First Name",
                40,
                compound_field_name="Name",
                extra_type_info="personname",
                permissionable=False,
            ),
            picklist(
                "Salutation",
                "Salutation",
                SALUTATIONS,
                compound_field_name="Name",
                extra_type_info="personname",
                permissionable=False,
            ),
            readonly(
                text(
                    "Name",
                    "Full Name",
                    121,
                    nillable=False,
                    name_field=True,
                    extra_type_info="personname",
                )
            ),
            *address("Mailing", "Mailing"),
            FieldDef("Phone", "Business Phone", "phone", length=40),
            FieldDef("MobilePhone", "Mobile Phone", "phone", length=40),
            FieldDef("HomePhone", "Home Phone", "phone", length=40),
            FieldDef("Email", "Email", "email", length=80, id_lookup=True),
            text("Title", "Title", 128),
            text("Department", "Department", 80),
            picklist("LeadSource", "Lead Source", LEAD_SOURCES, length=255),
            FieldDef("Birthdate", "Birthdate", "date"),
            long_text("Description", "Contact Description"),
            flag("HasOptedOutOfEmail", "Email Opt Out"),
            flag("DoNotCall", "Do Not Call"),
            readonly(FieldDef("LastActivityDate", "Last Activity", "date")),
        ],
        feed_enabled=True,
        mergeable=True,
    )

    lead = make_object(
        "Lead",
        "Lead",
        "Leads",
        "00Q",
        [
            ref(
                "MasterRecordId",
                "Master Record ID",
                "Lead",
                "MasterRecord",
                None,
                createable=False,
                updateable=False,
            ),
            text(
                "LastName",
                "Last Name",
                80,
                nillable=False,
                compound_field_name="Name",
                extra_type_info="personname",
            ),
            text(
                "FirstName",
                "First Name",
                40,
                compound_field_name="Name",
                extra_type_info="personname",
                permissionable=False,
            ),
            picklist(
                "Salutation",
                "Salutation",
                SALUTATIONS,
                compound_field_name="Name",
                extra_type_info="personname",
                permissionable=False,
            ),
            readonly(
                text(
                    "Name",
                    "Full Name",
                    121,
                    nillable=False,
                    name_field=True,
                    extra_type_info="personname",
                )
            ),
            text("Title", "Title", 128),
            text("Company", "Company", 255, nillable=False),
            *address("", ""),
            FieldDef("Phone", "Phone", "phone", length=40),
            FieldDef("MobilePhone", "Mobile Phone", "phone", length=40),
            FieldDef("Email", "Email", "email", length=80, id_lookup=True),
            FieldDef("Website", "Website", "url", length=255),
            long_text("Description", "Description"),
            picklist("LeadSource", "Lead Source", LEAD_SOURCES),
            picklist(
                "Status",
                "Status",
                (
                    "Open - Not Contacted",
                    "Working - Contacted",
                    "Closed - Converted",
                    "Closed - Not Converted",
                ),
                nillable=False,
                defaulted_on_create=True,
                picklist_default="Open - Not Contacted",
            ),
            picklist("Industry", "Industry", INDUSTRIES),
            picklist("Rating", "Rating", ("Hot", "Warm", "Cold")),
            FieldDef("AnnualRevenue", "Annual Revenue", "currency", precision=18, scale=0),
            FieldDef("NumberOfEmployees", "Employees", "int", digits=8),
            flag("HasOptedOutOfEmail", "Email Opt Out"),
            readonly(flag("IsConverted", "Converted")),
            readonly(
                ref(
                    "ConvertedContactId",
                    "Converted Contact ID",
                    "Contact",
                    "ConvertedContact",
                    None,
                )
            ),
        ],
        feed_enabled=True,
        mergeable=True,
    )
    for f in ("Street", "City", "State", "PostalCode", "Country"):
        lead.fields[f].compound_field_name = "Address"
        lead.fields[f].label = lead.fields[f].label.strip()

    account = make_object(
        "Account",
        "Account",
        "Accounts",
        "001",
        [
            ref(
                "MasterRecordId",
                "Master Record ID",
                "Account",
                "MasterRecord",
                None,
                createable=False,
                updateable=False,
            ),
            text(
                "Name",
                "Account Name",
                255,
                nillable=False,
                name_field=True,
                extra_type_info="switchablepersonname",
            ),
            picklist(
                "Type",
                "Account Type",
                ("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"),
            ),
            ref("ParentId", "Parent Account ID", "Account", "Parent", "ChildAccounts"),
            *address("Billing", "Billing"),
            FieldDef("Phone", "Account Phone", "phone", length=40),
            FieldDef("Fax", "Account Fax", "phone", length=40),
            text("AccountNumber", "Account Number", 40),
            FieldDef("Website", "Website", "url", length=255),
            picklist("Industry", "Industry", INDUSTRIES),
            FieldDef("AnnualRevenue", "Annual Revenue", "currency", precision=18, scale=0),
            FieldDef("NumberOfEmployees", "Employees", "int", digits=8),
            long_text("Description", "Account Description"),
            picklist("Rating", "Account Rating", ("Hot", "Warm", "Cold")),
            text("Site", "Account Site", 80),
            picklist("AccountSource", "Account Source", LEAD_SOURCES),
        ],
        feed_enabled=True,
        mergeable=True,
    )

    case = make_object(
        "Case",
        "Case",
        "Cases",
        "500",
        [
            readonly(
                text(
                    "CaseNumber",
                    "Case Number",
                    30,
                    nillable=False,
                    defaulted_on_create=True,
                    auto_number=True,
                    name_field=True,
                    id_lookup=True,
                )
            ),
            ref("ContactId", "Contact ID", "Contact", "Contact", "Cases"),
            ref("AccountId", "Account ID", "Account", "Account", "Cases"),
            # ContactEmail/ContactPhone: read-only copies of the contact's, kept current
            readonly(FieldDef("ContactEmail", "Contact Email", "email", length=80)),
            readonly(FieldDef("ContactPhone", "Contact Phone", "phone", length=40)),
            text("SuppliedName", "Name", 80),
            FieldDef("SuppliedEmail", "Email Address", "email", length=80),
            text("SuppliedPhone", "Phone", 40),
            picklist(
                "Type",
                "Case Type",
                ("Mechanical", "Electrical", "Electronic", "Structural", "Other"),
            ),
            picklist(
                "Status",
                "Status",
                ("New", "Working", "Escalated", "Closed"),
                defaulted_on_create=True,
                picklist_default="New",
            ),
            picklist(
                "Reason",
                "Case Reason",
                (
                    "Installation",
                    "Equipment Complexity",
                    "Performance",
                    "Breakdown",
                    "Equipment Design",
                    "Feedback",
                    "Other",
                ),
            ),
            picklist("Origin", "Case Origin", ("Phone", "Email", "Web")),
            text("Subject", "Subject", 255),
            picklist(
                "Priority",
                "Priority",
                ("High", "Medium", "Low"),
                defaulted_on_create=True,
                picklist_default="Medium",
            ),
            long_text("Description", "Description"),
            readonly(flag("IsClosed", "Closed")),
            readonly(FieldDef("ClosedDate", "Closed Date", "datetime")),
            flag("IsEscalated", "Escalated"),
        ],
        feed_enabled=True,
        url_style="case",
    )

    opportunity = make_object(
        "Opportunity",
        "Opportunity",
        "Opportunities",
        "006",
        [
            ref("AccountId", "Account ID", "Account", "Account", "Opportunities"),
            text("Name", "Name", 120, nillable=False, name_field=True, id_lookup=True),
            long_text("Description", "Description"),
            picklist(
                "StageName",
                "Stage",
                (
                    "Prospecting",
                    "Qualification",
                    "Needs Analysis",
                    "Value Proposition",
                    "Id. Decision Makers",
                    "Perception Analysis",
                    "Proposal/Price Quote",
                    "Negotiation/Review",
                    "Closed Won",
                    "Closed Lost",
                ),
                nillable=False,
                length=255,
            ),
            FieldDef("Amount", "Amount", "currency", precision=18, scale=2),
            FieldDef(
                "Probability",
                "Probability (%)",
                "percent",
                precision=3,
                scale=0,
                defaulted_on_create=True,
            ),
            FieldDef("CloseDate", "Close Date", "date", nillable=False),
            picklist(
                "Type",
                "Opportunity Type",
                ("Existing Customer - Upgrade", "New Customer", "Other"),
                length=255,
            ),
            picklist("LeadSource", "Lead Source", LEAD_SOURCES, length=255),
            readonly(flag("IsClosed", "Closed")),
            readonly(flag("IsWon", "Won")),
            # Real orgs: creatable, not updatable, and no parent relationship name.
            ref("ContactId", "Contact ID", "Contact", None, "Opportunities", updateable=False),
        ],
        feed_enabled=True,
    )

    user = make_object(
        "User",
        "User",
        "Users",
        "005",
        [
            text("Username", "Username", 80, nillable=False, id_lookup=True, unique=True),
            text("LastName", "Last Name", 80, nillable=False),
            text("FirstName", "First Name", 40),
            readonly(text("Name", "Full Name", 121, name_field=True)),
            FieldDef("Email", "Email", "email", length=128, nillable=False),
            text("Alias", "Alias", 8, nillable=False),
            flag("IsActive", "Active", default=True),
        ],
        owner=False,
        createable=False,
        deletable=False,
        feed_enabled=True,
        url_style="user",
    )

    organization = make_object(
        "Organization",
        "Organization",
        "Organizations",
        "00D",
        [
            readonly(text("Name", "Name", 80, nillable=False, name_field=True)),
            readonly(flag("IsSandbox", "Is Sandbox")),
            readonly(text("OrganizationType", "Edition", 40)),
            readonly(text("InstanceName", "Instance Name", 5)),
        ],
        owner=False,
        createable=False,
        updateable=False,
        deletable=False,
        layoutable=False,
        url_style="minimal",
    )

    permission_set = make_object(
        "PermissionSet",
        "Permission Set",
        "Permission Sets",
        "0PS",
        [
            text("Name", "Name", 80, nillable=False, name_field=True),
            text("Label", "Label", 80, nillable=False),
            FieldDef("Description", "Description", "textarea", length=255),
            readonly(flag("IsOwnedByProfile", "Is Owned By Profile")),
        ],
        owner=False,
        url_style="minimal",
    )

    field_permissions = make_object(
        "FieldPermissions",
        "Field Permissions",
        "Field Permissions",
        "01k",
        [
            ref(
                "ParentId",
                "Parent ID",
                "PermissionSet",
                "Parent",
                "FieldPerms",
                nillable=False,
                updateable=False,
            ),
            text("SobjectType", "Sobject Type Name", 40, nillable=False, updateable=False),
            text("Field", "Field Name", 255, nillable=False, updateable=False),
            flag("PermissionsEdit", "Edit Field"),
            flag("PermissionsRead", "Read Field"),
        ],
        owner=False,
        url_style="minimal",
    )

    assignment = make_object(
        "PermissionSetAssignment",
        "Permission Set Assignment",
        "Permission Set Assignments",
        "0Pa",
        [
            ref(
                "AssigneeId",
                "Assignee ID",
                "User",
                "Assignee",
                "PermissionSetAssignments",
                nillable=False,
                updateable=False,
            ),
            ref(
                "PermissionSetId",
                "Permission Set ID",
                "PermissionSet",
                "PermissionSet",
                "Assignments",
                nillable=False,
                updateable=False,
            ),
        ],
        owner=False,
        updateable=False,
        url_style="minimal",
    )
    from relcrm.sandbox.salesforce.tasks import task_object  # builds on this module

    return [
        contact,
        lead,
        account,
        case,
        task_object(),
        opportunity,
        user,
        organization,
        permission_set,
        field_permissions,
        assignment,
    ]


def custom_object(name: str, label: str, plural: str, key_prefix: str) -> ObjectDef:
    """A custom object with its standard fields (Id, Name, OwnerId and audit fields)."""
    return make_object(
        name,
        label,
        plural,
        key_prefix,
        [
            text("Name", f"{label} Name", 80, name_field=True),
        ],
        custom=True,
    )


def custom_field_object() -> ObjectDef:
    """The Tooling API's CustomField, as queried by ``tooling/query``."""
    obj = ObjectDef(
        "CustomField", "Custom Field Definition", "Custom Field Definitions", "00N", tooling=True
    )
    obj.add(
        FieldDef(
            "Id",
            "Custom Field Definition ID",
            "id",
            length=18,
            nillable=False,
            createable=False,
            updateable=False,
            id_lookup=True,
        ),
        text("DeveloperName", "Field Name", 40, nillable=False),
        text("TableEnumOrId", "Table Enum or ID", 40, nillable=False),
        text("NamespacePrefix", "Namespace Prefix", 15),
        text("ManageableState", "Manageable State", 40),
        text("FullName", "Full Name", 255),
        FieldDef("Metadata", "Metadata", "complexvalue"),
        text("Description", "Description", 1000),
        readonly(FieldDef("CreatedDate", "Created Date", "datetime", nillable=False)),
        readonly(FieldDef("LastModifiedDate", "Last Modified Date", "datetime", nillable=False)),
    )
    return obj
