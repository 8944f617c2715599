"""Reading relcrm's fields back from records by id, normalised: to check what a write
left behind (a resumed run, a call whose answer was lost) and to read consent kept in the
CRM. ``GET /crm/v8/{module}?ids=...&fields=...``: at most 100 ids a call, and v8 wants the
fields named."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from relcrm.connectors.zoho.describe import FieldInfo
from relcrm.connectors.zoho.values import normalise
from relcrm.models import ReadValue

if TYPE_CHECKING:
    from relcrm.connectors.zoho.client import ZohoClient

MAX_IDS = 100


def read_values(
    client: ZohoClient,
    infos: Mapping[str, FieldInfo],
    module: str,
    record_ids: Sequence[str],
    fields: Sequence[str],
) -> dict[str, dict[str, ReadValue]]:
    """``{record id: {field: value}}`` for the records that exist."""
    found: dict[str, dict[str, ReadValue]] = {}
    unique = sorted(set(record_ids))
    names = list(dict.fromkeys(fields)) or ["id"]
    for start in range(0, len(unique), MAX_IDS):
        chunk = unique[start : start + MAX_IDS]
        answer = client.call(
            f"read {module}",
            "GET",
            f"/{module}",
            params={"ids": ",".join(chunk), "fields": ",".join(names)},
        )
        for record in (answer or {}).get("data") or []:
            if not isinstance(record, dict) or "id" not in record:
                continue
            found[str(record["id"])] = {
                name: normalise(infos.get(name), record.get(name)) for name in fields
            }
    return found
