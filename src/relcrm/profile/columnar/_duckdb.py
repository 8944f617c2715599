"""DuckDB is an optional dependency (extra ``columnar``): imported here, lazily, only.

A core install has no DuckDB, and ``relcrm.profile`` must import without it; the
columnar engine says so with a catalogued error when it is asked to run.
"""

from __future__ import annotations

from types import ModuleType

from relcrm.errors import ConfigurationError


def duckdb_module() -> ModuleType:
    """The ``duckdb`` module, or ``profile.engine_unavailable`` if it is not installed."""
    try:
        import duckdb
    except ImportError:
        raise ConfigurationError(
            "the columnar profile engine needs DuckDB, which is not installed",
            code="profile.engine_unavailable",
            hint="pip install 'relcrm[columnar]', or use --engine reference",
        ) from None
    return duckdb
