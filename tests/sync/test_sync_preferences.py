"""Stated preferences through the sync engine, against both sandboxes over real sockets.

The shipped mappings write the preferred channel, frequency and topics (a multi-select
picklist in Salesforce and HubSpot). A person who states a new channel is picked by the
next delta run, and only that field is sent: the sandbox's request log names the fields
each write carried.
"""

from __future__ import annotations

from datetime import timedelta

from relcrm.models import Preference, PreferenceKind
from relcrm.sync.engine import ROW_KEY
from relcrm.sync.preview import FieldState, LastWritten, preview_persons
from tests.sync.test_sync_engine import NOW, World, hs_sandbox, sf_sandbox, world

__all__ = ["hs_sandbox", "sf_sandbox", "world"]

CHANNEL = {"salesforce": "relcrm_Preferred_Channel__c", "hubspot": "relcrm_preferred_channel"}
TOPICS = {"salesforce": "relcrm_Topics__c", "hubspot": "relcrm_topics"}


def _statement(person_id: str, kind: PreferenceKind, value: str, record: str) -> Preference:
    return Preference.model_validate(
        {
            "person_id": person_id,
            "kind": kind,
            "value": value,
            "stated_at": (NOW - timedelta(minutes=5)).isoformat(),
            "provenance": {"source_system": "voice", "source_record_id": record},
        }
    )


def _channel_of(world: World, person_id: str) -> str | None:
    said = [p for p in world.store.preferences_of(person_id) if p.kind is PreferenceKind.CHANNEL]
    return said[-1].value if said else None


def test_a_new_channel_preference_sends_that_field_only(world: World) -> None:
    first = world.engine().run()
    assert first.status == "succeeded" and first.counts["written"] == len(world.consenting)
    person = world.consenting[0]
    new = "phone" if _channel_of(world, person.id) != "phone" else "sms"
    world.store.add_preferences([_statement(person.id, PreferenceKind.CHANNEL, new, "v-1")])
    world.sandbox.log.clear()

    report = world.engine().run()

    assert report.counts["written"] == 1
    assert report.counts["unchanged"] == len(world.consenting) - 1
    assert report.counts["fields_sent"] == 1
    writes = world.sandbox.log.writes()
    assert len(writes) == 1
    assert set(writes[0].fields) == {CHANNEL[world.crm]}
    record = world.store.known_records(f"{world.crm}-test", [person.id])[person.id]
    held = world.connector.read_values(record.object, [record.record_id], [CHANNEL[world.crm]])
    assert held[record.record_id][CHANNEL[world.crm]] == new

    world.sandbox.log.clear()
    again = world.engine().run()
    assert again.counts["written"] == 0 and world.sandbox.log.writes() == []


def test_topics_go_to_a_multi_select_and_read_back(world: World) -> None:
    person = world.consenting[1]
    for index, topic in enumerate(("events", "billing", "events")):
        world.store.add_preferences(
            [_statement(person.id, PreferenceKind.TOPIC, topic, f"topic-{index}")]
        )
    report = world.engine().run()
    assert report.status == "succeeded" and not report.withheld, report.to_json()
    record = world.store.known_records(f"{world.crm}-test", [person.id])[person.id]
    field = TOPICS[world.crm]
    held = world.connector.read_values(record.object, [record.record_id], [field])
    options = str(held[record.record_id][field]).split(";")
    earlier = [p.value for p in world.store.preferences_of(person.id) if p.kind == "topic"]
    assert set(options) == {"events", "billing"} | set(earlier)
    assert len(options) == len(set(options))  # each topic once


def test_preview_follows_the_engine(world: World) -> None:
    target = f"{world.crm}-test"
    person = world.consenting[2]
    before = preview_persons(world.store, world.mapping, [person.id, "nobody"], target=target)
    assert [e.person_id for e in before.unknown] == ["nobody"]
    assert before.unknown[0].code == "sync.unknown_person"
    (shown,) = before.persons
    assert {f.last_written for f in shown.fields} == {LastWritten.NEVER}
    assert {f.state for f in shown.fields} == {FieldState.SEND}

    world.engine().run()
    world.sandbox.log.clear()
    synced = preview_persons(world.store, world.mapping, [person.id], target=target).persons[0]
    assert {f.state for f in synced.fields} == {FieldState.UNCHANGED}
    assert {f.last_written for f in synced.fields} == {LastWritten.SAME}

    new = "phone" if _channel_of(world, person.id) != "phone" else "sms"
    world.store.add_preferences([_statement(person.id, PreferenceKind.CHANNEL, new, "v-2")])
    changed = preview_persons(world.store, world.mapping, [person.id], target=target).persons[0]
    sent = {f.field: f for f in changed.fields if f.state is FieldState.SEND}
    assert set(sent) == {CHANNEL[world.crm]}
    assert sent[CHANNEL[world.crm]].value == new
    assert sent[CHANNEL[world.crm]].last_written is LastWritten.DIFFERS
    assert world.sandbox.log.calls() == []  # a preview never calls the CRM

    report = world.engine().run()
    assert report.counts["fields_sent"] == 1
    pushed = world.store.field_fingerprints(target, [person.id])[person.id]
    assert set(pushed) - {ROW_KEY} == world.mapping.field_names()


def test_a_dry_run_says_so_in_its_json_status(world: World) -> None:
    report = world.engine().run(dry_run=True)
    assert report.to_json()["status"] == "dry run"
    assert report.counts["selected"] == len(world.consenting)
    assert world.sandbox.log.writes() == []
