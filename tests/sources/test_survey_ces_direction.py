"""A CES question on an effort scale of 1-7 (common in the field) can be declared, and
its answers are read the right way round (issue 10: it used to be impossible, and effort
answers sent as CES 2.0 were read inverted)."""

from __future__ import annotations

import pytest

from relcrm.profile import ces_valence
from relcrm.sources.survey_columns import Question


def test_an_effort_question_on_one_to_seven_is_declared_with_its_direction() -> None:
    question = Question.model_validate(
        {"column": "Q3", "kind": "ces", "direction": "effort", "scale_min": 1, "scale_max": 7}
    )
    assert question.ces_scale() == {"scale_min": 1, "scale_max": 7, "direction": "effort"}


def test_a_ces_question_needs_a_version_or_a_direction_with_its_scale() -> None:
    with pytest.raises(ValueError, match="needs its version"):
        Question.model_validate({"column": "Q3", "kind": "ces", "direction": "effort"})
    with pytest.raises(ValueError, match="either a version or a direction"):
        Question.model_validate(
            {"column": "Q3", "kind": "ces", "version": "2.0", "direction": "effort",
             "scale_min": 1, "scale_max": 7}
        )  # fmt: skip


def test_effort_and_ease_answers_mean_opposite_things() -> None:
    from relcrm.models import CesScore

    effort = CesScore.model_validate(
        {"value": 7, "scale_min": 1, "scale_max": 7, "direction": "effort"}
    )
    ease = CesScore.model_validate({"value": 7, "version": "2.0"})
    assert ces_valence(effort) == pytest.approx(-1.0)
    assert ces_valence(ease) == pytest.approx(1.0)
