"""The columnar profile run: every profile computed by the recipe on DuckDB, and saved.

Why it is shaped this way:

- **Columns in, rows out, no models.** A store keeping perceptions in segments hands the
  recipe a view over its Parquet files (nothing parsed); a table store's JSON is parsed
  without validation (it was validated at ingest). Profiles are saved in their stored
  form straight from the recipe's rows (:mod:`relcrm.profile.columnar.stored`).
- **Bounded memory.** Persons are taken a range of ids at a time, about
  ``PART_PERCEPTIONS`` perceptions a range; Parquet segments are sorted by person, so a
  range reads only its row groups. DuckDB may spill to a temporary folder beyond
  ``MEMORY_LIMIT``.
- **Changed only.** With ``changed_only``, a run re-profiles the persons whose profile
  can differ from the saved one: perceptions written since the last complete run (the
  segments' sequence number), persons written since it, persons never profiled, and
  profiles whose clock is more than ``stale_after`` older than the new one (decay moves
  every number with the clock; within ``stale_after`` the saved profile stands). A
  table store has no sequence numbers: there every person is profiled.
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from relcrm.models import Segment
from relcrm.profile import DEFAULT_CONFIG, ProfileConfig
from relcrm.profile.columnar import run_recipe
from relcrm.profile.columnar._duckdb import duckdb_module
from relcrm.profile.columnar.inputs import (
    PERCEPTION_COLUMNS,
    load_persons_json,
    load_table,
    perception_rows_of_json,
    perceptions_from_segments_sql,
)
from relcrm.profile.columnar.stored import StoredProfile, stored_profiles
from relcrm.store import Store

PART_PERCEPTIONS = 500_000
"""Perceptions profiled at a time (one range of person ids)."""

MEMORY_LIMIT = "512MB"
"""DuckDB's working memory; beyond it, it spills to a temporary folder."""

SAVE_EVERY = 20_000
"""Profiles saved per call of ``Store.save_profile_rows``."""

DEFAULT_STALE_AFTER = timedelta(days=1)


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
    wanted = _changed(store, now, stale_after) if changed_only and segments is not None else None
    total = store.count_perceptions()
    parts = max(1, math.ceil(total / max(1, part_perceptions)))
    ranges = store.person_id_ranges(parts)
    duckdb = duckdb_module()
    persons_done = 0
    perceptions_read = 0
    by_segment: Counter[Segment] = Counter()
    with tempfile.TemporaryDirectory(prefix="relcrm-profile-") as spill:
        connection = duckdb.connect(":memory:")
        try:
            connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            connection.execute(f"SET temp_directory = '{spill}'")
            for after, until in ranges:
                people = store.person_json_in(after, until)
                if wanted is not None:
                    people = [(pid, data) for pid, data in people if pid in wanted]
                if not people:
                    continue
                perceptions_read += _load_part(connection, store, people, after, until)
                result = run_recipe(connection, now, config)
                pending: list[StoredProfile] = []
                for row in stored_profiles(result, config):
                    persons_done += 1
                    by_segment[Segment(row.segment)] += 1
                    pending.append(row)
                    if len(pending) >= SAVE_EVERY:
                        _save(store, pending, progress)
                _save(store, pending, progress)
        finally:
            connection.close()
    store.set_profile_watermark(seq, started)
    return persons_done, perceptions_read, by_segment


def _changed(store: Store, now: datetime, stale_after: timedelta) -> set[str]:
    """The persons a changed-only run must profile (see the module)."""
    segments = store.perception_segments
    assert segments is not None
    seq, at = store.profile_watermark()
    if seq is None or at is None:
        return set(pid for pid, _ in store.person_json_in(None, None))
    wanted = segments.persons_since(seq)
    wanted |= store.persons_written_since(at)
    wanted |= store.persons_profiled_before(now - stale_after)
    return wanted


def _load_part(
    connection: Any,
    store: Store,
    people: list[tuple[str, str]],
    after: str | None,
    until: str | None,
) -> int:
    """Fill ``persons`` and ``perceptions`` for one range; return the perceptions in it."""
    load_persons_json(connection, [data for _, data in people])
    segments = store.perception_segments
    if segments is None:
        said = perception_rows_of_json(store.perception_json_in(after, until))
        wanted = {pid for pid, _ in people}
        load_table(
            connection, "perceptions", PERCEPTION_COLUMNS, [r for r in said if r[1] in wanted]
        )
    else:
        bounds = []
        if after is not None:
            bounds.append(f"person_id > {_quote(after)}")
        if until is not None:
            bounds.append(f"person_id <= {_quote(until)}")
        where = " AND ".join([*bounds, "person_id IN (SELECT id FROM persons)"])
        source = f"(SELECT * FROM {segments.scan()} WHERE {where})"
        connection.execute(
            "CREATE OR REPLACE TABLE perceptions AS " + perceptions_from_segments_sql(source)
        )
    (count,) = connection.execute("SELECT COUNT(*) FROM perceptions").fetchone()
    return int(count)


def _save(
    store: Store, pending: list[StoredProfile], progress: Callable[[int], None] | None
) -> None:
    if not pending:
        return
    store.save_profile_rows(pending)
    if progress is not None:
        progress(len(pending))
    pending.clear()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
