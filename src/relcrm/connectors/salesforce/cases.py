"""Reading Salesforce Cases as relcrm's CRM-neutral :class:`~relcrm.models.SupportCase`.

One SOQL query, incremental on ``LastModifiedDate`` and ordered by ``LastModifiedDate,
Id`` so a run can resume from the last case it saw; pages are fetched lazily through
simple-salesforce's ``query``/``query_more``, each call under the connector's retry
policy (a 503 or an expired session in the middle of a long read costs one retry, not
the read). ``since`` is inclusive and cut to the second, so a case modified in the same
second as the last one seen is read again rather than lost; downstream ids derive from
the case id, so reading a case twice changes nothing.

The requester is the case's ``ContactId`` (a :class:`CrmRecordRef` to the Contact) with
``ContactEmail``, the org's read-only copy of that contact's email. A case without a
contact (web-to-case with only ``SuppliedEmail``) has no requester.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from relcrm.errors import ConfigurationError
from relcrm.models import CrmRecordRef, SupportCase

if TYPE_CHECKING:
    from relcrm.connectors.salesforce.client import SalesforceClient

SYSTEM = "salesforce"
OBJECT = "Case"
FIELDS = (
    "Id",
    "CaseNumber",
    "Subject",
    "Description",
    "Status",
    "Priority",
    "Origin",
    "IsClosed",
    "IsEscalated",
    "ClosedDate",
    "CreatedDate",
    "LastModifiedDate",
    "ContactId",
    "ContactEmail",
)
DEFAULT_BATCH_SIZE = 2000
"""Records per page (Salesforce's default and maximum; the minimum is 200)."""
MAX_SUBJECT = 1000
MAX_DESCRIPTION = 40_000
"""SupportCase's limits; Salesforce's own (255, 32,000) are lower, so nothing is cut today."""


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal in UTC, to the second (``2026-01-01T00:00:00Z``)."""
    if moment.tzinfo is None:
        raise ConfigurationError(
            f"since={moment.isoformat()} has no time zone",
            hint="pass an aware datetime, e.g. datetime(2026, 1, 1, tzinfo=UTC)",
        )
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cases_query(since: datetime | None, limit: int | None) -> str:
    """The SOQL that reads cases modified at or after ``since``, oldest first."""
    soql = f"SELECT {', '.join(FIELDS)} FROM {OBJECT}"
    if since is not None:
        soql += f" WHERE LastModifiedDate >= {soql_datetime(since)}"
    soql += " ORDER BY LastModifiedDate, Id"
    if limit is not None:
        soql += f" LIMIT {int(limit)}"
    return soql


def parse_sf_datetime(value: Any) -> datetime | None:
    """Salesforce's ``2026-01-31T09:30:00.000+0000`` (or ``Z``) as an aware datetime."""
    if not value:
        return None
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _cut(value: Any, size: int) -> str | None:
    return None if value is None else str(value)[:size]


def to_support_case(record: Mapping[str, Any]) -> SupportCase:
    """One Case record (as the query returns it) as a :class:`SupportCase`."""
    created = parse_sf_datetime(record.get("CreatedDate"))
    if created is None:
        raise ValueError(f"Case {record.get('Id')} has no CreatedDate")
    contact_id = record.get("ContactId")
    status = record.get("Status")
    origin = record.get("Origin")
    return SupportCase(
        system=SYSTEM,
        object=OBJECT,
        id=str(record["Id"]),
        subject=_cut(record.get("Subject"), MAX_SUBJECT),
        description=_cut(record.get("Description"), MAX_DESCRIPTION),
        status=status,
        priority=record.get("Priority"),
        closed=bool(record.get("IsClosed")),
        escalated=bool(record.get("IsEscalated")) or status == "Escalated",
        created_at=created,
        closed_at=parse_sf_datetime(record.get("ClosedDate")),
        modified_at=parse_sf_datetime(record.get("LastModifiedDate")),
        requester=CrmRecordRef(system=SYSTEM, object="Contact", id=str(contact_id))
        if contact_id
        else None,
        requester_email=record.get("ContactEmail") or None,
        origin=str(origin).lower() if origin else None,
    )


class CaseReader:
    """Reads cases from one org, page by page, through the connector's client."""

    def __init__(self, client: SalesforceClient, *, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.client = client
        self.batch_size = max(200, min(batch_size, DEFAULT_BATCH_SIZE))

    def read(
        self, since: datetime | None = None, *, limit: int | None = None
    ) -> Iterator[SupportCase]:
        """Cases modified at or after ``since`` (all when None), oldest change first.

        Arguments are checked now; the org is asked only as the result is consumed.
        """
        if limit is not None and limit < 0:
            raise ConfigurationError(f"limit must not be negative, not {limit}")
        soql = cases_query(since, limit)
        return iter(()) if limit == 0 else self._pages(soql)

    def _pages(self, soql: str) -> Iterator[SupportCase]:
        headers = {"Sforce-Query-Options": f"batchSize={self.batch_size}"}
        page = self.client.call("query Case", lambda sf: sf.query(soql, headers=headers))
        while True:
            for record in page.get("records") or ():
                yield to_support_case(record)
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self.client.call("query more Case", _query_more(str(next_url), headers))


def _query_more(url: str, headers: dict[str, str]) -> Callable[[Any], Any]:
    """``sf -> `` the next page of a query, with this page's URL bound now."""
    return lambda sf: sf.query_more(url, identifier_is_url=True, headers=headers)
