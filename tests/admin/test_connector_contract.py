"""One contract for every connector (issue 12): relcrm's own connectors conform to it,
declare their features as data with the protocols that go with them, and a third-party
connector registered through an entry point is built from a targets file exactly as they
are, with no special case; a mapping asking for what a connector does not declare is
refused before any run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import EntryPoint, EntryPoints
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from typer.testing import CliRunner

from relcrm.cli import app
from relcrm.connectors import (
    CaseSource,
    Connector,
    NoteSink,
    TaskSink,
    connector_class,
    registry,
)
from relcrm.connectors.hubspot import HubSpotConnector, HubSpotSettings
from relcrm.connectors.salesforce import SalesforceConnector, SalesforceSettings
from relcrm.errors import ConfigurationError
from relcrm.mapping import load_shipped
from relcrm.models import (
    ConnectorCapabilities,
    FieldSpec,
    FieldType,
    FieldWrite,
    MatchReport,
    ProvisionPlan,
    RatePolicy,
    ReadValue,
    WriteOutcome,
    WriteResult,
)
from relcrm.store import Store
from relcrm.sync.cases_job import ingest_cases_from
from relcrm.sync.config import (
    allowed_settings,
    build_connector,
    env_name,
    load_config,
    secret_settings,
)
from relcrm.sync.engine import SyncEngine

SHIPPED = Path(__file__).resolve().parents[2] / "src/relcrm/mapping/mappings"


def built_ins() -> list[Connector]:
    return [
        SalesforceConnector(SalesforceSettings(_env_file=None)),
        HubSpotConnector(HubSpotSettings(_env_file=None, access_token=SecretStr("pat-x"))),
    ]


# --------------------------------------------------------------------------- built-ins


@pytest.mark.parametrize("connector", built_ins(), ids=lambda c: c.capabilities.name)
def test_relcrms_connectors_implement_the_contract(connector: Connector) -> None:
    assert isinstance(connector, Connector)
    cls = type(connector)
    assert connector_class(connector.capabilities.name) is cls  # through the registry
    assert registry.contract_gaps(cls) == []
    assert issubclass(cls.settings_class, BaseSettings)
    declared = cls.declared_capabilities
    # the instance refines limits its settings decide, never the features
    features = set(ConnectorCapabilities.model_fields) - {"bulk_threshold", "rate_policy"}
    for name in features:
        assert getattr(connector.capabilities, name) == getattr(declared, name), name


@pytest.mark.parametrize("connector", built_ins(), ids=lambda c: c.capabilities.name)
def test_declared_features_come_with_their_protocols(connector: Connector) -> None:
    capabilities = connector.capabilities
    assert capabilities.support_cases == isinstance(connector, CaseSource)
    assert capabilities.history_notes == isinstance(connector, NoteSink)
    assert capabilities.follow_up_tasks == isinstance(connector, TaskSink)


def test_the_built_ins_declare_what_they_do() -> None:
    salesforce, hubspot = (c.capabilities for c in built_ins())
    assert (salesforce.fallback_matching, hubspot.fallback_matching) == (True, False)
    assert (salesforce.support_cases, hubspot.support_cases) == (True, True)
    assert (salesforce.history_notes, hubspot.history_notes) == (False, True)
    assert not (salesforce.all_or_nothing_batches or hubspot.all_or_nothing_batches)
    assert (salesforce.upsert_by_external_id, hubspot.upsert_by_external_id) == (True, False)
    assert salesforce.objects == ("Contact", "Lead") and hubspot.objects == ("contacts",)
    assert salesforce.rate_policy is None  # a daily org allocation, not a rate (see CAPABILITIES)
    assert hubspot.rate_policy == RatePolicy(requests=100, window_s=10.0, scope="org")
    faster = HubSpotConnector(
        HubSpotSettings(
            _env_file=None,
            access_token=SecretStr("pat-x"),
            rate_limit_max=190,
            rate_limit_window_ms=10_000,
        )
    )
    assert faster.capabilities.rate_policy == RatePolicy(requests=190, window_s=10.0)


# --------------------------------------------------------------------------- a plugin


class AcmeSettings(BaseSettings):
    """A third party's settings: one secret with an innocent name (a SecretStr field is a
    secret whatever it is called), the rest plain."""

    model_config = SettingsConfigDict(env_prefix="ACME_", extra="ignore")

    base_url: str = "https://api.acme.test"
    region: str = "eu"
    signing_phrase: SecretStr | None = None


ACME_CAPABILITIES = ConnectorCapabilities(
    name="acme",
    max_batch_size=50,
    field_types=frozenset(FieldType),
    max_field_name_length=64,
    max_text_length=255,
    max_long_text_length=10_000,
    objects=("people",),
    fallback_matching=False,
    rate_policy=RatePolicy(requests=10, window_s=1.0),
)


class AcmeConnector:
    """A complete connector that a third-party package could ship, writing to memory."""

    settings_class: ClassVar[type[BaseSettings]] = AcmeSettings
    declared_capabilities: ClassVar[ConnectorCapabilities] = ACME_CAPABILITIES

    def __init__(self, settings: AcmeSettings) -> None:
        self.settings = settings
        self.calls = 0
        self.records: dict[str, dict[str, ReadValue]] = {}

    @classmethod
    def from_settings(cls, settings: AcmeSettings) -> AcmeConnector:
        return cls(settings)

    @property
    def capabilities(self) -> ConnectorCapabilities:
        return ACME_CAPABILITIES

    def describe(self, object_name: str) -> list[FieldSpec]:
        return []

    def plan_provisioning(self, object_name: str, specs: Sequence[FieldSpec]) -> ProvisionPlan:
        return ProvisionPlan(object_name=object_name, create=tuple(specs))

    def provision(
        self, object_name: str, specs: Sequence[FieldSpec], *, dry_run: bool = False
    ) -> list[FieldSpec]:
        return list(specs)

    def find_records(
        self,
        object_name: str,
        keys: Mapping[str, Sequence[str]],
        *,
        by: str = "email",
        fallback: Sequence[str] = (),
    ) -> MatchReport:
        return MatchReport(unmatched=list(keys))

    def read_values(
        self, object_name: str, record_ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, ReadValue]]:
        return {i: self.records[i] for i in record_ids if i in self.records}

    def begin_run(self) -> None:
        self.calls = 0

    @property
    def api_calls(self) -> int:
        return self.calls

    def write(self, object_name: str, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        return [WriteResult(person_id=w.person_id, outcome=WriteOutcome.WRITTEN) for w in writes]


class AcmeWithCasesDeclared(AcmeConnector):
    """Declares support cases but has no read_cases: a broken plugin."""

    declared_capabilities: ClassVar[ConnectorCapabilities] = ACME_CAPABILITIES.model_copy(
        update={"support_cases": True}
    )

    @property
    def capabilities(self) -> ConnectorCapabilities:
        return self.declared_capabilities


class AcmeWithoutFromSettings:
    """Predates the contract: a from_config instead of settings_class/from_settings."""

    @classmethod
    def from_config(cls, settings: dict[str, Any], secrets_file: Path | None) -> Any:
        return cls()


def register(monkeypatch: pytest.MonkeyPatch, **plugins: str) -> None:
    """Install entry points, as a separate package's pyproject would, beside relcrm's."""
    original = registry.entry_points

    def entry_points(*, group: str) -> EntryPoints:
        found = list(original(group=group))
        if group == registry.GROUP:
            found += [
                EntryPoint(name=name, value=f"{__name__}:{cls}", group=group)
                for name, cls in plugins.items()
            ]
        return EntryPoints(found)

    monkeypatch.setattr(registry, "entry_points", entry_points)


def acme_mapping(folder: Path, connector: str = "acme", extra: str = "") -> Path:
    """The shipped HubSpot mapping's fields, written for ``connector``'s ``people``."""
    text = (SHIPPED / "hubspot-contact.toml").read_text(encoding="utf-8")
    text = text.replace('target = "hubspot-contact"', 'target = "acme-people"')
    text = text.replace('connector = "hubspot"', f'connector = "{connector}"')
    text = text.replace('object = "contacts"', 'object = "people"')
    text = text.replace('[match]\nby = "email"\n', f'[match]\nby = "email"\n{extra}')
    path = folder / f"{connector}-people.toml"
    path.write_text(text, encoding="utf-8")
    return path


def targets(folder: Path, connector: str = "acme", settings: str = "", **kw: str) -> Path:
    mapping = acme_mapping(folder, connector, **kw)
    path = folder / "relcrm.toml"
    path.write_text(
        f'[[targets]]\nname = "people"\nconnector = "{connector}"\nmapping = "{mapping.name}"\n'
        f"[targets.settings]\n{settings}",
        encoding="utf-8",
    )
    return path


def test_a_plugin_is_built_from_a_targets_file_like_the_built_ins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(monkeypatch, acme="AcmeConnector")
    assert allowed_settings("acme") == ["base_url", "region"]
    assert secret_settings("acme") == ["signing_phrase"]
    monkeypatch.setenv("RELCRM_ACME_SIGNING_PHRASE", "open sesame")
    monkeypatch.setenv("ACME_REGION", "ignored")  # the prefix is relcrm's: RELCRM_<NAME>_
    config = load_config(targets(tmp_path, settings='base_url = "https://eu.acme.test"\n'))
    connector = build_connector(config.targets[0])
    assert isinstance(connector, AcmeConnector) and isinstance(connector, Connector)
    assert connector.settings.base_url == "https://eu.acme.test"  # from the file
    assert connector.settings.region == "eu"
    assert connector.settings.signing_phrase is not None
    assert connector.settings.signing_phrase.get_secret_value() == "open sesame"  # environment


def test_a_plugins_secrets_come_from_its_secrets_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(monkeypatch, acme="AcmeConnector")
    monkeypatch.delenv("RELCRM_ACME_SIGNING_PHRASE", raising=False)
    (tmp_path / "acme.env").write_text("RELCRM_ACME_SIGNING_PHRASE=from the file\n")
    path = targets(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("[targets.settings]", 'secrets_file = "acme.env"\n[targets.settings]'),
        encoding="utf-8",
    )
    connector = build_connector(load_config(path).targets[0])
    assert isinstance(connector, AcmeConnector)
    assert connector.settings.signing_phrase is not None
    assert connector.settings.signing_phrase.get_secret_value() == "from the file"


def test_a_plugins_secret_setting_is_refused_in_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(monkeypatch, acme="AcmeConnector")
    path = targets(tmp_path, settings='signing_phrase = "open sesame"\n')
    with pytest.raises(ConfigurationError) as caught:
        load_config(path)
    message = str(caught.value)
    assert caught.value.code == "config.invalid_targets"
    assert "targets[0].settings.signing_phrase" in message
    assert env_name("acme", "signing_phrase") == "RELCRM_ACME_SIGNING_PHRASE"
    assert "RELCRM_ACME_SIGNING_PHRASE" in message and "environment" in message
    assert "open sesame" not in message


def test_a_plugins_unknown_and_invalid_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(monkeypatch, acme="AcmeConnector")
    with pytest.raises(ConfigurationError) as caught:
        load_config(targets(tmp_path, settings='regoin = "us"\n'))
    assert "targets[0].settings.regoin" in str(caught.value)
    assert "known: base_url, region" in str(caught.value)
    with pytest.raises(ConfigurationError, match=r"targets\[0\].settings.region"):
        load_config(targets(tmp_path, settings="region = 5\n"))


def test_a_class_without_the_contract_is_named_before_anything_is_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(monkeypatch, oldcrm="AcmeWithoutFromSettings")
    with pytest.raises(ConfigurationError) as caught:
        load_config(targets(tmp_path, connector="oldcrm"))
    message = str(caught.value)
    assert "targets[0].connector" in message
    assert "settings_class" in message and "from_settings" in message
    assert "declared_capabilities" in message and "write" in message
    with pytest.raises(ConfigurationError) as direct:
        connector_class("oldcrm")
    assert direct.value.code == "config.unsupported_connector"


def test_support_cases_without_read_cases_is_a_contract_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(monkeypatch, acme="AcmeWithCasesDeclared")
    config = load_config(targets(tmp_path))
    with (
        Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as store,
        pytest.raises(ConfigurationError) as caught,
    ):
        ingest_cases_from(config, store)
    assert caught.value.code == "config.unsupported_connector"
    assert "'acme'" in str(caught.value) and "read_cases" in str(caught.value)


def test_a_connector_without_support_cases_is_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(monkeypatch, acme="AcmeConnector")
    config = load_config(targets(tmp_path))
    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as store:
        assert ingest_cases_from(config, store) == []


# --------------------------------------------------------------------------- capabilities


def test_a_fallback_mapping_on_hubspot_is_refused_when_the_file_loads(tmp_path: Path) -> None:
    mapping = (SHIPPED / "hubspot-contact.toml").read_text(encoding="utf-8")
    mapping = mapping.replace(
        '[match]\nby = "email"\n', '[match]\nby = "email"\nfallback = ["companies"]\n'
    )
    (tmp_path / "hs.toml").write_text(mapping, encoding="utf-8")
    path = tmp_path / "relcrm.toml"
    path.write_text(
        '[[targets]]\nname = "hs"\nconnector = "hubspot"\nmapping = "hs.toml"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigurationError) as caught:
        load_config(path)
    message = str(caught.value)
    assert caught.value.code == "config.invalid_targets"
    assert "targets[0].mapping" in message and "target 'hs'" in message
    assert "match.fallback" in message and "fallback_matching" in message
    assert "companies" in message
    result = CliRunner().invoke(app, ["mapping", "check", "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert "match.fallback" in result.output


def test_an_object_the_plugin_does_not_write_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(monkeypatch, acme="AcmeConnector")
    path = targets(tmp_path)
    mapping = tmp_path / "acme-people.toml"
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace('object = "people"', 'object = "deals"'),
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match=r"object: connector 'acme' writes persons to"):
        load_config(path)


def test_the_engine_refuses_a_mapping_its_connector_cannot_do(tmp_path: Path) -> None:
    mapping = load_shipped("hubspot-contact")
    fallback = mapping.model_copy(
        update={"match": mapping.match.model_copy(update={"fallback": ("companies",)})}
    )
    connector = built_ins()[1]
    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as store:
        with pytest.raises(ConfigurationError) as caught:
            SyncEngine(store, connector, fallback)
        assert caught.value.code == "config.unsupported_mapping"
        assert "match.fallback" in str(caught.value)
        SyncEngine(store, connector, mapping)  # the shipped mapping is fine
