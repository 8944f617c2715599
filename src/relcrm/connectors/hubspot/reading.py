"""Reading relcrm's properties back from records by id: to check what a write left
behind (a resumed run, a consent property kept in the CRM, a call that went unanswered),
normalised by the properties' types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hubspot.crm.objects import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

from relcrm.connectors.hubspot.client import sdk_method
from relcrm.connectors.hubspot.describe import PropertyInfo
from relcrm.connectors.hubspot.matching import MAX_READ, chunks
from relcrm.connectors.hubspot.values import read_value
from relcrm.models import ReadValue

if TYPE_CHECKING:
    from relcrm.connectors.hubspot.client import HubSpotClient


def read_raw(
    client: HubSpotClient,
    object_name: str,
    record_ids: Sequence[str],
    fields: Sequence[str],
    *,
    what: str | None = None,
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
            what or f"read {object_name}",
            sdk_method("crm.objects.batch_api.read_with_http_info", object_name, body),
        )
        for record in answer.results or []:
            properties = record.properties or {}
            found[str(record.id)] = {name: properties.get(name) for name in fields}
    return found


def read_values(
    client: HubSpotClient,
    object_name: str,
    record_ids: Sequence[str],
    fields: Sequence[str],
    schema: Mapping[str, PropertyInfo],
    *,
    what: str | None = None,
) -> dict[str, dict[str, ReadValue]]:
    """:func:`read_raw`, each value normalised by its property's type (``schema``):
    :func:`relcrm.connectors.hubspot.values.read_value`."""
    raw = read_raw(client, object_name, record_ids, fields, what=what)
    return {
        record_id: {name: read_value(schema.get(name), value) for name, value in values.items()}
        for record_id, values in raw.items()
    }
