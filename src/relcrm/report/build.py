"""``build_report``: the store's figures as a :class:`RelationshipReport` (the Python API)."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from relcrm.models import Perception, Person, RelationshipProfile
from relcrm.profile import build_profile
from relcrm.report.aggregate import (
    Collector,
    channel_mix,
    meta,
    movement,
    recomputed_rows,
    stored_rows,
    trend,
)
from relcrm.report.model import (
    CrmFields,
    CrmLink,
    NpsRollup,
    PersonDetail,
    RelationshipReport,
    ScaleRollup,
    ScoreRollups,
    TargetHealth,
)
from relcrm.report.options import ReportOptions
from relcrm.report.quadrants import UNPLACEABLE, Point, quadrant_of
from relcrm.report.snippets import drivers, timeline
from relcrm.store import Store
from relcrm.store.report_reads import ScoreAnswers

RUNS_LOOKED_AT = 500
"""Sync runs read to find each target's latest (newest first)."""


def build_report(store: Store, options: ReportOptions | None = None) -> RelationshipReport:
    """Everything the relationship report shows, from ``store``, as data.

    ``relcrm report --json`` prints this; :func:`relcrm.report.render_html` draws it.
    """
    options = options or ReportOptions()
    now = options.generated_at or datetime.now(UTC)
    as_of = options.as_of or store.latest_profile_clock() or now
    start = as_of - options.since
    collector = Collector(options)
    # The database scans perceptions and history (without the GIL) while this thread
    # counts the persons.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="relcrm-report") as pool:
        scanned = pool.submit(store.perception_figures, since=start, until=as_of)
        weekly = pool.submit(trend, store, start, as_of)
        rows = stored_rows(store) if options.as_of is None else recomputed_rows(store, as_of)
        for row in rows:
            collector.add(row)
        sums, answers = scanned.result()
        points = weekly.result()
    overall, channels = channel_mix(sums)
    people = _people(store, collector.people(), options, as_of)
    for shown in people:  # their dots link to their sections: never left out of a sample
        if shown.quadrant is not None and shown.loyalty is not None:
            collector.map.pin(
                Point(
                    shown.person_id,
                    shown.attitude,
                    shown.loyalty,
                    shown.segment,
                    shown.quadrant,
                    shown.health,
                )
            )
    return RelationshipReport(
        meta=meta(collector, options, store, as_of, now),
        loyalty_map=collector.loyalty_map(store.display_names_of(collector.map.chosen())),
        health=collector.health(),
        segments=movement(store, collector.current, collector.segments, as_of),
        trend=points,
        emotions_overall=overall,
        channels=channels,
        pet_peeves=collector.pet_peeves(),
        scores=score_rollups(answers),
        outreach=[p.person_id for p in people if p.needs_outreach],
        outreach_total=collector.outreach_total,
        people=people,
        people_total=collector.people_total,
        sync=sync_health(store),
    )


def _full(
    store: Store, ids: list[str], as_of: datetime, recompute: bool
) -> tuple[dict[str, tuple[Person, RelationshipProfile]], dict[str, list[Perception]]]:
    """The chosen persons with their whole profiles (saved, or computed again as of
    ``as_of``) and their perceptions known then."""
    said = {
        person_id: [p for p in found if p.occurred_at <= as_of]
        for person_id, found in store.perceptions_of_persons(ids).items()
    }
    full: dict[str, tuple[Person, RelationshipProfile]] = {}
    for person_id, (person_text, profile_text) in store.person_rows_of(ids).items():
        person = Person.model_validate_json(person_text)
        if recompute:
            profile = build_profile(person, said.get(person_id, []), as_of)
        elif profile_text is not None:
            profile = RelationshipProfile.model_validate_json(profile_text)
        else:
            continue  # profiled after the page was read, then removed: nothing to show
        full[person_id] = (person, profile)
    return full, said


def _people(
    store: Store, ids: list[str], options: ReportOptions, as_of: datetime
) -> list[PersonDetail]:
    full, said = _full(store, ids, as_of, options.as_of is not None)
    records = store.records_of_persons(ids)
    written = store.pushed_fields_of(ids)
    details: list[PersonDetail] = []
    for person_id in ids:
        if person_id not in full:
            continue
        person, profile = full[person_id]
        known = said.get(person_id, [])
        loyalty = profile.behavioural_loyalty
        placed = loyalty is not None and profile.archetype.value not in UNPLACEABLE
        by_target: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
        for pushed in written.get(person_id, []):
            if pushed.field.startswith("#"):
                continue  # the engine's own bookkeeping (the row as a whole), not a field
            by_target[pushed.target].append((pushed.field, pushed.pushed_at))
        details.append(
            PersonDetail(
                person_id=person_id,
                name=person.display_name or person_id,
                segment=profile.segment.value,
                quadrant=quadrant_of(profile.attitude, loyalty)
                if placed and loyalty is not None
                else None,
                health=round(profile.health, 1),
                band=profile.band.value,
                attitude=round(profile.attitude, 3),
                loyalty=None if loyalty is None else round(loyalty, 3),
                needs_outreach=profile.needs_outreach,
                outreach_reason=profile.outreach_reason,
                reasons=list(profile.reasons),
                drivers=drivers(known),
                timeline=timeline(known),
                records=[
                    CrmLink(
                        target=target,
                        object=crm_object,
                        record_id=record_id,
                        url=options.link(target, crm_object, record_id),
                    )
                    for target, (crm_object, record_id) in sorted(
                        records.get(person_id, {}).items()
                    )
                ],
                written=[
                    CrmFields(target=target, fields=sorted(fields))
                    for target, fields in sorted(by_target.items())
                ],
            )
        )
    return details


def score_rollups(answers: ScoreAnswers) -> ScoreRollups:
    """NPS (promoters 9-10, detractors 0-6), CSAT per scale (top two boxes), CES per scale
    and direction (the easy end: the two answers nearest it)."""
    histogram = [answers.nps.get(value, 0) for value in range(11)]
    total = sum(histogram)
    promoters = histogram[9] + histogram[10]
    detractors = sum(histogram[:7])
    nps = NpsRollup(
        answers=total,
        promoters=promoters,
        passives=total - promoters - detractors,
        detractors=detractors,
        score=round(100.0 * (promoters - detractors) / total, 1) if total else None,
        histogram=histogram,
    )
    csat: dict[tuple[int, int], list[tuple[float, int]]] = defaultdict(list)
    for (low, high, value), count in answers.csat.items():
        csat[(low, high)].append((value, count))
    ces: dict[tuple[int, int, str], list[tuple[float, int]]] = defaultdict(list)
    for (low, high, direction, value), count in answers.ces.items():
        ces[(low, high, direction)].append((value, count))
    return ScoreRollups(
        nps=nps,
        csat=[
            _scale(f"{low}-{high}", values, lambda v, high=high: v >= high - 1)
            for (low, high), values in sorted(csat.items())
        ],
        ces=[
            _scale(
                f"{low}-{high} {direction}",
                values,
                (lambda v, low=low: v <= low + 1)
                if direction == "effort"
                else (lambda v, high=high: v >= high - 1),
            )
            for (low, high, direction), values in sorted(ces.items())
        ],
    )


def _scale(name: str, values: list[tuple[float, int]], favourable: Any) -> ScaleRollup:
    answers = sum(count for _, count in values)
    return ScaleRollup(
        scale=name,
        answers=answers,
        mean=round(sum(v * c for v, c in values) / answers, 2) if answers else None,
        favourable_share=round(sum(c for v, c in values if favourable(v)) / answers, 3)
        if answers
        else None,
    )


def sync_health(store: Store) -> list[TargetHealth]:
    """Per target: its latest run's counts and API calls, and its open dead letters."""
    latest: dict[str, Any] = {}
    shown: dict[str, int] = defaultdict(int)
    for record in store.runs(RUNS_LOOKED_AT):
        latest.setdefault(record.target, record)
        shown[record.target] += 1
    letters: dict[str, int] = defaultdict(int)
    for letter in store.open_dead_letters():
        letters[letter.target] += 1
    health: list[TargetHealth] = []
    for target in sorted(set(latest) | set(letters)):
        last = latest.get(target)
        duration = None if last is None or last.duration is None else last.duration.total_seconds()
        health.append(
            TargetHealth(
                target=target,
                last_run=None if last is None else last.started_at,
                status=None if last is None else last.status,
                duration_s=None if duration is None else round(duration, 2),
                written=0 if last is None else int(last.counts.get("written", 0)),
                rejected=0 if last is None else int(last.counts.get("rejected", 0)),
                unchanged=0 if last is None else int(last.counts.get("unchanged", 0)),
                api_calls=0 if last is None else last.api_calls,
                open_dead_letters=letters[target],
                runs_shown=shown[target],
            )
        )
    return health
