"""History on the contact: one HubSpot note per perception, never two.

HubSpot has no external id on notes that a batch call could upsert by, so each note
carries a deterministic marker, ``relcrm:perception:<id>``, in its body. Before creating,
relcrm lists the contact's notes through the v4 associations (consistent at once, unlike
search, which indexes with a delay and would let a quick re-run create duplicates) and
reads their bodies with ``batch/read``; perceptions whose marker is already there are
skipped. The associations are read with the v4 batch read, up to 1,000 contacts a call
(HubSpot's limit), so checking a run's contacts costs a handful of calls, not one per
contact. A contact without notes comes back as a per-input error of a 207
(``OBJECT_NOT_FOUND`` / ``NO_ASSOCIATIONS_FOUND``): that means "no notes", not a failure.
Any other per-input error fails the check closed (retried if the error table says it is
transient), because a contact whose notes could not be listed might already have some.
New notes go out through ``batch/create`` (100 a call) with the association to
the contact inline, so a note never exists unattached.

Creating is not idempotent, so the create call itself is never retried blindly: each
attempt first re-reads the markers of the batch's contacts and sends only what is still
missing. An answer lost after HubSpot wrote the notes therefore costs a re-read, not a
duplicate.

The body text is the caller's: relcrm's sync puts channel, topic, valence band and date
there and no verbatim by default (see :mod:`relcrm.sync.history`). It is HTML-escaped here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hubspot.crm.objects.notes import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectId,
)

from relcrm.connectors.hubspot.associations import association_read, field_of
from relcrm.connectors.hubspot.client import HubSpotClient, sdk_method
from relcrm.connectors.hubspot.errors import scrub_message
from relcrm.connectors.hubspot.values import epoch_ms
from relcrm.models import NOTE_PERCEPTION_ID, NotesReport, PerceptionNote

MARKER_PREFIX = "relcrm:perception:"
MARKER = re.compile(re.escape(MARKER_PREFIX) + f"({NOTE_PERCEPTION_ID.pattern})")
NOTE_TO_CONTACT = 202
"""HubSpot-defined association type id: note -> contact."""
MAX_BATCH = 100
"""Notes per ``batch/read`` and ``batch/create`` call (HubSpot's limit)."""
ASSOCIATION_BATCH = 1000
"""Contacts per v4 ``associations/contacts/notes/batch/read`` call (HubSpot's limit)."""
"""Per-input codes of the association batch read that mean "this contact has no notes"."""


def note_html(note: PerceptionNote) -> str:
    """The note body: the caller's text, escaped, and the marker on a line of its own."""
    return f"<p>{html.escape(note.body)}</p><p>{MARKER_PREFIX}{note.perception_id}</p>"


def markers_in(body: str | None) -> set[str]:
    """Perception ids whose marker appears in a note body."""
    return set(MARKER.findall(body or ""))


_get = field_of


def _association_read(inputs: Sequence[tuple[str, str | None]]) -> Callable[[Any], Any]:
    """The contacts' notes (``(contact id, after cursor or None)``); a failure other than
    "no notes" stops the run rather than risk a duplicate note."""
    return association_read(
        "contacts",
        "notes",
        inputs,
        of="contact(s)",
        hint="relcrm stops rather than risk a duplicate note; run again once HubSpot "
        "lists these contacts' notes (notes already made are skipped)",
    )


class NoteWriter:
    """Creates perception notes on contacts of one portal, at most once each."""

    def __init__(self, client: HubSpotClient) -> None:
        self.client = client
        self._once = HubSpotClient(
            client.settings,
            sdk=client.sdk,
            policy=client.policy.with_(attempts=1),
            limiter=client.limiter,
        )
        """Same SDK and limiter, but a create is sent once per attempt of :meth:`add`."""

    def note_ids(self, contact_ids: Iterable[str]) -> dict[str, list[str]]:
        """Contact id -> the ids of its notes, for every given contact (none: ``[]``).

        One v4 batch association read per :data:`ASSOCIATION_BATCH` contacts; a contact
        whose notes span several pages is asked again with its cursor until done.
        """
        found: dict[str, list[str]] = {c: [] for c in sorted(set(contact_ids))}
        pending: list[tuple[str, str | None]] = [(c, None) for c in found]
        while pending:
            cursors: list[tuple[str, str | None]] = []
            for start in range(0, len(pending), ASSOCIATION_BATCH):
                chunk = pending[start : start + ASSOCIATION_BATCH]
                answer = self.client.call(
                    f"list notes of {len(chunk)} contact(s)", _association_read(chunk)
                )
                for result in _get(answer, "results") or []:
                    contact_id = str(_get(_get(result, "_from"), "id"))
                    links = _get(result, "to") or []
                    found.setdefault(contact_id, []).extend(
                        str(_get(link, "to_object_id")) for link in links
                    )
                    after = _get(_get(_get(result, "paging"), "next"), "after")
                    if after:
                        cursors.append((contact_id, str(after)))
            pending = cursors
        return found

    def existing(self, contact_ids: Iterable[str]) -> set[str]:
        """Perception ids that already have a note on any of these contacts."""
        note_ids = sorted({n for ids in self.note_ids(contact_ids).values() for n in ids})
        found: set[str] = set()
        for start in range(0, len(note_ids), MAX_BATCH):
            body = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in note_ids[start : start + MAX_BATCH]],
                properties=["hs_note_body"],
                properties_with_history=[],
            )
            answer = self.client.call(
                "read note bodies",
                sdk_method("crm.objects.notes.batch_api.read_with_http_info", body),
            )
            for record in answer.results or []:
                found |= markers_in((record.properties or {}).get("hs_note_body"))
        return found

    def add(self, notes: Sequence[PerceptionNote]) -> NotesReport:
        """Create a note for each perception that has none yet; one per perception id
        (the first given wins), in batches of 100."""
        report = NotesReport()
        wanted: dict[str, PerceptionNote] = {}
        for note in notes:
            wanted.setdefault(note.perception_id, note)
        known = self.existing(n.contact_id for n in wanted.values())
        report.existing = sorted(p for p in wanted if p in known)
        todo = [n for p, n in wanted.items() if p not in known]
        for start in range(0, len(todo), MAX_BATCH):
            batch = todo[start : start + MAX_BATCH]
            first = [True]

            def attempt(batch: list[PerceptionNote] = batch, first: list[bool] = first) -> None:
                pending = [n for n in batch if n.perception_id not in report.created]
                if not first[0]:  # a retry: the last attempt may have written before failing
                    again = self.existing(n.contact_id for n in pending)
                    report.existing.extend(
                        n.perception_id for n in pending if n.perception_id in again
                    )
                    pending = [n for n in pending if n.perception_id not in again]
                first[0] = False
                if pending:
                    self._create(pending, report)

            self.client.policy.call(attempt)
        return report

    def _create(self, batch: Sequence[PerceptionNote], report: NotesReport) -> None:
        body = BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                SimplePublicObjectBatchInputForCreate(
                    properties={
                        "hs_note_body": note_html(n),
                        "hs_timestamp": str(epoch_ms(n.timestamp)),
                    },
                    associations=[
                        {
                            "to": {"id": n.contact_id},
                            "types": [
                                {
                                    "associationCategory": "HUBSPOT_DEFINED",
                                    "associationTypeId": NOTE_TO_CONTACT,
                                }
                            ],
                        }
                    ],
                    object_write_trace_id=n.perception_id,
                )
                for n in batch
            ]
        )
        answer = self._once.call(
            "create perception notes",
            sdk_method("crm.objects.notes.batch_api.create_with_http_info", body),
        )
        for record in answer.results or []:
            for perception_id in markers_in((record.properties or {}).get("hs_note_body")):
                report.created[perception_id] = str(record.id)
        for error in _get(answer, "errors") or []:
            message = scrub_message(str(_get(error, "message") or ""))
            for key in (_get(error, "context") or {}).get("ids") or []:
                report.rejected[str(key)] = message
