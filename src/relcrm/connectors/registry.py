"""Connectors are plugins: found through the ``relcrm.connectors`` entry-point group.

A third-party package adds a CRM by declaring, in its own pyproject::

    [project.entry-points."relcrm.connectors"]
    mycrm = "mypackage.connector:MyCrmConnector"

relcrm's own connectors are registered the same way (relcrm's pyproject), so nothing is
special-cased: every connector is looked up here and built from its ``settings_class``
through ``from_settings`` (:class:`relcrm.connectors.Connector`).
"""

from __future__ import annotations

import inspect
from importlib.metadata import EntryPoint, entry_points
from typing import cast

from pydantic_settings import BaseSettings

from relcrm.connectors.base import Connector
from relcrm.errors import ConfigurationError
from relcrm.models import ConnectorCapabilities

GROUP = "relcrm.connectors"


def _entry_points() -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group=GROUP)}


def available_connectors() -> list[str]:
    """Names of the installed connectors, sorted."""
    return sorted(_entry_points())


def load_connector_class(name: str) -> type:
    """The class registered under ``name``, as it is (see :func:`connector_class`).

    Raises :class:`ConfigurationError` naming the installed ones when there is none.
    """
    found = _entry_points().get(name)
    if found is None:
        installed = ", ".join(available_connectors()) or "none"
        raise ConfigurationError(
            f"no connector named {name!r} is installed (installed: {installed})",
            code="config.unknown_connector",
            hint="check the target's connector name, or install the package that provides it",
        )
    loaded = found.load()
    if not isinstance(loaded, type):
        raise ConfigurationError(
            f"the entry point {name!r} does not name a class ({found.value})",
            code="config.bad_connector_entry_point",
        )
    return loaded


_PROTOCOL_MEMBERS: tuple[str, ...] = tuple(
    sorted({name for name in vars(Connector) if not name.startswith("_")})
)
"""The members a connector class has (methods and properties of :class:`Connector`)."""


def contract_gaps(cls: type) -> list[str]:
    """What the class lacks of the connector contract's class side (``settings_class``,
    ``declared_capabilities``, ``from_settings``) and its methods; empty when none."""
    gaps: list[str] = []
    settings = inspect.getattr_static(cls, "settings_class", None)
    if not (isinstance(settings, type) and issubclass(settings, BaseSettings)):
        gaps.append("settings_class (a pydantic-settings BaseSettings subclass)")
    declared = inspect.getattr_static(cls, "declared_capabilities", None)
    if not isinstance(declared, ConnectorCapabilities):
        gaps.append("declared_capabilities (a ConnectorCapabilities)")
    if not isinstance(inspect.getattr_static(cls, "from_settings", None), classmethod):
        gaps.append("from_settings (a class method)")
    for member in _PROTOCOL_MEMBERS:
        if member not in ("settings_class", "declared_capabilities", "from_settings") and (
            inspect.getattr_static(cls, member, None) is None
        ):
            gaps.append(member)
    return gaps


def connector_class(name: str) -> type[Connector]:
    """The connector class registered under ``name``, checked against the contract's class
    side, so a plugin that lacks part of it is reported before anything is built.

    Raises :class:`ConfigurationError` (``config.unknown_connector``,
    ``config.bad_connector_entry_point`` or ``config.unsupported_connector``).
    """
    cls = load_connector_class(name)
    gaps = contract_gaps(cls)
    if gaps:
        raise ConfigurationError(
            f"connector {name!r} ({cls.__module__}.{cls.__qualname__}) does not implement "
            f"the connector contract: it lacks {', '.join(gaps)}",
            code="config.unsupported_connector",
            hint="ask the connector's authors for a version that implements "
            "relcrm.connectors.Connector",
        )
    return cast("type[Connector]", cls)


def settings_class_of(name: str) -> type[BaseSettings]:
    """The settings model of the connector registered under ``name``."""
    return connector_class(name).settings_class


def declared_capabilities_of(name: str) -> ConnectorCapabilities:
    """What the connector registered under ``name`` declares it can do."""
    return connector_class(name).declared_capabilities


__all__ = [
    "GROUP",
    "available_connectors",
    "connector_class",
    "contract_gaps",
    "declared_capabilities_of",
    "load_connector_class",
    "settings_class_of",
]
