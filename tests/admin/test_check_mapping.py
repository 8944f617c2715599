"""check_mapping is pure: a mapping and a describe result in, one problem per misfit out."""

from __future__ import annotations

from relcrm.mapping import load_shipped
from relcrm.models import FieldSpec, FieldType
from relcrm.sync.fields import ProblemKind, Severity, check_mapping, sendable_values

MAPPING = load_shipped("salesforce-contact")


def described() -> dict[str, FieldSpec]:
    """The CRM exactly as the mapping wants it."""
    return {s.name: s for s in MAPPING.field_specs()}


def problems_for(specs: dict[str, FieldSpec]) -> dict[str, tuple[ProblemKind, Severity, str]]:
    found = check_mapping(MAPPING, list(specs.values()))
    return {p.field: (p.kind, p.severity, str(p)) for p in found}


def test_a_crm_made_from_the_mapping_is_clean() -> None:
    assert check_mapping(MAPPING, list(described().values())) == []


def test_names_ignore_case() -> None:
    specs = {k: v.model_copy(update={"name": k.upper()}) for k, v in described().items()}
    assert check_mapping(MAPPING, list(specs.values())) == []


def test_each_misfit_has_its_fix() -> None:
    specs = described()
    del specs["relcrm_Health__c"]
    specs["relcrm_Dominant_Emotion__c"] = specs["relcrm_Dominant_Emotion__c"].model_copy(
        update={"length": 10}
    )
    specs["relcrm_Churn_Risk__c"] = specs["relcrm_Churn_Risk__c"].model_copy(
        update={"updateable": False}
    )
    specs["relcrm_Health_Band__c"] = specs["relcrm_Health_Band__c"].model_copy(
        update={"picklist_values": ("healthy", "watch")}
    )
    specs["relcrm_Trend__c"] = specs["relcrm_Trend__c"].model_copy(
        update={"picklist_values": ("improving", "stable")}
    )
    specs["relcrm_Last_NPS__c"] = specs["relcrm_Last_NPS__c"].model_copy(update={"precision": 1})
    specs["relcrm_Scored_At__c"] = specs["relcrm_Scored_At__c"].model_copy(
        update={"type": FieldType.DATE}
    )
    got = problems_for(specs)
    assert got.keys() == {
        "relcrm_Health__c",
        "relcrm_Dominant_Emotion__c",
        "relcrm_Churn_Risk__c",
        "relcrm_Health_Band__c",
        "relcrm_Trend__c",
        "relcrm_Last_NPS__c",
        "relcrm_Scored_At__c",
    }
    kind, severity, line = got["relcrm_Health__c"]
    assert kind is ProblemKind.MISSING and "fields apply" in line
    kind, _, line = got["relcrm_Dominant_Emotion__c"]
    assert kind is ProblemKind.LENGTH and "holds 10 characters" in line and "length = 10" in line
    assert got["relcrm_Churn_Risk__c"][0] is ProblemKind.READ_ONLY
    kind, severity, line = got["relcrm_Health_Band__c"]
    assert (kind, severity) == (ProblemKind.PICKLIST, Severity.ERROR)
    assert "at_risk, unknown" in line
    # an open picklist in the CRM takes unknown values: a warning, not an error
    kind, severity, line = got["relcrm_Trend__c"]
    specs["relcrm_Trend__c"] = specs["relcrm_Trend__c"].model_copy(update={"restricted": False})
    assert problems_for(specs)["relcrm_Trend__c"][1] is Severity.WARNING
    kind, _, line = got["relcrm_Last_NPS__c"]
    assert kind is ProblemKind.NUMBER and "1 digits before the point" in line
    assert got["relcrm_Scored_At__c"][0] is ProblemKind.TYPE
    assert all("\n" not in line for _, _, line in got.values())  # one line each


def test_a_forgotten_suffix_is_named() -> None:
    specs = described()
    mapping = MAPPING.model_copy(
        update={"fields": (MAPPING.fields[0].model_copy(update={"name": "relcrm_Health"}),)}
    )
    (problem,) = check_mapping(mapping, list(specs.values()))
    assert 'name = "relcrm_Health__c"' in problem.fix


def test_sendable_values_follow_the_values_map() -> None:
    item = MAPPING.fields[3]  # archetype: open picklist
    assert set(sendable_values(item)) >= set(item.picklist)
    mapped = item.model_copy(update={"values": {"true_loyalty": "True"}, "picklist": ("True",)})
    assert "True" in sendable_values(mapped) and "latent_loyalty" in sendable_values(mapped)
    restricted = mapped.model_copy(update={"restricted": True})
    assert sendable_values(restricted) == ("True",)
