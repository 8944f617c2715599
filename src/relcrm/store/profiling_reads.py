"""What the columnar profile run reads from the store in bulk, and its watermark.

The run goes through the persons a range of ids at a time (memory stays bounded however
many there are) and, when asked to re-profile only what changed, needs to know what
changed since the last run: perceptions in segments written after its watermark, persons
written after it, persons never profiled, and profiles too old for the new clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from relcrm.store._part import StorePart, from_column, to_utc
from relcrm.store._tables import perceptions, persons, profiles, store_options

WATERMARK_SEQ = "profiled_segment_seq"
WATERMARK_AT = "profiled_at"


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

    def persons_profiled_before(self, as_of: datetime) -> set[str]:
        """Persons without a profile, or whose profile's clock is earlier than ``as_of``."""
        with self._read() as connection:
            profiled = {
                person_id: from_column(clock)
                for person_id, clock in connection.execute(
                    select(profiles.c.person_id, profiles.c.as_of)
                )
            }
            everyone = set(connection.scalars(select(persons.c.id)))
        return {pid for pid in everyone if pid not in profiled or profiled[pid] < as_of}

    def profile_watermark(self) -> tuple[int | None, datetime | None]:
        """The segment sequence and wall-clock time the last complete profile run started
        from (None, None before any)."""
        with self._read() as connection:
            options = dict(
                connection.execute(
                    select(store_options.c.name, store_options.c.value).where(
                        store_options.c.name.in_((WATERMARK_SEQ, WATERMARK_AT))
                    )
                ).all()
            )
        seq = options.get(WATERMARK_SEQ)
        at = options.get(WATERMARK_AT)
        return (
            None if seq is None else int(seq),
            None if at is None else datetime.fromisoformat(at),
        )

    def set_profile_watermark(self, seq: int | None, at: datetime) -> None:
        """Record where a complete run started: the next changed-only run starts there."""
        values = {WATERMARK_AT: to_utc(at).isoformat()}
        if seq is not None:
            values[WATERMARK_SEQ] = str(seq)
        with self._write() as connection:
            for name, value in values.items():
                connection.execute(delete(store_options).where(store_options.c.name == name))
                connection.execute(store_options.insert().values(name=name, value=value))
