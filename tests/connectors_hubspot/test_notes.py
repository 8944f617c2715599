"""History notes on contacts, over the sandbox through hubspot-api-client: each perception
gets one note, associated with its contact; a re-run (or a retry after a lost answer)
creates none."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hubspot.crm.objects.notes import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

from relcrm.connectors.hubspot import HubSpotConnector, PerceptionNote
from relcrm.connectors.hubspot.notes import MARKER_PREFIX, markers_in
from relcrm.errors import ConfigurationError
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from tests.connectors_hubspot.helpers import seed_contacts

WHEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
CREATE = "/crm/v3/objects/notes/batch/create"


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
    # calls: 2 association listings (no notes yet, so no body read), then the create
    hs_sandbox.set_faults(FaultPlan(drop_calls=[3], drop_after_processing=True))
    report = connector.add_perception_notes(notes_for(contacts, 1))
    hs_sandbox.set_faults(None)
    assert report.rejected == {}
    assert sorted([*report.created, *report.existing]) == ["pc_dee_0", "pc_eve_0"]
    assert creates(hs_sandbox) == 1  # the retry found the notes and sent nothing
    assert all(len(portal_notes(hs_client, c)) == 1 for c in contacts.values())


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
