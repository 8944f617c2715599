"""The ready-made mappings relcrm ships, for a new user to start from.

They live in the package (``relcrm/mapping/mappings/*.toml``), found through
``importlib.resources`` so they are there in a wheel as much as in a checkout.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from relcrm.errors import ConfigurationError
from relcrm.mapping.model import Mapping, parse_mapping

_SUFFIX = ".toml"


def _directory() -> Traversable:
    return files("relcrm.mapping").joinpath("mappings")


def shipped_mappings() -> dict[str, Path]:
    """Each shipped mapping by name (``salesforce-contact``), as a file to copy.

    relcrm is always installed as files (pip unpacks wheels), so each entry is a real
    path an admin can copy and edit.
    """
    found: dict[str, Path] = {}
    for entry in _directory().iterdir():
        if entry.is_file() and entry.name.endswith(_SUFFIX):
            found[entry.name.removesuffix(_SUFFIX)] = Path(str(entry))
    return dict(sorted(found.items()))


def load_shipped(name: str) -> Mapping:
    """The shipped mapping ``name`` (``salesforce-contact``, ``hubspot-contact``...)."""
    entry = _directory().joinpath(f"{name}{_SUFFIX}")
    if not entry.is_file():
        known = ", ".join(shipped_mappings()) or "(none)"
        raise ConfigurationError(
            f"no shipped mapping named {name!r}; shipped: {known}",
            hint="use one of the shipped names, or load your own file with load_mapping",
            code="config.unknown_mapping",
        )
    return parse_mapping(entry.read_text(encoding="utf-8"), origin=f"{name}{_SUFFIX} (shipped)")
