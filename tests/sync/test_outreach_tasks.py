"""Outreach the CRM acts on (issue 13): the sync engine creates one follow-up task for the
owner of a person's record when the person's profile says a human should reach out now,
against the Salesforce and HubSpot sandboxes over real sockets.

One task per person and reason across runs (a full re-send too), a new one when the
reason changes, closed on recovery only when the mapping says so, none without consent,
nothing in a dry run, no duplicate when the answer to a create is lost, and erasure takes
the tracking with the person. The body says why in plain words; verbatims never leave.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hubspot.crm.contacts import SimplePublicObjectInput

from relcrm.connectors import Connector
from relcrm.connectors.hubspot import HubSpotConnector
from relcrm.mapping import Mapping, OutreachSettings, load_shipped, mapping_from
from relcrm.models import Consent, Perception, Person
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.hubspot.pytest_support import hs_sandbox
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.hubspot.tasks import OWNERS
from relcrm.sandbox.pytest_support import sf_client, sf_sandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sandbox.salesforce.tasks import add_sales_user
from relcrm.store import Store
from relcrm.sync import profile_store
from relcrm.sync.engine import StopRun, SyncEngine, SyncProgress
from relcrm.sync.fields import apply_fields
from relcrm.testing.hubspot import hubspot_connector, seed_portal
from relcrm.testing.salesforce import OrgRest, salesforce_connector, seed_org

__all__ = ["hs_sandbox", "sf_sandbox"]

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
LATER = NOW + timedelta(days=60)
VERBATIM = "I am furious, call me on 555 0100, the outage cost us a week"
Sandbox = SalesforceSandbox | HubSpotSandbox


def _perception(person_id: str, n: int, days: float, valence: float, **kw: Any) -> Perception:
    return Perception.model_validate(
        {
            "person_id": person_id,
            "occurred_at": (NOW - timedelta(days=days)).isoformat(),
            "channel": kw.pop("channel", "survey"),
            "valence": valence,
            "arousal": kw.pop("arousal", 0.3),
            "provenance": {"source_system": "test", "source_record_id": f"{person_id}-{n}"},
            **kw,
        }
    )


def _history(person_id: str, *, heated: bool) -> list[Perception]:
    calm = [_perception(person_id, 1, 40, 0.6), _perception(person_id, 2, 30, 0.5)]
    if not heated:
        return calm
    return [
        *calm,
        _perception(person_id, 3, 2, -0.9, arousal=0.9, channel="call", verbatim=VERBATIM),
    ]


def _person(person_id: str, *, consent: bool = True) -> Person:
    return Person(
        id=person_id,
        emails=[f"{person_id}@example.com"],
        consent=Consent(granted=consent, updated_at=NOW),
    )


@dataclass
class World:
    crm: str
    sandbox: Sandbox
    store: Store
    connector: Connector
    mapping: Mapping

    def engine(self, **outreach: Any) -> SyncEngine:
        settings = OutreachSettings(create_task=True, **outreach)
        return SyncEngine(
            self.store,
            self.connector,
            self.mapping.model_copy(update={"outreach": settings}),
            target=f"{self.crm}-tasks",
            now=lambda: NOW,
        )

    def record_of(self, person_id: str) -> str:
        known = self.store.known_records(f"{self.crm}-tasks", [person_id])
        return known[person_id].record_id

    def tasks(self) -> list[dict[str, Any]]:
        """Every task in the CRM: on which record, for whom, its text, whether open."""
        if isinstance(self.sandbox, SalesforceSandbox):
            rows = self.sandbox.org.records["Task"].values()
            return [
                {
                    "id": r["Id"],
                    "record": r["WhoId"],
                    "owner": r["OwnerId"],
                    "subject": r["Subject"],
                    "body": r["Description"],
                    "open": not r["IsClosed"],
                }
                for r in rows
                if not r.get("IsDeleted")
            ]
        portal = self.sandbox.portal
        contact_of = {
            f_id: t_id
            for f, f_id, t, t_id, _ in portal.associations
            if (f, t) == ("tasks", "contacts")
        }
        found = []
        for record in portal.records["tasks"].values():
            if record.archived:
                continue
            props = record.properties
            found.append(
                {
                    "id": record.id,
                    "record": contact_of[record.id],
                    "owner": props.get("hubspot_owner_id"),
                    "subject": props["hs_task_subject"],
                    "body": props["hs_task_body"],
                    "open": props.get("hs_task_status") != "COMPLETED",
                }
            )
        return found

    def reprofile(self, now: datetime = NOW) -> None:
        list(profile_store(self.store, now))

    def drop_the_next_task_create(self) -> None:
        path = "/composite/sobjects" if self.crm == "salesforce" else "/tasks/batch/create"
        self.sandbox.set_faults(FaultPlan(drop_calls=[1], drop_after_processing=True, paths=[path]))


@pytest.fixture(params=["salesforce", "hubspot"])
def world(
    request: pytest.FixtureRequest,
    sf_sandbox: SalesforceSandbox,
    hs_sandbox: HubSpotSandbox,
    store_url: str,
) -> Iterator[World]:
    persons = [
        _person("calm"),
        _person("heated"),
        _person("secret", consent=False),
    ]
    store = Store.open(store_url)
    store.upsert_persons(persons)
    store.add_perceptions(
        [
            *_history("calm", heated=False),
            *_history("heated", heated=True),
            *_history("secret", heated=True),
        ]
    )
    list(profile_store(store, NOW))
    connector: Connector
    sandbox: Sandbox
    if request.param == "salesforce":
        sf_sandbox.reset()
        sandbox = sf_sandbox
        seed_org(OrgRest(sf_sandbox), persons)
        connector = salesforce_connector(sf_sandbox)
        mapping = load_shipped("salesforce-contact")
    else:
        hs_sandbox.reset()
        sandbox = hs_sandbox
        hs = hubspot_connector(hs_sandbox)
        seed_portal(hs.client.sdk, persons)
        connector = hs
        mapping = load_shipped("hubspot-contact")
    apply_fields(connector, mapping)
    sandbox.set_faults(None)
    try:
        yield World(request.param, sandbox, store, connector, mapping)
    finally:
        sandbox.set_faults(None)
        store.close()


def _escalate_again(world: World) -> None:
    """A second heated contact, a day later: the same person, another reason."""
    world.store.add_perceptions(
        [_perception("heated", 4, 1, -0.9, arousal=0.9, channel="email", verbatim=VERBATIM)]
    )
    world.reprofile()


def _recover(world: World) -> None:
    """Weeks later, two delighted answers: nothing calls for a human any more."""
    world.store.add_perceptions(
        [_perception("heated", 5 + i, -55 - i, 0.9, arousal=0.4) for i in range(2)]
    )
    world.reprofile(LATER)
    profile = world.store.get_profile("heated")
    assert profile is not None and not profile.needs_outreach


def test_one_task_per_person_and_reason_across_runs_for_the_records_owner(
    world: World,
) -> None:
    first = world.engine().run()

    assert first.status == "succeeded", json.dumps(first.to_json())
    assert first.counts["tasks_created"] == 1
    [task] = world.tasks()
    assert task["record"] == world.record_of("heated") and task["open"]
    profile = world.store.get_profile("heated")
    assert profile is not None and profile.outreach_reason
    assert profile.outreach_reason in task["subject"]
    assert "furious" not in task["subject"] + task["body"]
    # the phone number, in any spacing (not any "555": the body carries random hex ids)
    assert not re.search(r"555\D{0,3}0100", task["subject"] + task["body"])
    assert world.sandbox.log.writes()  # fields were written too

    second = world.engine().run()
    full = world.engine().run(full=True)
    assert second.counts["tasks_created"] == full.counts["tasks_created"] == 0
    assert len(world.tasks()) == 1
    [row] = world.store.outreach_tasks(f"{world.crm}-tasks")
    assert (row.person_id, row.status, row.task_id) == ("heated", "open", task["id"])


def test_the_task_goes_to_whoever_owns_the_record(world: World) -> None:
    world.engine().run()  # remembers the records; the task goes to the integration user
    [task] = world.tasks()
    if isinstance(world.sandbox, SalesforceSandbox):
        rep = add_sales_user(world.sandbox.org, "Rosa", "Rep")
        sf_client(world.sandbox).Contact.update(world.record_of("heated"), {"OwnerId": rep})
        assert task["owner"] == world.sandbox.org.user_id
    else:
        assert isinstance(world.connector, HubSpotConnector)
        rep = OWNERS[1][1]
        world.connector.client.sdk.crm.contacts.basic_api.update(
            world.record_of("heated"), SimplePublicObjectInput(properties={"hubspot_owner_id": rep})
        )
        assert task["owner"] is None
    _escalate_again(world)
    world.engine().run()
    [new] = [t for t in world.tasks() if t["id"] != task["id"]]
    assert new["owner"] == rep


def test_a_changed_reason_creates_a_new_task_and_the_old_one_stays_open(world: World) -> None:
    world.engine().run()
    _escalate_again(world)

    report = world.engine().run()

    assert report.counts["tasks_created"] == 1 and report.counts["tasks_closed"] == 0
    tasks = world.tasks()
    assert len(tasks) == 2 and all(t["open"] for t in tasks)
    assert {t["record"] for t in tasks} == {world.record_of("heated")}


@pytest.mark.parametrize("close", [False, True], ids=["kept", "closed"])
def test_recovery_closes_the_task_only_when_the_mapping_says_so(world: World, close: bool) -> None:
    world.engine(close_when_recovered=close).run()
    _recover(world)

    report = world.engine(close_when_recovered=close).run()

    assert report.counts["tasks_closed"] == int(close)
    assert report.counts["tasks_created"] == 0
    [task] = world.tasks()
    assert task["open"] is not close
    [row] = world.store.outreach_tasks(f"{world.crm}-tasks")
    assert row.status == ("closed" if close else "open")


def test_a_changed_reason_closes_the_old_task_when_recovery_closes(world: World) -> None:
    world.engine(close_when_recovered=True).run()
    _escalate_again(world)
    report = world.engine(close_when_recovered=True).run()
    assert (report.counts["tasks_created"], report.counts["tasks_closed"]) == (1, 1)
    assert sorted(t["open"] for t in world.tasks()) == [False, True]


def test_no_consent_no_task(world: World) -> None:
    report = world.engine().run()
    assert report.counts["tasks_created"] == 1  # "secret" needs outreach too, but said no
    assert {t["record"] for t in world.tasks()} == {world.record_of("heated")}
    rows = world.store.outreach_tasks(f"{world.crm}-tasks")
    assert {r.person_id for r in rows} == {"heated"}
    person = world.store.get_person("heated")
    assert person is not None
    world.store.upsert_person(
        person.model_copy(update={"consent": Consent(granted=False, updated_at=NOW)})
    )
    _escalate_again(world)  # a new reason, but consent withdrawn: no new task

    again = world.engine().run()

    assert again.counts["tasks_created"] == 0 and again.counts["cleared"] == 1
    assert len(world.tasks()) == 1


def test_a_dry_run_reports_the_tasks_and_creates_nothing(world: World) -> None:
    report = world.engine().run(dry_run=True)
    assert report.counts["tasks_created"] == 1
    assert world.tasks() == [] and world.store.outreach_tasks(f"{world.crm}-tasks") == []


def test_an_answer_lost_after_the_crm_created_the_task_makes_no_duplicate(
    world: World,
) -> None:
    fields_only = SyncEngine(
        world.store, world.connector, world.mapping, target=f"{world.crm}-tasks", now=lambda: NOW
    )
    assert fields_only.run().counts["tasks_created"] == 0  # outreach off: records remembered
    world.drop_the_next_task_create()

    lost = world.engine().run()

    assert lost.status == "failed", json.dumps(lost.to_json())
    assert len(world.tasks()) == 1  # the CRM did create it; relcrm never heard
    [row] = world.store.outreach_tasks(f"{world.crm}-tasks")
    assert row.status == "creating" and row.task_id is None
    world.sandbox.set_faults(None)

    again = world.engine().run()

    assert again.status == "succeeded" and again.counts["tasks_created"] == 0
    [task] = world.tasks()
    [row] = world.store.outreach_tasks(f"{world.crm}-tasks")
    assert (row.status, row.task_id) == ("open", task["id"])
    assert world.engine().run().counts["tasks_created"] == 0
    assert len(world.tasks()) == 1


def test_forgetting_a_person_removes_their_task_tracking(world: World) -> None:
    world.engine().run()
    assert world.store.outreach_tasks(f"{world.crm}-tasks")
    world.store.erase_person("heated")
    assert world.store.outreach_tasks(f"{world.crm}-tasks") == []


def test_a_mapping_asking_for_tasks_loads_and_bad_templates_are_refused(world: World) -> None:
    data = world.mapping.model_dump(mode="json")
    data["outreach"] = {"create_task": True, "subject": "Call {reason} ({health_band})"}
    assert mapping_from(data).outreach.subject_for is not None
    data["outreach"] = {"create_task": True, "subject": "Call {first_name}"}
    with pytest.raises(Exception, match=r"outreach.subject: unknown placeholder \{first_name\}"):
        mapping_from(data)


def test_a_run_killed_before_its_tasks_were_sent_sends_them_when_resumed(world: World) -> None:
    def kill(progress: SyncProgress) -> None:
        raise StopRun

    stopped = world.engine().run(progress=kill)

    assert stopped.status is None and world.tasks() == []
    [row] = world.store.outreach_tasks(f"{world.crm}-tasks")
    assert row.status == "wanted"  # the intent survived the kill

    resumed = world.engine().run()

    assert resumed.resumed and resumed.counts["tasks_created"] == 1
    assert len(world.tasks()) == 1
    assert world.engine().run().counts["tasks_created"] == 0 and len(world.tasks()) == 1
