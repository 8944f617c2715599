"""Loading mapping files: the shipped ones load, every mistake names its key and value."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import pytest

from relcrm.errors import ConfigurationError
from relcrm.mapping import (
    SOURCE_PATHS,
    InvalidMappingError,
    JoinReasons,
    Lower,
    load_mapping,
    load_shipped,
    mapping_json_schema,
    parse_mapping,
    shipped_mappings,
    values_for,
)
from relcrm.models import FieldType, RelationshipProfile

Write = Callable[..., Path]

SHIPPED = (
    "dataverse-contact",
    "dataverse-lead",
    "hubspot-contact",
    "salesforce-contact",
    "salesforce-lead",
    "zoho-contact",
    "zoho-lead",
)


def problems_of(path: Path) -> dict[str, str]:
    with pytest.raises(InvalidMappingError) as caught:
        load_mapping(path)
    error = caught.value
    assert error.code == "config.invalid_mapping"
    assert str(path) in str(error)
    return {p.field: str(p) for p in error.problems}


# --------------------------------------------------------------------------- shipped


def test_the_three_mappings_are_shipped_as_package_data() -> None:
    found = shipped_mappings()
    assert tuple(found) == SHIPPED
    directory = files("relcrm.mapping").joinpath("mappings")
    for name, path in found.items():
        assert path.is_file() and path.name == f"{name}.toml"
        assert directory.joinpath(path.name).read_text(encoding="utf-8") == path.read_text(
            encoding="utf-8"
        )


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_mapping_loads_cleanly(name: str) -> None:
    mapping = load_shipped(name)
    assert mapping.target == name
    assert load_mapping(shipped_mappings()[name]) == mapping


def test_the_shipped_mappings_write_the_same_attributes_under_each_crms_names(
    unhappy: RelationshipProfile, happy: RelationshipProfile
) -> None:
    """One attribute list, three namings: the CRMs can never drift apart."""
    contact, lead, hubspot = (
        load_shipped(n) for n in ("salesforce-contact", "salesforce-lead", "hubspot-contact")
    )
    assert contact.field_specs() == lead.field_specs()
    assert [(f.source, f.type, f.picklist) for f in contact.fields] == [
        (f.source, f.type, f.picklist) for f in hubspot.fields
    ]
    assert contact.fields[0].name == "relcrm_Health__c"
    assert hubspot.fields[0].name == "relcrm_health"
    for profile in (unhappy, happy):
        sf_values = values_for(profile, contact)
        hs_values = values_for(profile, hubspot)
        assert sf_values.problems == hs_values.problems == ()
        assert list(sf_values.values.values()) == list(hs_values.values.values())


def test_salesforce_contact_falls_back_to_leads() -> None:
    mapping = load_shipped("salesforce-contact")
    assert (mapping.object, mapping.match.by, mapping.match.fallback) == (
        "Contact",
        "email",
        ("Lead",),
    )


def test_unknown_shipped_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigurationError, match="salesforce-contact") as caught:
        load_shipped("salesforce-contacts")
    assert caught.value.code == "config.unknown_mapping"


# --------------------------------------------------------------------------- mistakes


def test_typo_in_source_names_the_field_and_lists_valid_ones(write_mapping: Write) -> None:
    path = write_mapping(
        '[[fields]]\nname = "a"\nsource = "health"\ntype = "number"\nprecision = 5\nscale = 1\n'
        '[[fields]]\nname = "b"\nsource = "helth"\ntype = "number"\nprecision = 5\nscale = 1\n'
    )
    problems = problems_of(path)
    assert list(problems) == ["fields[1].source"]
    message = problems["fields[1].source"]
    assert "'helth'" in message
    assert "health" in message and "segment" in message and "trend" in message


def test_typo_in_nested_source_lists_that_groups_attributes(write_mapping: Write) -> None:
    path = write_mapping(
        '[[fields]]\nname = "a"\nsource = "trend.directoin"\ntype = "text"\nlength = 10\n'
    )
    message = problems_of(path)["fields[0].source"]
    assert "trend.direction" in message and "trend.window_days" in message
    assert "segment" not in message


def test_a_group_is_not_a_source(write_mapping: Write) -> None:
    path = write_mapping('[[fields]]\nname = "a"\nsource = "trend"\ntype = "text"\nlength = 9\n')
    assert "trend.direction" in problems_of(path)["fields[0].source"]


def test_picklist_without_values(write_mapping: Write) -> None:
    path = write_mapping('[[fields]]\nname = "a"\nsource = "band"\ntype = "picklist"\n')
    assert "needs its values" in problems_of(path)["fields[0].picklist"]


def test_text_without_length(write_mapping: Write) -> None:
    path = write_mapping('[[fields]]\nname = "a"\nsource = "dominant_emotion"\ntype = "text"\n')
    assert "needs a length" in problems_of(path)["fields[0].length"]


def test_number_without_precision_and_scale(write_mapping: Write) -> None:
    path = write_mapping('[[fields]]\nname = "a"\nsource = "health"\ntype = "number"\n')
    problems = problems_of(path)
    assert set(problems) == {"fields[0].precision", "fields[0].scale"}


def test_unknown_transform(write_mapping: Write) -> None:
    path = write_mapping(
        '[[fields]]\nname = "a"\nsource = "health"\ntype = "number"\nprecision = 5\n'
        'scale = 1\ntransform = "squash"\n'
    )
    message = problems_of(path)["fields[0].transform"]
    assert "'squash'" in message and "scale_0_100" in message


def test_transform_that_does_not_fit_the_source(write_mapping: Write) -> None:
    path = write_mapping(
        '[[fields]]\nname = "a"\nsource = "band"\ntype = "text"\nlength = 9\n'
        'transform = "scale_0_100"\n'
    )
    message = problems_of(path)["fields[0].transform"]
    assert "scale_0_100 needs a number source" in message


def test_list_source_into_text_suggests_the_join(write_mapping: Write) -> None:
    path = write_mapping(
        '[[fields]]\nname = "a"\nsource = "reasons"\ntype = "long_text"\nlength = 900\n'
    )
    assert 'transform = "join_reasons"' in problems_of(path)["fields[0].type"]


def test_type_that_does_not_fit_the_source(write_mapping: Write) -> None:
    path = write_mapping('[[fields]]\nname = "a"\nsource = "health"\ntype = "checkbox"\n')
    assert "cannot take health" in problems_of(path)["fields[0].type"]


def test_duplicate_names_ignore_case(write_mapping: Write) -> None:
    path = write_mapping(
        '[[fields]]\nname = "relcrm_Churn__c"\nsource = "churn_risk"\ntype = "checkbox"\n'
        '[[fields]]\nname = "relcrm_churn__c"\nsource = "escalation"\ntype = "checkbox"\n'
    )
    message = problems_of(path)["fields[1].name"]
    assert "fields[0]" in message and "relcrm_churn__c" in message


def test_values_map_checks_both_sides(write_mapping: Write) -> None:
    path = write_mapping(
        '[[fields]]\nname = "a"\nsource = "band"\ntype = "picklist"\n'
        'picklist = ["Healthy", "At Risk"]\n'
        'values = { at_rsk = "At Risk", healthy = "Healty" }\n'
    )
    problems = problems_of(path)
    assert "at_risk" in problems["fields[0].values.at_rsk"]  # lists what band takes
    assert "'Healty'" in problems["fields[0].values.healthy"]


def test_keys_that_belong_to_other_types(write_mapping: Write) -> None:
    path = write_mapping(
        '[[fields]]\nname = "a"\nsource = "churn_risk"\ntype = "checkbox"\nlength = 3\n'
        "restricted = true\n"
    )
    assert set(problems_of(path)) == {"fields[0].length", "fields[0].restricted"}


def test_unknown_key_is_refused(write_mapping: Write) -> None:
    path = write_mapping(
        '[[fields]]\nname = "a"\nsource = "churn_risk"\ntype = "checkbox"\nlenght = 3\n'
    )
    assert "unknown field" in problems_of(path)["fields[0].lenght"]


def test_unknown_field_type_lists_the_types(write_mapping: Write) -> None:
    path = write_mapping('[[fields]]\nname = "a"\nsource = "churn_risk"\ntype = "boolean"\n')
    message = problems_of(path)["fields[0].type"]
    assert "'boolean'" in message and "checkbox" in message


def test_every_problem_is_reported_at_once(write_mapping: Write) -> None:
    path = write_mapping(
        '[[fields]]\nname = "a"\nsource = "helth"\ntype = "number"\n'
        '[[fields]]\nname = "b"\nsource = "band"\ntype = "picklist"\n'
        '[[fields]]\nname = "c"\nsource = "dominant_emotion"\ntype = "text"\n'
    )
    assert set(problems_of(path)) == {
        "fields[0].source",
        "fields[1].picklist",
        "fields[2].length",
    }


def test_bad_toml_names_the_line(write_mapping: Write) -> None:
    path = write_mapping('[[fields]]\nname = "a"\nsource = health\n')
    with pytest.raises(InvalidMappingError, match=r"line 6") as caught:
        load_mapping(path)
    assert str(path) in str(caught.value)
    assert "not valid TOML" in str(caught.value)


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_mapping(tmp_path / "absent.toml")


def test_header_mistakes(write_mapping: Write) -> None:
    path = write_mapping(
        '[[fields]]\nname = "a"\nsource = "churn_risk"\ntype = "checkbox"\n',
        header='target = "Has Spaces"\nobject = "Contact"\n[match]\nfallback = ["Contact"]\n',
    )
    problems = problems_of(path)
    assert {"target", "connector"} <= set(problems)


def test_fallback_cannot_be_the_object_itself(write_mapping: Write) -> None:
    path = write_mapping(
        '[[fields]]\nname = "a"\nsource = "churn_risk"\ntype = "checkbox"\n',
        header='target = "t"\nconnector = "salesforce"\nobject = "Lead"\n'
        '[match]\nfallback = ["Lead"]\n',
    )
    assert "itself" in problems_of(path)["match.fallback[0]"]


# --------------------------------------------------------------------------- forms


def test_transform_shorthand_and_table_form_are_the_same() -> None:
    base = 'target = "t"\nconnector = "hubspot"\nobject = "contacts"\n[[fields]]\n'
    short = parse_mapping(
        base + 'name = "a"\nsource = "reasons"\ntype = "long_text"\nlength = 99\n'
        'transform = "join_reasons"\n'
    )
    table = parse_mapping(
        base + 'name = "a"\nsource = "reasons"\ntype = "long_text"\nlength = 99\n'
        'transform = { kind = "join_reasons" }\n'
    )
    assert short == table
    assert short.fields[0].transform == JoinReasons(kind="join_reasons", separator="\n")


def test_lower_transform_lets_the_values_map_use_lower_words() -> None:
    mapping = parse_mapping(
        'target = "t"\nconnector = "hubspot"\nobject = "contacts"\n[[fields]]\n'
        'name = "a"\nsource = "segment"\ntype = "picklist"\ntransform = "upper"\n'
        'picklist = ["AT RISK", "LOYAL"]\nvalues = { AT_RISK = "AT RISK" }\n'
    )
    assert mapping.fields[0].choices()[0] == "DELIGHTED"
    assert not isinstance(mapping.fields[0].transform, Lower)


def test_json_schema_is_published() -> None:
    schema = mapping_json_schema()
    assert isinstance(schema, dict)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"target", "connector", "object", "fields"} <= set(schema["required"])
    assert {"target", "connector", "object", "match", "fields"} <= set(schema["properties"])
    field = schema["$defs"]["FieldMapping"]
    assert field["additionalProperties"] is False
    assert field["properties"]["source"]["enum"] == list(SOURCE_PATHS)
    assert set(field["properties"]["type"]["$ref"].split("/")[-1:]) == {"FieldType"}
    assert schema["$defs"]["FieldType"]["enum"] == [t.value for t in FieldType]
    assert json.loads(json.dumps(schema)) == schema
