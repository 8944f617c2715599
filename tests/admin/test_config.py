"""The targets file: what it accepts, and config errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from relcrm.errors import ConfigurationError
from relcrm.sync.config import load_config

SF_TARGET = """
[[targets]]
name = "sf"
connector = "salesforce"
mapping = "salesforce-contact"

[targets.settings]
instance_url = "https://acme.my.salesforce.com"
ca_file = "ca.pem"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "relcrm.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_config(path)
    return str(caught.value)


def test_loads_shipped_and_relative_mappings(tmp_path: Path) -> None:
    (tmp_path / "maps").mkdir()
    shipped = Path(__file__).resolve().parents[2] / "src/relcrm/mapping/mappings"
    own = (shipped / "hubspot-contact.toml").read_text(encoding="utf-8")
    (tmp_path / "maps/hs.toml").write_text(own, encoding="utf-8")
    path = write(
        tmp_path,
        '[store]\nurl = "state.db"\n'
        + SF_TARGET
        + '\n[[targets]]\nname = "hs"\nconnector = "hubspot"\nmapping = "maps/hs.toml"\n',
    )
    config = load_config(path)
    assert config.target_names() == ["sf", "hs"]
    assert config.store_url == f"sqlite:///{tmp_path / 'state.db'}"
    sf, hs = config.targets
    assert sf.mapping.object == "Contact" and sf.mapping_origin.endswith("(shipped)")
    assert hs.mapping_origin == str(tmp_path / "maps/hs.toml")
    assert sf.settings["ca_file"] == str(tmp_path / "ca.pem")  # relative to the file
    assert [t.name for t in config.select("hs")] == ["hs"]
    with pytest.raises(ConfigurationError, match="no target named 'nope'"):
        config.select("nope")


@pytest.mark.parametrize(
    ("key", "env"),
    [
        ("password", "RELCRM_SALESFORCE_PASSWORD"),
        ("security_token", "RELCRM_SALESFORCE_SECURITY_TOKEN"),
        ("consumer_secret", "RELCRM_SALESFORCE_CONSUMER_SECRET"),
        ("private_key_file", "RELCRM_SALESFORCE_PRIVATE_KEY_FILE"),
    ],
)
def test_a_secret_in_the_file_is_refused(tmp_path: Path, key: str, env: str) -> None:
    path = write(tmp_path, SF_TARGET + f'{key} = "hunter2"\n')
    message = error_of(path)
    assert str(path) in message
    assert f"targets[0].settings.{key}" in message
    assert env in message and "environment" in message
    assert "hunter2" not in message  # the secret itself is never repeated


def test_a_hubspot_token_is_refused_anywhere(tmp_path: Path) -> None:
    text = '[[targets]]\nname = "hs"\nconnector = "hubspot"\nmapping = "hubspot-contact"\n'
    text += 'access_token = "pat-na1-xyz"\n'
    message = error_of(write(tmp_path, text))
    assert "targets[0].access_token" in message and "RELCRM_HUBSPOT_ACCESS_TOKEN" in message


def test_unknown_connector(tmp_path: Path) -> None:
    text = SF_TARGET.replace('connector = "salesforce"', 'connector = "dynamics"')
    message = error_of(write(tmp_path, text))
    assert "targets[0].connector" in message and "dynamics" in message
    assert "salesforce" in message  # names the installed ones


def test_missing_mapping(tmp_path: Path) -> None:
    text = SF_TARGET.replace('"salesforce-contact"', '"maps/contact.toml"')
    message = error_of(write(tmp_path, text))
    assert "targets[0].mapping" in message and "contact.toml does not exist" in message
    assert "salesforce-contact" in message  # lists the shipped ones


def test_mapping_for_another_connector(tmp_path: Path) -> None:
    text = SF_TARGET.replace('"salesforce-contact"', '"hubspot-contact"')
    assert "written for connector 'hubspot'" in error_of(write(tmp_path, text))


def test_unknown_and_invalid_settings(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, SF_TARGET + 'instanceurl = "x"\n'))
    assert "targets[0].settings.instanceurl" in message and "instance_url" in message
    message = error_of(write(tmp_path, SF_TARGET + 'api_version = "latest"\n'))
    assert "targets[0].settings.api_version" in message


def test_misspelt_key_and_bad_toml(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, SF_TARGET.replace("mapping =", "maping =")))
    assert "targets[0].maping" in message
    assert "not valid TOML" in error_of(write(tmp_path, "[[targets]\n"))
    assert "cannot be read" in error_of(tmp_path / "absent.toml")
