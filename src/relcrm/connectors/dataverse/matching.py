"""Finding each person's Dataverse record: by e-mail (``emailaddress1``) or by an external
id column (relcrm's person id, unique through an alternate key), in the mapped table and
then in the fallback tables (contact, then lead).

Batched: one query per 50 keys with the ``Microsoft.Dynamics.CRM.In`` query function,
selecting only the primary key and the key column. Dataverse compares text without case,
and so does the matching. A person whose keys hit several records of one table (two
e-mails, two contacts, or duplicates where no alternate key forbids them) is reported as
ambiguous, never guessed; only persons found nowhere in a table are looked for in the next.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from relcrm.connectors.dataverse.describe import ENTITY_SETS, PRIMARY_IDS
from relcrm.connectors.dataverse.query import chunks, column_name, in_filter
from relcrm.models import MatchReport, RecordRef

if TYPE_CHECKING:
    from relcrm.connectors.dataverse.client import DataverseClient

SYSTEM = "dataverse"
EMAIL_COLUMN = "emailaddress1"


def key_column(by: str) -> str:
    """The column ``match.by`` names: ``email`` is ``emailaddress1``."""
    return EMAIL_COLUMN if by == "email" else column_name(by)


def _norm(value: str) -> str:
    return value.strip().casefold()


def records_by_key(
    client: DataverseClient, object_name: str, column: str, values: Sequence[str]
) -> dict[str, set[str]]:
    """``{folded key value: {record ids}}`` of the records of ``object_name`` holding one of
    ``values`` in ``column``."""
    found: dict[str, set[str]] = defaultdict(set)
    pk = PRIMARY_IDS[object_name]
    for chunk in chunks(sorted(set(values))):
        params = {"$select": f"{pk},{column}", "$filter": in_filter(column, chunk)}
        for record in client.pages(
            ENTITY_SETS[object_name], what=f"match {object_name} by {column}", params=params
        ):
            held = record.get(column)
            if isinstance(held, str) and record.get(pk):
                found[_norm(held)].add(str(record[pk]))
    return found


def find_records(
    client: DataverseClient,
    objects: Sequence[str],
    keys: Mapping[str, Sequence[str]],
    *,
    by: str = "email",
) -> MatchReport:
    """Match ``{person_id: [key values]}`` in ``objects`` in turn."""
    column = key_column(by)
    report = MatchReport()
    todo = {p: [v for v in values if v and v.strip()] for p, values in keys.items()}
    for object_name in objects:
        wanted = {_norm(v) for values in todo.values() for v in values}
        if not wanted:
            break
        hits = records_by_key(client, object_name, column, sorted(wanted))
        still: dict[str, list[str]] = {}
        for person_id, values in todo.items():
            ids = sorted({i for v in values for i in hits.get(_norm(v), ())})
            refs = tuple(RecordRef(system=SYSTEM, object=object_name, id=i) for i in ids)
            if len(refs) == 1:
                report.matched[person_id] = refs[0]
            elif refs:
                report.ambiguous[person_id] = refs
            else:
                still[person_id] = values
        todo = still
    report.unmatched.extend(
        p for p in keys if p not in report.matched and p not in report.ambiguous
    )
    return report
