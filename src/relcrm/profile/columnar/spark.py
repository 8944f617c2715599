"""The profile recipe on Apache Spark: the DuckDB definition, transpiled by SQLGlot.

Nothing here restates the recipe. :class:`SparkConnection` gives a SparkSession the two
methods :func:`relcrm.profile.columnar.recipe.run_recipe` calls on a DuckDB connection
(``execute(query, parameters)`` returning a cursor with ``description`` and
``fetchall``); each query is transpiled to Spark SQL on the way (``dialects``). So the
same three queries run, and the same Python turns their rows into sentences, on the
driver: :func:`run_recipe_spark` returns the :class:`ColumnarResult` DuckDB's run returns,
and ``profiles_of`` builds the models from it unchanged.

Inputs are the columns of ``inputs.PERSON_COLUMNS`` / ``inputs.PERCEPTION_COLUMNS``,
read from Parquet (:func:`write_parquet_inputs` makes them from the store's JSON) or
from existing tables; each column is cast to its declared type, so a table written by
another tool with, say, INT where BIGINT is declared still reads. Ids must be unique
(the store's are).

PySpark (extra ``spark``) and a Java runtime are needed only when a session starts;
without them :func:`spark_session` raises ``profile.spark_unavailable`` saying what to
install. This module imports neither until then. Writing the profiles table and the
cluster job are in ``spark_job``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from relcrm.errors import ConfigurationError, InputError
from relcrm.profile.columnar import inputs
from relcrm.profile.columnar.recipe import (
    DEFAULT_CONFIG,
    ColumnarResult,
    connect_with,
    run_recipe,
)
from relcrm.profile.config import ProfileConfig

DEFAULT_MASTER = "local[2]"
WAREHOUSE = "relcrm-spark-warehouse"
"""Local mode's warehouse folder, under the system's temporary folder."""
MASTER_ENV = "RELCRM_SPARK_MASTER"
"""A cluster's master URL (``spark://host:7077``, ``yarn``); local mode without it."""

INSTALL_HINT = (
    "pip install 'relcrm[spark]' and a Java 17 runtime (on Debian: apt-get install "
    "openjdk-17-jre-headless), or use --engine duckdb / --engine reference"
)

_SPARK_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
}


def _unavailable(what: str) -> ConfigurationError:
    return ConfigurationError(
        f"the Spark profile engine cannot start: {what}",
        code="profile.spark_unavailable",
        hint=INSTALL_HINT,
    )


def java_executable() -> str | None:
    """The ``java`` Spark will launch: ``$JAVA_HOME/bin/java``, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if candidate.is_file() else None
    return shutil.which("java")


def spark_session(master: str | None = None, *, app_name: str = "relcrm-profile") -> Any:
    """A SparkSession on ``master`` (else ``$RELCRM_SPARK_MASTER``, else spark-submit's
    master when it launched this process, else ``local[2]``).

    Local mode binds the driver to 127.0.0.1, turns the web UI off, keeps its warehouse
    folder under the temporary folder and uses 4 shuffle partitions (Spark's default of
    200 makes hundreds of tiny tasks on one machine's data). Session time zone UTC (the
    recipe's times are integer microseconds, so nothing depends on it, but a written
    ``as_of`` timestamp does).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise _unavailable("PySpark is not installed") from None
    # Under spark-submit (which starts the JVM and tells PySpark its port), spark-submit's
    # --master and --conf rule: set nothing unless a master is named here.
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    if not submitted and java_executable() is None:
        raise _unavailable("no Java runtime was found (JAVA_HOME or java on PATH)")
    named = master or os.environ.get(MASTER_ENV)
    chosen = named or ("" if submitted else DEFAULT_MASTER)
    builder = (
        SparkSession.builder.appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        # The recipe guards its divisions; keep Spark 3's NULL-on-error arithmetic even
        # where a platform turns ANSI mode on by default.
        .config("spark.sql.ansi.enabled", "false")
    )
    if chosen:
        builder = builder.master(chosen)
    if chosen.startswith("local"):
        builder = (
            builder.config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.memory", os.environ.get("RELCRM_SPARK_DRIVER_MEMORY", "1g"))
            # Spark makes its warehouse folder at start; not in the user's current folder.
            .config("spark.sql.warehouse.dir", str(Path(tempfile.gettempdir()) / WAREHOUSE))
        )
    try:
        return builder.getOrCreate()
    except Exception as error:  # py4j/pyspark raise plain exceptions when the JVM fails
        raise _unavailable(f"the JVM did not start ({type(error).__name__})") from error


@contextmanager
def session_for(master: str | None = None) -> Iterator[Any]:
    """A session for one run: the active one if this process has one (a notebook, a
    Databricks job, a test), else a new one, stopped on exit."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise _unavailable("PySpark is not installed") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    session = spark_session(master)
    try:
        yield session
    finally:
        session.stop()


@dataclass(frozen=True, slots=True)
class _Cursor:
    """The part of a DuckDB cursor that ``run_recipe`` reads."""

    description: list[tuple[str]]
    rows: list[tuple[Any, ...]]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


@dataclass
class SparkConnection:
    """A SparkSession that runs the recipe's DuckDB queries, transpiled to Spark SQL.

    ``tables`` maps the recipe's table names (``perceptions``, ``persons``) to the
    Spark tables or views that hold them. ``queries`` keeps the Spark SQL that ran, for
    logs and tests.
    """

    session: Any
    tables: Mapping[str, str]
    queries: list[str] = field(default_factory=list)

    def execute(self, query: str, parameters: Sequence[object] = ()) -> _Cursor:
        from relcrm.profile.columnar.dialects import transpile

        spark_sql = transpile(query, "spark", parameters, tables=self.tables)
        self.queries.append(spark_sql)
        frame = self.session.sql(spark_sql)
        names = list(frame.columns)
        rows = [tuple(row) for row in frame.collect()]
        return _Cursor([(name,) for name in names], rows)


@dataclass(frozen=True, slots=True)
class SparkInputs:
    """Where the recipe's two inputs are: Parquet paths, or names of Spark tables."""

    persons: str
    perceptions: str
    kind: str = "parquet"

    def __post_init__(self) -> None:
        if self.kind not in ("parquet", "table"):
            raise InputError(
                f"Spark inputs are 'parquet' or 'table', not {self.kind!r}",
                code="profile.input_invalid",
                hint="pass Parquet paths, or names of tables the session can read",
            )


@dataclass(frozen=True, slots=True)
class SparkOptions:
    """``relcrm profile --engine spark``'s options: the master (None: local mode or
    ``$RELCRM_SPARK_MASTER``), inputs already in Parquet (None: the store's, exported),
    and where to write the profiles table besides the store (None: nowhere)."""

    master: str | None = None
    inputs: SparkInputs | None = None
    out: str | None = None


def _typed_view(session: Any, source: str, kind: str, columns: tuple[tuple[str, str], ...]) -> Any:
    """The input as a DataFrame of exactly the declared columns and types."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions

    try:
        frame = session.read.parquet(source) if kind == "parquet" else session.table(source)
    except AnalysisException as error:
        raise InputError(
            f"Spark cannot read the {kind} input {source}: {error.getErrorClass()}",
            code="profile.input_invalid",
            hint="name an existing Parquet file or folder, or a table the session can read",
        ) from None
    present = {name.lower() for name in frame.columns}
    missing = [name for name, _ in columns if name.lower() not in present]
    if missing:
        raise InputError(
            f"{source} lacks the column(s) {', '.join(missing)}",
            code="profile.input_invalid",
            hint="the columns are those of relcrm.profile.columnar.inputs "
            "(PERSON_COLUMNS, PERCEPTION_COLUMNS)",
        )
    return frame.select(
        *(functions.col(name).cast(_SPARK_TYPES[kind_]).alias(name) for name, kind_ in columns)
    )


@contextmanager
def input_views(session: Any, where: SparkInputs) -> Iterator[dict[str, str]]:
    """Temporary views of the two inputs, cached for the three queries; the mapping from
    the recipe's table names to the views'. Dropped and unpersisted on exit."""
    suffix = uuid.uuid4().hex[:12]
    names = {"persons": f"relcrm_persons_{suffix}", "perceptions": f"relcrm_perceptions_{suffix}"}
    frames = {
        "persons": _typed_view(session, where.persons, where.kind, inputs.PERSON_COLUMNS),
        "perceptions": _typed_view(
            session, where.perceptions, where.kind, inputs.PERCEPTION_COLUMNS
        ),
    }
    for table, frame in frames.items():
        frame.cache().createOrReplaceTempView(names[table])
    try:
        yield names
    finally:
        for table, frame in frames.items():
            session.catalog.dropTempView(names[table])
            frame.unpersist()


def run_recipe_spark(
    session: Any,
    where: SparkInputs,
    now: datetime,
    config: ProfileConfig = DEFAULT_CONFIG,
) -> ColumnarResult:
    """The recipe's rows, computed by Spark and collected to the driver, where the
    sentences are formatted (as ``run_recipe`` does on DuckDB)."""
    with input_views(session, where) as names:
        return run_recipe(SparkConnection(session, names), now, config, combined=False)


def write_segment_inputs(
    person_texts: Sequence[str], segments_relation: str, folder: Path
) -> SparkInputs:
    """Like :func:`write_parquet_inputs`, for a store keeping perceptions in Parquet
    segments: ``segments_relation`` (a DuckDB relation over them) is copied column to
    column into the recipe's layout, nothing parsed in Python."""
    folder.mkdir(parents=True, exist_ok=True)
    connection = connect_with(inputs.person_rows_of_json(person_texts), [])
    paths = {name: folder / f"{name}.parquet" for name in ("persons", "perceptions")}
    sources = {
        "persons": "persons",
        "perceptions": f"({inputs.perceptions_from_segments_sql(segments_relation)})",
    }
    try:
        for name, path in paths.items():
            quoted = str(path).replace("'", "''")
            connection.execute(f"COPY {sources[name]} TO '{quoted}' (FORMAT PARQUET)")
    finally:
        connection.close()
    return SparkInputs(persons=str(paths["persons"]), perceptions=str(paths["perceptions"]))


def write_parquet_inputs(
    person_texts: Sequence[str], perception_texts: Sequence[str], folder: Path
) -> SparkInputs:
    """The store's JSON as ``persons.parquet`` and ``perceptions.parquet`` in ``folder``,
    written by DuckDB (the same rows, duplicates dropped, as ``--engine duckdb`` loads)."""
    folder.mkdir(parents=True, exist_ok=True)
    connection = connect_with(
        inputs.person_rows_of_json(person_texts), inputs.perception_rows_of_json(perception_texts)
    )
    paths = {name: folder / f"{name}.parquet" for name in ("persons", "perceptions")}
    try:
        for name, path in paths.items():
            quoted = str(path).replace("'", "''")
            connection.execute(f"COPY {name} TO '{quoted}' (FORMAT PARQUET)")
    finally:
        connection.close()
    return SparkInputs(persons=str(paths["persons"]), perceptions=str(paths["perceptions"]))
