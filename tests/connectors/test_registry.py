"""Connectors are found through entry points, relcrm's own included."""

from __future__ import annotations

import pytest

from relcrm.connectors import available_connectors, connector_class, load_connector_class
from relcrm.connectors.hubspot import HubSpotConnector
from relcrm.connectors.salesforce import SalesforceConnector
from relcrm.errors import ConfigurationError


def test_relcrms_own_connectors_are_registered() -> None:
    assert {"hubspot", "salesforce"} <= set(available_connectors())
    assert load_connector_class("salesforce") is SalesforceConnector
    assert load_connector_class("hubspot") is HubSpotConnector
    # and they implement the contract's class side, as a plugin must
    assert connector_class("salesforce") is SalesforceConnector
    assert connector_class("hubspot") is HubSpotConnector


def test_unknown_connector_names_the_installed_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"installed: .*salesforce"):
        load_connector_class("dynamics-2003")
