"""The profile recipe as one columnar definition: SQL over DuckDB (issue 15).

The pure engine in ``relcrm.profile`` stays the reference; ``COLUMNAR_FIELDS`` names
exactly which profile fields this recipe computes, and the tests in
``tests/profile_columnar`` hold it equal to the reference on each of them. DuckDB is
imported only when the recipe runs (``_duckdb.duckdb_module``).
"""

from relcrm.profile.columnar.models import profile_of, profiles_of
from relcrm.profile.columnar.recipe import (
    COLUMNAR_FIELDS,
    ColumnarResult,
    connect_with,
    field_values,
    profile_columnar,
    recipe_sql,
    run_recipe,
)

__all__ = [
    "COLUMNAR_FIELDS",
    "ColumnarResult",
    "connect_with",
    "field_values",
    "profile_columnar",
    "profile_of",
    "profiles_of",
    "recipe_sql",
    "run_recipe",
]
