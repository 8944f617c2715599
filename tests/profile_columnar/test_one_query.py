"""DuckDB's one query (``combined_sql``) gives the rows of the three portable queries.

``relcrm profile --engine duckdb`` runs the recipe, the details and the pet peeves as one
query, with the details' "latest" facts as ``ARG_MAX`` aggregates; Spark and
``--emit-sql`` run the three queries, with ROW_NUMBER windows. Both are held equal here
(and the one query equal to the reference engine in ``test_equal_to_reference``), on
random persons and on ties: perceptions at the same instant, told in different offsets, so
that only the perception id decides which day a sentence quotes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relcrm.models import Perception, Person
from relcrm.profile.columnar import connect_with, run_recipe
from relcrm.profile.columnar.inputs import perception_rows_of_models, person_rows_of_models
from relcrm.profile.columnar.recipe import combined_sql, iter_recipe_batches
from tests.profile_columnar.compare import differences
from tests.profile_columnar.test_equal_to_reference import NOW, people


def both(
    persons: list[Person], perceptions: list[Perception], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of the one query, and of the three queries, on the same inputs (the one
    query's rows hold fewer of the recipe's columns: those a profile reads)."""
    connection = connect_with(
        person_rows_of_models(persons), perception_rows_of_models(perceptions)
    )
    try:
        one = run_recipe(connection, now).rows
        three = run_recipe(connection, now, combined=False).rows
    finally:
        connection.close()
    return one, three


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people(), st.floats(min_value=-200.0, max_value=200.0, allow_nan=False))
def test_random_persons_give_the_same_rows(
    data: tuple[list[Person], list[Perception]], shift: float
) -> None:
    persons, perceptions = data
    one, three = both(persons, perceptions, NOW + timedelta(days=shift))
    assert one == [{key: row[key] for key in one[0]} for row in three]


def tied(person_id: str, number: int, zone: timezone, **signals: Any) -> Perception:
    return Perception.model_validate(
        {
            "person_id": person_id,
            "occurred_at": (NOW - timedelta(days=3, hours=1)).astimezone(zone),
            "channel": "survey",
            "public": True,
            "provenance": {"source_system": "tie", "source_record_id": f"{person_id}-{number}"},
            **signals,
        }
    )


def test_ties_in_time_are_broken_by_the_perception_id_as_the_windows_do() -> None:
    """Four perceptions at one instant, in zones whose calendar days differ: the NPS, the
    CSAT, the stated churn and the public complaint quoted are those of the greatest id."""
    east, west = timezone(timedelta(hours=14)), timezone(timedelta(hours=-11))
    person = Person.model_validate(
        {"id": "tie", "facts": {"purchases_last_365d": 6, "renewals": 2}}
    )
    said = [
        tied(
            "tie",
            number,
            east if number % 2 else west,
            nps={"value": number},
            csat={"value": 1 + number % 2},
            valence=-0.8,
            flags={"churn_intent": True},
        )
        for number in range(4)
    ]
    days = {p.occurred_at.date().isoformat() for p in said}
    assert len(days) == 2  # the tie is real: same instant, two days
    one, three = both([person], said, NOW)
    assert one == [{key: row[key] for key in one[0]} for row in three]
    latest = max(said, key=lambda p: p.id)
    row = one[0]
    assert row["nps_day"] == row["churn_day"] == latest.occurred_at.date().isoformat()
    assert row["nps_at"] == latest.model_dump(mode="json")["occurred_at"]
    assert differences([person], said, NOW) == []


def test_batches_hold_every_row_once_in_order() -> None:
    persons = [Person.model_validate({"id": f"b{n:03d}"}) for n in range(25)]
    said = [tied(p.id, 0, UTC, nps={"value": 7}) for p in persons[::2]]
    connection = connect_with(person_rows_of_models(persons), perception_rows_of_models(said))
    try:
        batches = list(iter_recipe_batches(connection, NOW, batch=10))
        whole = run_recipe(connection, NOW).rows
    finally:
        connection.close()
    assert [len(b) for b in batches] == [10, 10, 5]
    assert [row for batch in batches for row in batch] == whole
    assert [row["person_id"] for row in whole] == sorted(p.id for p in persons)


def test_the_one_query_is_duckdb_only_and_reads_the_observations_once() -> None:
    query = combined_sql()
    assert query.count("signals AS (") == 1
    assert "ARG_MAX" in query
    assert "l_nps AS (" not in query  # the details' windows are not in it
