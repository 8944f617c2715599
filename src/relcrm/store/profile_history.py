"""Profile history: each profiling run's segment and health per person, kept for a while.

The ``profiles`` table holds only each person's latest profile; the relationship report
shows how segments moved since the last run and how health went week by week, so every
save of profiles also records a compact row per person and clock (not the whole profile:
100,000 persons a run would otherwise cost 150 MB a run). Rows older than the retention
(``RELCRM_PROFILE_HISTORY_DAYS``, default 400 days, before the newest clock saved) are
deleted as new ones arrive; 0 keeps no history at all.

These methods are mixed into :class:`relcrm.store.Store`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from sqlalchemy import Connection, and_, case, delete, exists, func, insert, literal, select

from relcrm.errors import ConfigurationError
from relcrm.store._part import StorePart, from_column, to_utc
from relcrm.store._tables import profile_history, profiles
from relcrm.store.report_reads import json_value, refusing_persons

HISTORY_DAYS_ENV: Final = "RELCRM_PROFILE_HISTORY_DAYS"
DEFAULT_HISTORY_DAYS: Final = 400
"""A bit over a year: enough for a year-on-year look at the trend."""


def history_retention_days(environ: dict[str, str] | None = None) -> int:
    """Days of profile history to keep, from ``RELCRM_PROFILE_HISTORY_DAYS``.

    Raises :class:`ConfigurationError` for a value that is not a whole number of days >= 0.
    """
    raw = (os.environ if environ is None else environ).get(HISTORY_DAYS_ENV, "").strip()
    if not raw:
        return DEFAULT_HISTORY_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = -1
    if days < 0:
        raise ConfigurationError(
            f"{HISTORY_DAYS_ENV} must be a whole number of days (0 or more), got {raw!r}",
            hint=f"unset it for the default ({DEFAULT_HISTORY_DAYS}), or set 0 to keep none",
        )
    return days


@dataclass(frozen=True)
class HistoryRun:
    """One profiling clock in the history, with the figures of consenting persons.

    ``segments`` counts every person (headcounts); ``health_sum`` and ``consenting`` are
    over consenting persons only, whose feelings the report may summarise.
    """

    as_of: datetime
    persons: int
    segments: dict[str, int]
    consenting: int
    health_sum: float

    @property
    def mean_health(self) -> float | None:
        return self.health_sum / self.consenting if self.consenting else None


class HistoryValues(Protocol):
    """What one history row is made of: a saved profile's clock, person and figures, as
    plain values (a ``Store.ProfileRow``; built from a model or straight from the columnar
    recipe's row, so saving needs no model)."""

    @property
    def as_of(self) -> datetime:
        """The profiling clock, aware (stored in UTC)."""

    @property
    def person_id(self) -> str: ...

    @property
    def segment(self) -> str: ...

    @property
    def health(self) -> float: ...

    @property
    def band(self) -> str: ...

    @property
    def attitude(self) -> float: ...

    @property
    def behavioural_loyalty(self) -> float | None: ...


HISTORY_COLUMNS: Final = (
    "as_of",
    "person_id",
    "segment",
    "health",
    "band",
    "attitude",
    "behavioural_loyalty",
)
"""The history's columns, in table order: the order of a history row's values."""

HistoryRow = tuple[datetime | str, str, str, float, str, float, float | None]
"""One history row, values in ``HISTORY_COLUMNS`` order."""


class ProfileHistoryStore(StorePart):
    """The profile history's part of the store (mixed into :class:`relcrm.store.Store`)."""

    _history_days: int | None = None

    def _column_time(self, moment: datetime) -> datetime | str:
        """``moment`` as this store's driver takes a datetime column (Store provides it)."""
        raise NotImplementedError

    def _upsert_many(
        self, connection: Connection, statement: Any, columns: tuple[str, ...], rows: list[Any]
    ) -> None:
        """Run an upsert for ``rows`` in ``columns`` order (Store provides it)."""
        raise NotImplementedError

    def _history_upsert(self) -> Any:
        insert = self._insert(profile_history)
        return insert.on_conflict_do_update(
            index_elements=[profile_history.c.as_of, profile_history.c.person_id],
            set_={name: insert.excluded[name] for name in HISTORY_COLUMNS[2:]},
        )

    def _record_history(
        self,
        connection: Connection,
        chunk: Sequence[HistoryValues],
        clocks: Mapping[datetime, datetime | str],
    ) -> None:
        """Inside the caller's transaction (the save of ``chunk``): add its history rows and
        drop the rows past the retention. ``chunk`` holds plain values (no models needed),
        one a person (so one a person and clock); ``clocks`` maps each of its ``as_of`` to
        the store's column value (``_column_time``'s), converted once for the chunk."""
        if self._history_days is None:
            self._history_days = history_retention_days()
        if self._history_days == 0 or not chunk:
            return
        rows = [
            (
                clocks[p.as_of],
                p.person_id,
                p.segment,
                p.health,
                p.band,
                p.attitude,
                p.behavioural_loyalty,
            )
            for p in chunk
        ]
        self._upsert_many(connection, self._history_upsert(), HISTORY_COLUMNS, rows)
        newest = max(to_utc(as_of) for as_of in clocks)
        horizon = newest - timedelta(days=self._history_days)
        connection.execute(delete(profile_history).where(profile_history.c.as_of < horizon))

    def history_clocks_near(self, clock: datetime, window: timedelta) -> list[datetime]:
        """The history's clocks at most ``window`` away from ``clock``, oldest first."""
        query = (
            select(profile_history.c.as_of)
            .distinct()
            .where(
                profile_history.c.as_of >= to_utc(clock - window),
                profile_history.c.as_of <= to_utc(clock + window),
            )
        )
        with self._read() as connection:
            return sorted(from_column(value) for value in connection.scalars(query))

    def carry_standing_profiles(self, clock: datetime) -> int:
        """Give every profiled person without a history row at ``clock`` one with the
        figures of their saved profile; return how many were added.

        A changed-only run re-profiles some persons at its clock and lets the others'
        saved profiles stand: the report reads each clock of the history as the whole
        book, so the run that records one records everyone. The figures come from the
        saved profile itself (its JSON for band, attitude and loyalty): a profile made by
        a run that recorded no history has no row of its own to copy."""
        if self._history_days is None:
            self._history_days = history_retention_days()
        if self._history_days == 0:
            return 0
        at_clock = profile_history.alias("at_clock")
        when = literal(to_utc(clock), type_=profile_history.c.as_of.type)
        with self._write() as connection:
            data = profiles.c.data
            band = json_value(connection, data, "band", number=False)
            attitude = json_value(connection, data, "attitude")
            loyalty = json_value(connection, data, "behavioural_loyalty")
            figures = select(
                when,
                profiles.c.person_id,
                profiles.c.segment,
                profiles.c.health,
                band,
                attitude,
                loyalty,
            ).where(
                ~exists().where(
                    and_(at_clock.c.person_id == profiles.c.person_id, at_clock.c.as_of == when)
                )
            )
            result = connection.execute(
                insert(profile_history).from_select(list(HISTORY_COLUMNS), figures)
            )
            return int(result.rowcount or 0)

    @staticmethod
    def _erase_profile_history(connection: Connection, person_id: str) -> None:
        connection.execute(delete(profile_history).where(profile_history.c.person_id == person_id))

    def history_runs(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[HistoryRun]:
        """Every profiling clock in the history within ``[since, until]``, oldest first."""
        with self._read() as connection:
            refusing = profile_history.c.person_id.in_(refusing_persons(connection))
            consenting = case((refusing, 0), else_=1)
            query = select(
                profile_history.c.as_of,
                profile_history.c.segment,
                consenting,
                func.count(),
                func.sum(profile_history.c.health),
            )
            if since is not None:
                query = query.where(profile_history.c.as_of >= to_utc(since))
            if until is not None:
                query = query.where(profile_history.c.as_of <= to_utc(until))
            query = query.group_by(profile_history.c.as_of, profile_history.c.segment, consenting)
            rows = connection.execute(query).all()
        runs: dict[datetime, HistoryRun] = {}
        for as_of, segment, consent, count, health_sum in rows:
            moment = from_column(as_of)
            run = runs.get(moment) or HistoryRun(moment, 0, {}, 0, 0.0)
            segments = dict(run.segments)
            segments[str(segment)] = segments.get(str(segment), 0) + int(count)
            agreed = bool(consent)
            runs[moment] = HistoryRun(
                moment,
                run.persons + int(count),
                segments,
                run.consenting + (int(count) if agreed else 0),
                run.health_sum + (float(health_sum or 0.0) if agreed else 0.0),
            )
        return [runs[key] for key in sorted(runs)]

    def previous_history_clock(self, before: datetime) -> datetime | None:
        """The newest profiling clock in the history earlier than ``before``: the state the
        last report (after the previous profiling run) showed; None if there is none."""
        with self._read() as connection:
            value = connection.scalar(
                select(func.max(profile_history.c.as_of)).where(
                    profile_history.c.as_of < to_utc(before)
                )
            )
        return None if value is None else from_column(value)

    def history_segments(self, clock: datetime) -> dict[str, str]:
        """``{person_id: segment}`` as the profiling run at ``clock`` saved them."""
        query = select(profile_history.c.person_id, profile_history.c.segment).where(
            profile_history.c.as_of == to_utc(clock)
        )
        with self._read() as connection:
            return {str(pid): str(segment) for pid, segment in connection.execute(query)}


__all__ = [
    "DEFAULT_HISTORY_DAYS",
    "HISTORY_COLUMNS",
    "HISTORY_DAYS_ENV",
    "HistoryRow",
    "HistoryRun",
    "HistoryValues",
    "ProfileHistoryStore",
    "history_retention_days",
]
