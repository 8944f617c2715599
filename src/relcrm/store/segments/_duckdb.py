"""DuckDB, imported lazily: a core install has none, and only segments need it."""

from __future__ import annotations

from types import ModuleType

from relcrm.errors import StoreError


def duckdb_available() -> bool:
    """Whether DuckDB can be imported here."""
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


def duckdb_module() -> ModuleType:
    """The ``duckdb`` module, or ``store.segments_unavailable`` if it is not installed."""
    try:
        import duckdb
    except ImportError:
        raise StoreError(
            "this store keeps its perceptions in Parquet segments, which need DuckDB, and "
            "DuckDB is not installed",
            code="store.segments_unavailable",
            hint="pip install 'relcrm[columnar]'",
        ) from None
    return duckdb
