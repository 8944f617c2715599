"""Persons on which the two engines once disagreed, found by a differential search.

Each was a real difference with the default configuration: a loyalty on its threshold
summed two ways, an emotion word that depended on the order perceptions came in, an
offset with seconds that JSON drops, and counts beyond 32 bits.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from relcrm.models import Perception, Person
from relcrm.profile import ProfileConfig, build_profile
from relcrm.store import Store
from relcrm.sync.profiling import profile_store
from relcrm.sync.profiling_columnar import run_columnar_profile
from tests.profile_columnar.compare import differences, same
from tests.profile_columnar.test_equal_to_reference import NOW


def _said(person_id: str, number: int, at: datetime, **fields: Any) -> Perception:
    channel = fields.pop("channel", "survey")
    return Perception.model_validate(
        {
            "person_id": person_id,
            "occurred_at": at,
            "channel": channel,
            "provenance": {"source_system": "h2", "source_record_id": f"{person_id}-{number}"},
            **fields,
        }
    )


def _person(person_id: str, **facts: Any) -> Person:
    return Person.model_validate({"id": person_id, "facts": facts})


def test_a_loyalty_on_its_threshold_falls_the_same_side() -> None:
    """Five parts whose weighted mean is 0.5 when added left to right: math.fsum made
    0.5 in the reference, the SQL 0.49999999999999994 (true loyalty against latent)."""
    person = _person(
        "a",
        purchases_last_365d=1,
        expected_purchases_per_year=6.0,
        renewals=2,
        renewed_last_term=True,
        last_purchase_at=NOW - timedelta(days=240),
    )
    said = [_said("a", 1, NOW - timedelta(days=2), nps={"value": 10})]
    assert differences([person], said, NOW) == []
    assert differences([person], [], NOW) == []


def _saved(url: str, person: Person, said: list[Perception], segments: bool) -> list[str]:
    """Every profile field where the columnar run saves another value than the reference
    run, on a store holding ``said`` added one perception at a time."""
    with Store.open(url) as store:
        if segments:
            store.use_perception_segments()
        store.upsert_persons([person])
        for perception in said:
            store.add_perceptions([perception])
        reference = {p.person_id: p.model_dump(mode="json") for p in profile_store(store, NOW)}
        run_columnar_profile(store, NOW)
        columnar = {p.person_id: p.model_dump(mode="json") for p in store.iter_profiles()}
    return [
        name
        for name, value in reference[person.id].items()
        if not same(columnar[person.id][name], value)
    ]


def test_the_emotion_word_does_not_depend_on_the_order_perceptions_come_in(
    tmp_path: Path,
) -> None:
    """Three support contacts whose anger and disgust add up to nearly the same: plain
    sums in two orders named "angry" in one engine and "disgusted" in the other."""
    person = _person("x", purchases_last_365d=0)
    at = NOW - timedelta(days=1)
    values = [(0.93, 0.344), (0.942, 0.942), (0.344, 0.93)]
    said = [
        _said(
            "x",
            number,
            at,
            channel="support",
            valence=-0.6,
            confidence=0.7,
            emotions={"anger": anger, "disgust": disgust},
        )
        for number, (anger, disgust) in enumerate(values)
    ]
    by_id = sorted(said, key=lambda p: p.id)
    for segments in (False, True):
        for name, ordered in (("ids", by_id), ("reversed", by_id[::-1])):
            url = f"sqlite:///{tmp_path / f'order-{segments}-{name}.db'}"
            assert _saved(url, person, ordered, segments) == []
    words = {build_profile(person, order, NOW).reasons[0] for order in (said, said[::-1])}
    assert len(words) == 1


def test_an_offset_with_seconds_is_kept_as_utc(tmp_path: Path) -> None:
    """JSON writes an offset in hours and minutes: +05:30:15 read back moved the instant
    15 s (the segments kept the exact instant beside the cut text)."""
    offset = timezone(timedelta(hours=5, minutes=30, seconds=15))
    at = (NOW - timedelta(days=2)).astimezone(offset)
    perception = _said("a", 1, at, nps={"value": 3})
    assert perception.occurred_at == at
    assert perception.occurred_at.utcoffset() == timedelta(0)
    assert differences([_person("a")], [perception], NOW) == []
    url = f"sqlite:///{tmp_path / 'offset.db'}"
    assert _saved(url, _person("a"), [perception], segments=True) == []


def test_counts_beyond_32_bits_are_profiled() -> None:
    """The recipe's person columns were 32-bit: a count of 2**31 stopped the run."""
    person = _person("c", renewals=2**31, purchases_last_365d=2**40)
    assert differences([person], [], NOW) == []


@pytest.mark.parametrize("setting", ["dominant_min", "renewals_weight"])
def test_settings_that_left_a_profile_undefined_are_refused(setting: str) -> None:
    """With ``dominant_min`` 0 a person with no feelings had "joy" in one engine and
    "none" in the other; with ``renewals_weight`` 0 a person known only by renewals
    divided by zero in one and got NaN in the other."""
    with pytest.raises(ValidationError, match=setting):
        ProfileConfig.model_validate({setting: 0.0})


def test_a_csat_of_minus_zero_is_quoted_as_zero(tmp_path: Path) -> None:
    """A CSAT of -0.0 on a scale whose middle is above 0 is a negative score the headline
    quotes: as "CSAT 0" by both engines (DuckDB's windows may drop the sign, and "-0" is
    not a score anyone gave)."""
    person = _person("z", purchases_last_365d=0)
    said = [
        _said(
            "z",
            1,
            NOW - timedelta(days=3),
            channel="survey",
            csat={"value": -0.0, "scale_min": -1, "scale_max": 3},
        ),
        _said("z", 2, NOW - timedelta(days=2), channel="support", valence=-0.7),
    ]
    reference = build_profile(person, said, NOW)
    assert "CSAT 0 on" in reference.reasons[0], reference.reasons
    assert differences([person], said, NOW) == []
    for segments in (False, True):
        url = f"sqlite:///{tmp_path / f'csat-{segments}.db'}"
        assert _saved(url, person, said, segments) == []
