"""Connectors: the only place that talks to a CRM.

Each connector is a plugin that declares its capabilities as data
(:class:`relcrm.models.ConnectorCapabilities`) and implements :class:`Connector` (and
:class:`CaseSource` / :class:`NoteSink` / :class:`TaskSink` when it declares support cases /
history notes / follow-up tasks).
"""

from relcrm.connectors.base import CaseSource, Connector, NoteSink, TaskSink
from relcrm.connectors.registry import available_connectors, connector_class, load_connector_class

__all__ = [
    "CaseSource",
    "Connector",
    "NoteSink",
    "TaskSink",
    "available_connectors",
    "connector_class",
    "load_connector_class",
]
