"""Describe reflects the calling user's field-level security, and 503s can say Retry-After."""

from __future__ import annotations

from typing import Any

import pytest

from relcrm.sandbox.pytest_support import sf_client
from relcrm.sandbox.salesforce import FaultPlan, SalesforceSandbox
from relcrm.sandbox.salesforce.transport import loopback_session


def _new_field(sf: Any, name: str) -> None:
    result = sf.restful(
        "tooling/sobjects/CustomField/",
        method="POST",
        json={
            "FullName": f"Contact.{name}",
            "Metadata": {"label": name, "type": "Text", "length": 20},
        },
    )
    assert result["success"] is True


def _field(sf: Any, name: str) -> dict[str, Any] | None:
    fields = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    return fields.get(name)


def test_read_only_grant_describes_field_as_not_writable(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    _new_field(sf, "Mood__c")
    assert _field(sf, "Mood__c") is None  # no read access: omitted

    perm_set = sf.PermissionSet.create({"Name": "relcrm_fields", "Label": "relcrm fields"})["id"]
    grant = sf.FieldPermissions.create(
        {
            "ParentId": perm_set,
            "SobjectType": "Contact",
            "Field": "Contact.Mood__c",
            "PermissionsRead": True,
            "PermissionsEdit": False,
        }
    )["id"]
    sf.PermissionSetAssignment.create(
        {"AssigneeId": sf_sandbox.org.user_id, "PermissionSetId": perm_set}
    )
    read_only = _field(sf, "Mood__c")
    assert read_only is not None
    assert (read_only["createable"], read_only["updateable"]) == (False, False)
    # fields outside field-level security keep what their definition says
    last_name = _field(sf, "LastName")
    assert last_name is not None and last_name["updateable"] is True

    assert sf.FieldPermissions.update(grant, {"PermissionsEdit": True}) == 204
    editable = _field(sf, "Mood__c")
    assert editable is not None
    assert (editable["createable"], editable["updateable"]) == (True, True)
    record = sf.Contact.create({"LastName": "x", "Mood__c": "fine"})
    assert sf.Contact.get(record["id"])["Mood__c"] == "fine"


def test_describe_access_is_per_user(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    _new_field(sf, "Mood__c")
    perm_set = sf.PermissionSet.create({"Name": "relcrm_fields", "Label": "relcrm fields"})["id"]
    sf.FieldPermissions.create(
        {
            "ParentId": perm_set,
            "SobjectType": "Contact",
            "Field": "Contact.Mood__c",
            "PermissionsRead": True,
            "PermissionsEdit": True,
        }
    )
    sf.PermissionSetAssignment.create(
        {"AssigneeId": sf_sandbox.org.user_id, "PermissionSetId": perm_set}
    )
    assert _field(sf, "Mood__c") is not None
    other = sf_client(sf_sandbox, session_id=sf_sandbox.org.new_session("005000000000999AAA"))
    assert _field(other, "Mood__c") is None  # a user without the permission set


def _raw_get(sf_sandbox: SalesforceSandbox, path: str) -> Any:
    session = loopback_session(sf_sandbox.instance_url, sf_sandbox.ca_file)
    return session.get(
        f"{sf_sandbox.instance_url}/services/data/v59.0/{path}",
        headers={"Authorization": f"Bearer {sf_sandbox.session_id}"},
        timeout=10,
    )


@pytest.mark.parametrize("retry_after", [None, 0, 7])
def test_fault_plan_503_retry_after(
    sf: Any, sf_sandbox: SalesforceSandbox, retry_after: int | None
) -> None:
    sf_sandbox.set_faults(FaultPlan(unavailable_calls=[1], retry_after_s=retry_after))
    answer = _raw_get(sf_sandbox, "limits")
    assert answer.status_code == 503
    assert answer.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    if retry_after is None:
        assert "Retry-After" not in answer.headers
    else:
        assert answer.headers["Retry-After"] == str(retry_after)
    following = _raw_get(sf_sandbox, "limits")
    assert following.status_code == 200 and "Retry-After" not in following.headers
