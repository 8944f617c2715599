"""Invalid inputs are refused with the field and the value named."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from relcrm.errors import InvalidRecordError
from relcrm.models import (
    Consent,
    Perception,
    Person,
    RelationshipProfile,
    perception_id_for,
    record_error,
)


def _perception(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "person_id": "p1",
        "occurred_at": "2026-10-02T14:00:00Z",
        "channel": "survey",
        "nps": {"value": 9},
        "provenance": {"source_system": "qualtrics", "source_record_id": "R_1"},
    }
    data.update(overrides)
    return data


def _error(data: dict[str, Any]) -> InvalidRecordError:
    with pytest.raises(ValidationError) as caught:
        Perception.model_validate(data)
    return record_error("line 7", caught.value)


def test_valid_perception() -> None:
    perception = Perception.model_validate(_perception())
    assert perception.id == perception_id_for("qualtrics", "R_1")
    assert perception.occurred_at.utcoffset() is not None


def test_same_source_record_same_id() -> None:
    a = Perception.model_validate(_perception())
    b = Perception.model_validate(_perception(nps={"value": 3}))
    c = Perception.model_validate(
        _perception(provenance={"source_system": "qualtrics", "source_record_id": "R_2"})
    )
    assert a.id == b.id != c.id


def test_given_id_must_match_provenance() -> None:
    error = _error(_perception(id="pc_made_up"))
    assert "does not match its provenance" in str(error)


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"occurred_at": "2026-10-02T14:00:00"}, "occurred_at", "time zone"),
        ({"nps": {"value": 11}}, "nps.value", "less than or equal to 10"),
        ({"nps": None, "csat": {"value": 0}}, "csat", "outside its scale 1-5"),
        ({"nps": None, "ces": {"value": 6, "version": "1.0"}}, "ces", "outside its scale 1-5"),
        ({"nps": None, "ces": {"value": 4}}, "ces", "CES needs direction, scale_min"),
        (
            {"nps": None, "ces": {"value": 6, "version": "2.0", "direction": "effort"}},
            "ces",
            "CES version 2.0 means ease on 1-7, but direction 'effort'",
        ),
        (
            {"nps": None, "ces": {"value": 8, "scale_min": 1, "scale_max": 7, "direction": "ease"}},
            "ces",
            "CES (ease) 8 is outside its scale 1-7",
        ),
        (
            {"nps": None, "ces": {"value": 3, "scale_min": 1, "scale_max": 7, "direction": "up"}},
            "ces.direction",
            "'effort' or 'ease'",
        ),
        ({"emotions": {"rage": 0.4}}, "emotions.rage", "unknown field"),
        ({"emotions": {"joy": 1.5}}, "emotions.joy", "less than or equal to 1"),
        ({"emotions": {"anger": -0.1}}, "emotions.anger", "greater than or equal to 0"),
        ({"valence": 1.2}, "valence", "less than or equal to 1"),
        ({"person_id": None}, "person_id", "valid string"),
        ({"channel": "fax"}, "channel", "Input should be"),
        ({"verbatim": "x" * 1_000_000}, "verbatim", "at most 10000 characters"),
        ({"verbatim": "x" * 40_000}, "verbatim", "at most 10000 characters"),
        ({"nps": None}, "(record)", "needs a score"),
    ],
)
def test_invalid_perceptions_name_field_and_value(
    overrides: dict[str, Any], field: str, fragment: str
) -> None:
    error = _error(_perception(**overrides))
    problems = {p.field: p for p in error.problems}
    assert field in problems, error
    assert fragment in problems[field].problem or fragment in str(error)
    assert str(error).startswith("[input.invalid_record] line 7:")


def test_missing_person_id_is_named() -> None:
    data = _perception()
    del data["person_id"]
    error = _error(data)
    assert error.problems[0].field == "person_id"
    assert error.problems[0].problem == "Field required"


def test_huge_verbatim_is_shortened_in_the_message() -> None:
    error = _error(_perception(verbatim="y" * 1_000_000))
    assert len(str(error)) < 400


def test_models_are_frozen() -> None:
    perception = Perception.model_validate(_perception())
    with pytest.raises(ValidationError):
        perception.channel = "social"  # type: ignore[assignment]


@pytest.mark.parametrize("email", ["o'brien@example.com", "Jane.Doe+crm@Example.COM"])
def test_real_emails_are_accepted(email: str) -> None:
    person = Person(id="p1", emails=(email,))
    assert person.emails[0].split("@")[1] == email.split("@")[1].lower()


@pytest.mark.parametrize("email", ['jane"@example.com', "no-at-sign", "a@b", "x\\y@example.com"])
def test_broken_emails_are_refused(email: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Person(id="p1", emails=(email,))
    assert "emails.0" in str(record_error("person p1", caught.value))


def test_naive_consent_time_is_refused() -> None:
    with pytest.raises(ValidationError):
        Consent.model_validate({"granted": True, "updated_at": "2026-01-01T00:00:00"})


def test_consent_defaults_to_no() -> None:
    assert Person(id="p1").consent.granted is False


def test_profile_reasons_are_bounded() -> None:
    schema = RelationshipProfile.model_json_schema()
    assert schema["properties"]["reasons"]["maxItems"] == 4
