"""Connectors: the only place that talks to a CRM.

Each connector is a plugin that declares its capabilities as data
(:class:`relcrm.models.ConnectorCapabilities`) and implements :class:`Connector`.
"""

from relcrm.connectors.base import Connector
from relcrm.connectors.registry import available_connectors, load_connector_class

__all__ = ["Connector", "available_connectors", "load_connector_class"]
