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
from datetime import datetime

from relcrm.models import RelationshipProfile, Segment
from relcrm.profile import DEFAULT_CONFIG, ProfileConfig, build_profile
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
) -> ProfileRun:
    """Every profile computed by the columnar recipe on DuckDB, and saved.

    The store's JSON is read in two queries and parsed without validation (it was
    validated when it was ingested); models are built only to be saved.
    """
    from relcrm.profile.columnar import connect_with, profiles_of, run_recipe
    from relcrm.profile.columnar.inputs import perception_rows_of_json, person_rows_of_json

    run = ProfileRun(as_of=now)
    people, said = store.persons_and_perceptions_json()
    connection = connect_with(person_rows_of_json(people), perception_rows_of_json(said))
    try:
        result = run_recipe(connection, now, config)
    finally:
        connection.close()
    run.perceptions = len(said)
    pending: list[RelationshipProfile] = []
    for profile in profiles_of(result, config):
        run.persons += 1
        run.segments[profile.segment] += 1
        pending.append(profile)
        if len(pending) >= SAVE_EVERY:
            store.save_profiles(pending)
            if progress is not None:
                progress(len(pending))
            pending.clear()
    if pending:
        store.save_profiles(pending)
        if progress is not None:
            progress(len(pending))
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
) -> ProfileRun:
    """Compute and save every profile, splitting the persons over ``workers`` processes.

    ``engine="duckdb"`` runs the columnar recipe on DuckDB instead, in this process
    (``workers`` does not apply; see :func:`profile_store_columnar`).

    Each process opens the store itself and handles one range of person ids, so
    nothing but counts crosses a process boundary. Read the profiles back with
    ``Store.iter_profiles``.
    """
    if engine == "duckdb":
        with Store.open(store_url) as store:
            return profile_store_columnar(store, now, config=config, progress=progress)
    workers = workers or default_workers()
    run = ProfileRun(as_of=now)
    with Store.open(store_url) as store:
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
