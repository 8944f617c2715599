"""Reading HubSpot tickets as relcrm's CRM-neutral :class:`~relcrm.models.SupportCase`.

Three calls per page of tickets, each through the connector's limiter, error table and
retry policy:

1. ``POST /crm/v3/objects/tickets/search``: tickets whose ``hs_lastmodifieddate`` is at
   or after a lower bound, oldest change first. HubSpot answers at most 10,000 results
   per query and ``after`` offsets shift when a ticket changes during the read, so each
   page is a *fresh* query from the last modification time seen (keyset paging); the
   tickets already read at exactly that time are skipped. Only when a whole page shares
   one timestamp does the reader page with ``after`` inside it.
2. ``POST /crm/v4/associations/tickets/contacts/batch/read``: each ticket's contacts. A
   ticket without contacts comes back as a per-input error of a 207 (``NO_ASSOCIATIONS
   _FOUND``): no requester, not a failure. HubSpot has no "requester" on a ticket; the
   associated contact with the lowest id (the oldest record) stands for it.
3. ``POST /crm/v3/objects/contacts/batch/read``: those contacts' emails (100 a call). A
   contact that no longer exists leaves the ticket without requester.

``since`` is inclusive (to the millisecond), so a ticket changed in the same millisecond
as the last one seen is read again rather than lost; downstream ids derive from the
ticket id, so reading it twice changes nothing. Search is eventually consistent: a
ticket written a moment ago may appear only in the next run, which ``since`` covers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId, SimplePublicObjectId
from hubspot.crm.tickets import PublicObjectSearchRequest

from relcrm.connectors.errors import RequestRejected
from relcrm.connectors.hubspot.associations import association_read, field_of
from relcrm.connectors.hubspot.client import HubSpotClient, sdk_method
from relcrm.errors import ConfigurationError
from relcrm.models import CrmRecordRef, SupportCase

SYSTEM = "hubspot"
OBJECT = "tickets"
MODIFIED = "hs_lastmodifieddate"
PROPERTIES = [
    "subject",
    "content",
    "hs_pipeline",
    "hs_pipeline_stage",
    "hs_ticket_priority",
    "source_type",
    "createdate",
    MODIFIED,
    "closed_date",
]
STAGE_LABELS = {"1": "New", "2": "Waiting on contact", "3": "Waiting on us", "4": "Closed"}
"""Stages of the default pipeline ("0"); stages of other pipelines keep their id."""
CLOSED_STAGES = frozenset({"4"})
ORIGINS = {"EMAIL": "email", "CHAT": "chat", "PHONE": "phone", "FORM": "web"}
"""``source_type`` -> SupportCase.origin (a form is the web channel)."""
SEARCH_PAGE = 100
SEARCH_CAP = 10_000
"""Results one search query can page through (HubSpot answers 400 beyond)."""
ASSOCIATION_BATCH = 1000
READ_BATCH = 100
MAX_SUBJECT = 1000
MAX_DESCRIPTION = 40_000
"""SupportCase's limits; a HubSpot text property holds up to 65,536 characters, so a very
long ticket description is cut to its first 40,000."""


_get = field_of


def epoch_ms(moment: datetime) -> int:
    """An aware datetime as HubSpot's epoch milliseconds (naive times are refused)."""
    if moment.tzinfo is None:
        raise ConfigurationError(
            f"since={moment.isoformat()} has no time zone",
            hint="pass an aware datetime, e.g. datetime(2026, 1, 1, tzinfo=UTC)",
        )
    return int(moment.timestamp() * 1000)


def parse_hs_datetime(value: Any) -> datetime | None:
    """A HubSpot datetime value (ISO 8601 or epoch ms; a datetime from the SDK) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _cut(value: Any, size: int) -> str | None:
    return None if value is None or value == "" else str(value)[:size]


def to_support_case(
    ticket: Any, requester_id: str | None = None, requester_email: str | None = None
) -> SupportCase:
    """One ticket (an SDK ``SimplePublicObject``) and its requester as a SupportCase."""
    props = _get(ticket, "properties") or {}
    stage = props.get("hs_pipeline_stage")
    closed_at = parse_hs_datetime(props.get("closed_date"))
    created = parse_hs_datetime(props.get("createdate")) or parse_hs_datetime(
        _get(ticket, "created_at")
    )
    if created is None:
        raise ValueError(f"ticket {_get(ticket, 'id')} has no create date")
    source = props.get("source_type")
    return SupportCase(
        system=SYSTEM,
        object=OBJECT,
        id=str(_get(ticket, "id")),
        subject=_cut(props.get("subject"), MAX_SUBJECT),
        description=_cut(props.get("content"), MAX_DESCRIPTION),
        status=STAGE_LABELS.get(str(stage), str(stage)) if stage else None,
        priority=props.get("hs_ticket_priority") or None,
        closed=stage in CLOSED_STAGES or closed_at is not None,
        escalated=False,  # HubSpot has no standard escalation marker on tickets
        created_at=created,
        closed_at=closed_at,
        modified_at=parse_hs_datetime(props.get(MODIFIED)),
        requester=CrmRecordRef(system=SYSTEM, object="contacts", id=requester_id)
        if requester_id
        else None,
        requester_email=requester_email,
        origin=ORIGINS.get(str(source), str(source).lower()) if source else None,
    )


def _association_read(ticket_ids: Sequence[str]) -> Callable[[Any], Any]:
    return association_read(OBJECT, "contacts", [(i, None) for i in ticket_ids], of="ticket(s)")


class TicketReader:
    """Reads tickets of one portal with their requesters, page by page."""

    def __init__(
        self, client: HubSpotClient, *, page_size: int = SEARCH_PAGE, result_cap: int = SEARCH_CAP
    ) -> None:
        self.client = client
        self.page_size = max(1, min(page_size, 200))
        self.result_cap = result_cap

    def read(
        self, since: datetime | None = None, *, limit: int | None = None
    ) -> Iterator[SupportCase]:
        """Tickets modified at or after ``since`` (all when None), oldest change first.

        Arguments are checked now; HubSpot is asked only as the result is consumed.
        """
        if limit is not None and limit < 0:
            raise ConfigurationError(f"limit must not be negative, not {limit}")
        lower = epoch_ms(since) if since is not None else None
        return iter(()) if limit == 0 else self._cases(lower, limit)

    def _cases(self, lower: int | None, limit: int | None) -> Iterator[SupportCase]:
        left = limit
        for page in self._pages(lower, limit):
            if left is not None:
                page = page[:left]
                left -= len(page)
            requesters = self.requesters([str(t.id) for t in page])
            emails = self.emails(sorted(set(requesters.values())))
            for ticket in page:
                contact_id = requesters.get(str(ticket.id))
                if contact_id is not None and contact_id not in emails:
                    contact_id = None  # associated, but the contact is gone
                yield to_support_case(
                    ticket, contact_id, emails.get(contact_id) if contact_id else None
                )
            if left == 0:
                return

    def _search(self, lower: int | None, after: int, size: int) -> Any:
        filters = (
            [{"filters": [{"propertyName": MODIFIED, "operator": "GTE", "value": str(lower)}]}]
            if lower is not None
            else []
        )
        request = PublicObjectSearchRequest(
            filter_groups=filters,
            sorts=[{"propertyName": MODIFIED, "direction": "ASCENDING"}],
            properties=PROPERTIES,
            limit=size,
            after=str(after) if after else None,
        )
        return self.client.call(
            "search tickets",
            sdk_method("crm.tickets.search_api.do_search_with_http_info", request),
        )

    def _pages(self, lower: int | None, limit: int | None) -> Iterator[list[Any]]:
        """Pages of new tickets (keyset paging on the modification time, see the module)."""
        seen_at_lower: set[str] = set()
        after = 0
        wanted = limit
        while True:
            size = self.page_size if wanted is None else max(1, min(self.page_size, wanted))
            answer = self._search(lower, after, size)
            results = list(answer.results or [])
            fresh = [t for t in results if str(t.id) not in seen_at_lower]
            if fresh:
                yield fresh
                if wanted is not None:
                    wanted -= len(fresh)
                    if wanted <= 0:
                        return
            more = _get(_get(answer, "paging"), "next") is not None
            if not results or not more:
                return
            last = epoch_ms(parse_hs_datetime(results[-1].properties.get(MODIFIED)) or _EPOCH)
            at_last = {str(t.id) for t in results if _modified_ms(t) == last}
            if last == lower:  # the whole page shares one timestamp: dig deeper within it
                after += len(results)
                seen_at_lower |= at_last
                if after + size > self.result_cap:
                    raise RequestRejected(
                        f"more than {self.result_cap} HubSpot tickets share the modification "
                        f"time {last} (epoch ms); search cannot page through them",
                        vendor_code="SEARCH_CAP",
                    )
            else:
                lower, after, seen_at_lower = last, 0, at_last

    def requesters(self, ticket_ids: Sequence[str]) -> dict[str, str]:
        """Ticket id -> the id of its requester contact, for tickets that have contacts."""
        found: dict[str, str] = {}
        for start in range(0, len(ticket_ids), ASSOCIATION_BATCH):
            chunk = ticket_ids[start : start + ASSOCIATION_BATCH]
            answer = self.client.call(
                f"list contacts of {len(chunk)} ticket(s)", _association_read(chunk)
            )
            for result in _get(answer, "results") or []:
                ticket_id = str(_get(_get(result, "_from"), "id"))
                contact_ids = [str(_get(link, "to_object_id")) for link in _get(result, "to") or []]
                if contact_ids:
                    found[ticket_id] = min(contact_ids, key=lambda c: (len(c), c))
        return found

    def emails(self, contact_ids: Sequence[str]) -> dict[str, str | None]:
        """Contact id -> email (None when it has none) for the contacts that exist."""
        out: dict[str, str | None] = {}
        for start in range(0, len(contact_ids), READ_BATCH):
            chunk = contact_ids[start : start + READ_BATCH]
            body = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in chunk],
                properties=["email"],
                properties_with_history=[],
            )
            answer = self.client.call(
                "read requester contacts",
                sdk_method("crm.contacts.batch_api.read_with_http_info", body),
            )
            for record in answer.results or []:
                out[str(record.id)] = (record.properties or {}).get("email") or None
        return out


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _modified_ms(ticket: Any) -> int | None:
    moment = parse_hs_datetime((_get(ticket, "properties") or {}).get(MODIFIED))
    return epoch_ms(moment) if moment is not None else None
