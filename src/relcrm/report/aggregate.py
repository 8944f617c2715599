"""Build the report's figures from the store in one pass over the persons.

Profiles are read as JSON text and looked at as plain dicts (100,000 of them as models
would cost seconds); sums over perceptions run in the database
(:class:`relcrm.store.report_reads.ReportReadStore`); only the persons the report shows in
full are read as models, with their perceptions.
"""

from __future__ import annotations

import heapq
import statistics
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from relcrm.models import Person, RelationshipProfile, Segment
from relcrm.profile import build_profile
from relcrm.report.model import (
    ChannelMix,
    HealthSummary,
    LoyaltyMap,
    PeeveTopic,
    ReportMeta,
    SegmentMovement,
    TrendPoint,
)
from relcrm.report.options import ReportOptions
from relcrm.report.quadrants import UNPLACEABLE, MapBuilder, Point, quadrant_of
from relcrm.store import Store
from relcrm.store.report_reads import EMOTION_KEYS, ChannelSums, ReportRow

MAX_PEEVES = 12


def stored_rows(store: Store) -> Iterator[ReportRow]:
    """Every person with the figures of their saved profile."""
    for page in store.report_rows():
        yield from page


def row_of(person: Person, profile: RelationshipProfile) -> ReportRow:
    """A person and a profile computed in memory, as the store would give them."""
    return ReportRow(
        person_id=person.id,
        consent=person.consent.granted,
        segment=profile.segment.value,
        health=profile.health,
        attitude=profile.attitude,
        loyalty=profile.behavioural_loyalty,
        band=profile.band.value,
        archetype=profile.archetype.value,
        needs_outreach=profile.needs_outreach,
        pet_peeves=tuple(peeve.model_dump() for peeve in profile.pet_peeves),
    )


def recomputed_rows(store: Store, as_of: datetime) -> Iterator[ReportRow]:
    """Every person profiled again as of ``as_of`` from what was known then (not saved)."""
    for person, perceptions in store.iter_person_perceptions():
        known = [p for p in perceptions if p.occurred_at <= as_of]
        yield row_of(person, build_profile(person, known, as_of))


class Collector:
    """Everything the report counts, fed one person at a time."""

    def __init__(self, options: ReportOptions) -> None:
        self.options = options
        self.persons = 0
        self.consenting = 0
        self.profiled = 0
        self.segments: Counter[str] = Counter()
        self.current: dict[str, str] = {}
        self.bands: Counter[str] = Counter()
        self.bins = [0] * 10
        self.healths: list[float] = []
        self.peeves: dict[str, list[float]] = {}
        self.map = MapBuilder()
        self.outreach_total = 0
        self.people_total = 0
        self._candidates: list[tuple[int, float, str]] = []
        self._wanted = None if options.segment is None else options.segment.value

    def add(self, row: ReportRow) -> None:
        self.persons += 1
        self.consenting += row.consent
        if row.segment is None or row.attitude is None or row.health is None:
            return  # never profiled
        self.profiled += 1
        self.segments[row.segment] += 1
        self.current[row.person_id] = row.segment
        self.bands[str(row.band)] += 1
        self.map.add_headcount(str(row.archetype), row.attitude, row.loyalty)
        if row.consent:
            self._add_feelings(row, row.attitude, row.health)

    def _add_feelings(self, row: ReportRow, attitude: float, health: float) -> None:
        self.bins[min(9, int(health // 10))] += 1
        self.healths.append(health)
        for peeve in row.pet_peeves:
            held = self.peeves.setdefault(str(peeve["topic"]), [0, 0, 0.0])
            held[0] += 1
            held[1] += int(peeve["mentions"])
            held[2] += float(peeve["negative_weight"])
        if self._wanted is not None and self._wanted != row.segment:
            return
        segment = str(row.segment)
        if row.archetype not in UNPLACEABLE and row.loyalty is not None:
            self.map.add(
                Point(
                    row.person_id,
                    attitude,
                    row.loyalty,
                    segment,
                    quadrant_of(attitude, row.loyalty),
                    health,
                )
            )
        self.people_total += 1
        self.outreach_total += row.needs_outreach
        self._candidates.append((0 if row.needs_outreach else 1, health, row.person_id))

    def people(self) -> list[str]:
        """The ids of the persons to show in full: needing outreach first, then the
        lowest health."""
        chosen = heapq.nsmallest(self.options.max_people, self._candidates)
        return [person_id for _, _, person_id in chosen]

    def loyalty_map(self, names: Mapping[str, str]) -> LoyaltyMap:
        """The map; ``names`` labels the drawn dots (see :meth:`dot_ids`)."""
        dots, sampled = self.map.dots(names)
        return LoyaltyMap(
            attitude_split=self.map.config.attitude_high,
            loyalty_split=self.map.config.behaviour_high,
            quadrants=self.map.quadrants,
            off_map=self.map.off_map,
            placed_consenting=self.map.placed_consenting,
            dots=dots,
            sampled=sampled,
            density=self.map.density,
            pairs=self.map.pairs(),
        )

    def health(self) -> HealthSummary:
        return HealthSummary(
            bins=self.bins,
            bands=dict(self.bands),
            mean=round(statistics.fmean(self.healths), 1) if self.healths else None,
            median=round(statistics.median(self.healths), 1) if self.healths else None,
        )

    def pet_peeves(self) -> list[PeeveTopic]:
        ranked = sorted(self.peeves.items(), key=lambda item: (item[1][2], item[0]))
        return [
            PeeveTopic(
                topic=topic,
                persons=int(held[0]),
                mentions=int(held[1]),
                negative_weight=round(float(held[2]), 3),
            )
            for topic, held in ranked[:MAX_PEEVES]
        ]


def movement(
    store: Store, current: dict[str, str], counts: Counter[str], before: datetime
) -> SegmentMovement:
    """Segments now against the previous profiling run in the history (the last report)."""
    baseline = store.previous_history_clock(before)
    if baseline is None:
        return SegmentMovement(baseline=None, counts=dict(counts), before={}, moves=[])
    then = store.history_segments(baseline)
    moves: Counter[tuple[str, str]] = Counter()
    for person_id, segment in current.items():
        earlier = then.get(person_id, "new")
        if earlier != segment:
            moves[(earlier, segment)] += 1
    return SegmentMovement(
        baseline=baseline,
        counts=dict(counts),
        before=dict(Counter(then.values())),
        moves=sorted(((a, b, n) for (a, b), n in moves.items()), key=lambda m: (-m[2], m[:2])),
    )


def trend(store: Store, start: datetime, end: datetime) -> list[TrendPoint]:
    """Per ISO week in the window: the figures of its last profiling run."""
    weekly: dict[date, Any] = {}
    for run in store.history_runs(since=start, until=end):
        day = run.as_of.date()
        weekly[day - timedelta(days=day.weekday())] = run  # runs come oldest first
    return [
        TrendPoint(
            week=week,
            as_of=run.as_of,
            persons=run.persons,
            mean_health=None if run.mean_health is None else round(run.mean_health, 1),
            shares={
                segment.value: round(run.segments.get(segment.value, 0) / run.persons, 4)
                for segment in Segment
            },
        )
        for week, run in sorted(weekly.items())
    ]


def channel_mix(sums: list[ChannelSums]) -> tuple[dict[str, float], list[ChannelMix]]:
    """Mean emotion intensities overall and per channel."""
    total = sum(row.perceptions for row in sums)
    overall = {
        key: round(sum(row.emotion_sums[key] for row in sums) / total, 4) if total else 0.0
        for key in EMOTION_KEYS
    }
    channels = [
        ChannelMix(
            channel=row.channel,
            perceptions=row.perceptions,
            mean_valence=round(row.valence_sum / row.valence_count, 3)
            if row.valence_count
            else None,
            emotions={
                key: round(row.emotion_sums[key] / row.perceptions, 4) for key in EMOTION_KEYS
            },
        )
        for row in sorted(sums, key=lambda row: (-row.perceptions, row.channel))
    ]
    return overall, channels


def meta(
    collector: Collector, options: ReportOptions, store: Store, as_of: datetime, now: datetime
) -> ReportMeta:
    return ReportMeta(
        generated_at=now,
        as_of=as_of,
        window_start=as_of - options.since,
        since_days=options.since.days,
        store=store.url,
        segment_filter=None if options.segment is None else options.segment.value,
        persons=collector.persons,
        consenting=collector.consenting,
        profiled=collector.profiled,
        recomputed=options.as_of is not None,
    )
