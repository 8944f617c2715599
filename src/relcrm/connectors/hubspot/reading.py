"""Reading relcrm's properties back from records by id: to check what a write left
behind (a resumed run, a consent property kept in the CRM)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hubspot.crm.objects import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

from relcrm.connectors.hubspot.client import sdk_method
from relcrm.connectors.hubspot.matching import MAX_READ, chunks

if TYPE_CHECKING:
    from relcrm.connectors.hubspot.client import HubSpotClient


def read_values(
    client: HubSpotClient, object_name: str, record_ids: Sequence[str], fields: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """``{record id: {property: value}}`` for the records that exist, 100 a ``batch/read``
    call. HubSpot returns every value as a string (or None when empty)."""
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(sorted(set(record_ids)), MAX_READ):
        body = BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i) for i in chunk],
            properties=list(fields),
            properties_with_history=[],
        )
        answer = client.call(
            f"read {object_name}",
            sdk_method("crm.objects.batch_api.read_with_http_info", object_name, body),
        )
        for record in answer.results or []:
            properties = record.properties or {}
            found[str(record.id)] = {name: properties.get(name) for name in fields}
    return found
