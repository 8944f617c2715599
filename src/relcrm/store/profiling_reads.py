"""What the columnar profile run reads from the store in bulk, and its watermark.

The run goes through the persons a range of ids at a time (memory stays bounded however
many there are) and, when asked to re-profile only what changed, needs to know what
changed since the last run: perceptions in segments written after its watermark, persons
written after it, persons never profiled, and profiles too old for the new clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select

from relcrm.store._part import StorePart, from_column, to_utc
from relcrm.store._tables import perceptions, persons, profiles, store_options

WATERMARK_SEQ = "profiled_segment_seq"
WATERMARK_AT = "profiled_at"
WATERMARK_CONFIG = "profiled_config"
_WATERMARK_OPTIONS = (WATERMARK_SEQ, WATERMARK_AT, WATERMARK_CONFIG)


def forget_watermark(connection: Connection) -> None:
    """Delete the watermark in the caller's transaction: also when the layout moves, as a
    new folder numbers its segments from 1 again."""
    connection.execute(delete(store_options).where(store_options.c.name.in_(_WATERMARK_OPTIONS)))


@dataclass(frozen=True, slots=True)
class ProfileWatermark:
    """Where the last complete columnar run started, and with what settings."""

    seq: int | None
    """The segments' sequence number then (perceptions written after it are new)."""
    at: datetime | None
    """The wall-clock time it started (persons written after it may have new facts)."""
    config: str | None
    """The fingerprint of its ``ProfileConfig``: profiles made with other settings differ."""


class ProfilingReadStore(StorePart):
    """The columnar profile run's part of the store (mixed into :class:`Store`)."""

    def person_json_in(self, after: str | None, until: str | None) -> list[tuple[str, str]]:
        """``(id, JSON)`` of the persons with ids in ``(after, until]``, by id."""
        query = select(persons.c.id, persons.c.data).order_by(persons.c.id)
        if after is not None:
            query = query.where(persons.c.id > after)
        if until is not None:
            query = query.where(persons.c.id <= until)
        with self._read() as connection:
            return [(row[0], row[1]) for row in connection.execute(query)]

    def perception_json_in(self, after: str | None, until: str | None) -> list[str]:
        """The stored JSON of the perceptions (table layout) of persons in ``(after, until]``."""
        query = select(perceptions.c.data)
        if after is not None:
            query = query.where(perceptions.c.person_id > after)
        if until is not None:
            query = query.where(perceptions.c.person_id <= until)
        with self._read() as connection:
            return list(connection.scalars(query))

    def persons_written_since(self, moment: datetime) -> set[str]:
        """Persons upserted at or after ``moment`` (their facts may have changed)."""
        with self._read() as connection:
            return set(
                connection.scalars(
                    select(persons.c.id).where(persons.c.updated_at >= to_utc(moment))
                )
            )

    def persons_profiled_outside(self, earliest: datetime, latest: datetime) -> set[str]:
        """Persons without a profile, or whose profile's clock is before ``earliest`` or
        after ``latest`` (made for a later clock than the run's: the clock went back)."""
        with self._read() as connection:
            profiled = {
                person_id: from_column(clock)
                for person_id, clock in connection.execute(
                    select(profiles.c.person_id, profiles.c.as_of)
                )
            }
            everyone = set(connection.scalars(select(persons.c.id)))
        return {
            pid
            for pid in everyone
            if pid not in profiled or not earliest <= profiled[pid] <= latest
        }

    def profile_watermark(self) -> ProfileWatermark:
        """Where the last complete columnar run started (all None before any, or after
        profiles were saved in bulk some other way)."""
        with self._read() as connection:
            options = dict(
                connection.execute(
                    select(store_options.c.name, store_options.c.value).where(
                        store_options.c.name.in_(_WATERMARK_OPTIONS)
                    )
                ).all()
            )
        seq = options.get(WATERMARK_SEQ)
        at = options.get(WATERMARK_AT)
        return ProfileWatermark(
            None if seq is None else int(seq),
            None if at is None else datetime.fromisoformat(at),
            options.get(WATERMARK_CONFIG),
        )

    def set_profile_watermark(self, seq: int | None, at: datetime, config: str) -> None:
        """Record where a complete run started and its settings' fingerprint: the next
        changed-only run starts there, if its settings are the same."""
        values = {WATERMARK_AT: to_utc(at).isoformat(), WATERMARK_CONFIG: config}
        if seq is not None:
            values[WATERMARK_SEQ] = str(seq)
        with self._write() as connection:
            forget_watermark(connection)
            for name, value in values.items():
                connection.execute(store_options.insert().values(name=name, value=value))

    def clear_profile_watermark(self) -> None:
        """Forget the watermark: profiles are about to be saved by a run that keeps none
        (the reference engine, Spark, an imported table), perhaps with other settings,
        so the next changed-only run profiles everyone."""
        with self._write() as connection:
            forget_watermark(connection)
