"""What the relationship report shows, as data: the HTML page draws it, ``--json`` prints it.

Every figure about feelings (dots, health, emotions, peeves, scores, snippets) comes from
persons who consented; persons without consent appear only as heads in counts (segments,
quadrants, bands, movement), so nothing they felt is shown or summarised.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Quadrant(StrEnum):
    """Where a person sits on the loyalty map: attitude (x) against behaviour (y)."""

    DELIGHTED = "delighted"
    """Likes it and keeps buying."""
    TRAPPED = "trapped"
    """Keeps buying without liking it: the ones who leave when they can."""
    LATENT = "latent"
    """Likes it, buys little: a fan to win over."""
    DRIFTING = "drifting"
    """Neither likes it nor buys much."""


class ReportMeta(_Frozen):
    generated_at: datetime
    as_of: datetime
    """The report's clock: the profiles' (the latest profiling run) or ``--as-of``."""
    window_start: datetime
    """``as_of`` minus ``--since``: trend, emotion mix and scores cover this window."""
    since_days: int
    store: str
    segment_filter: str | None = None
    persons: int
    consenting: int
    profiled: int
    recomputed: bool = False
    """True when ``--as-of`` made the report profile everyone again, in memory."""


class MapDot(_Frozen):
    person_id: str
    label: str
    attitude: float
    loyalty: float
    segment: str
    quadrant: Quadrant
    health: float


class LookalikePair(_Frozen):
    """Two persons with the same behavioural loyalty on opposite sides of the attitude
    line: one delighted, one trapped (the demo's twins are such a pair)."""

    delighted: str
    trapped: str
    loyalty: float
    attitude_gap: float


class LoyaltyMap(_Frozen):
    attitude_split: float
    loyalty_split: float
    quadrants: dict[Quadrant, int]
    """Every placed person (consenting or not)."""
    off_map: int
    """Persons without behavioural loyalty or with too little evidence to place."""
    placed_consenting: int
    dots: list[MapDot]
    sampled: bool
    """True when ``dots`` is a sample of the consenting persons (large stores)."""
    density: list[list[int]]
    """Consenting persons per cell, rows from high loyalty down, columns by attitude."""
    pairs: list[LookalikePair]


class HealthSummary(_Frozen):
    bins: list[int]
    """Consenting persons per tenth of health: 0-10, 10-20, ... 90-100."""
    bands: dict[str, int]
    """Every profiled person per band (a headcount)."""
    mean: float | None
    median: float | None


class SegmentMovement(_Frozen):
    baseline: datetime | None
    """The previous profiling run compared with; None: there is no earlier report."""
    counts: dict[str, int]
    before: dict[str, int]
    moves: list[tuple[str, str, int]]
    """``(from, to, persons)`` for persons whose segment changed (``new`` as from)."""


class TrendPoint(_Frozen):
    week: date
    """Monday of the ISO week."""
    as_of: datetime
    """The last profiling run of that week, whose figures these are."""
    persons: int
    mean_health: float | None
    shares: dict[str, float]


class ChannelMix(_Frozen):
    channel: str
    perceptions: int
    mean_valence: float | None
    emotions: dict[str, float]
    """Mean intensity per emotion (0..1) over the channel's perceptions."""


class PeeveTopic(_Frozen):
    topic: str
    persons: int
    mentions: int
    negative_weight: float


class NpsRollup(_Frozen):
    scale: str = "0-10"
    answers: int
    promoters: int
    passives: int
    detractors: int
    score: float | None
    """% promoters minus % detractors, -100..100."""
    histogram: list[int]


class ScaleRollup(_Frozen):
    scale: str
    """e.g. ``1-5``, or ``1-7 ease`` for CES."""
    answers: int
    mean: float | None
    favourable_share: float | None
    """CSAT: top two boxes; CES: the easy end of the scale."""


class ScoreRollups(_Frozen):
    nps: NpsRollup
    csat: list[ScaleRollup]
    ces: list[ScaleRollup]


class Snippet(_Frozen):
    """One perception as the report shows it: the verbatim redacted and shortened."""

    occurred_at: datetime
    channel: str
    topic: str | None
    score: str | None
    valence: float | None
    emotions: dict[str, float]
    text: str | None
    public: bool


class CrmLink(_Frozen):
    target: str
    object: str
    record_id: str
    url: str | None


class CrmFields(_Frozen):
    target: str
    fields: list[tuple[str, datetime]]
    """Field names last written to this target, with when (values are not stored)."""


class PersonDetail(_Frozen):
    person_id: str
    name: str
    segment: str
    quadrant: Quadrant | None
    health: float
    band: str
    attitude: float
    loyalty: float | None
    needs_outreach: bool
    outreach_reason: str | None
    reasons: list[str]
    drivers: list[Snippet]
    """The perceptions that weigh most against the relationship (outreach evidence)."""
    timeline: list[Snippet]
    records: list[CrmLink]
    written: list[CrmFields]


class TargetHealth(_Frozen):
    target: str
    last_run: datetime | None
    status: str | None
    duration_s: float | None
    written: int
    rejected: int
    unchanged: int
    api_calls: int
    open_dead_letters: int
    runs_shown: int


class RelationshipReport(_Frozen):
    meta: ReportMeta
    loyalty_map: LoyaltyMap
    health: HealthSummary
    segments: SegmentMovement
    trend: list[TrendPoint]
    emotions_overall: dict[str, float]
    channels: list[ChannelMix]
    pet_peeves: list[PeeveTopic]
    scores: ScoreRollups
    outreach: list[str]
    """Person ids needing outreach now (their details are in ``people``), worst first."""
    outreach_total: int
    people: list[PersonDetail]
    people_total: int
    """Consenting persons matching the filter; ``people`` holds the first of them."""
    sync: list[TargetHealth]
