"""The recipe's DuckDB SQL in other engines' dialects, through SQLGlot (issue 15).

The recipe is written once, in DuckDB's dialect (``sql.py``, ``judgement.py``,
``details.py``); this module parses it with SQLGlot and writes it for another engine,
with the few rewrites SQLGlot cannot know about:

- ``?`` parameters (all the as-of time in microseconds) become typed literals, since
  engines bind parameters differently or not at all (a dbt model has none);
- the input tables ``perceptions`` and ``persons`` may be renamed (a Spark table, a
  warehouse schema);
- ``FSUM``, DuckDB's compensated sum, has no equivalent elsewhere: each target writes
  its own (``_compensated_sum_spark``). A plain ``SUM`` would move a health of 12.5 to
  12.4999... and change the printed "13/100" (the reference engine sums with
  ``math.fsum``).

The rest maps one to one and was checked for each construct the recipe uses
(``docs/scale.md``): float division (``/`` divides doubles in both), POWER,
LEAST/GREATEST (both skip NULLs), ROW_NUMBER with explicit ORDER BY keys that are never
NULL, string comparison by bytes, CASE, COALESCE, COUNT(DISTINCT). Only Spark is run
here (``tests/profile_spark``); a new target adds its rewrites to ``REWRITES``.

SQLGlot is an optional dependency (extras ``spark`` and ``dev``): import this module only
when a transpilation is wanted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from relcrm.errors import ConfigurationError
from relcrm.profile.config import ProfileConfig

try:
    import sqlglot
    from sqlglot import exp
except ImportError:  # pragma: no cover: the extras install it
    raise ConfigurationError(
        "transpiling the profile recipe needs SQLGlot, which is not installed",
        code="profile.spark_unavailable",
        hint="pip install 'relcrm[spark]'",
    ) from None

SOURCE_DIALECT = "duckdb"
"""The dialect the recipe is written in."""

VERIFIED = frozenset({"spark"})
"""Targets whose transpiled recipe is run against the reference engine in the tests."""

Rewrite = Callable[[exp.Expr], exp.Expr]

_NEUMAIER = (
    "AGGREGATE(ARRAY_SORT(COLLECT_LIST(__x)), "
    "NAMED_STRUCT('s', CAST(0 AS DOUBLE), 'c', CAST(0 AS DOUBLE)), "
    "(acc, v) -> NAMED_STRUCT('s', acc.s + v, 'c', acc.c + CASE "
    "WHEN ABS(acc.s) >= ABS(v) THEN (acc.s - (acc.s + v)) + v "
    "ELSE (v - (acc.s + v)) + acc.s END), "
    "acc -> acc.s + acc.c)"
)
"""Neumaier's (Kahan-Babuska) compensated sum as a Spark higher-order function. The
values are sorted first so that the result does not depend on how rows were shuffled
(Spark's COLLECT_LIST has no order); COLLECT_LIST skips NULLs, as FSUM does."""


@lru_cache(maxsize=1)
def _neumaier_template() -> exp.Expr:
    return sqlglot.parse_one(_NEUMAIER, read="spark")


def _compensated_sum_spark(node: exp.Expr) -> exp.Expr:
    """``FSUM(x)`` -> ``CASE WHEN COUNT(x) > 0 THEN <Neumaier over x> END``: like FSUM,
    NULL when no row has a value (an empty list would sum to 0)."""
    if not (isinstance(node, exp.Anonymous) and str(node.name).upper() == "FSUM"):
        return node
    (argument,) = node.expressions
    if not isinstance(argument, exp.Expr):
        return node

    def put(inner: exp.Expr) -> exp.Expr:
        if isinstance(inner, exp.Column) and inner.name == "__x" and not inner.table:
            return argument.copy()
        return inner

    total = _neumaier_template().copy().transform(put)
    counted = exp.Count(this=argument.copy())
    return exp.Case(
        ifs=[exp.If(this=exp.GT(this=counted, expression=exp.Literal.number(0)), true=total)]
    )


REWRITES: Mapping[str, Sequence[Rewrite]] = {
    "spark": (_compensated_sum_spark,),
    "databricks": (_compensated_sum_spark,),
}
"""Per target dialect, the node rewrites its engine needs beyond SQLGlot's own mapping."""


def _literal(value: object) -> exp.Expr:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(
            f"the recipe binds only integer parameters (the as-of in microseconds); "
            f"got {type(value).__name__}",
            code="profile.transpile_failed",
            hint="pass the as-of time as microseconds since the epoch",
        )
    return exp.cast(exp.Literal.number(value), exp.DataType.build("BIGINT"))


def transpile(
    query: str,
    dialect: str,
    parameters: Sequence[object] = (),
    *,
    tables: Mapping[str, str] | None = None,
    pretty: bool = False,
) -> str:
    """``query`` (DuckDB's dialect, as the recipe writes it) in ``dialect``.

    Each ``?`` becomes the next of ``parameters`` as a BIGINT literal; ``tables`` renames
    input tables (``{"perceptions": "crm.perceptions"}``).
    """
    tree = to_tree(query, dialect, parameters, tables=tables)
    return tree.sql(dialect=dialect, pretty=pretty)


def to_tree(
    query: str,
    dialect: str,
    parameters: Sequence[object] = (),
    *,
    tables: Mapping[str, str] | None = None,
) -> exp.Expr:
    """The rewritten syntax tree behind :func:`transpile`, for callers that rewrite more."""
    if dialect not in REWRITES:
        raise ConfigurationError(
            f"no rewrites are known for the SQL dialect {dialect!r}",
            code="profile.transpile_failed",
            hint="use one of: " + ", ".join(sorted(REWRITES)),
        )
    tree = sqlglot.parse_one(query, read=SOURCE_DIALECT)
    # Depth-first, arguments in order: the ? in the order they appear in the text.
    holes = list(tree.find_all(exp.Placeholder, bfs=False))
    if len(holes) != len(parameters):
        raise ConfigurationError(
            f"the query has {len(holes)} parameters but {len(parameters)} values were given",
            code="profile.transpile_failed",
            hint="pass one value for each ? of the query",
        )
    for hole, value in zip(holes, parameters, strict=True):
        hole.replace(_literal(value))
    tree = rename_tables(tree, tables or {})
    for rewrite in REWRITES[dialect]:
        tree = tree.transform(rewrite)
    return tree


def rename_tables(tree: exp.Expr, renames: Mapping[str, str]) -> exp.Expr:
    """``tree`` reading ``renames[name]`` wherever it read table ``name``; the old name
    stays as the alias, since the recipe qualifies columns with it."""
    if not renames:
        return tree
    return tree.transform(lambda node: _rename(node, renames))


def _rename(node: exp.Expr, renames: Mapping[str, str]) -> exp.Expr:
    if isinstance(node, exp.Table) and not node.db and node.name in renames:
        return exp.to_table(renames[node.name]).as_(node.alias or node.name)
    return node


def recipe_queries(
    dialect: str,
    as_of_us: int,
    config: ProfileConfig | None = None,
    *,
    tables: Mapping[str, str] | None = None,
    pretty: bool = True,
) -> dict[str, str]:
    """The recipe's three queries (``recipe``: one row of fields a person; ``details``:
    what the sentences quote; ``peeves``: the pet peeves) in ``dialect``, for the as-of
    ``as_of_us`` (microseconds since the epoch): what ``relcrm profile --emit-sql``
    prints, e.g. for dbt models."""
    from relcrm.profile.columnar.details import details_sql, peeves_sql
    from relcrm.profile.columnar.recipe import DEFAULT_CONFIG, recipe_sql

    chosen = config or DEFAULT_CONFIG
    queries = {
        "recipe": recipe_sql(chosen),
        "details": details_sql(chosen),
        "peeves": peeves_sql(chosen),
    }
    return {
        name: transpile(query, dialect, [as_of_us] * query.count("?"), tables=tables, pretty=pretty)
        for name, query in queries.items()
    }
