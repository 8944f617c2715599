"""A targets file for the Dataverse sandbox, as ``relcrm sandbox dataverse --write-config``
should write it, loads and builds the connector through the registry like any other: the
non-secret settings in the file, the client secret only in the target's secrets file.

The ``dataverse`` entry point is registered here by hand until pyproject declares it
(``dataverse = "relcrm.connectors.dataverse:DataverseConnector"``)."""

from __future__ import annotations

import shutil
from importlib.metadata import EntryPoint, EntryPoints
from pathlib import Path

import pytest

from relcrm.connectors import registry
from relcrm.connectors.dataverse import DataverseConnector
from relcrm.errors import ConfigurationError
from relcrm.sandbox.dataverse.server import DataverseSandbox
from relcrm.sync.config import build_connector, load_config
from relcrm.sync.fields import apply_fields, check_mapping, has_errors

ENTRY = EntryPoint(
    name="dataverse",
    value="relcrm.connectors.dataverse:DataverseConnector",
    group="relcrm.connectors",
)


@pytest.fixture(autouse=True)
def _registered(monkeypatch: pytest.MonkeyPatch) -> None:
    original = registry.entry_points

    def entry_points(*, group: str) -> EntryPoints:
        found = [e for e in original(group=group) if e.name != "dataverse"]
        return EntryPoints([*found, ENTRY] if group == ENTRY.group else found)

    monkeypatch.setattr(registry, "entry_points", entry_points)


def write_config(folder: Path, dv: DataverseSandbox, *, secret_in_file: bool = False) -> Path:
    shutil.copyfile(dv.ca_file, folder / "dataverse-sandbox-ca.pem")
    (folder / "dataverse.env").write_text(
        f"RELCRM_DATAVERSE_CLIENT_SECRET={dv.client_secret}\n", encoding="utf-8"
    )
    extra = f'client_secret = "{dv.client_secret}"\n' if secret_in_file else ""
    path = folder / "relcrm.toml"
    path.write_text(
        f"""[store]
url = "relcrm.db"

[[targets]]
name = "dataverse-contact"
connector = "dataverse"
mapping = "dataverse-contact"
secrets_file = "dataverse.env"

[targets.settings]
environment_url = "{dv.environment_url}"
authority_url = "{dv.authority_url}"
tenant_id = "{dv.tenant_id}"
client_id = "{dv.client_id}"
ca_file = "dataverse-sandbox-ca.pem"
{extra}""",
        encoding="utf-8",
    )
    return path


def test_the_targets_file_builds_the_connector_and_fields_apply(
    dv: DataverseSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RELCRM_DATAVERSE_CLIENT_SECRET", raising=False)
    config = load_config(write_config(tmp_path, dv))
    (target,) = config.targets
    connector = build_connector(target)
    assert isinstance(connector, DataverseConnector)
    assert connector.settings.ca_file == tmp_path / "dataverse-sandbox-ca.pem"
    apply_fields(connector, target.mapping)
    problems = check_mapping(target.mapping, connector.describe(target.mapping.object))
    assert not has_errors(problems), [str(p) for p in problems]
    connector.close()


def test_a_secret_in_the_targets_file_is_refused(dv: DataverseSandbox, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="RELCRM_DATAVERSE_CLIENT_SECRET"):
        load_config(write_config(tmp_path, dv, secret_in_file=True))
