"""The loyalty map's geometry: which quadrant a person is in, dots to draw, look-alike pairs.

The lines are the profile engine's own (``attitude_high``, ``behaviour_high``), so a
person's quadrant agrees with their archetype: a trapped dot is a trapped archetype.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from relcrm.profile import DEFAULT_CONFIG, ProfileConfig
from relcrm.report.model import LookalikePair, MapDot, Quadrant

MAX_DOTS = 3_000
"""Dots drawn at most: beyond this a deterministic sample is drawn over a density grid
(100,000 circles would make the page heavy and the picture a blot)."""

GRID_COLUMNS = 40
GRID_ROWS = 20
MAX_PAIRS = 6
UNPLACEABLE = ("insufficient_evidence", "unknown_behavior")
"""Archetypes whose persons cannot be placed: too little evidence, or no behaviour."""


def quadrant_of(
    attitude: float, loyalty: float, config: ProfileConfig = DEFAULT_CONFIG
) -> Quadrant:
    """The quadrant of a point, split where the engine splits its archetypes."""
    liked = attitude >= config.attitude_high
    if loyalty >= config.behaviour_high:
        return Quadrant.DELIGHTED if liked else Quadrant.TRAPPED
    return Quadrant.LATENT if liked else Quadrant.DRIFTING


def _sample_key(person_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(person_id.encode(), digest_size=8).digest(), "big")


class Point(NamedTuple):
    """A consenting, placed person as the map collects them (a light tuple: 100,000 of
    them pass by; only the drawn ones become :class:`MapDot`)."""

    person_id: str
    attitude: float
    loyalty: float
    segment: str
    quadrant: Quadrant
    health: float

    def dot(self, label: str) -> MapDot:
        return MapDot(
            person_id=self.person_id,
            label=label,
            attitude=round(self.attitude, 4),
            loyalty=round(self.loyalty, 4),
            segment=self.segment,
            quadrant=self.quadrant,
            health=round(self.health, 1),
        )


@dataclass
class MapBuilder:
    """Collects the map as persons stream past: counts, density, a dot sample, pairs."""

    config: ProfileConfig = DEFAULT_CONFIG
    max_dots: int = MAX_DOTS
    quadrants: dict[Quadrant, int] = field(default_factory=lambda: dict.fromkeys(Quadrant, 0))
    off_map: int = 0
    placed_consenting: int = 0
    density: list[list[int]] = field(
        default_factory=lambda: [[0] * GRID_COLUMNS for _ in range(GRID_ROWS)]
    )
    _sample: list[tuple[int, Point]] = field(default_factory=list)
    _pinned: dict[str, Point] = field(default_factory=dict)
    _extremes: dict[float, dict[Quadrant, Point]] = field(default_factory=dict)

    def add_headcount(self, archetype: str, attitude: float, loyalty: float | None) -> None:
        """Count a person (consenting or not) in their quadrant or off the map."""
        if archetype in UNPLACEABLE or loyalty is None:
            self.off_map += 1
            return
        self.quadrants[quadrant_of(attitude, loyalty, self.config)] += 1

    def pin(self, point: Point) -> None:
        """Always draw ``point`` (a person with a section on the page), sample or not."""
        self._pinned[point.person_id] = point

    def add(self, point: Point) -> None:
        """A consenting, placed person: into the density grid, and maybe drawn."""
        self.placed_consenting += 1
        column = min(GRID_COLUMNS - 1, int((point.attitude + 1.0) / 2.0 * GRID_COLUMNS))
        row = min(GRID_ROWS - 1, int((1.0 - point.loyalty) * GRID_ROWS))
        self.density[max(row, 0)][max(column, 0)] += 1
        # Keep the max_dots persons with the smallest hash: a uniform, stable sample.
        key = -_sample_key(point.person_id)
        if len(self._sample) < self.max_dots:
            heapq.heappush(self._sample, (key, point))
        elif key > self._sample[0][0]:
            heapq.heapreplace(self._sample, (key, point))
        if point.quadrant is Quadrant.DELIGHTED or point.quadrant is Quadrant.TRAPPED:
            ends = self._extremes.setdefault(round(point.loyalty, 4), {})
            held = ends.get(point.quadrant)
            if (
                held is None
                or (point.quadrant is Quadrant.DELIGHTED and point.attitude > held.attitude)
                or (point.quadrant is Quadrant.TRAPPED and point.attitude < held.attitude)
            ):
                ends[point.quadrant] = point

    def _pairs(self) -> list[tuple[Point, Point]]:
        found = [
            (ends[Quadrant.DELIGHTED], ends[Quadrant.TRAPPED])
            for ends in self._extremes.values()
            if len(ends) == 2
        ]
        found.sort(key=lambda pair: (pair[1].attitude - pair[0].attitude, pair[0].person_id))
        return found[:MAX_PAIRS]

    def pairs(self) -> list[LookalikePair]:
        """Same behavioural loyalty, opposite feelings: widest attitude gap first."""
        return [
            LookalikePair(
                delighted=happy.person_id,
                trapped=unhappy.person_id,
                loyalty=round(happy.loyalty, 4),
                attitude_gap=round(happy.attitude - unhappy.attitude, 4),
            )
            for happy, unhappy in self._pairs()
        ]

    def chosen(self) -> dict[str, Point]:
        """The points to draw: the sample, pinned persons and pairs."""
        chosen = {point.person_id: point for _, point in self._sample}
        chosen.update(self._pinned)
        for happy, unhappy in self._pairs():
            chosen[happy.person_id] = happy
            chosen[unhappy.person_id] = unhappy
        return chosen

    def dots(self, names: Mapping[str, str]) -> tuple[list[MapDot], bool]:
        """The dots to draw, labelled from ``names``, and whether they are a sample."""
        chosen = self.chosen()
        sampled = self.placed_consenting > len(chosen)
        return [chosen[key].dot(names.get(key, key)) for key in sorted(chosen)], sampled
