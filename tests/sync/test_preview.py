"""``preview_persons`` on a store alone (SQLite and PostgreSQL): cuts, held-back values,
no consent, no profile, unknown ids. The sandboxes' side is in test_sync_preferences."""

from __future__ import annotations

from relcrm.mapping import parse_mapping
from relcrm.models import Consent, Person, Preference
from relcrm.profile import build_profile
from relcrm.store import Store
from relcrm.sync.preview import FieldState, LastWritten, preview_persons
from relcrm.sync.selection import Action
from tests.helpers import NOW, nps, text

MAPPING = parse_mapping(
    """
target = "crm"
connector = "salesforce"
object = "Contact"

[[fields]]
name = "Reasons__c"
source = "reasons"
type = "text"
length = 30
transform = "join_reasons"

[[fields]]
name = "Channel__c"
source = "preferences.channel"
type = "picklist"
picklist = ["Email", "Phone"]
values = { email = "Email", phone = "Phone" }
restricted = true

[[fields]]
name = "Language__c"
source = "preferences.language"
type = "text"
length = 5

[[fields]]
name = "Origin__c"
value = "relcrm"
type = "text"
length = 10
"""
)


def _store_world(store: Store) -> None:
    granted = Consent(granted=True, updated_at=NOW)
    store.upsert_persons(
        [
            Person(id="p1", emails=("p1@example.com",), consent=granted),
            Person(id="p2", emails=("p2@example.com",)),  # no consent
            Person(id="p3", emails=("p3@example.com",), consent=granted),  # never profiled
        ]
    )
    profile = build_profile(
        Person(id="p1"), [nps(3, 2), text(4, -0.8, {"anger": 0.8}, topic="billing")], NOW
    )
    store.save_profiles([profile, profile.model_copy(update={"person_id": "p2"})])
    store.add_preferences(
        [
            Preference.model_validate(
                {
                    "person_id": "p1",
                    "kind": "channel",
                    "value": "fax",
                    "stated_at": NOW.isoformat(),
                    "provenance": {"source_system": "survey", "source_record_id": "r1"},
                }
            )
        ]
    )


def test_preview_shows_cuts_held_back_values_and_why_nothing_is_sent(store: Store) -> None:
    _store_world(store)
    result = preview_persons(store, MAPPING, ["p1", "ghost", "p2", "p3"])
    assert [str(e) for e in result.unknown] == [
        "[sync.unknown_person] no person 'ghost' in the store (check the id (relcrm profile "
        "lists the persons) or ingest the person first)"
    ]
    p1, p2, p3 = result.persons
    assert (p1.person_id, p1.action, p1.consent) == ("p1", Action.SEND, True)
    by_name = {f.field: f for f in p1.fields}
    reasons = by_name["Reasons__c"]
    assert reasons.state is FieldState.SEND and reasons.last_written is LastWritten.NEVER
    assert isinstance(reasons.value, str) and len(reasons.value) <= 30
    assert reasons.cut is not None and "cut to" in reasons.cut
    channel = by_name["Channel__c"]
    assert channel.state is FieldState.WITHHELD and channel.value is None
    assert channel.reason is not None and "restricted picklist" in channel.reason
    assert "'fax'" in channel.reason
    language = by_name["Language__c"]
    assert language.value is None and language.reason == "no value: the field is left empty"
    assert by_name["Origin__c"].value == "relcrm"

    assert p2.action is Action.NO_CONSENT and not p2.consent
    assert {f.state for f in p2.fields} == {FieldState.NOT_SENT}
    assert all(f.value is None and "no consent" in (f.reason or "") for f in p2.fields)
    assert p3.action is Action.NO_PROFILE
    assert all("relcrm profile" in (f.reason or "") for f in p3.fields)

    record = p1.to_json()
    assert record["target"] == "crm" and record["fields"][0]["differs"] is True
