"""Mapping sources beyond the profile: stated preferences, behaviour facts, constants,
and the multi-select picklist the topics go to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relcrm.connectors.dataverse.connector import DataverseConnector
from relcrm.connectors.hubspot.connector import HubSpotConnector
from relcrm.connectors.salesforce.connector import SalesforceConnector
from relcrm.connectors.zoho.connector import ZohoConnector
from relcrm.errors import ConfigurationError, FieldProblem
from relcrm.mapping import (
    InvalidMappingError,
    Mapping,
    StatedPreferences,
    load_shipped,
    mapping_json_schema,
    parse_mapping,
    require_supported,
    shipped_mappings,
    unsupported,
    values_for,
)
from relcrm.models import (
    BehaviourFacts,
    FieldType,
    Person,
    Preference,
    RelationshipProfile,
    value_holds,
)

HEADER = 'target = "t"\nconnector = "salesforce"\nobject = "Contact"\n'
SAID = datetime(2026, 9, 1, 9, tzinfo=UTC)


def mapping(fields: str) -> Mapping:
    return parse_mapping(HEADER + fields, origin="prefs.toml")


def said(kind: str, value: str, days: int, record: str) -> Preference:
    return Preference.model_validate(
        {
            "person_id": "p1",
            "kind": kind,
            "value": value,
            "stated_at": (SAID + timedelta(days=days)).isoformat(),
            "provenance": {"source_system": "survey", "source_record_id": record},
        }
    )


STATED = StatedPreferences.of(
    [
        said("channel", "email", 0, "r1"),
        said("topic", "billing", 1, "r2"),
        said("channel", "sms", 5, "r3"),  # later: replaces email
        said("topic", "events", 3, "r4"),
        said("topic", "Billing", 4, "r5"),  # the same topic, said again
        said("frequency", "monthly", 2, "r6"),
    ]
)

FIELDS = """
[[fields]]
name = "Channel__c"
source = "preferences.channel"
type = "text"
length = 10

[[fields]]
name = "Channel_Said__c"
source = "preferences.channel.stated_at"
type = "datetime"

[[fields]]
name = "Topics__c"
source = "preferences.topic"
type = "multi_picklist"
picklist = ["Billing", "Events", "Product updates"]
values = { billing = "Billing", events = "Events", "product updates" = "Product updates" }
restricted = true

[[fields]]
name = "Topics_Text__c"
source = "preferences.topic"
type = "text"
length = 40

[[fields]]
name = "Language__c"
source = "preferences.language"
type = "text"
length = 10

[[fields]]
name = "Renewals__c"
source = "facts.renewals"
type = "number"
precision = 4
scale = 0

[[fields]]
name = "Since__c"
source = "facts.customer_since"
type = "date"

[[fields]]
name = "Health__c"
source = "profile.health"
type = "number"
precision = 5
scale = 1

[[fields]]
name = "Origin__c"
value = "relcrm"
type = "text"
length = 20

[[fields]]
name = "Synced__c"
value = true
type = "checkbox"
"""


def test_preferences_facts_constants_and_profile_feed_their_fields(
    unhappy: RelationshipProfile,
) -> None:
    person = Person(
        id=unhappy.person_id,
        facts=BehaviourFacts(renewals=3, customer_since=datetime(2020, 5, 4, 22, tzinfo=UTC)),
    )
    result = values_for(unhappy, mapping(FIELDS), person=person, preferences=STATED)
    assert result.problems == ()
    assert result.values == {
        "Channel__c": "sms",
        "Channel_Said__c": "2026-09-06T09:00:00.000Z",
        "Topics__c": "Billing;Events",
        "Topics_Text__c": "billing; events",
        "Language__c": None,  # never said: the field is emptied
        "Renewals__c": 3,
        "Since__c": "2020-05-04",
        "Health__c": round(unhappy.health, 1),
        "Origin__c": "relcrm",
        "Synced__c": True,
    }


def test_without_person_or_preferences_those_fields_are_empty(
    unhappy: RelationshipProfile,
) -> None:
    result = values_for(unhappy, mapping(FIELDS))
    assert result.values["Channel__c"] is None
    assert result.values["Topics__c"] is None
    assert result.values["Renewals__c"] is None
    assert result.values["Origin__c"] == "relcrm"


def test_a_changed_preference_changes_only_its_fields_fingerprint(
    unhappy: RelationshipProfile,
) -> None:
    m = mapping(FIELDS)
    before = values_for(unhappy, m, preferences=STATED)
    later = StatedPreferences.of(
        [*STATED.latest.values(), said("channel", "phone", 30, "r9")]
        + [said("topic", t, 1, f"t{i}") for i, t in enumerate(STATED.topics)]
    )
    after = values_for(unhappy, m, preferences=later)
    changed = {n for n in before.fingerprints if before.fingerprints[n] != after.fingerprints[n]}
    assert changed == {"Channel__c", "Channel_Said__c"}


def test_a_topic_outside_the_restricted_multi_select_holds_only_that_field_back(
    unhappy: RelationshipProfile,
) -> None:
    stated = StatedPreferences.of([said("topic", "pricing", 0, "x1")])
    result = values_for(unhappy, mapping(FIELDS), preferences=stated)
    assert [p.field for p in result.problems] == ["Topics__c"]
    assert "restricted picklist" in result.problems[0].problem
    assert "Topics__c" not in result.values
    assert result.values["Topics_Text__c"] == "pricing"


def test_join_topics_takes_a_persons_chosen_topics_too(unhappy: RelationshipProfile) -> None:
    m = mapping(
        '[[fields]]\nname = "T__c"\nsource = "preferences.topic"\ntype = "text"\nlength = 50\n'
        'transform = { kind = "join_topics", separator = " | ", limit = 1 }\n'
    )
    assert values_for(unhappy, m, preferences=STATED).values == {"T__c": "billing"}


@pytest.mark.parametrize(
    ("fields", "where", "words"),
    [
        (
            '[[fields]]\nname = "A__c"\nsource = "preferences.colour"\ntype = "text"\nlength = 9\n',
            "fields[0].source",
            "is not a preference; valid: preferences.channel",
        ),
        (
            '[[fields]]\nname = "A__c"\nsource = "facts.shoe_size"\ntype = "number"\n'
            "precision = 3\nscale = 0\n",
            "fields[0].source",
            "is not a behaviour fact; valid: facts.customer_since",
        ),
        (
            '[[fields]]\nname = "A__c"\nsource = "preferences.topic"\ntype = "picklist"\n'
            'picklist = ["a"]\n',
            "fields[0].type",
            'add type = "multi_picklist", or a text field',
        ),
        (
            '[[fields]]\nname = "A__c"\nsource = "constant"\ntype = "text"\nlength = 9\n',
            "fields[0].value",
            "needs the value to send",
        ),
        (
            '[[fields]]\nname = "A__c"\nsource = "health"\nvalue = 3\ntype = "number"\n'
            "precision = 3\nscale = 0\n",
            "fields[0].value",
            "either a source or a constant",
        ),
        (
            '[[fields]]\nname = "A__c"\nvalue = "gold"\ntype = "picklist"\n'
            'picklist = ["silver"]\nrestricted = true\n',
            "fields[0].value",
            "not a value of the restricted picklist",
        ),
        (
            '[[fields]]\nname = "A__c"\nvalue = "x"\ntype = "number"\nprecision = 3\nscale = 0\n',
            "fields[0].type",
            "cannot take constant (a text)",
        ),
        (
            '[[fields]]\nname = "A__c"\nsource = "preferences.topic"\ntype = "multi_picklist"\n',
            "fields[0].picklist",
            "needs its values",
        ),
    ],
)
def test_bad_sources_are_refused_at_load_naming_the_mapping_and_field(
    fields: str, where: str, words: str
) -> None:
    with pytest.raises(InvalidMappingError) as caught:
        mapping(fields)
    error = caught.value
    assert error.code == "config.invalid_mapping"
    assert "prefs.toml" in str(error)
    assert any(p.field == where and words in p.problem for p in error.problems), error.problems


def test_an_unknown_attribute_names_the_other_origins() -> None:
    with pytest.raises(InvalidMappingError) as caught:
        mapping('[[fields]]\nname = "A__c"\nsource = "channel"\ntype = "text"\nlength = 9\n')
    assert "preferences.<kind>" in str(caught.value) and "facts.<fact>" in str(caught.value)


def test_connectors_without_multi_select_refuse_it_clearly() -> None:
    m = mapping(FIELDS)

    def types(problems: list[FieldProblem]) -> list[FieldProblem]:
        return [p for p in problems if p.field.endswith(".type")]  # not the object's name

    for able in (SalesforceConnector, HubSpotConnector):
        assert types(unsupported(m, able.declared_capabilities)) == []
    for unable in (DataverseConnector, ZohoConnector):
        declared = unable.declared_capabilities
        problems = types(unsupported(m, declared))
        assert [p.field for p in problems] == ["fields[2].type"]
        assert 'use type = "text"' in problems[0].problem and "Topics__c" in problems[0].problem
        with pytest.raises(ConfigurationError, match="does not write multi_picklist"):
            require_supported(m, declared)


def test_every_shipped_mapping_maps_channel_frequency_and_topics_its_connector_can_write() -> None:
    capabilities = {
        "salesforce": SalesforceConnector.declared_capabilities,
        "hubspot": HubSpotConnector.declared_capabilities,
        "dataverse": DataverseConnector.declared_capabilities,
        "zoho": ZohoConnector.declared_capabilities,
    }
    for name in shipped_mappings():
        shipped = load_shipped(name)
        sources = {item.source: item for item in shipped.fields}
        assert {"preferences.channel", "preferences.frequency", "preferences.topic"} <= set(
            sources
        ), name
        assert shipped.reads_preferences
        assert unsupported(shipped, capabilities[shipped.connector]) == [], name
        topics = sources["preferences.topic"]
        expected = (
            FieldType.MULTI_PICKLIST
            if shipped.connector in ("salesforce", "hubspot")
            else FieldType.TEXT
        )
        assert topics.type is expected, name


def test_multi_select_values_hold_in_any_order() -> None:
    kind = FieldType.MULTI_PICKLIST
    assert value_holds(kind, "Billing;Events", "Events;Billing", scale=None)
    assert not value_holds(kind, "Billing;Events", "Events", scale=None)
    assert value_holds(kind, None, "", scale=None)


def test_the_json_schema_offers_the_new_sources() -> None:
    source = mapping_json_schema()["$defs"]["FieldMapping"]["properties"]["source"]["enum"]
    assert {"preferences.channel", "preferences.topic.stated_at", "facts.renewals"} <= set(source)
    assert {"profile.health", "constant", "health"} <= set(source)
