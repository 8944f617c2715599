"""History on the contact: one HubSpot note per perception, never two.

HubSpot has no external id on notes that a batch call could upsert by, so each note
carries a deterministic marker, ``relcrm:perception:<id>``, in its body. Before creating,
relcrm lists the contact's notes through the v4 associations (consistent at once, unlike
search, which indexes with a delay and would let a quick re-run create duplicates) and
reads their bodies with ``batch/read``; perceptions whose marker is already there are
skipped. New notes go out through ``batch/create`` (100 a call) with the association to
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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hubspot.crm.objects.notes import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectId,
)

from relcrm.connectors.hubspot.client import HubSpotClient, sdk_method
from relcrm.connectors.hubspot.values import epoch_ms
from relcrm.errors import ConfigurationError

MARKER_PREFIX = "relcrm:perception:"
MARKER = re.compile(re.escape(MARKER_PREFIX) + r"([A-Za-z0-9_.\-]+)")
NOTE_TO_CONTACT = 202
"""HubSpot-defined association type id: note -> contact."""
MAX_BATCH = 100
ASSOCIATION_PAGE = 500


@dataclass(frozen=True)
class PerceptionNote:
    """One note to put on a contact for one perception."""

    contact_id: str
    perception_id: str
    timestamp: datetime
    body: str
    """Short, redaction-safe text (no verbatim by default); HTML-escaped before sending."""

    def __post_init__(self) -> None:
        if not MARKER.fullmatch(MARKER_PREFIX + self.perception_id):
            raise ConfigurationError(
                f"{self.perception_id!r} cannot be used as a note marker",
                hint="perception ids are letters, digits, '_', '.', '-'",
            )


@dataclass
class NotesReport:
    """What :meth:`NoteWriter.add` did, per perception id."""

    created: dict[str, str] = field(default_factory=dict)
    """Perception id -> the new note's id."""
    existing: list[str] = field(default_factory=list)
    """Perceptions that already had a note (earlier run): nothing was sent for them."""
    rejected: dict[str, str] = field(default_factory=dict)
    """Perception id -> HubSpot's reason."""


def note_html(note: PerceptionNote) -> str:
    """The note body: the caller's text, escaped, and the marker on a line of its own."""
    return f"<p>{html.escape(note.body)}</p><p>{MARKER_PREFIX}{note.perception_id}</p>"


def markers_in(body: str | None) -> set[str]:
    """Perception ids whose marker appears in a note body."""
    return set(MARKER.findall(body or ""))


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _notes_page(contact_id: str, kwargs: dict[str, Any]) -> Callable[[Any], Any]:
    def run(sdk: Any) -> Any:
        return sdk.crm.associations.v4.basic_api.get_page_with_http_info(
            "contacts", contact_id, "notes", **kwargs
        )

    return run


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

    def note_ids(self, contact_id: str) -> list[str]:
        """The ids of every note associated with a contact (v4 associations, paged)."""
        ids: list[str] = []
        after: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": ASSOCIATION_PAGE}
            if after:
                kwargs["after"] = after
            page = self.client.call(
                f"list notes of contact {contact_id}",
                _notes_page(contact_id, dict(kwargs)),
            )
            ids.extend(str(r.to_object_id) for r in page.results or [])
            nxt = getattr(getattr(page, "paging", None), "next", None)
            after = getattr(nxt, "after", None)
            if not after:
                return ids

    def existing(self, contact_ids: Iterable[str]) -> set[str]:
        """Perception ids that already have a note on any of these contacts."""
        note_ids = sorted({n for c in sorted(set(contact_ids)) for n in self.note_ids(c)})
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
            message = str(_get(error, "message") or "")
            for key in (_get(error, "context") or {}).get("ids") or []:
                report.rejected[str(key)] = message
