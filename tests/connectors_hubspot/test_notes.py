"""History notes on contacts, over the sandbox through hubspot-api-client: each perception
gets one note, associated with its contact; a re-run (or a retry after a lost answer)
creates none."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hubspot.crm.objects.notes import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

from relcrm.connectors.errors import RequestRejected, TransientError
from relcrm.connectors.hubspot import HubSpotConnector
from relcrm.connectors.hubspot import notes as notes_module
from relcrm.connectors.hubspot.client import HubSpotClient
from relcrm.connectors.hubspot.notes import ASSOCIATION_BATCH, MARKER_PREFIX, NoteWriter, markers_in
from relcrm.connectors.hubspot.settings import HubSpotSettings
from relcrm.connectors.retry import RetryPolicy
from relcrm.errors import ConfigurationError
from relcrm.models import PerceptionNote
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from tests.connectors_hubspot.helpers import seed_contacts

WHEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
CREATE = "/crm/v3/objects/notes/batch/create"
ASSOCIATIONS = "/crm/v4/associations/contacts/notes/batch/read"


def notes_for(contacts: dict[str, str], per_contact: int) -> list[PerceptionNote]:
    return [
        PerceptionNote(
            contact_id=contact_id,
            perception_id=f"pc_{email.split('@')[0]}_{i}",
            timestamp=WHEN + timedelta(days=i),
            body=f"survey · onboarding · negative · 2026-11-{i + 2:02d}",
        )
        for email, contact_id in sorted(contacts.items())
        for i in range(per_contact)
    ]


def portal_notes(client: Any, contact_id: str) -> list[dict[str, Any]]:
    """The notes associated with a contact, read with the official client (batch read, so
    a test with many notes stays inside the sandbox's 100-per-10-s limit)."""
    page = client.crm.associations.v4.basic_api.get_page("contacts", contact_id, "notes")
    ids = [str(link.to_object_id) for link in page.results]
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), 100):
        answer = client.crm.objects.notes.batch_api.read(
            BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in ids[start : start + 100]],
                properties=["hs_note_body", "hs_timestamp"],
                properties_with_history=[],
            )
        )
        out.extend(dict(r.properties) for r in answer.results)
    return out


def creates(sandbox: HubSpotSandbox) -> int:
    return sum(1 for c in sandbox.log.calls() if c.path.rstrip("/") == CREATE)


def association_reads(sandbox: HubSpotSandbox) -> int:
    """Duplicate-check calls: v4 batch association reads (and any per-contact listing)."""
    return sum(
        1
        for c in sandbox.log.calls()
        if c.path.rstrip("/") == ASSOCIATIONS or c.path.startswith("/crm/v4/objects/contact")
    )


def test_notes_are_created_once_and_a_rerun_creates_none(
    hs_client: Any, hs_sandbox: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    contacts = seed_contacts(hs_client, ["ann@example.com", "bob@example.com"])
    notes = notes_for(contacts, 2)
    first = connector.add_perception_notes(notes)
    assert sorted(first.created) == sorted(n.perception_id for n in notes)
    assert first.existing == [] and first.rejected == {}
    for email, contact_id in contacts.items():
        held = portal_notes(hs_client, contact_id)
        markers = Counter(m for n in held for m in markers_in(n["hs_note_body"]))
        assert markers == {f"pc_{email.split('@')[0]}_{i}": 1 for i in range(2)}
        assert all("survey · onboarding · negative" in n["hs_note_body"] for n in held)
        assert {n["hs_timestamp"][:10] for n in held} == {"2026-11-02", "2026-11-03"}
    assert creates(hs_sandbox) == 1

    hs_sandbox.log.clear()
    again = connector.add_perception_notes(notes)
    assert again.created == {} and sorted(again.existing) == sorted(first.created)
    assert creates(hs_sandbox) == 0
    assert all(len(portal_notes(hs_client, c)) == 2 for c in contacts.values())


def test_only_new_perceptions_get_notes(
    hs_client: Any, hs_sandbox: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    contacts = seed_contacts(hs_client, ["cy@example.com"])
    connector.add_perception_notes(notes_for(contacts, 2))
    later = connector.add_perception_notes(notes_for(contacts, 3))
    assert list(later.created) == ["pc_cy_2"]
    assert sorted(later.existing) == ["pc_cy_0", "pc_cy_1"]
    assert len(portal_notes(hs_client, contacts["cy@example.com"])) == 3


def test_notes_are_batched_by_100_and_duplicates_in_the_input_collapse(
    hs_client: Any, hs_sandbox: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    contacts = seed_contacts(hs_client, [f"p{i}@example.com" for i in range(3)])
    notes = notes_for(contacts, 50)
    report = connector.add_perception_notes([*notes, *notes[:10]])
    assert len(report.created) == 150
    assert creates(hs_sandbox) == 2
    assert sum(len(portal_notes(hs_client, c)) for c in contacts.values()) == 150


def test_a_retry_after_a_lost_answer_does_not_duplicate(
    hs_client: Any, hs_sandbox: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    contacts = seed_contacts(hs_client, ["dee@example.com", "eve@example.com"])
    # calls: 1 batch association read (no notes yet, so no body read), then the create
    hs_sandbox.log.clear()
    hs_sandbox.set_faults(FaultPlan(drop_calls=[2], drop_after_processing=True))
    report = connector.add_perception_notes(notes_for(contacts, 1))
    hs_sandbox.set_faults(None)
    assert report.rejected == {}
    assert sorted([*report.created, *report.existing]) == ["pc_dee_0", "pc_eve_0"]
    assert creates(hs_sandbox) == 1  # the retry found the notes and sent nothing
    create = next(c for c in hs_sandbox.log.calls() if c.path.rstrip("/") == CREATE)
    assert create.status == 0  # the create's answer really was lost
    assert association_reads(hs_sandbox) == 2  # the check, then the retry's re-read
    assert all(len(portal_notes(hs_client, c)) == 1 for c in contacts.values())


def test_the_limit_is_hubspots_1000_contacts_per_association_read() -> None:
    assert ASSOCIATION_BATCH == 1000


@pytest.mark.parametrize(("contacts", "batch"), [(1, 1000), (7, 3), (9, 3), (10, 3)])
def test_the_check_costs_one_association_read_per_batch_of_contacts(
    hs_client: Any,
    hs_sandbox: HubSpotSandbox,
    connector: HubSpotConnector,
    monkeypatch: pytest.MonkeyPatch,
    contacts: int,
    batch: int,
) -> None:
    monkeypatch.setattr(notes_module, "ASSOCIATION_BATCH", batch)
    seeded = seed_contacts(hs_client, [f"c{i}@example.com" for i in range(contacts)])
    notes = notes_for(seeded, 1)
    hs_sandbox.log.clear()
    first = connector.add_perception_notes(notes)
    assert len(first.created) == contacts
    assert association_reads(hs_sandbox) == math.ceil(contacts / batch)

    hs_sandbox.log.clear()
    again = connector.add_perception_notes(notes)
    assert again.created == {} and len(again.existing) == contacts
    assert association_reads(hs_sandbox) == math.ceil(contacts / batch)
    assert creates(hs_sandbox) == 0


def test_1001_contacts_cost_two_association_reads_and_no_duplicates(
    hs_client: Any, hs_sandbox: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    seeded = seed_contacts(hs_client, [f"m{i:04d}@example.com" for i in range(1001)])
    with_notes = dict(sorted(seeded.items())[:150])  # most contacts have no notes yet
    connector.add_perception_notes(notes_for(with_notes, 1))
    everyone = notes_for(seeded, 1)
    hs_sandbox.log.clear()
    report = connector.add_perception_notes(everyone)
    assert association_reads(hs_sandbox) == 2  # ceil(1001 / 1000), not 1001
    assert report.rejected == {} and len(report.existing) == 150
    assert len(report.created) == 1001 - 150
    markers = Counter(
        m
        for n in hs_sandbox.portal.records["notes"].values()
        for m in markers_in(n.properties["hs_note_body"])
    )
    assert len(markers) == 1001 and set(markers.values()) == {1}


def test_contacts_without_notes_and_unknown_contacts_are_no_notes(
    hs_client: Any, hs_sandbox: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    seeded = seed_contacts(hs_client, ["has@example.com", "none@example.com"])
    connector.add_perception_notes(notes_for({"has@example.com": seeded["has@example.com"]}, 1))
    hs_sandbox.log.clear()
    ids = connector.notes.note_ids([*seeded.values(), "999999"])
    assert len(ids[seeded["has@example.com"]]) == 1
    assert ids[seeded["none@example.com"]] == [] and ids["999999"] == []
    assert association_reads(hs_sandbox) == 1
    assert [c.status for c in hs_sandbox.log.calls()] == [207]


class _FakeBatchApi:
    """Stands in for ``crm.associations.v4.batch_api``: answers from a script of pages."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.requests: list[list[tuple[str, str | None]]] = []

    def get_page_with_http_info(self, from_type: str, to_type: str, body: Any) -> Any:
        assert (from_type, to_type) == ("contacts", "notes")
        self.requests.append([(i.id, i.after) for i in body.inputs])
        return self.answers.pop(0), 207, {}


def _writer(answers: list[Any]) -> tuple[NoteWriter, _FakeBatchApi]:
    api = _FakeBatchApi(answers)
    sdk = SimpleNamespace(
        crm=SimpleNamespace(associations=SimpleNamespace(v4=SimpleNamespace(batch_api=api)))
    )
    settings = HubSpotSettings(access_token="t", base_url="https://hubspot.invalid")
    client = HubSpotClient(settings, sdk=sdk, policy=RetryPolicy(sleep=lambda _s: None))
    return NoteWriter(client), api


def _result(contact: str, notes: list[str], after: str | None = None) -> dict[str, Any]:
    return {
        "_from": {"id": contact},
        "to": [{"to_object_id": n} for n in notes],
        "paging": {"next": {"after": after}} if after else None,
    }


def _error(contact: str, category: str, sub_category: str | None = None) -> dict[str, Any]:
    return {
        "category": category,
        "sub_category": sub_category,
        "message": "m",
        "context": {"fromObjectId": [contact]},
    }


def test_a_contact_with_more_notes_than_a_page_is_asked_again_with_its_cursor() -> None:
    writer, api = _writer(
        [
            {"results": [_result("1", ["a", "b"], after="p2"), _result("2", ["c"])]},
            {"results": [_result("1", ["d"])]},
        ]
    )
    assert writer.note_ids(["2", "1"]) == {"1": ["a", "b", "d"], "2": ["c"]}
    assert api.requests == [[("1", None), ("2", None)], [("1", "p2")]]


def test_a_transient_per_contact_error_retries_the_read() -> None:
    writer, api = _writer(
        [
            {"results": [], "errors": [_error("1", "INTERNAL_ERROR", "TRANSIENT")]},
            {"results": [_result("1", ["a"])]},
        ]
    )
    assert writer.note_ids(["1"]) == {"1": ["a"]}
    assert len(api.requests) == 2


def test_any_other_per_contact_error_fails_the_check_closed() -> None:
    writer, _api = _writer(
        [
            {
                "results": [],
                "errors": [_error("2", "OBJECT_NOT_FOUND"), _error("1", "VALIDATION_ERROR")],
            }
        ]
    )
    with pytest.raises(RequestRejected, match="VALIDATION_ERROR for contact"):
        writer.note_ids(["1", "2"])


def test_a_persistent_transient_error_is_raised_as_transient() -> None:
    writer, api = _writer([{"errors": [_error("1", "INTERNAL_ERROR", "TRANSIENT")]}] * 10)
    with pytest.raises(TransientError):
        writer.note_ids(["1"])
    assert len(api.requests) > 1


def test_body_is_escaped_and_marked() -> None:
    from relcrm.connectors.hubspot.notes import note_html

    note = PerceptionNote(
        contact_id="1", perception_id="pc_abc", timestamp=WHEN, body="<script>x</script>"
    )
    body = note_html(note)
    assert "<script>" not in body and f"{MARKER_PREFIX}pc_abc" in body
    assert markers_in(body) == {"pc_abc"}


def test_a_perception_id_that_cannot_be_a_marker_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        PerceptionNote(contact_id="1", perception_id="a b", timestamp=WHEN, body="x")
