"""The reads the relationship report needs (``relcrm report``), done where the data is.

A report over 100,000 persons and a million perceptions must not build a million models:
the emotion mix and the score answers are summed by the database itself (JSON functions
of SQLite and PostgreSQL over the stored perception text), and only the few persons the
report shows in full are read as models. Persons without consent are left out of every
sum here: the report shows them only as heads in counts.

These methods are mixed into :class:`relcrm.store.Store`.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import Connection, Float, Text, cast, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

from relcrm.models import Perception
from relcrm.store._part import StorePart, chunks, from_column, to_utc
from relcrm.store._tables import perceptions, persons, profiles, sync_records, sync_state
from relcrm.store.segments.columns import micros, perception_of
from relcrm.store.segments.files import PerceptionSegments

SCAN_BATCH: Final = 10_000
"""Perceptions fetched at a time in the report's scan: memory stays flat."""

IN_LIST_SIZE: Final = 900
"""Values per ``IN (...)``: under SQLite's historic limit of 999 bound parameters."""

EMOTION_KEYS: Final = (
    "joy",
    "trust",
    "fear",
    "surprise",
    "sadness",
    "disgust",
    "anger",
    "anticipation",
)
"""Plutchik's eight, as :class:`relcrm.models.EmotionIntensities` names them."""


@dataclass(frozen=True)
class ChannelSums:
    """Sums over the perceptions of one channel (consenting persons only)."""

    channel: str
    perceptions: int
    valence_sum: float
    valence_count: int
    emotion_sums: dict[str, float]


@dataclass(frozen=True)
class ScoreAnswers:
    """How many answers of each kind and value (consenting persons only).

    ``nps``: value -> answers; ``csat``: (scale_min, scale_max, value) -> answers;
    ``ces``: (scale_min, scale_max, direction, value) -> answers.
    """

    nps: dict[int, int] = field(default_factory=dict)
    csat: dict[tuple[int, int, float], int] = field(default_factory=dict)
    ces: dict[tuple[int, int, str, float], int] = field(default_factory=dict)


class ReportRow(NamedTuple):
    """A person and the figures of their saved profile the report counts (None and empty
    when never profiled)."""

    person_id: str
    consent: bool
    segment: str | None
    health: float | None
    attitude: float | None
    loyalty: float | None
    band: str | None
    archetype: str | None
    needs_outreach: bool
    pet_peeves: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class PushedField:
    """A CRM field relcrm last wrote for a person on a target, and when."""

    target: str
    field: str
    pushed_at: datetime


def json_value(
    connection: Connection, column: Any, *path: str, number: bool = True
) -> ColumnElement[Any]:
    """The value at ``path`` inside a JSON text column, by the dialect's own functions;
    NULL where the path is absent. Numbers come back as floats, other values as text
    (SQLite gives booleans as 1/0, PostgreSQL as ``true``/``false``: see :func:`json_true`)."""
    if connection.dialect.name == "postgresql":
        text_value = cast(column, postgresql.JSONB)[path].astext
        return cast(text_value, Float) if number else text_value
    return func.json_extract(column, "$." + ".".join(path))


def json_true(connection: Connection, column: Any, *path: str) -> ColumnElement[bool]:
    """``column``'s JSON boolean at ``path`` is true (absent counts as false)."""
    value = json_value(connection, column, *path, number=False)
    if connection.dialect.name == "postgresql":
        return func.coalesce(value, "false") == "true"
    return func.coalesce(value, 0) == 1


def refusing_persons(connection: Connection) -> Any:
    """A subquery of the ids of persons without consent (a few, usually): filtering rows by
    ``person_id NOT IN`` it reads each person's consent once, not once per row."""
    granted = json_true(connection, persons.c.data, "consent", "granted")
    return select(persons.c.id).where(~granted)


_PERCEPTION_PATHS: Final = (
    ("valence",),
    *(("emotions", key) for key in EMOTION_KEYS),
    ("nps", "value"),
    ("csat", "scale_min"),
    ("csat", "scale_max"),
    ("csat", "value"),
    ("ces", "scale_min"),
    ("ces", "scale_max"),
    ("ces", "direction"),
    ("ces", "value"),
)
_PROFILE_PATHS: Final = (
    ("attitude",),
    ("behavioural_loyalty",),
    ("band",),
    ("archetype",),
    ("needs_outreach",),
    ("pet_peeves",),
)


def json_array(connection: Connection, column: Any, paths: Sequence[tuple[str, ...]]) -> Any:
    """The values at ``paths`` (two or more) inside a JSON text column, as the text of one
    JSON array, absent values as null: the document is parsed once for all of them."""
    if len(paths) < 2:
        raise ValueError("json_array takes two paths or more")
    if connection.dialect.name == "postgresql":
        document = cast(column, postgresql.JSONB)
        return cast(func.jsonb_build_array(*(document[path] for path in paths)), Text)
    return func.json_extract(column, *("$." + ".".join(path) for path in paths))


_UNPROFILED: Final = (None, None, None, None, False, ())
"""A :class:`ReportRow`'s profile figures for a person never profiled."""


def _count_scores(answers: ScoreAnswers, row: list[Any], count: int) -> None:
    nps, csat_low, csat_high, csat, ces_low, ces_high, ces_direction, ces = row
    if nps is not None:
        answers.nps[int(nps)] = answers.nps.get(int(nps), 0) + count
    if csat is not None:
        key = (int(csat_low or 1), int(csat_high or 5), float(csat))
        answers.csat[key] = answers.csat.get(key, 0) + count
    if ces is not None and ces_low is not None and ces_high is not None:
        ces_key = (int(ces_low), int(ces_high), str(ces_direction), float(ces))
        answers.ces[ces_key] = answers.ces.get(ces_key, 0) + count


def _window(query: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        query = query.where(perceptions.c.occurred_at >= to_utc(since))
    if until is not None:
        query = query.where(perceptions.c.occurred_at <= to_utc(until))
    return query


def _of_consenting(connection: Connection, query: Any) -> Any:
    return query.where(perceptions.c.person_id.not_in(refusing_persons(connection)))


class ReportReadStore(StorePart):
    """The report's part of the store (mixed into :class:`relcrm.store.Store`)."""

    _segments: PerceptionSegments | None

    def perception_figures(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> tuple[list[ChannelSums], ScoreAnswers]:
        """Per channel: perceptions, valence and emotion sums; and every NPS, CSAT and CES
        answer by value and scale; of consenting persons, occurred in ``[since, until]``.

        One scan: the database pulls the few values out of each perception's JSON in one
        parse (absent emotions count as 0; CSAT's default scale is 1-5, as the model's).
        """
        if self._segments is not None:
            return self._segment_figures(self._segments, since, until)
        channels: dict[str, list[float]] = {}
        scores: Counter[tuple[Any, ...]] = Counter()
        emotions = len(EMOTION_KEYS)
        with self._read() as connection:
            values = json_array(connection, perceptions.c.data, _PERCEPTION_PATHS)
            query = select(perceptions.c.channel, values)
            query = _window(_of_consenting(connection, query), since, until)
            result = connection.execution_options(yield_per=SCAN_BATCH).execute(query)
            loads = json.loads
            for batch in result.partitions():
                by_channel: dict[str, list[list[Any]]] = {}
                for channel, text in batch:
                    by_channel.setdefault(channel, []).append(loads(text))
                for channel, rows in by_channel.items():
                    # Column by column, in C: sums skip None (and 0, which adds nothing).
                    columns = list(zip(*rows, strict=True))
                    sums = channels.setdefault(channel, [0.0] * (3 + emotions))
                    sums[0] += len(rows)
                    sums[1] += math.fsum(filter(None, columns[0]))
                    sums[2] += len(rows) - columns[0].count(None)
                    for index in range(emotions):
                        sums[3 + index] += math.fsum(filter(None, columns[1 + index]))
                    scores.update(zip(*columns[1 + emotions :], strict=True))
        answers = ScoreAnswers()
        for key, count in scores.items():
            _count_scores(answers, list(key), count)
        figures = [
            ChannelSums(
                channel=channel,
                perceptions=int(sums[0]),
                valence_sum=sums[1],
                valence_count=int(sums[2]),
                emotion_sums=dict(zip(EMOTION_KEYS, sums[3:], strict=True)),
            )
            for channel, sums in sorted(channels.items())
        ]
        return figures, answers

    def _segment_figures(
        self, segments: PerceptionSegments, since: datetime | None, until: datetime | None
    ) -> tuple[list[ChannelSums], ScoreAnswers]:
        """:meth:`perception_figures` on perception segments: the sums in DuckDB."""
        with self._read() as connection:
            refusing = list(connection.scalars(refusing_persons(connection)))
        lowest = micros(to_utc(since)) if since is not None else None
        highest = micros(to_utc(until)) if until is not None else None
        where = (
            "NOT list_contains(CAST(? AS VARCHAR[]), person_id) "
            "AND (CAST(? AS BIGINT) IS NULL OR occurred_us >= ?) "
            "AND (CAST(? AS BIGINT) IS NULL OR occurred_us <= ?)"
        )
        window = [refusing, lowest, lowest, highest, highest]
        emotion_sums = ", ".join(f"FSUM(e_{key})" for key in EMOTION_KEYS)
        figures = [
            ChannelSums(
                channel=row[0],
                perceptions=int(row[1]),
                valence_sum=float(row[2] or 0.0),
                valence_count=int(row[3]),
                emotion_sums={
                    key: float(value or 0.0)
                    for key, value in zip(EMOTION_KEYS, row[4:], strict=True)
                },
            )
            for row in segments.query(
                f"SELECT channel, COUNT(*), FSUM(valence), COUNT(valence), {emotion_sums} "
                f"FROM {{perceptions}} WHERE {where} GROUP BY channel ORDER BY channel",
                window,
            )
        ]
        answers = ScoreAnswers()
        for *key, count in segments.query(
            "SELECT nps, csat_min, csat_max, csat_value, ces_min, ces_max, ces_direction, "
            f"ces_value, COUNT(*) FROM {{perceptions}} WHERE {where} AND (nps IS NOT NULL "
            "OR csat_value IS NOT NULL OR ces_value IS NOT NULL) GROUP BY ALL",
            window,
        ):
            _count_scores(answers, key, int(count))
        return figures, answers

    def latest_profile_clock(self) -> datetime | None:
        """The newest clock among the saved profiles (the last profiling run's)."""
        with self._read() as connection:
            value = connection.scalar(select(func.max(profiles.c.as_of)))
        return None if value is None else from_column(value)

    def report_rows(self, page_size: int = 5_000) -> Iterator[list[ReportRow]]:
        """Every person with the few figures of their saved profile the report counts,
        ordered by id, a page at a time (the JSON is opened by the database, once a row)."""
        with self._read() as connection:
            consent = json_true(connection, persons.c.data, "consent", "granted")
            profile_values = json_array(connection, profiles.c.data, _PROFILE_PATHS)
        query = (
            select(persons.c.id, consent, profiles.c.segment, profiles.c.health, profile_values)
            .select_from(persons.outerjoin(profiles, profiles.c.person_id == persons.c.id))
            .order_by(persons.c.id)
            .limit(page_size)
        )
        after: str | None = None
        loads = json.loads
        while True:
            with self._read() as connection:
                page_query = query if after is None else query.where(persons.c.id > after)
                rows = connection.execute(page_query).all()
            page: list[ReportRow] = []
            for person_id, granted, segment, health, profile_text in rows:
                if segment is None:
                    page.append(ReportRow(person_id, bool(granted), None, None, *_UNPROFILED))
                    continue
                attitude, loyalty, band, archetype, outreach, peeves = loads(profile_text)
                page.append(
                    ReportRow(
                        person_id,
                        bool(granted),
                        segment,
                        float(health),
                        float(attitude),
                        loyalty,
                        band,
                        archetype,
                        bool(outreach),
                        tuple(peeves or ()),
                    )
                )
            if page:
                yield page
            if len(rows) < page_size:
                return
            after = rows[-1][0]

    def display_names_of(self, person_ids: Iterable[str]) -> dict[str, str]:
        """``{person_id: display name}`` of those of ``person_ids`` that have one."""
        found: dict[str, str] = {}
        with self._read() as connection:
            name = json_value(connection, persons.c.data, "display_name", number=False)
            for part in chunks(sorted(set(person_ids)), IN_LIST_SIZE):
                query = select(persons.c.id, name).where(persons.c.id.in_(part))
                found.update((pid, str(label)) for pid, label in connection.execute(query) if label)
        return found

    def person_rows_of(self, person_ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """``{person_id: (person JSON, saved profile JSON or None)}`` of ``person_ids``."""
        found: dict[str, tuple[str, str | None]] = {}
        with self._read() as connection:
            for part in chunks(sorted(set(person_ids)), IN_LIST_SIZE):
                query = (
                    select(persons.c.id, persons.c.data, profiles.c.data)
                    .select_from(persons.outerjoin(profiles, profiles.c.person_id == persons.c.id))
                    .where(persons.c.id.in_(part))
                )
                for person_id, person, profile in connection.execute(query):
                    found[person_id] = (person, profile)
        return found

    def perceptions_of_persons(self, person_ids: Iterable[str]) -> dict[str, list[Perception]]:
        """The perceptions of each of ``person_ids``, oldest first (absent: none stored)."""
        found: dict[str, list[Perception]] = {}
        if self._segments is not None:
            wanted = sorted(set(person_ids))
            for row in self._segments.query(
                "SELECT * FROM {perceptions} WHERE list_contains(CAST(? AS VARCHAR[]), "
                "person_id) ORDER BY person_id, occurred_us, id",
                [wanted],
            ):
                found.setdefault(row[1], []).append(perception_of(row))
            return found
        order = (perceptions.c.person_id, perceptions.c.occurred_at, perceptions.c.id)
        with self._read() as connection:
            for part in chunks(sorted(set(person_ids)), IN_LIST_SIZE):
                query = (
                    select(perceptions.c.person_id, perceptions.c.data)
                    .where(perceptions.c.person_id.in_(part))
                    .order_by(*order)
                )
                for person_id, data in connection.execute(query):
                    found.setdefault(person_id, []).append(Perception.model_validate_json(data))
        return found

    def pushed_fields_of(self, person_ids: Iterable[str]) -> dict[str, list[PushedField]]:
        """Per person: the fields relcrm last wrote, per target, with when (not the values:
        the store keeps only their fingerprints)."""
        found: dict[str, list[PushedField]] = {}
        columns = (sync_state.c.person_id, sync_state.c.target, sync_state.c.field)
        with self._read() as connection:
            for part in chunks(sorted(set(person_ids)), IN_LIST_SIZE):
                query = (
                    select(*columns, sync_state.c.pushed_at)
                    .where(sync_state.c.person_id.in_(part))
                    .order_by(*columns)
                )
                for person_id, target, name, pushed_at in connection.execute(query):
                    found.setdefault(person_id, []).append(
                        PushedField(target, name, from_column(pushed_at))
                    )
        return found

    def records_of_persons(
        self, person_ids: Iterable[str]
    ) -> dict[str, dict[str, tuple[str, str]]]:
        """Per person: ``{target: (crm_object, record_id)}`` of the CRM records relcrm
        matched them to."""
        found: dict[str, dict[str, tuple[str, str]]] = {}
        columns = (
            sync_records.c.person_id,
            sync_records.c.target,
            sync_records.c.crm_object,
            sync_records.c.record_id,
        )
        with self._read() as connection:
            for part in chunks(sorted(set(person_ids)), IN_LIST_SIZE):
                query = select(*columns).where(
                    sync_records.c.person_id.in_(part), sync_records.c.record_id.is_not(None)
                )
                for person_id, target, crm_object, record_id in connection.execute(query):
                    found.setdefault(person_id, {})[target] = (str(crm_object or ""), record_id)
        return found


__all__ = [
    "EMOTION_KEYS",
    "ChannelSums",
    "PushedField",
    "ReportReadStore",
    "ReportRow",
    "ScoreAnswers",
    "json_array",
    "json_true",
    "json_value",
    "refusing_persons",
]
