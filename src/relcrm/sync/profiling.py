"""Compute every person's profile from the store and save it back."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from relcrm.errors import InputError
from relcrm.models import RelationshipProfile, Segment
from relcrm.profile import DEFAULT_CONFIG, ProfileConfig, build_profile
from relcrm.profile.columnar.spark import SparkOptions
from relcrm.store import Store

SAVE_EVERY = 2_000

logger = logging.getLogger(__name__)


@dataclass
class ProfileRun:
    """Counts of one profiling pass, by segment."""

    as_of: datetime
    persons: int = 0
    perceptions: int = 0
    segments: Counter[Segment] = field(default_factory=Counter)

    def merge(self, other: ProfileRun) -> None:
        self.persons += other.persons
        self.perceptions += other.perceptions
        self.segments.update(other.segments)


def profile_store(
    store: Store,
    now: datetime,
    *,
    config: ProfileConfig = DEFAULT_CONFIG,
    run: ProfileRun | None = None,
    progress: Callable[[int], None] | None = None,
    after: str | None = None,
    until: str | None = None,
) -> Iterator[RelationshipProfile]:
    """Yield each person's profile as of ``now`` (ordered by person id) and save them.

    Profiles are saved in batches of ``SAVE_EVERY`` as they are produced, so a long run
    never holds every profile in memory; exhaust the iterator to save the last batch.
    ``after`` and ``until`` limit the run to person ids in ``(after, until]``.
    """
    run = run if run is not None else ProfileRun(as_of=now)
    pending: list[RelationshipProfile] = []
    for person, perceptions in store.iter_person_perceptions(after=after, until=until):
        profile = build_profile(person, perceptions, now, config)
        run.persons += 1
        run.perceptions += len(perceptions)
        run.segments[profile.segment] += 1
        pending.append(profile)
        if len(pending) >= SAVE_EVERY:
            store.save_profiles(pending)
            pending.clear()
            if progress is not None:
                progress(SAVE_EVERY)
        yield profile
    if pending:
        store.save_profiles(pending)
        if progress is not None:
            progress(len(pending))


def profile_store_columnar(
    store: Store,
    now: datetime,
    *,
    config: ProfileConfig = DEFAULT_CONFIG,
    progress: Callable[[int], None] | None = None,
    changed_only: bool = False,
    stale_after: timedelta | None = None,
) -> ProfileRun:
    """Every profile (or, ``changed_only``, those that can differ from the saved one)
    computed by the columnar recipe on DuckDB and saved in its stored form, no model
    built; a range of persons at a time (see :mod:`relcrm.sync.profiling_columnar`)."""
    from relcrm.sync.profiling_columnar import DEFAULT_STALE_AFTER, run_columnar_profile

    persons, perceptions, segments = run_columnar_profile(
        store,
        now,
        config=config,
        progress=progress,
        changed_only=changed_only,
        stale_after=DEFAULT_STALE_AFTER if stale_after is None else stale_after,
    )
    return ProfileRun(as_of=now, persons=persons, perceptions=perceptions, segments=segments)


def profile_store_spark(
    store: Store,
    now: datetime,
    options: SparkOptions,
    *,
    config: ProfileConfig = DEFAULT_CONFIG,
    progress: Callable[[int], None] | None = None,
) -> ProfileRun:
    """Every profile computed by the recipe on Spark (issue 15), and saved in the store.

    Without ``options.inputs`` the store's persons and perceptions are written to
    Parquet (by DuckDB, in a temporary folder) for Spark to read; with it, Spark reads
    those Parquet files or tables, whose persons must be in the store. The rows are
    collected to this process, which formats the sentences and saves the models; with
    ``options.out`` they are also written as a profiles table (Parquet or Spark table).
    """
    import tempfile

    from relcrm.profile.columnar import profiles_of
    from relcrm.profile.columnar.spark import (
        run_recipe_spark,
        session_for,
        write_parquet_inputs,
        write_segment_inputs,
    )
    from relcrm.profile.columnar.spark_job import write_profiles as write_table

    run = ProfileRun(as_of=now)
    with tempfile.TemporaryDirectory(prefix="relcrm-spark-") as folder:
        where = options.inputs
        segments = store.perception_segments
        if where is None and segments is not None:
            people = [data for _, data in store.person_json_in(None, None)]
            where = write_segment_inputs(people, segments.scan(), Path(folder))
            run.perceptions = segments.count()
        elif where is None:
            people, said = store.persons_and_perceptions_json()
            where = write_parquet_inputs(people, said, Path(folder))
            run.perceptions = len(said)
        with session_for(options.master) as session:
            result = run_recipe_spark(session, where, now, config)
            if options.inputs is not None:
                reader = session.read.parquet if where.kind == "parquet" else session.table
                run.perceptions = int(reader(where.perceptions).count())
            profiles = list(profiles_of(result, config))
            if options.out is not None:
                write_table(session, profiles, options.out)
    for start in range(0, len(profiles), SAVE_EVERY):
        batch = profiles[start : start + SAVE_EVERY]
        store.save_profiles(batch)
        run.persons += len(batch)
        run.segments.update(profile.segment for profile in batch)
        if progress is not None:
            progress(len(batch))
    return run


def import_profile_table(
    store: Store, source: str, *, progress: Callable[[int], None] | None = None
) -> ProfileRun:
    """Save the profiles of a profiles table written by ``--engine spark --out`` or the
    Spark job (a Parquet file or folder): its ``profile`` column, validated as models.

    Read with DuckDB, so no Spark is needed on the machine that runs ``relcrm sync``.
    """
    from relcrm.profile.columnar._duckdb import duckdb_module

    duckdb = duckdb_module()
    pattern = str(Path(source) / "*.parquet") if Path(source).is_dir() else source
    try:
        texts = [
            row[0]
            for row in duckdb.execute(
                "SELECT profile FROM read_parquet(?) ORDER BY person_id", [pattern]
            ).fetchall()
        ]
    except duckdb.Error as error:
        raise InputError(
            f"cannot read the profiles table {source}: {type(error).__name__}",
            code="profile.input_invalid",
            hint="name the Parquet file or folder that --out or the Spark job wrote",
        ) from None
    profiles = [RelationshipProfile.model_validate_json(text) for text in texts]
    store.clear_profile_watermark()
    run = ProfileRun(as_of=max((p.as_of for p in profiles), default=datetime.now(UTC)))
    for start in range(0, len(profiles), SAVE_EVERY):
        batch = profiles[start : start + SAVE_EVERY]
        store.save_profiles(batch)
        run.persons += len(batch)
        run.segments.update(profile.segment for profile in batch)
        if progress is not None:
            progress(len(batch))
    return run


def default_workers() -> int:
    """One process per core: profiling is CPU-bound pure Python."""
    return max(1, os.cpu_count() or 1)


def profile_all(
    store_url: str,
    now: datetime,
    *,
    config: ProfileConfig = DEFAULT_CONFIG,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    engine: str = "reference",
    spark: SparkOptions | None = None,
    changed_only: bool = False,
    stale_after: timedelta | None = None,
) -> ProfileRun:
    """Compute and save every profile, splitting the persons over ``workers`` processes.

    ``engine="duckdb"`` runs the columnar recipe on DuckDB instead, in this process
    (``workers`` does not apply; see :func:`profile_store_columnar`), for every person
    or, ``changed_only``, those whose profile can differ (``stale_after``: how old a
    saved profile may be before decay alone calls for a new one; one day by default).
    ``engine="spark"`` runs it on Spark with ``spark``'s options (see
    :func:`profile_store_spark`).

    Each process opens the store itself and handles one range of person ids, so
    nothing but counts crosses a process boundary. Read the profiles back with
    ``Store.iter_profiles``.
    """
    if engine == "duckdb":
        with Store.open(store_url) as store:
            return profile_store_columnar(
                store,
                now,
                config=config,
                progress=progress,
                changed_only=changed_only,
                stale_after=stale_after,
            )
    if engine == "spark":
        with Store.open(store_url) as store:
            store.clear_profile_watermark()
            return profile_store_spark(
                store, now, spark or SparkOptions(), config=config, progress=progress
            )
    workers = workers or default_workers()
    run = ProfileRun(as_of=now)
    with Store.open(store_url) as store:
        store.clear_profile_watermark()  # this run keeps none (see profile_watermark)
        ranges = store.person_id_ranges(workers * 4 if workers > 1 else 1)
        if workers == 1 or len(ranges) == 1:
            for _ in profile_store(store, now, config=config, run=run, progress=progress):
                pass
            return run
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [
                pool.submit(_profile_range, store_url, now, config, after, until)
                for after, until in ranges
            ]
            for future in futures:
                part = future.result()
                run.merge(part)
                if progress is not None:
                    progress(part.persons)
    except BrokenProcessPool:
        # Worker processes could not run here (e.g. a __main__ that spawn cannot import,
        # as under `python -`). Saving a profile replaces it, so starting over in this
        # process is safe.
        logger.warning("profiling workers are unavailable; going on in this process")
        run = ProfileRun(as_of=now)
        with Store.open(store_url) as store:
            for _ in profile_store(store, now, config=config, run=run, progress=progress):
                pass
    return run


def _profile_range(
    store_url: str, now: datetime, config: ProfileConfig, after: str | None, until: str | None
) -> ProfileRun:
    run = ProfileRun(as_of=now)
    with Store.open(store_url) as store:
        for _ in profile_store(store, now, config=config, run=run, after=after, until=until):
            pass
    return run
