"""Coercion: what a mapping sends for a real profile, and what it cuts or holds back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from relcrm.mapping import (
    ELLIPSIS,
    CoercedValues,
    Mapping,
    field_fingerprints,
    fingerprint,
    load_shipped,
    parse_mapping,
    truncate,
    values_for,
)
from relcrm.models import FieldValue, RelationshipProfile

HEADER = 'target = "t"\nconnector = "salesforce"\nobject = "Contact"\n'


def mapping(fields: str) -> Mapping:
    return parse_mapping(HEADER + fields)


def one(profile: RelationshipProfile, fields: str) -> CoercedValues:
    return values_for(profile, mapping(fields))


# --------------------------------------------------------------------------- text


def test_long_text_is_cut_at_a_word_boundary_and_the_cut_recorded(
    unhappy: RelationshipProfile,
) -> None:
    result = one(
        unhappy,
        '[[fields]]\nname = "R"\nsource = "reasons"\ntype = "text"\nlength = 40\n'
        'transform = { kind = "join_reasons", separator = " " }\n',
    )
    sent = result.values["R"]
    assert isinstance(sent, str)
    assert sent == "Keeps buying but is unhappy: NPS 2 on" + ELLIPSIS
    assert len(sent) <= 40
    (adjustment,) = result.adjustments
    assert adjustment.field == "R" and adjustment.kind == "truncated"
    assert f"cut to {len(sent)}" in adjustment.detail
    assert result.problems == ()


def test_text_that_fits_is_untouched(unhappy: RelationshipProfile) -> None:
    result = one(
        unhappy, '[[fields]]\nname = "E"\nsource = "dominant_emotion"\ntype = "text"\nlength = 5\n'
    )
    assert result.values == {"E": "anger"}
    assert result.adjustments == ()


def test_truncate_edges() -> None:
    assert truncate("abc", 3) == "abc"
    assert truncate("abcdef", 4) == "abc" + ELLIPSIS  # one long word: cut inside it
    assert truncate("ab cdef", 6) == "ab" + ELLIPSIS  # never half a word
    assert truncate("ab cd ef", 6) == "ab cd" + ELLIPSIS  # the cut falls on a space
    assert truncate("abc", 1) == ELLIPSIS


@given(st.text(), st.integers(min_value=1, max_value=80))
def test_truncated_text_fits_and_is_a_prefix(text: str, length: int) -> None:
    cut = truncate(text, length)
    assert len(cut) <= length
    if cut != text:
        assert cut.endswith(ELLIPSIS)
        assert text.startswith(cut.removesuffix(ELLIPSIS))


# --------------------------------------------------------------------------- numbers


def test_numbers_are_rounded_to_the_scale(unhappy: RelationshipProfile) -> None:
    result = one(
        unhappy,
        '[[fields]]\nname = "H1"\nsource = "health"\ntype = "number"\nprecision = 5\nscale = 1\n'
        '[[fields]]\nname = "H0"\nsource = "health"\ntype = "number"\nprecision = 3\nscale = 0\n'
        '[[fields]]\nname = "A"\nsource = "attitude"\ntype = "percent"\nprecision = 5\n'
        'scale = 2\ntransform = "scale_0_100"\n',
    )
    assert unhappy.health == 27.78251131849262
    assert result.values["H1"] == 27.8
    assert result.values["H0"] == 28 and isinstance(result.values["H0"], int)
    assert result.values["A"] == round((unhappy.attitude + 1) * 50, 2) == 27.78


def test_rounding_is_half_up_like_the_crm(unhappy: RelationshipProfile) -> None:
    profile = unhappy.model_copy(update={"health": 72.25})
    result = one(
        profile,
        '[[fields]]\nname = "H"\nsource = "health"\ntype = "number"\nprecision = 4\nscale = 1\n',
    )
    assert result.values == {"H": 72.3}


def test_round_transform(unhappy: RelationshipProfile) -> None:
    result = one(
        unhappy,
        '[[fields]]\nname = "H"\nsource = "health"\ntype = "number"\nprecision = 5\nscale = 2\n'
        'transform = { kind = "round", digits = 0 }\n',
    )
    assert result.values == {"H": 28}


def test_number_too_large_for_the_precision_is_not_sent(unhappy: RelationshipProfile) -> None:
    result = one(
        unhappy,
        '[[fields]]\nname = "H"\nsource = "health"\ntype = "number"\nprecision = 2\nscale = 1\n'
        '[[fields]]\nname = "C"\nsource = "churn_risk"\ntype = "checkbox"\n',
    )
    assert "H" not in result.values
    assert result.values == {"C": False}  # the other fields still go
    (problem,) = result.problems
    assert problem.field == "H"
    assert "number(2, 1)" in problem.problem
    assert problem.value == repr(unhappy.health)


# --------------------------------------------------------------------------- picklists

BAND = '[[fields]]\nname = "B"\nsource = "band"\ntype = "picklist"\n'


def test_values_map_is_applied(unhappy: RelationshipProfile, happy: RelationshipProfile) -> None:
    fields = (
        BAND + 'picklist = ["Healthy", "Watch", "At Risk", "Unknown"]\nrestricted = true\n'
        'values = { healthy = "Healthy", watch = "Watch", at_risk = "At Risk", '
        'unknown = "Unknown" }\n'
    )
    assert one(unhappy, fields).values == {"B": "At Risk"}
    assert one(happy, fields).values == {"B": "Healthy"}


def test_value_outside_a_restricted_picklist_is_never_sent(
    unhappy: RelationshipProfile, happy: RelationshipProfile
) -> None:
    fields = BAND + 'picklist = ["Healthy", "Watch"]\nrestricted = true\n'
    fields += 'values = { healthy = "Healthy" }\n'
    assert one(happy, fields).values == {"B": "Healthy"}
    result = one(unhappy, fields)
    assert result.values == {}
    (problem,) = result.problems
    assert problem.field == "B"
    assert problem.value == "'at_risk'"
    assert "restricted picklist" in problem.problem


def test_unrestricted_picklist_takes_other_values(unhappy: RelationshipProfile) -> None:
    result = one(unhappy, BAND + 'picklist = ["healthy"]\n')
    assert result.values == {"B": "at_risk"}


# --------------------------------------------------------------------------- others


def test_reasons_are_joined(unhappy: RelationshipProfile) -> None:
    result = one(
        unhappy,
        '[[fields]]\nname = "R"\nsource = "reasons"\ntype = "long_text"\nlength = 32768\n'
        'transform = { kind = "join_reasons", separator = " | " }\n',
    )
    assert result.values == {"R": " | ".join(unhappy.reasons)}


def test_pet_peeves_are_joined(unhappy: RelationshipProfile) -> None:
    fields = (
        '[[fields]]\nname = "P"\nsource = "pet_peeves"\ntype = "text"\nlength = 255\n'
        'transform = "join_topics"\n'
        '[[fields]]\nname = "P1"\nsource = "pet_peeves"\ntype = "text"\nlength = 255\n'
        'transform = { kind = "join_topics", limit = 1 }\n'
    )
    assert one(unhappy, fields).values == {"P": "billing; delivery", "P1": "billing"}


def test_dates_and_datetimes_are_iso_utc(unhappy: RelationshipProfile) -> None:
    late = datetime(2026, 11, 22, 23, 30, 5, 123456, tzinfo=timezone(timedelta(hours=-5)))
    profile = unhappy.model_copy(update={"as_of": late})
    result = one(
        profile,
        '[[fields]]\nname = "DT"\nsource = "as_of"\ntype = "datetime"\n'
        '[[fields]]\nname = "D"\nsource = "as_of"\ntype = "date"\n'
        '[[fields]]\nname = "T"\nsource = "as_of"\ntype = "text"\nlength = 30\n'
        '[[fields]]\nname = "F"\nsource = "last_nps_at"\ntype = "text"\nlength = 10\n'
        'transform = "format_date"\n',
    )
    assert result.values == {
        "DT": "2026-11-23T04:30:05.123Z",
        "D": "2026-11-23",
        "T": "2026-11-23T04:30:05.123Z",
        "F": "2026-11-17",
    }


def test_none_clears_the_field(happy: RelationshipProfile) -> None:
    assert happy.public_advocacy is None and happy.pet_peeves == ()
    result = one(
        happy,
        '[[fields]]\nname = "A"\nsource = "public_advocacy"\ntype = "number"\nprecision = 3\n'
        'scale = 0\ntransform = "scale_0_100"\n'
        '[[fields]]\nname = "P"\nsource = "pet_peeves"\ntype = "text"\nlength = 9\n'
        'transform = "join_topics"\n',
    )
    assert result.values == {"A": None, "P": None}


def test_checkboxes_are_booleans(unhappy: RelationshipProfile) -> None:
    result = one(
        unhappy,
        '[[fields]]\nname = "E"\nsource = "escalation"\ntype = "checkbox"\n'
        '[[fields]]\nname = "C"\nsource = "churn_risk"\ntype = "checkbox"\n',
    )
    assert result.values == {"E": True, "C": False}


def test_upper_transform_then_values_map(unhappy: RelationshipProfile) -> None:
    result = one(
        unhappy,
        '[[fields]]\nname = "S"\nsource = "band"\ntype = "picklist"\ntransform = "upper"\n'
        'picklist = ["AT RISK"]\nvalues = { AT_RISK = "AT RISK" }\nrestricted = true\n',
    )
    assert result.values == {"S": "AT RISK"}


# --------------------------------------------------------------------------- fingerprints


def test_fingerprint_ignores_key_order_and_tells_types_apart() -> None:
    a: dict[str, FieldValue] = {"x": 1, "y": "a", "z": None}
    b: dict[str, FieldValue] = {"z": None, "y": "a", "x": 1}
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint({"x": 1}) != fingerprint({"x": 1.0})
    assert fingerprint({"x": 1}) != fingerprint({"x": True})
    assert fingerprint({"x": None}) != fingerprint({})
    assert fingerprint({"x": "1"}) != fingerprint({"x": 1})


def test_fingerprint_of_a_profile_is_stable(
    unhappy: RelationshipProfile, happy: RelationshipProfile
) -> None:
    mapping = load_shipped("salesforce-contact")
    first = values_for(unhappy, mapping)
    again = values_for(unhappy.model_copy(), mapping)
    assert fingerprint(first) == fingerprint(again) == fingerprint(dict(first.values))
    assert fingerprint(first) != fingerprint(values_for(happy, mapping))
    assert first.fingerprints == field_fingerprints(first.values)
    other = values_for(happy, mapping)
    changed = {k for k in first.fingerprints if first.fingerprints[k] != other.fingerprints[k]}
    assert "relcrm_Churn_Risk__c" not in changed  # both False
    assert "relcrm_Health__c" in changed


def test_fingerprint_is_pinned() -> None:
    """The hash is stored between runs: it must not change between processes or releases."""
    assert fingerprint({"b": 2, "a": "x"}) == fingerprint({"a": "x", "b": 2})
    assert fingerprint({}) == ("4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945")


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=10),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(),
        ),
    )
)
def test_fingerprint_depends_only_on_the_pairs(values: dict[str, FieldValue]) -> None:
    reordered = dict(reversed(list(values.items())))
    assert fingerprint(values) == fingerprint(reordered)


def test_coerced_values_cover_every_field_once(
    unhappy: RelationshipProfile, happy: RelationshipProfile
) -> None:
    mapping = load_shipped("hubspot-contact")
    for profile in (unhappy, happy):
        result = values_for(profile, mapping)
        sent = set(result.values)
        held = {p.field for p in result.problems}
        assert sent | held == mapping.field_names()
        assert not sent & held
        assert result.person_id == profile.person_id
        assert isinstance(result.values["relcrm_scored_at"], str)
        assert result.values["relcrm_scored_at"].endswith("Z")
