"""Finding each person's Zoho CRM record by email or by a unique field.

Batched: one Search Records call (``GET /crm/v8/{module}/search``) per ten values, as
``((Email:equals:a)or(Email:equals:b)...)``: ten is the most criteria one search takes
(Zoho's search documentation). Values escape ``(``, ``)``, ``,`` and ``\\`` with a
backslash, as Zoho's criteria syntax asks, so no value can change the query. ``Contacts``
is searched first and the fallback modules (``Leads``) only for those not found; a person
whose values hit several records is reported as ambiguous, never guessed. Search compares
case-insensitively; Zoho's search index may lag a few seconds behind writes, which
matters only for records created moments before a run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from relcrm.models import MatchReport, RecordRef

if TYPE_CHECKING:
    from relcrm.connectors.zoho.client import ZohoClient

SYSTEM = "zoho"
MAX_CRITERIA = 10
PER_PAGE = 200


def escape(value: str) -> str:
    """A value safe inside a criterion."""
    out = value.replace("\\", "\\\\")
    for char in "(),":
        out = out.replace(char, "\\" + char)
    return out


def criteria(field: str, values: Sequence[str]) -> str:
    """``(F:equals:v)`` for one value, ``((F:equals:a)or(F:equals:b))`` for several."""
    parts = [f"({field}:equals:{escape(v)})" for v in values]
    return parts[0] if len(parts) == 1 else "(" + "or".join(parts) + ")"


def _norm(value: str) -> str:
    return value.strip().casefold()


class Matcher:
    """Matches persons to records with batched searches."""

    def __init__(self, client: ZohoClient) -> None:
        self.client = client

    def match(
        self, objects: Sequence[str], keys: Mapping[str, Sequence[str]], *, field: str
    ) -> MatchReport:
        """Match ``{person_id: [values]}`` on ``field`` in ``objects``, in order."""
        report = MatchReport()
        pending = {p: [v for v in vs if v and v.strip()] for p, vs in keys.items()}
        for module in objects:
            if not any(pending.values()):
                break
            found = self.find(module, field, pending)
            for person_id, ids in found.items():
                refs = tuple(RecordRef(system=SYSTEM, object=module, id=i) for i in ids)
                if len(refs) == 1:
                    report.matched[person_id] = refs[0]
                else:
                    report.ambiguous[person_id] = refs
                pending.pop(person_id)
        report.unmatched = [p for p in keys if p in pending]
        return report

    def find(
        self, module: str, field: str, pending: Mapping[str, Sequence[str]]
    ) -> dict[str, list[str]]:
        """``{person_id: sorted record ids}`` for the persons found in ``module``."""
        owners: dict[str, set[str]] = defaultdict(set)
        for person_id, values in pending.items():
            for value in values:
                owners[_norm(value)].add(person_id)
        distinct = sorted({v.strip() for vs in pending.values() for v in vs})
        hits: dict[str, set[str]] = defaultdict(set)
        for start in range(0, len(distinct), MAX_CRITERIA):
            chunk = distinct[start : start + MAX_CRITERIA]
            for record in self.search(module, field, chunk):
                held = record.get(field)
                if held is None:
                    continue
                for person_id in owners.get(_norm(str(held)), ()):
                    hits[person_id].add(str(record["id"]))
        return {p: sorted(ids) for p, ids in hits.items()}

    def search(self, module: str, field: str, values: Sequence[str]) -> list[dict[str, object]]:
        """Every record of ``module`` whose ``field`` equals one of ``values`` (all pages)."""
        found: list[dict[str, object]] = []
        page = 1
        while True:
            answer = self.client.call(
                f"search {module} by {field}",
                "GET",
                f"/{module}/search",
                params={
                    "criteria": criteria(field, values),
                    "fields": field,
                    "per_page": str(PER_PAGE),
                    "page": str(page),
                },
            )
            if answer is None:  # 204: nothing found
                return found
            found.extend(r for r in answer.get("data") or [] if isinstance(r, dict))
            if not (answer.get("info") or {}).get("more_records"):
                return found
            page += 1
