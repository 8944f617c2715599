"""describe() and field provisioning, against the sandbox's Tooling API and field security."""

from __future__ import annotations

from typing import Any

import pytest

from relcrm.connectors.salesforce.provisioning import field_metadata
from relcrm.errors import ConfigurationError
from relcrm.models import FieldSpec, FieldType, ProvisionChange, ProvisionPlan
from relcrm.sandbox.salesforce import SalesforceSandbox
from tests.connectors.support import BAND, SPECS, connector


def writes_in(sf_sandbox: SalesforceSandbox) -> list[str]:
    return [f"{c.method} {c.path}" for c in sf_sandbox.log.calls() if c.method != "GET"]


def test_describe_maps_standard_fields(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    specs = {s.name: s for s in connector(sf_sandbox).describe("Contact")}
    email = specs["Email"]
    assert (email.type, email.length, email.custom, email.updateable) == (
        FieldType.TEXT,
        80,
        False,
        True,
    )
    assert "Id" not in specs  # relcrm never writes ids or references


def test_dry_run_plans_and_changes_nothing(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    conn = connector(sf_sandbox)
    planned = conn.provision("Contact", SPECS, dry_run=True)
    assert [s.name for s in planned] == [s.name for s in SPECS]
    internal = conn.provisioner.plan("Contact", SPECS)
    assert internal.create_permission_set and internal.assign_permission_set
    assert len(internal.grant) == len(SPECS)
    plan = conn.plan_provisioning("Contact", SPECS)  # the neutral plan of the contract
    assert isinstance(plan, ProvisionPlan)
    assert [s.name for s in plan.create] == [s.name for s in SPECS]
    # grants on fields being created go without saying; the set and its assignment do not
    assert [c.description for c in plan.changes] == [
        "create the relcrm permission set",
        "assign the relcrm permission set to the integration user",
    ]
    assert [w for w in writes_in(sf_sandbox) if "Soap" not in w] == []


def test_provisioning_creates_grants_verifies_and_is_idempotent(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = connector(sf_sandbox)
    created = conn.provision("Contact", SPECS)
    assert {s.name for s in created} == {s.name for s in SPECS}
    described = {s.name: s for s in conn.describe("Contact")}
    for spec in SPECS:
        got = described[spec.name]
        assert got.type is spec.type and got.custom and got.updateable
    assert described[BAND.name].picklist_values == BAND.picklist_values
    assert described[BAND.name].restricted
    assert described["Relcrm_Health__c"].precision == 3
    assert described["Relcrm_Reasons__c"].length == 32768
    assert described["Relcrm_Attitude__c"].length == 40

    sf_sandbox.log.clear()
    assert conn.provision("Contact", SPECS) == []
    assert conn.plan_provisioning("Contact", SPECS).empty
    assert [w for w in writes_in(sf_sandbox) if "Soap" not in w] == []


def test_a_field_made_earlier_is_invisible_until_the_permission_set(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    sf.restful(
        "tooling/sobjects/CustomField/",
        method="POST",
        json={"FullName": f"Contact.{BAND.name}", "Metadata": field_metadata(BAND)},
    )
    conn = connector(sf_sandbox)
    assert BAND.name not in {s.name for s in conn.describe("Contact")}
    plan = conn.plan_provisioning("Contact", [BAND])
    assert plan.create == ()
    grant = ProvisionChange(
        description=f"grant read/edit on Contact.{BAND.name} to the relcrm permission set",
        fields=(BAND.name,),
    )
    assert plan.changes[0] == grant and plan.touched == {BAND.name.casefold()}
    conn.provision("Contact", [BAND])
    assert BAND.name in {s.name for s in conn.describe("Contact")}


def test_read_only_grant_is_upgraded_to_edit(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    conn = connector(sf_sandbox)
    conn.provision("Contact", [BAND])
    perm = sf.query("SELECT Id FROM FieldPermissions")["records"][0]["Id"]
    sf.FieldPermissions.update(perm, {"PermissionsEdit": False})
    plan = conn.plan_provisioning("Contact", [BAND])
    assert [c.fields for c in plan.changes] == [(BAND.name,)]
    assert conn.provisioner.plan("Contact", [BAND]).grant == [f"Contact.{BAND.name}"]
    conn.provision("Contact", [BAND])
    described = {s.name: s for s in conn.describe("Contact")}
    assert described[BAND.name].updateable


def test_names_are_checked_before_anything_is_written(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = connector(sf_sandbox)
    for name in ("A" * 41, "bad__name", "1abc", "x'); DROP"):
        with pytest.raises(ConfigurationError):
            conn.provision(
                "Contact", [FieldSpec(name=name, label="x", type=FieldType.TEXT)], dry_run=True
            )
    assert sf_sandbox.org.custom_fields == {}
