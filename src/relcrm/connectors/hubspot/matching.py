"""Finding each person's HubSpot record by email or by a unique relcrm person-id property.

Batched: ``batch/read`` with ``idProperty`` answers up to 100 keys per request (search
would be slower, rate-limited separately and eventually consistent). Keys HubSpot does
not know come back in a 207's ``OBJECT_NOT_FOUND`` and are reported as unmatched; a
person whose keys hit several records (two emails, two contacts) is reported as
ambiguous, never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hubspot.crm.objects import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

from relcrm.connectors.hubspot.client import sdk_method
from relcrm.models import MatchReport, RecordRef

if TYPE_CHECKING:
    from relcrm.connectors.hubspot.client import HubSpotClient

SYSTEM = "hubspot"
MAX_READ = 100


def _norm(value: str) -> str:
    # HubSpot compares emails and unique values case-insensitively
    return value.strip().casefold()


def chunks(values: Sequence[str], size: int) -> list[list[str]]:
    """``values`` in lists of at most ``size``."""
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


class Matcher:
    """Matches persons to records with batched ``batch/read`` calls."""

    def __init__(self, client: HubSpotClient, *, batch_size: int = MAX_READ) -> None:
        self.client = client
        self.batch_size = min(batch_size, MAX_READ)

    def match(
        self,
        object_name: str,
        keys: Mapping[str, Sequence[str]],
        *,
        id_property: str = "email",
    ) -> MatchReport:
        """Match ``{person_id: [values...]}`` on ``id_property`` (``email`` or a property
        with unique values, such as relcrm's person id)."""
        owners: dict[str, set[str]] = defaultdict(set)
        for person_id, values in keys.items():
            for value in values:
                if value and value.strip():
                    owners[_norm(value)].add(person_id)
        distinct = sorted(owners)
        hits: dict[str, set[str]] = defaultdict(set)
        for chunk in chunks(distinct, self.batch_size):
            body = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=v) for v in chunk],
                properties=[id_property],
                properties_with_history=[],
                id_property=None if id_property == "hs_object_id" else id_property,
            )
            answer = self.client.call(
                f"match {object_name} by {id_property}",
                sdk_method("crm.objects.batch_api.read_with_http_info", object_name, body),
            )
            for record in answer.results or []:
                found: Any = (record.properties or {}).get(id_property)
                if id_property == "hs_object_id":
                    found = found or record.id
                if found is None:
                    continue
                for person_id in owners.get(_norm(str(found)), ()):
                    hits[person_id].add(str(record.id))
        report = MatchReport()
        for person_id in keys:
            ids = sorted(hits.get(person_id, ()))
            refs = tuple(RecordRef(system=SYSTEM, object=object_name, id=i) for i in ids)
            if len(refs) == 1:
                report.matched[person_id] = refs[0]
            elif refs:
                report.ambiguous[person_id] = refs
            else:
                report.unmatched.append(person_id)
        return report
