"""Connectors are plugins: found through the ``relcrm.connectors`` entry-point group.

A third-party package adds a CRM by declaring, in its own pyproject::

    [project.entry-points."relcrm.connectors"]
    mycrm = "mypackage.connector:MyCrmConnector"

relcrm's own connectors are registered the same way, so nothing is special-cased.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from relcrm.errors import ConfigurationError

GROUP = "relcrm.connectors"


def _entry_points() -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group=GROUP)}


def available_connectors() -> list[str]:
    """Names of the installed connectors, sorted."""
    return sorted(_entry_points())


def load_connector_class(name: str) -> type:
    """The connector class registered under ``name``.

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
