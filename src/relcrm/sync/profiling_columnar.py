"""The columnar profile run: every profile computed by the recipe on DuckDB, and saved.

Why it is shaped this way:

- **Columns in, rows out, no models.** A store keeping perceptions in segments hands the
  recipe a view over its Parquet files (nothing parsed); a table store's JSON is parsed
  without validation (it was validated at ingest). Profiles are saved in their stored
  form straight from DuckDB's tuples (:mod:`relcrm.profile.columnar.encoded`): one dict a
  row for the sentences, numbers taken as DuckDB types them, no per-row lists of dicts.
- **Bounded memory.** Persons are taken a range of ids at a time, about
  ``PART_PERCEPTIONS`` perceptions a range; Parquet segments are sorted by person, so a
  range reads only its row groups. DuckDB may spill to a temporary folder beyond
  ``MEMORY_LIMIT`` (a range of 250,000 perceptions stays within 512 MB: spilling would
  cost more than a smaller range).
- **Both cores.** DuckDB loads a range and runs the recipe (one query,
  ``recipe.combined_sql``) in a thread of its own while this thread formats the sentences
  and stored JSON of the range before and saves it, one transaction a range. Python's
  cyclic collector runs between ranges only (:mod:`relcrm.sync.collector`): the run makes
  millions of small containers, none in a cycle, and each collection would walk all
  those alive.
- **Changed only.** With ``changed_only``, a run re-profiles the persons whose profile
  can differ from the saved one: perceptions written since the last complete run (the
  segments' sequence number), persons written since it, persons never profiled, and
  profiles whose clock is more than ``stale_after`` older than the new one (decay moves
  every number with the clock; within ``stale_after`` the saved profile stands) or later
  than it (the clock went back). Everyone when the last complete run had other settings
  (``ProfileConfig.fingerprint``) or profiles were since saved in bulk by another engine.
  Each clock of the profile history is a record of the whole book (the report's trend
  and movement read it so): a changed-only run records one, with everyone's saved
  figures beside its own, only when no record lies within ``stale_after`` of its clock
  (or to bring the record at its very clock up to date), so the history grows as with
  one full run a window. A table store has no sequence
  numbers: there every person is profiled.
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from relcrm.models import Segment
from relcrm.profile import DEFAULT_CONFIG, ProfileConfig
from relcrm.profile.columnar._duckdb import duckdb_module
from relcrm.profile.columnar.encoded import ProfileEncoder, StoredProfile, typed_columns
from relcrm.profile.columnar.inputs import (
    PERCEPTION_COLUMNS,
    load_persons_json,
    load_table,
    perception_rows_of_json,
    perceptions_from_segments_sql,
)
from relcrm.profile.columnar.recipe import execute_recipe
from relcrm.profile.columnar.sentences import outreach_reason, reasons
from relcrm.store import Store
from relcrm.sync.collector import collections_between_batches

PART_PERCEPTIONS = 250_000
"""Perceptions profiled at a time (one range of person ids); two ranges are in memory at
once (one in DuckDB, the one before as rows in Python)."""

MEMORY_LIMIT = "512MB"
"""DuckDB's working memory; beyond it, it spills to a temporary folder."""


DEFAULT_STALE_AFTER = timedelta(days=1)

WRITE_LOOKBACK = timedelta(minutes=10)
"""How long before the last complete run started a person write still counts as new: a
write is stamped when its transaction starts (by its own machine's clock) and may commit
after the run started reading; such persons are profiled once more, to be sure. A
transaction of person writes takes seconds; the rest is room for clocks that differ."""


def run_columnar_profile(
    store: Store,
    now: datetime,
    *,
    config: ProfileConfig = DEFAULT_CONFIG,
    progress: Callable[[int], None] | None = None,
    changed_only: bool = False,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    part_perceptions: int = PART_PERCEPTIONS,
) -> tuple[int, int, Counter[Segment]]:
    """Profile (and save) every person, or with ``changed_only`` those whose profile can
    differ; return persons profiled, perceptions read, and persons by segment."""
    started = datetime.now(UTC)
    segments = store.perception_segments
    seq = segments.seq() if segments is not None else None
    wanted = (
        _changed(store, now, stale_after, config) if changed_only and segments is not None else None
    )
    # A changed-only run records history only away from other records, or at its own
    # clock's (see the module).
    near = store.history_clocks_near(now, stale_after) if wanted is not None else []
    recorded = not near or now in near
    total = store.count_perceptions()
    ranges = store.person_id_ranges(max(1, math.ceil(total / max(1, part_perceptions))))
    duckdb = duckdb_module()
    persons_done = 0
    perceptions_read = 0
    by_segment: Counter[Segment] = Counter()
    parts: Iterator[_Part] = (
        part
        for after, until in ranges
        if (part := _part_of(store, wanted, after, until)) is not None
    )
    encoder = ProfileEncoder(now, config)
    with (
        tempfile.TemporaryDirectory(prefix="relcrm-profile-") as spill,
        collections_between_batches() as collect,
    ):
        connection = duckdb.connect(":memory:")
        try:
            connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            connection.execute(f"SET temp_directory = '{spill}'")
            with ThreadPoolExecutor(1, thread_name_prefix="relcrm-duckdb") as duckdb_thread:

                def start() -> Future[_Fetched] | None:
                    part = next(parts, None)
                    if part is None:
                        return None
                    return duckdb_thread.submit(_compute, connection, part, now, config)

                running = start()
                while running is not None:
                    fetched = running.result()
                    running = start()
                    perceptions_read += fetched.perceptions
                    pending = _stored_of(fetched, encoder, config)
                    del fetched
                    segments_seen = Counter(row.segment for row in pending)
                    by_segment.update({Segment(k): n for k, n in segments_seen.items()})
                    persons_done += len(pending)
                    _save(store, pending, progress, history=recorded)
                    collect()
        finally:
            connection.close()
    if wanted is not None and recorded:
        store.carry_standing_profiles(now)
    store.set_profile_watermark(seq, started, config.fingerprint)
    return persons_done, perceptions_read, by_segment


@dataclass(frozen=True, slots=True)
class _Part:
    """One range of persons as the DuckDB thread loads it, read from the store by the
    calling thread (the store is used from that thread only)."""

    people: list[str]
    """The persons' stored JSON."""
    perceptions: list[tuple[Any, ...]] | None
    """Table layout: the perceptions' rows (``PERCEPTION_COLUMNS``)."""
    source: str | None
    """Segments: the relation over the Parquet files holding the range's perceptions."""


@dataclass(frozen=True, slots=True)
class _Fetched:
    """One range's recipe rows, as DuckDB gave them."""

    perceptions: int
    names: list[str]
    values: list[tuple[Any, ...]]
    typed: bool
    """Whether the numbers come in the model's types (``encoded.typed_columns``)."""


def _part_of(
    store: Store, wanted: set[str] | None, after: str | None, until: str | None
) -> _Part | None:
    """What the DuckDB thread needs for the range ``(after, until]``; None if no person of
    it is to be profiled."""
    people = store.person_json_in(after, until)
    if wanted is not None:
        people = [(pid, data) for pid, data in people if pid in wanted]
    if not people:
        return None
    texts = [data for _, data in people]
    segments = store.perception_segments
    if segments is None:
        said = perception_rows_of_json(store.perception_json_in(after, until))
        ids = {pid for pid, _ in people}
        return _Part(texts, [row for row in said if row[1] in ids], None)
    bounds = []
    if after is not None:
        bounds.append(f"person_id > {_quote(after)}")
    if until is not None:
        bounds.append(f"person_id <= {_quote(until)}")
    where = " AND ".join([*bounds, "person_id IN (SELECT id FROM persons)"])
    return _Part(texts, None, f"(SELECT * FROM {segments.scan()} WHERE {where})")


def _compute(connection: Any, part: _Part, now: datetime, config: ProfileConfig) -> _Fetched:
    """In the DuckDB thread: load one range and fetch its recipe rows. DuckDB works while
    the calling thread formats and saves the range before (both cores busy)."""
    load_persons_json(connection, part.people)
    if part.source is None:
        load_table(connection, "perceptions", PERCEPTION_COLUMNS, part.perceptions or [])
    else:
        # A view, not a copy: the one query reads the perceptions once.
        connection.execute(
            "CREATE OR REPLACE VIEW perceptions AS " + perceptions_from_segments_sql(part.source)
        )
    (count,) = connection.execute("SELECT COUNT(*) FROM perceptions").fetchone()
    cursor = execute_recipe(connection, now, config)
    names = [d[0] for d in cursor.description]
    typed = typed_columns(cursor.description)
    return _Fetched(int(count), names, cursor.fetchall(), typed)


def _stored_of(
    fetched: _Fetched, encoder: ProfileEncoder, config: ProfileConfig
) -> list[StoredProfile]:
    """One range's stored profiles, straight from DuckDB's rows: a dict a row for the
    sentences to read, the pet peeves zipped from their three lists, and the JSON text
    assembled by the encoder (what ``recipe.recipe_rows`` and ``stored.stored_profile``
    give, without their per-row lists and dicts)."""
    names = fetched.names
    stored, typed = encoder.stored, fetched.typed
    out: list[StoredProfile] = []
    append = out.append
    for values in fetched.values:
        row = dict(zip(names, values, strict=True))
        topics = row["peeve_topics"] or ()
        peeves = zip(topics, row["peeve_weights"] or (), row["peeve_mentions"] or (), strict=True)
        said = reasons(row, topics, config)
        append(stored(row, peeves, said, outreach_reason(row, config), typed=typed))
    return out


def _changed(
    store: Store, now: datetime, stale_after: timedelta, config: ProfileConfig
) -> set[str]:
    """The persons a changed-only run must profile (see the module): everyone when no
    complete run with the same settings is recorded."""
    segments = store.perception_segments
    assert segments is not None
    mark = store.profile_watermark()
    if mark.seq is None or mark.at is None or mark.config != config.fingerprint:
        return set(pid for pid, _ in store.person_json_in(None, None))
    wanted = segments.persons_since(mark.seq)
    wanted |= store.persons_written_since(mark.at - WRITE_LOOKBACK)
    wanted |= store.persons_profiled_outside(now - stale_after, now)
    return wanted


def _save(
    store: Store,
    pending: list[StoredProfile],
    progress: Callable[[int], None] | None,
    *,
    history: bool,
) -> None:
    """One range's profiles in one transaction (one commit and history clean-up)."""
    if not pending:
        return
    store.save_profile_rows(pending, chunk_size=len(pending), history=history)
    if progress is not None:
        progress(len(pending))
    pending.clear()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
