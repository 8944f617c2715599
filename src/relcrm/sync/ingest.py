"""Load a JSONL interchange file into the store, one bad line never stopping the rest."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from relcrm.errors import FieldProblem, InvalidRecordError
from relcrm.models import Perception, Person, Preference
from relcrm.sources.interchange import LineRejection, read_interchange
from relcrm.store import Store

CHUNK = 5_000


@dataclass
class IngestReport:
    """What one ingest did: counts, and every rejected record with its line and fields."""

    source: str
    persons: int = 0
    perceptions_new: int = 0
    perceptions_known: int = 0
    preferences: int = 0
    rejections: list[InvalidRecordError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    @property
    def ok(self) -> bool:
        return not self.rejections


ProgressCallback = Callable[[int], None]
"""Called with the number of records handled since the last call."""


def ingest_interchange(
    path: str | os.PathLike[str],
    store: Store,
    *,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Stream ``path`` into ``store`` in chunks.

    Persons are written before the perceptions and preferences of the same chunk. A
    record whose person has not been seen yet is held back until the end of the file
    (persons may come after their perceptions) and rejected, naming its line, only if
    its person never appears. Re-ingesting the same file changes nothing.
    """
    report = IngestReport(source=os.fspath(path))
    persons: list[tuple[int, Person]] = []
    linked: list[tuple[int, Linked]] = []
    deferred: list[tuple[int, Linked]] = []

    def flush(final: bool = False) -> None:
        _write_persons(store, persons, report)
        if final:
            pending, deferred[:] = linked + deferred, []
        else:
            pending = list(linked)
        deferred.extend(_write_linked(store, pending, report, final=final))
        if progress is not None:
            progress(len(persons) + len(linked))
        persons.clear()
        linked.clear()

    for item in read_interchange(path):
        if isinstance(item, LineRejection):
            report.rejections.append(item.error)
            continue
        if isinstance(item.record, Person):
            persons.append((item.line, item.record))
        else:
            linked.append((item.line, item.record))
        if len(persons) + len(linked) >= CHUNK:
            flush()
    flush(final=True)
    return report


Linked = Perception | Preference
"""Records that belong to a person and need that person in the store first."""


def _write_persons(store: Store, persons: list[tuple[int, Person]], report: IngestReport) -> None:
    if not persons:
        return
    lines = {id(person): line for line, person in persons}
    written, rejected = store.upsert_persons_reporting(person for _, person in persons)
    report.persons += len(persons) - len(rejected)
    for person, error in rejected:
        report.rejections.append(
            InvalidRecordError(f"line {lines[id(person)]} (person {person.id})", error.problems)
        )
    del written  # unchanged persons count as loaded too


def _name(record: Linked) -> str:
    if isinstance(record, Perception):
        return f"perception {record.id}"
    return f"preference {record.kind.value}"


def _write_linked(
    store: Store, items: list[tuple[int, Linked]], report: IngestReport, *, final: bool
) -> list[tuple[int, Linked]]:
    """Write what can be written; return what waits for its person (nothing when final)."""
    if not items:
        return []
    unknown = store.unknown_person_ids({record.person_id for _, record in items})
    ready = [record for _, record in items if record.person_id not in unknown]
    held = [(line, record) for line, record in items if record.person_id in unknown]
    perceptions = [r for r in ready if isinstance(r, Perception)]
    preferences = [r for r in ready if isinstance(r, Preference)]
    new = store.add_perceptions(perceptions)
    report.perceptions_new += new
    report.perceptions_known += len(perceptions) - new
    if preferences:
        report.preferences += store.add_preferences(preferences)
    if not final:
        return held
    for line, record in held:
        report.rejections.append(
            InvalidRecordError(
                f"line {line} ({_name(record)})",
                [
                    FieldProblem(
                        "person_id",
                        "no person with this id in the file or the store",
                        repr(record.person_id),
                    )
                ],
                hint="add a person line for it, or fix the id",
            )
        )
    return []
