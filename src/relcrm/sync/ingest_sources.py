"""Write what a source produced (survey rows, social posts, support cases) into the store.

Sources name people by what they saw (an email, a CRM record, a handle); this module
finds the stored person each identity belongs to, or creates one whose id derives from
the identity (so ingesting the same export twice finds the same person), applies what
the source says about consent (the newest statement wins), redacts every verbatim
before it is stored, lets an analyzer read the verbatims that have no valence yet, and
writes persons, then perceptions. Perception ids derive from provenance, so
re-ingesting changes nothing.

A person the store forgot is refused here as in :mod:`relcrm.sync.ingest`: every item's
identities (and the id a new person would get) are hashed and looked up in the erasures
loaded once per ingest. Such an item is rejected naming its row, post or case, never the
identity, unless it gives consent again itself (a survey row whose consent column says
yes, dated after the erasure: posts and cases carry no consent, so they never bring
anyone back). Rows are judged in the source's order: once a row brought the person back,
the later ones of theirs are taken, and what was observed at or before the erasure never
is. A post of a forgotten handle is not held for later either.

The analyzer is a parameter, not an import: any ``Callable[[str], TextAnalysis]`` will
do, and without one the verbatims are stored unanalyzed. Its reading is merged into the
perception by :func:`relcrm.sync.analysis.with_analysis`, as for interchange lines.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from relcrm.analyze import DEFAULT as DEFAULT_REDACTION
from relcrm.analyze import RedactionConfig, redact
from relcrm.errors import FieldProblem, InvalidRecordError, shorten
from relcrm.models import (
    Consent,
    CrmRecordRef,
    Perception,
    Person,
    SocialHandle,
    SupportCase,
)
from relcrm.sources.cases import read_cases
from relcrm.sources.items import Identity, SkippedRecord, SourcedPerception, SourceItem
from relcrm.sources.social import (
    DEFAULT_SOURCE_SYSTEM,
    HandleMap,
    SocialPost,
    load_handle_map,
    read_social,
    social_perception,
)
from relcrm.sources.survey import open_survey
from relcrm.sources.survey_columns import SurveyColumns, load_survey_columns
from relcrm.store import Store
from relcrm.store.audit import Erasure, ErasureIndex
from relcrm.store.unresolved_posts import UnresolvedPost
from relcrm.sync.analysis import Analyzer, text_to_analyze, with_analysis
from relcrm.sync.ingest import (
    IngestReport,
    ProgressCallback,
    forgotten_refusal,
    gives_consent_again,
)

BATCH_SIZE = 1_000
"""Items resolved and written per transaction group: persons first, then perceptions."""

_STORE_KINDS = {"email": "email", "crm": "crm", "handle": "handle"}


def ingest_items(
    items: Iterable[SourceItem],
    store: Store,
    *,
    source: str,
    analyzer: Analyzer | None = None,
    redaction: RedactionConfig = DEFAULT_REDACTION,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Write a source's items into ``store`` and report what happened.

    ``source`` names the source in the report (a path, ``"salesforce cases"``).
    Rejections among ``items`` are reported as they are; a record whose person cannot
    be found (when it may not create one) or stored (an identity belongs to someone
    else) is rejected naming the record; skipped records are counted.
    """
    report = IngestReport(source=source)
    _ItemWriter(store, report, analyzer, redaction, via="source").write_all(items, progress)
    return report


def ingest_survey(
    path: str | os.PathLike[str],
    columns: str | os.PathLike[str] | SurveyColumns,
    store: Store,
    *,
    encoding: str | None = None,
    analyzer: Analyzer | None = None,
    redaction: RedactionConfig = DEFAULT_REDACTION,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Ingest a survey export described by ``columns`` (a mapping file or its model).

    Raises :class:`~relcrm.errors.ConfigurationError` before writing anything when the
    mapping is invalid, a mapped column is not in the file, or the file cannot be
    decoded as declared. ``report.notices`` says how the file was read.
    """
    mapping = columns if isinstance(columns, SurveyColumns) else load_survey_columns(columns)
    export = open_survey(path, mapping, encoding=encoding)
    report = IngestReport(source=os.fspath(path), notices=list(export.notes))
    writer = _ItemWriter(store, report, analyzer, redaction, via="survey")
    writer.write_all(export.items(), progress)
    return report


def ingest_cases(
    cases: Iterable[SupportCase],
    store: Store,
    *,
    source: str = "support cases",
    analyzer: Analyzer | None = None,
    redaction: RedactionConfig = DEFAULT_REDACTION,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Ingest support cases; a case whose requester is not a stored person is rejected
    (naming the case), since a case never creates a person."""
    return ingest_items(
        read_cases(cases),
        store,
        source=source,
        analyzer=analyzer,
        redaction=redaction,
        progress=progress,
    )


def ingest_social(
    path: str | os.PathLike[str],
    store: Store,
    handle_map: str | os.PathLike[str] | HandleMap | None = None,
    *,
    source_system: str = DEFAULT_SOURCE_SYSTEM,
    analyzer: Analyzer | None = None,
    redaction: RedactionConfig = DEFAULT_REDACTION,
    progress: ProgressCallback | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """Ingest social posts (JSONL), resolving each handle to a person.

    A handle resolves through ``handle_map`` (whose person also gets the handle, so the
    next post resolves without the map) or through a handle already stored. A post that
    does not resolve is kept in the store, its text redacted, and retried by every later
    ingest: posts kept earlier that now resolve become perceptions and leave that table
    (``report.held_resolved``). ``report.unresolved`` counts the posts still waiting.
    """
    owners = _handle_map(handle_map)
    report = IngestReport(source=os.fspath(path))
    writer = _ItemWriter(store, report, analyzer, redaction, via="social")
    resolver = _PostResolver(store, owners, source_system, redaction, report, writer.erasures)
    writer.write_all(resolver.items(path), progress)
    store.hold_unresolved_posts(resolver.held, at=now)
    report.held_resolved = store.release_unresolved_posts(resolver.resolved_keys)
    store.release_unresolved_posts(resolver.forgotten_keys)  # refused: not held any longer
    report.unresolved = store.count_unresolved_posts()
    return report


def _handle_map(handle_map: str | os.PathLike[str] | HandleMap | None) -> HandleMap:
    if handle_map is None:
        return HandleMap({})
    if isinstance(handle_map, HandleMap):
        return handle_map
    return load_handle_map(handle_map)


class _PostResolver:
    """Turns posts into items once their author is known; keeps the others aside."""

    def __init__(
        self,
        store: Store,
        owners: HandleMap,
        source_system: str,
        redaction: RedactionConfig,
        report: IngestReport,
        erasures: ErasureIndex,
    ) -> None:
        self.store = store
        self.owners = owners
        self.source_system = source_system
        self.redaction = redaction
        self.report = report
        self.erasures = erasures
        self.held: list[UnresolvedPost] = []
        self.resolved_keys: list[str] = []
        self.forgotten_keys: list[str] = []
        """Held posts refused because their author was forgotten: they leave the store."""

    def items(self, path: str | os.PathLike[str]) -> Iterator[SourceItem]:
        seen: set[str] = set()
        for line in read_social(path):
            if isinstance(line, InvalidRecordError):
                yield line
                continue
            seen.add(line.post.record_id)
            yield from self._resolve(line.post, line.record, self.source_system, None)
        for held in list(self.store.iter_unresolved_posts()):
            if held.key in seen:
                continue
            post = SocialPost(
                platform=held.platform,
                handle=held.handle,
                text=held.text,
                time=held.posted_at,
                url=held.url,
                public=held.public,
                post_id=held.post_id,
            )
            yield from self._resolve(post, f"held post {held.key}", held.source_system, held.text)

    def _resolve(
        self, post: SocialPost, record: str, source_system: str, text: str | None
    ) -> Iterator[SourceItem]:
        identities = self._author(post)
        if self.erasures:
            named = [*(identities or ()), post.handle_identity]
            erasure = self.erasures.match(
                self.erasures.hashes(None, ((i.kind, i.value) for i in named))
            )
            # A post never gives consent: a forgotten author stays refused, and one back
            # since an earlier ingest only for what they posted after the erasure.
            if erasure is not None and (erasure.in_force or post.time <= erasure.at):
                if text is not None:  # a held post: it leaves the store
                    self.forgotten_keys.append(post.record_id)
                self.report.forgotten += 1
                yield forgotten_refusal(record, erasure, before=not erasure.in_force)
                return
        item = social_perception(
            post,
            identities or (post.handle_identity,),
            record=record,
            source_system=source_system,
            text=text,
        )
        if isinstance(item, InvalidRecordError) or identities is not None:
            if identities is not None and not isinstance(item, InvalidRecordError):
                self.resolved_keys.append(post.record_id)
            yield item
            return
        redacted = text if text is not None else _redact(post.text, self.redaction, self.report)
        self.held.append(
            UnresolvedPost(
                key=post.record_id,
                platform=post.platform,
                handle=post.handle,
                post_id=post.key,
                source_system=source_system,
                text=redacted,
                posted_at=post.time,
                public=post.public,
                url=post.url,
            )
        )

    def _author(self, post: SocialPost) -> tuple[Identity, ...] | None:
        owner = self.owners.owner(post.platform, post.handle)
        if owner is not None:
            return (owner, post.handle_identity)
        bare = post.handle.strip().lstrip("@")
        for variant in dict.fromkeys((post.handle.strip(), bare, f"@{bare}")):
            found = self.store.find_person("handle", f"{post.platform}:{variant}")
            if found is not None:
                return (Identity("person", found),)
        return None


def _redact(text: str, config: RedactionConfig, report: IngestReport) -> str:
    """``text`` with personal data cut out; what was cut is counted in the report."""
    result = redact(text, config)
    for kind, count in result.counts.items():
        report.redactions[kind] = report.redactions.get(kind, 0) + count
    return result.text


def _identity_fields(identities: Iterable[Identity]) -> dict[str, list[object]]:
    """The Person fields that hold these identities."""
    fields: dict[str, list[object]] = {"emails": [], "handles": [], "crm_records": []}
    for identity in identities:
        if identity.kind == "email":
            fields["emails"].append(identity.value)
        elif identity.kind == "handle":
            platform, _, handle = identity.value.partition(":")
            fields["handles"].append(SocialHandle(platform=platform, handle=handle))
        elif identity.kind == "crm":
            system, object_, record_id = identity.value.split("/", 2)
            fields["crm_records"].append(CrmRecordRef(system=system, object=object_, id=record_id))
    return fields


def _with_identities(person: Person, identities: Iterable[Identity]) -> Person:
    """``person`` with the identities it does not have yet added."""
    have = (
        {("email", e.lower()) for e in person.emails}
        | {("handle", f"{h.platform}:{h.handle}".lower()) for h in person.handles}
        | {("crm", f"{r.system}/{r.object}/{r.id}") for r in person.crm_records}
    )
    missing = [i for i in identities if (i.kind, i.normalized) not in have]
    if not missing:
        return person
    added = _identity_fields(missing)
    return person.model_copy(
        update={
            "emails": (*person.emails, *added["emails"]),
            "handles": (*person.handles, *added["handles"]),
            "crm_records": (*person.crm_records, *added["crm_records"]),
        }
    )


def _newer_consent(current: Consent, given: Consent) -> bool:
    """Whether ``given`` replaces ``current``: the newest statement wins, and a statement
    without a date replaces only a consent nobody ever stated."""
    if given == current:
        return False
    if current.updated_at is None:
        return given.updated_at is not None or current == Consent()
    return given.updated_at is not None and given.updated_at > current.updated_at


class _ItemWriter:
    """Resolves, prepares and writes items a batch at a time."""

    def __init__(
        self,
        store: Store,
        report: IngestReport,
        analyzer: Analyzer | None,
        redaction: RedactionConfig,
        *,
        via: str,
    ) -> None:
        self.store = store
        self.report = report
        self.analyzer = analyzer
        self.redaction = redaction
        self.via = via
        """What kind of source this is, for the audit log of a re-consent."""
        self.owners: dict[tuple[str, str], str] = {}
        """(kind, normalized value) -> person id, for identities found or created."""
        self.erasures = store.erasure_index()
        """The persons the store forgot: loaded once, checked for every item."""
        self.returning: dict[str, _Return] = {}
        """Forgotten persons a row of this batch gave consent again, until they are stored."""

    def write_all(self, items: Iterable[SourceItem], progress: ProgressCallback | None) -> None:
        iterator = iter(items)
        while batch := list(islice(iterator, BATCH_SIZE)):
            self._write_batch(batch)
            if progress is not None:
                progress(len(batch))

    def _write_batch(self, batch: list[SourceItem]) -> None:
        sourced: list[SourcedPerception] = []
        for item in batch:
            if isinstance(item, InvalidRecordError):
                self.report.rejections.append(item)
            elif isinstance(item, SkippedRecord):
                self.report.skipped += 1
            else:
                sourced.append(item)
        persons: dict[str, Person] = {}
        changed: set[str] = set()
        placed: list[tuple[SourcedPerception, str]] = []
        for item in sourced:
            screening = self._screened(item) if self.erasures else _ALLOWED
            if not screening.person:
                continue
            person_id = self._person_of(item, persons, changed)
            if person_id is None:
                if screening.back is not None:  # nobody to bring back after all
                    self.erasures.restore(screening.back.previous)
                continue
            if screening.back is not None:
                self.returning.setdefault(person_id, screening.back)
            if screening.record:
                placed.append((item, person_id))
        refused = self._store_persons(persons, changed)
        if self.returning:
            self._record_returns(refused)
        ready: dict[str, Perception] = {}
        written = 0
        for item, person_id in placed:
            if person_id in refused:
                self.report.rejections.append(InvalidRecordError(item.record, refused[person_id]))
                continue
            written += 1
            if item.perception.id not in ready:  # a duplicated row: known, not analyzed again
                ready[item.perception.id] = self._prepared(item.perception, person_id)
        new = self.store.add_perceptions(ready.values())
        self.report.perceptions_new += new
        self.report.perceptions_known += written - new

    def _screened(self, item: SourcedPerception) -> _Screening:
        """What erasures allow of ``item``: its person and its record, or neither (then
        the refusal is reported here)."""
        named = ((identity.kind, identity.value) for identity in item.identities)
        hashes = self.erasures.hashes(item.perception.person_id, named)
        erasure = self.erasures.match(hashes)
        if erasure is None:
            return _ALLOWED
        back: _Return | None = None
        if erasure.in_force:
            consent_at = gives_consent_again(item.consent, erasure)
            if consent_at is None:
                self._refuse(item.record, erasure)
                return _REFUSED
            erased = self.erasures.erased_hashes(hashes)
            # The rows after this one are of a person who is back: lifted now (under the
            # erasure's own entry id), and for good once the person is stored.
            previous = self.erasures.lift(erased, erasure.entry_id)
            back = _Return(item.record, erasure, consent_at, erased, previous)
        if item.perception.occurred_at <= erasure.at:
            self._refuse(item.record, erasure, before=True)
            return _Screening(person=back is not None, record=False, back=back)
        return _Screening(person=True, record=True, back=back)

    def _refuse(self, record: str, erasure: Erasure, *, before: bool = False) -> None:
        self.report.rejections.append(forgotten_refusal(record, erasure, before=before))
        self.report.forgotten += 1

    def _record_returns(self, refused: Mapping[str, object]) -> None:
        """Audit the forgotten persons brought back by this batch (now stored); undo the
        return of those that could not be stored."""
        returning, self.returning = self.returning, {}
        for person_id, back in sorted(returning.items()):
            if person_id in refused:
                self.erasures.restore(back.previous)
                continue
            entry = self.store.record_reconsent(
                person_id,
                back.hashes,
                consent_at=back.consent_at,
                erased_at=back.erasure.at,
                record=back.record,
                via=self.via,
            )
            self.erasures.lift(back.hashes, entry.id)
            self.report.restored += 1

    def _person_of(
        self, item: SourcedPerception, persons: dict[str, Person], changed: set[str]
    ) -> str | None:
        """The id of the item's person (loaded into ``persons``, updated as the item says),
        or None when the item was rejected for want of a person."""
        person_id = self._find(item.identities)
        if person_id is None:
            if not item.create_person:
                self.report.rejections.append(_no_person(item))
                return None
            person_id = item.perception.person_id
        person = persons.get(person_id) or self.store.get_person(person_id)
        fresh = person is None
        updated = person or Person(id=person_id)
        if fresh or item.attach_identities:
            updated = _with_identities(updated, item.identities)
        if item.consent is not None and _newer_consent(updated.consent, item.consent):
            updated = updated.model_copy(update={"consent": item.consent})
        persons[person_id] = updated
        if fresh or updated != person:
            changed.add(person_id)
        for identity in item.identities:
            if fresh or item.attach_identities:
                self.owners[(identity.kind, identity.normalized)] = person_id
        return person_id

    def _find(self, identities: tuple[Identity, ...]) -> str | None:
        for identity in identities:
            key = (identity.kind, identity.normalized)
            if key in self.owners:
                return self.owners[key]
            if identity.kind == "person":
                found = identity.value if self.store.get_person(identity.value) else None
            else:
                found = self.store.find_person(_STORE_KINDS[identity.kind], identity.value)
            if found is not None:
                self.owners[key] = found
                return found
        return None

    def _store_persons(
        self, persons: dict[str, Person], changed: set[str]
    ) -> dict[str, list[FieldProblem]]:
        """Write the changed persons; the problems of those that could not be stored."""
        if not changed:
            return {}
        # Person() objects are rebuilt through validation so that what is stored is valid.
        ready = [Person.model_validate(persons[pid].model_dump()) for pid in sorted(changed)]
        written, rejected = self.store.upsert_persons_reporting(ready)
        self.report.persons += written
        refused: dict[str, list[FieldProblem]] = {}
        for person, error in rejected:
            refused[person.id] = error.problems
            self.owners = {k: v for k, v in self.owners.items() if v != person.id}
        return refused

    def _prepared(self, perception: Perception, person_id: str) -> Perception:
        """The perception as stored: its person, its verbatim redacted, then analyzed."""
        update: dict[str, object] = {}
        if perception.person_id != person_id:
            update["person_id"] = person_id
        if perception.verbatim:
            update["verbatim"] = _redact(perception.verbatim, self.redaction, self.report)
        if update:
            perception = perception.model_copy(update=update)
        if self.analyzer is not None and (text := text_to_analyze(perception)) is not None:
            perception = with_analysis(perception, self.analyzer(text))
            self.report.analyzed += 1
        return perception


@dataclass(frozen=True, slots=True)
class _Return:
    """A forgotten person a record brings back by giving consent again."""

    record: str
    erasure: Erasure
    consent_at: datetime
    hashes: set[str]
    previous: dict[str, int | None]
    """What the erasure index held for ``hashes`` before they were lifted (to undo it
    if the person cannot be stored)."""


@dataclass(frozen=True, slots=True)
class _Screening:
    """What erasures allow of one item."""

    person: bool
    """Whether its person may be found, created or updated."""
    record: bool
    """Whether its perception may be written."""
    back: _Return | None = None
    """Set when the item itself brings a forgotten person back."""


_ALLOWED = _Screening(person=True, record=True)
_REFUSED = _Screening(person=False, record=False)


def _no_person(item: SourcedPerception) -> InvalidRecordError:
    named = ", ".join(str(identity) for identity in item.identities)
    field = "requester" if item.perception.channel == "support" else "identity"
    return InvalidRecordError(
        item.record,
        [FieldProblem(field, "no person in the store has this identity", shorten(named))],
        hint="ingest or sync the person first (their email or CRM record), then run again",
    )
