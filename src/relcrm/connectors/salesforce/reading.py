"""Reading relcrm's fields back from records by Id (or by an external id, for records an
upsert may have created): to check what a write left behind (a resumed run, a consent
field kept in the CRM), normalised by the fields' types."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from relcrm.connectors.readback import normalise_values
from relcrm.connectors.salesforce.soql import check_name, in_lists
from relcrm.models import FieldSpec, ReadValue

if TYPE_CHECKING:
    from relcrm.connectors.salesforce.client import SalesforceClient


def _query_all(soql: str) -> Callable[[Any], Any]:
    """``sf -> sf.query_all(soql)`` with the query bound now (calls made in a loop)."""

    def run(sf: Any) -> Any:
        return sf.query_all(soql)

    return run


def read_raw(
    client: SalesforceClient, object_name: str, record_ids: Sequence[str], fields: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """``{record id: {field: value}}`` for the records of ``object_name`` that exist; one
    SOQL query per few hundred ids. Values are as the REST API returns them (numbers as
    numbers, datetimes as ``2026-11-22T06:00:00.000+0000``)."""
    check_name(object_name)
    names = [check_name(f) for f in fields]
    columns = ", ".join(["Id", *names])
    found: dict[str, dict[str, Any]] = {}
    for chunk in in_lists(sorted(set(record_ids))):
        soql = f"SELECT {columns} FROM {object_name} WHERE Id IN ({chunk})"
        answer = client.call(f"read {object_name}", _query_all(soql))
        for row in answer.get("records", []):
            found[str(row["Id"])] = {name: row.get(name) for name in names}
    return found


def read_rows_by(
    client: SalesforceClient,
    object_name: str,
    key_field: str,
    keys: Sequence[str],
    fields: Sequence[str],
) -> list[dict[str, Any]]:
    """The records of ``object_name`` whose ``key_field`` (an external id) holds one of
    ``keys``: each as ``{"Id", key_field, *fields}`` as the REST API returns them. A key
    several records hold gives several rows (the caller decides what that means)."""
    check_name(object_name)
    check_name(key_field)
    names = [check_name(f) for f in fields if f.casefold() != key_field.casefold()]
    columns = ", ".join(["Id", key_field, *names])
    rows: list[dict[str, Any]] = []
    for chunk in in_lists(sorted(set(keys))):
        soql = f"SELECT {columns} FROM {object_name} WHERE {key_field} IN ({chunk})"
        answer = client.call(f"read {object_name} by {key_field}", _query_all(soql))
        for row in answer.get("records", []):
            rows.append({name: row.get(name) for name in ["Id", key_field, *names]})
    return rows


def read_values(
    client: SalesforceClient,
    object_name: str,
    record_ids: Sequence[str],
    fields: Sequence[str],
    specs: Mapping[str, FieldSpec],
) -> dict[str, dict[str, ReadValue]]:
    """:func:`read_raw`, each value normalised by its field's type (``specs``, from the
    object's describe): ``+0000`` datetimes as aware UTC datetimes, dates as dates,
    whole numbers of a field without decimals as ``int``."""
    raw = read_raw(client, object_name, record_ids, fields)
    return {record_id: normalise_values(values, specs) for record_id, values in raw.items()}
