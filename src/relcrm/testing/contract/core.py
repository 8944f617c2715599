"""Checks every connector passes: construction from settings, secrets, describe,
provisioning and matching."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from relcrm.connectors import CaseSource, Connector, NoteSink, registry
from relcrm.errors import RelcrmError
from relcrm.models import ConnectorCapabilities, FieldType
from relcrm.testing.contract.adapter import SeedRecord
from relcrm.testing.contract.base import (
    ContractBase,
    assert_catalogued,
    close,
    email_of,
    leaks,
)
from relcrm.testing.contract.specs import secret_values

WRONG_SECRET = "Zq7-wrong-secret-0000"
"""What every secret setting is replaced with to provoke a refused login."""


class ConstructionChecks(ContractBase):
    """The connector is found and built as relcrm builds it, and keeps its secrets."""

    def test_registered_and_built_from_settings(self, server: Any) -> None:
        cls = self.adapter.connector_class
        name = cls.declared_capabilities.name
        assert name in registry.available_connectors(), f"no entry point named {name!r}"
        assert registry.connector_class(name) is cls
        assert registry.contract_gaps(cls) == []
        settings = self.adapter.settings(server)
        assert isinstance(settings, cls.settings_class)
        built = cls.from_settings(settings)
        assert isinstance(built, Connector)
        declared = cls.declared_capabilities
        features = set(ConnectorCapabilities.model_fields) - {"bulk_threshold", "rate_policy"}
        for feature in sorted(features):
            got, want = getattr(built.capabilities, feature), getattr(declared, feature)
            assert got == want, f"{feature}: the instance says {got}, the class {want}"
        assert declared.support_cases == isinstance(built, CaseSource)
        assert declared.history_notes == isinstance(built, NoteSink)
        try:
            assert built.describe(self.adapter.object_name), "a connector from settings works"
        finally:
            close(built)

    def test_no_secret_in_reprs(self, server: Any) -> None:
        settings = self.adapter.settings(server)
        secrets = secret_values(settings)
        if not secrets:
            pytest.skip("the settings hold no SecretStr value")
        built = self.adapter.connector_class.from_settings(settings)
        try:
            built.describe(self.adapter.object_name)  # logged in: tokens are held now
            for text in (repr(settings), str(settings), repr(built), str(built)):
                assert not leaks(text, secrets), text
        finally:
            close(built)

    def test_refused_credentials_are_reported_without_secrets(self, server: Any) -> None:
        settings = self.adapter.settings(server)
        secret_names = [
            name for name, value in dict(settings).items() if isinstance(value, SecretStr)
        ]
        if not secret_names:
            pytest.skip("the settings hold no SecretStr value")
        assert isinstance(settings, BaseModel)
        wrong = settings.model_copy(update=dict.fromkeys(secret_names, SecretStr(WRONG_SECRET)))
        built = self.adapter.connector_class.from_settings(wrong)
        with pytest.raises(RelcrmError) as caught:
            try:
                built.describe(self.adapter.object_name)
            finally:
                close(built)
        assert_catalogued(caught.value)
        assert caught.value.code in (
            "connector.authentication_failed",
            "connector.session_expired",
            "connector.permission_denied",
        ), caught.value.code
        texts = (str(caught.value), repr(caught.value), caught.value.hint)
        for text in texts:
            assert WRONG_SECRET not in text and not leaks(text, secret_values(settings))


class SchemaChecks(ContractBase):
    """describe, and provisioning that is planned first and idempotent."""

    def test_describe(self, connector: Connector) -> None:
        fields = connector.describe(self.adapter.object_name)
        names = {spec.name.casefold() for spec in fields}
        assert self.adapter.email_field.casefold() in names
        assert len(names) == len(fields), "each field once"
        wanted = {spec.name.casefold() for spec in self.specs}
        assert not wanted & names, "the reset server has none of the contract's fields"

    def test_provision_plans_applies_and_is_idempotent(self, connector: Connector) -> None:
        obj = self.adapter.object_name
        plan = connector.plan_provisioning(obj, self.specs)
        wanted = {spec.name.casefold() for spec in self.specs}
        assert plan.object_name == obj and not plan.conflicts
        assert {spec.name.casefold() for spec in plan.create} == wanted
        before = {spec.name.casefold() for spec in connector.describe(obj)}
        dry = connector.provision(obj, self.specs, dry_run=True)
        assert {spec.name.casefold() for spec in dry} == wanted
        assert {spec.name.casefold() for spec in connector.describe(obj)} == before
        created = connector.provision(obj, self.specs)
        assert {spec.name.casefold() for spec in created} == wanted
        described = {spec.name.casefold(): spec for spec in connector.describe(obj)}
        for spec in self.specs:
            found = described.get(spec.name.casefold())
            assert found is not None, f"{spec.name} not described after provisioning"
            assert same_kind(found.type, spec.type), f"{spec.name}: {found.type} != {spec.type}"
            assert found.updateable, f"{spec.name} is not writable by the connected user"
        again = connector.plan_provisioning(obj, self.specs)
        assert again.empty and not again.conflicts, again
        assert connector.provision(obj, self.specs) == []
        assert set(described) == {s.name.casefold() for s in connector.describe(obj)}


class MatchChecks(ContractBase):
    """find_records: by email, by external id, in the fallback object."""

    def test_match_by_email(self, connector: Connector, server: Any) -> None:
        ids = self.seed(server, "m", 4)
        keys = {
            "p-a": [email_of("m", 0)],
            "p-b": [email_of("m", 1), email_of("nobody", 1)],
            "p-two": [email_of("m", 2), email_of("m", 3)],  # two emails, two records
            "p-none": [email_of("nobody", 0)],
        }
        report = connector.find_records(self.adapter.object_name, keys, by="email")
        assert {p: ref.id for p, ref in report.matched.items()} == {
            "p-a": ids[0],
            "p-b": ids[1],
        }
        for ref in report.matched.values():
            assert ref.object == self.adapter.object_name
        assert set(report.ambiguous) == {"p-two"}, "several records for one person: reported"
        assert {ref.id for ref in report.ambiguous["p-two"]} == {ids[2], ids[3]}
        assert report.unmatched == ["p-none"]

    def test_match_by_external_id(self, provisioned: Connector, server: Any) -> None:
        if "external_id" not in self.capabilities.match_by:
            pytest.skip("the connector does not declare match_by external_id")
        key = self.key_field()
        ids = [
            self.adapter.seed(
                server,
                self.adapter.object_name,
                [need_record(email_of("k", n), n, {key.name: f"key-{n}"})],
            )[0]
            for n in range(2)
        ]
        keys = {"p-0": ["key-0"], "p-1": ["key-1"], "p-none": ["key-none"]}
        report = provisioned.find_records(self.adapter.object_name, keys, by=key.name)
        assert {p: ref.id for p, ref in report.matched.items()} == {"p-0": ids[0], "p-1": ids[1]}
        assert report.unmatched == ["p-none"] and not report.ambiguous

    def test_match_in_the_fallback_object(self, connector: Connector, server: Any) -> None:
        if not self.capabilities.fallback_matching:
            pytest.skip("the connector does not declare fallback_matching")
        fallback = self.adapter.fallback_object
        if fallback is None:
            pytest.skip("the adapter names no fallback object")
        (lead,) = self.adapter.seed(server, fallback, [need_record(email_of("f", 0), 0)])
        (contact,) = self.seed(server, "c", 1)
        keys = {"p-lead": [email_of("f", 0)], "p-contact": [email_of("c", 0)]}
        report = connector.find_records(
            self.adapter.object_name, keys, by="email", fallback=[fallback]
        )
        found = report.matched["p-lead"]
        assert (found.object, found.id) == (fallback, lead), found
        assert report.matched["p-contact"].id == contact
        assert report.matched["p-contact"].object == self.adapter.object_name


NUMERIC = frozenset({FieldType.NUMBER, FieldType.PERCENT})


def same_kind(described: FieldType, wanted: FieldType) -> bool:
    """A field holds what was asked: the same type, or a number for a percent (CRMs
    without a percent type store it as a number)."""
    return described is wanted or {described, wanted} <= NUMERIC


def need_record(email: str, n: int, values: dict[str, Any] | None = None) -> SeedRecord:
    """A record to seed with ``email``."""
    return SeedRecord(email=email, last_name=f"Contract{n}", values=values or {})


__all__ = ["ConstructionChecks", "MatchChecks", "SchemaChecks"]
