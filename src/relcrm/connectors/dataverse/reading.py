"""Reading relcrm's columns back from records by id: to check what a write left behind
(a resumed run, a write whose answer never came) and for ``read_values``.

One query per 50 ids (``Microsoft.Dynamics.CRM.In`` on the primary key), selecting only
the columns asked for; records that do not exist are simply absent from the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from relcrm.connectors.dataverse.describe import ENTITY_SETS, PRIMARY_IDS
from relcrm.connectors.dataverse.query import chunks, column_name, in_filter

if TYPE_CHECKING:
    from relcrm.connectors.dataverse.client import DataverseClient


def read_raw(
    client: DataverseClient, object_name: str, record_ids: Sequence[str], fields: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """``{record id: {column: value as Dataverse returned it}}`` for existing records."""
    pk = PRIMARY_IDS[object_name]
    names = [column_name(f) for f in fields if f != pk]
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(sorted({i.lower() for i in record_ids})):
        params = {"$select": ",".join([pk, *names]), "$filter": in_filter(pk, chunk)}
        for record in client.pages(
            ENTITY_SETS[object_name], what=f"read {object_name}", params=params
        ):
            found[str(record[pk]).lower()] = {name: record.get(name) for name in names}
    return found
