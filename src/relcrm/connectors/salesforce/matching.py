"""Finding each person's Salesforce record by an external id field or by email.

Batched: one SOQL ``IN (...)`` query per few hundred values, not one per person. Contact
is searched first and Lead only for those not found (the order is configurable);
converted leads are skipped, since their data lives on the contact now. A person whose
values hit several records is reported as ambiguous, never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from relcrm.connectors.salesforce.soql import check_name, in_lists
from relcrm.models import MatchReport, RecordRef

if TYPE_CHECKING:
    from relcrm.connectors.salesforce.client import SalesforceClient

SYSTEM = "salesforce"
DEFAULT_OBJECTS: tuple[str, ...] = ("Contact", "Lead")
DEFAULT_FILTERS: Mapping[str, str] = {"Lead": "IsConverted = false"}


def _norm(value: str) -> str:
    # SOQL compares text case-insensitively; map answers back the same way
    return value.strip().casefold()


class Matcher:
    """Matches persons to records with batched, safely quoted SOQL."""

    def __init__(
        self,
        client: SalesforceClient,
        *,
        objects: Sequence[str] = DEFAULT_OBJECTS,
        filters: Mapping[str, str] = DEFAULT_FILTERS,
    ) -> None:
        self.client = client
        self.objects = tuple(check_name(o) for o in objects)
        self.filters = dict(filters)

    def match(self, keys: Mapping[str, Sequence[str]], *, field: str = "Email") -> MatchReport:
        """Match ``{person_id: [values...]}`` on ``field`` (``Email`` or an external id)."""
        check_name(field)
        report = MatchReport()
        pending = {p: [v for v in vs if v and v.strip()] for p, vs in keys.items()}
        for object_name in self.objects:
            if not pending:
                break
            found = self._find(object_name, field, pending)
            for person_id, ids in found.items():
                refs = tuple(RecordRef(system=SYSTEM, object=object_name, id=i) for i in ids)
                if len(refs) == 1:
                    report.matched[person_id] = refs[0]
                else:
                    report.ambiguous[person_id] = refs
                pending.pop(person_id)
        report.unmatched = [p for p in keys if p in pending]
        return report

    def _query(self, what: str, soql: str) -> Any:
        return self.client.call(what, lambda sf: sf.query_all(soql))

    def _find(
        self, object_name: str, field: str, pending: Mapping[str, Sequence[str]]
    ) -> dict[str, list[str]]:
        """``{person_id: sorted distinct record ids}`` for persons found in ``object_name``."""
        owners: dict[str, set[str]] = defaultdict(set)
        for person_id, values in pending.items():
            for value in values:
                owners[_norm(value)].add(person_id)
        distinct = sorted({v.strip() for vs in pending.values() for v in vs})
        hits: dict[str, set[str]] = defaultdict(set)
        extra = self.filters.get(object_name)
        for chunk in in_lists(distinct):
            where = f"{field} IN ({chunk})" + (f" AND {extra}" if extra else "")
            soql = f"SELECT Id, {field} FROM {object_name} WHERE {where}"
            answer = self._query(f"match {object_name} by {field}", soql)
            for record in answer.get("records", []):
                value = record.get(field)
                if value is None:
                    continue
                for person_id in owners.get(_norm(str(value)), ()):
                    hits[person_id].add(str(record["Id"]))
        return {p: sorted(ids) for p, ids in hits.items()}
