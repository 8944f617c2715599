"""Creating relcrm's custom fields and making them visible to the integration user.

A field created through the Tooling API has no field-level security: describe, SOQL and
writes act as if it did not exist. So provisioning is four steps, each skipped when it
is already done (a second run creates nothing):

1. create the missing fields (``tooling/sobjects/CustomField/``);
2. create or reuse the ``relcrm`` permission set;
3. grant read and edit on every wanted field through ``FieldPermissions``;
4. assign the permission set to the integration user;

then describe the object again to prove the fields are visible and writable.
``dry_run=True`` computes the same plan and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from relcrm.connectors.errors import PermissionDenied
from relcrm.connectors.salesforce.describe import field_specs
from relcrm.connectors.salesforce.soql import check_name, soql_quote
from relcrm.errors import ConfigurationError
from relcrm.models import FieldSpec, FieldType, ProvisionChange, ProvisionPlan

if TYPE_CHECKING:
    from relcrm.connectors.salesforce.client import SalesforceClient

PERMISSION_SET_NAME = "relcrm"
PERMISSION_SET_LABEL = "relcrm"
MAX_NAME = 40
_DEV_NAME = re.compile(r"^[A-Za-z](?!.*__)[A-Za-z0-9_]*(?<!_)$")


def api_name(spec: FieldSpec) -> str:
    """The custom field's API name (``Health__c``), checked against Salesforce's rules."""
    name = spec.name if spec.name.endswith("__c") else f"{spec.name}__c"
    developer = name[:-3]
    if not _DEV_NAME.match(developer) or len(developer) > MAX_NAME:
        raise ConfigurationError(
            f"{spec.name!r} cannot be a Salesforce custom field name",
            hint=f"use letters, digits and single underscores, at most {MAX_NAME} characters,"
            " starting with a letter",
        )
    if len(spec.label) > MAX_NAME:
        raise ConfigurationError(f"label of {spec.name!r} is longer than {MAX_NAME} characters")
    return name


def field_metadata(spec: FieldSpec) -> dict[str, Any]:
    """The Tooling API ``Metadata`` for one spec."""
    meta: dict[str, Any] = {"label": spec.label, "required": False}
    if spec.external_id:
        meta["externalId"] = True
    kind = spec.type
    if kind is FieldType.TEXT:
        meta.update(type="Text", length=spec.length or 255)
    elif kind is FieldType.LONG_TEXT:
        meta.update(type="LongTextArea", length=spec.length or 32768, visibleLines=3)
    elif kind in (FieldType.NUMBER, FieldType.PERCENT):
        meta.update(
            type="Number" if kind is FieldType.NUMBER else "Percent",
            precision=spec.precision or 18,
            scale=spec.scale if spec.scale is not None else 0,
        )
    elif kind is FieldType.CHECKBOX:
        meta.update(type="Checkbox", defaultValue="false")
        meta.pop("required")
    elif kind is FieldType.DATE:
        meta.update(type="Date")
    elif kind is FieldType.DATETIME:
        meta.update(type="DateTime")
    elif kind in (FieldType.PICKLIST, FieldType.MULTI_PICKLIST):
        if not spec.picklist_values:
            raise ConfigurationError(f"picklist {spec.name!r} needs at least one value")
        if kind is FieldType.MULTI_PICKLIST:
            meta.update(type="MultiselectPicklist", visibleLines=4)
        else:
            meta.update(type="Picklist")
        meta.update(
            valueSet={
                "restricted": spec.restricted,
                "valueSetDefinition": {
                    "sorted": False,
                    "value": [
                        {"fullName": v, "label": v, "default": False} for v in spec.picklist_values
                    ],
                },
            },
        )
    return meta


@dataclass
class SalesforcePlan:
    """What provisioning does (or, after a dry run, would do), in Salesforce's terms;
    :meth:`neutral` says it in relcrm's (:class:`relcrm.models.ProvisionPlan`)."""

    object_name: str
    create: list[FieldSpec] = field(default_factory=list)
    grant: list[str] = field(default_factory=list)
    """``Object.Field__c`` names that need read/edit on the relcrm permission set."""
    create_permission_set: bool = False
    assign_permission_set: bool = False
    conflicts: list[str] = field(default_factory=list)
    """Fields that exist with another type: reported, never changed."""

    @property
    def empty(self) -> bool:
        return not (
            self.create or self.grant or self.create_permission_set or self.assign_permission_set
        )

    def neutral(self) -> ProvisionPlan:
        """The plan in connector-neutral words, as ``relcrm fields plan`` prints it: a
        grant on a field that is created goes without saying (creating it includes it)."""
        created = {spec.name.casefold() for spec in self.create}
        changes: list[ProvisionChange] = []
        for full in self.grant:
            name = full.split(".", 1)[-1]
            if name.casefold() not in created:
                changes.append(
                    ProvisionChange(
                        description=f"grant read/edit on {full} to the relcrm permission set",
                        fields=(name,),
                    )
                )
        if self.create_permission_set:
            changes.append(ProvisionChange(description="create the relcrm permission set"))
        if self.assign_permission_set:
            changes.append(
                ProvisionChange(
                    description="assign the relcrm permission set to the integration user"
                )
            )
        return ProvisionPlan(
            object_name=self.object_name,
            create=tuple(self.create),
            changes=tuple(changes),
            conflicts=tuple(self.conflicts),
        )


class Provisioner:
    """Plans and applies field provisioning on one org."""

    def __init__(self, client: SalesforceClient, *, user_id: str | None = None) -> None:
        self.client = client
        self._user_id = user_id

    # ------------------------------------------------------------------ reads

    def _rest(self, what: str, path: str, method: str = "GET", **kwargs: Any) -> Any:
        return self.client.call(what, lambda sf: sf.restful(path, method=method, **kwargs))

    def _query(self, what: str, soql: str, *, tooling: bool = False) -> list[dict[str, Any]]:
        if tooling:
            answer = self.client.call(
                what, lambda sf: sf.restful("tooling/query/", params={"q": soql})
            )
        else:
            answer = self.client.call(what, lambda sf: sf.query_all(soql))
        return list((answer or {}).get("records") or [])

    def user_id(self) -> str:
        """The integration user's Id: from the login, the settings, or the username."""
        if self._user_id:
            return self._user_id
        found = self.client.login_result.user_id
        username = self.client.settings.username
        if not found and username:
            rows = self._query(
                "find the integration user",
                f"SELECT Id FROM User WHERE Username = {soql_quote(username)}",
            )
            found = str(rows[0]["Id"]) if len(rows) == 1 else None
        if not found:
            raise ConfigurationError(
                "cannot tell which Salesforce user relcrm logs in as",
                hint="set RELCRM_SALESFORCE_USER_ID (or RELCRM_SALESFORCE_USERNAME)",
            )
        self._user_id = found
        return found

    def _permission_set_id(self) -> str | None:
        rows = self._query(
            "find the relcrm permission set",
            f"SELECT Id FROM PermissionSet WHERE Name = {soql_quote(PERMISSION_SET_NAME)}",
        )
        return str(rows[0]["Id"]) if rows else None

    def _existing_fields(self, object_name: str) -> dict[str, str]:
        """Custom fields that exist, visible or not: ``{api name lower: Tooling id}``."""
        rows = self._query(
            f"list custom fields of {object_name}",
            "SELECT Id, DeveloperName FROM CustomField WHERE TableEnumOrId = "
            + soql_quote(object_name),
            tooling=True,
        )
        return {f"{r['DeveloperName']}__c".lower(): str(r["Id"]) for r in rows}

    def _granted(self, permission_set_id: str) -> dict[str, tuple[str, bool, bool]]:
        rows = self._query(
            "read field permissions",
            "SELECT Id, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions"
            f" WHERE ParentId = {soql_quote(permission_set_id)}",
        )
        return {
            str(r["Field"]).lower(): (
                str(r["Id"]),
                bool(r["PermissionsRead"]),
                bool(r["PermissionsEdit"]),
            )
            for r in rows
        }

    def _assigned(self, permission_set_id: str, user_id: str) -> bool:
        rows = self._query(
            "read permission set assignments",
            "SELECT Id FROM PermissionSetAssignment WHERE PermissionSetId = "
            f"{soql_quote(permission_set_id)} AND AssigneeId = {soql_quote(user_id)}",
        )
        return bool(rows)

    def _visible(self, object_name: str) -> dict[str, FieldSpec]:
        describe = self.client.call(
            f"describe {object_name}",
            lambda sf: sf.restful(f"sobjects/{object_name}/describe"),
        )
        return {s.name.lower(): s for s in field_specs(describe or {})}

    # ------------------------------------------------------------------ plan & apply

    def plan(self, object_name: str, specs: Sequence[FieldSpec]) -> SalesforcePlan:
        """What is missing; reads only."""
        check_name(object_name)
        wanted = [(api_name(s), s) for s in specs if s.custom]
        plan = SalesforcePlan(object_name)
        existing = self._existing_fields(object_name)
        visible = self._visible(object_name)
        permission_set_id = self._permission_set_id()
        granted = self._granted(permission_set_id) if permission_set_id else {}
        for name, spec in wanted:
            if name.lower() not in existing:
                plan.create.append(spec.model_copy(update={"name": name}))
            else:
                seen = visible.get(name.lower())
                if seen is not None and seen.type is not spec.type:
                    plan.conflicts.append(
                        f"{object_name}.{name} is {seen.type.value}, wanted {spec.type.value}"
                    )
            full = f"{object_name}.{name}"
            _, read, edit = granted.get(full.lower(), ("", False, False))
            if not (read and edit):
                plan.grant.append(full)
        plan.create_permission_set = permission_set_id is None
        plan.assign_permission_set = permission_set_id is None or not self._assigned(
            permission_set_id, self.user_id()
        )
        return plan

    def apply(self, object_name: str, specs: Sequence[FieldSpec]) -> SalesforcePlan:
        """Carry out the plan, then verify through describe; returns the plan carried out."""
        plan = self.plan(object_name, specs)
        for spec in plan.create:
            payload = {"FullName": f"{object_name}.{spec.name}", "Metadata": field_metadata(spec)}
            self._rest(
                f"create field {object_name}.{spec.name}",
                "tooling/sobjects/CustomField/",
                "POST",
                json=payload,
            )
        permission_set_id = self._permission_set_id()
        if permission_set_id is None:
            created = self.client.call(
                "create the relcrm permission set",
                lambda sf: sf.restful(
                    "sobjects/PermissionSet/",
                    method="POST",
                    json={"Name": PERMISSION_SET_NAME, "Label": PERMISSION_SET_LABEL},
                ),
            )
            permission_set_id = str(created["id"])
        granted = self._granted(permission_set_id)
        for full in plan.grant:
            values = {"PermissionsRead": True, "PermissionsEdit": True}
            current = granted.get(full.lower())
            if current is not None:
                self._rest(
                    f"grant {full}", f"sobjects/FieldPermissions/{current[0]}", "PATCH", json=values
                )
            else:
                body = {
                    "ParentId": permission_set_id,
                    "SobjectType": object_name,
                    "Field": full,
                    **values,
                }
                self._rest(f"grant {full}", "sobjects/FieldPermissions/", "POST", json=body)
        user_id = self.user_id()
        if not self._assigned(permission_set_id, user_id):
            self.client.call(
                "assign the relcrm permission set",
                lambda sf: sf.restful(
                    "sobjects/PermissionSetAssignment/",
                    method="POST",
                    json={"AssigneeId": user_id, "PermissionSetId": permission_set_id},
                ),
            )
        self.verify(object_name, specs)
        return plan

    def verify(self, object_name: str, specs: Sequence[FieldSpec]) -> None:
        """Raise :class:`PermissionDenied` unless every wanted field is visible and writable."""
        visible = self._visible(object_name)
        missing = [
            api_name(s)
            for s in specs
            if s.custom
            and ((found := visible.get(api_name(s).lower())) is None or not found.updateable)
        ]
        if missing:
            raise PermissionDenied(
                f"after provisioning, {object_name} fields are still not writable: "
                + ", ".join(missing),
                hint="check that the integration user may manage permission sets",
            )
