"""The demo: the whole story in under a minute, on a store and CRM sandboxes of its own.

1. A synthetic sample, told through real formats: a Qualtrics-style survey export, a
   social-listening JSONL, support cases in Salesforce and HubSpot, and interchange lines
   for the rest (:mod:`relcrm.demo.exports`). Every verbatim is redacted; every verbatim
   without a valence (the survey, social and case texts) is read by the offline analyzer.
2. Profiles for everyone.
3. Per CRM (a real HTTPS sandbox each: Salesforce, HubSpot, Dataverse, Zoho CRM): the
   people it already holds (seeded as its stand-in), the shipped mapping's field plan,
   then apply, then a sync through the engine, and the twins read back through the CRM's
   own API (the official clients where there is one).
   In Salesforce and HubSpot, follow-up tasks are on (issue 13): the twins' records are
   owned by a sales rep, the trapped twin gets one task for that rep (the delighted twin
   none), and the trapped twin's stated preferences land in both CRMs.
4. One person answers a survey again, furious; after profiling, the mapping preview shows
   what the next sync will send for them, and a second sync sends only that person's
   changed fields (and creates no task twice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from relcrm.analyze import DEFAULT_ANALYZER, default_analyzer
from relcrm.connectors import Connector
from relcrm.connectors.hubspot import HubSpotConnector
from relcrm.demo.exports import SURVEY_COLUMNS, DemoSources, split_sample
from relcrm.demo.outreach import (
    DemoTask,
    hubspot_tasks,
    own_hubspot,
    own_salesforce,
    salesforce_tasks,
    stated_preferences,
    with_outreach,
)
from relcrm.mapping import Mapping, load_shipped
from relcrm.models import (
    Channel,
    NotesReport,
    NpsScore,
    Perception,
    Person,
    Provenance,
    RecordRef,
)
from relcrm.report import ReportOptions, write_report
from relcrm.sandbox.dataverse import DataverseSandbox, running_dataverse_sandbox
from relcrm.sandbox.hubspot import HubSpotSandbox, running_hubspot_sandbox
from relcrm.sandbox.hubspot.tickets import TicketStory, add_ticket
from relcrm.sandbox.salesforce import SalesforceSandbox, running_sandbox
from relcrm.sandbox.salesforce.cases import CaseStory, add_case
from relcrm.sandbox.zoho import ZohoSandbox, running_zoho_sandbox
from relcrm.sources.interchange import write_interchange
from relcrm.store import Store
from relcrm.sync.engine import SyncEngine, SyncReport
from relcrm.sync.fields import FieldsApplied, FieldsPlan, apply_fields, plan_fields
from relcrm.sync.history import write_history_notes
from relcrm.sync.ingest import IngestReport, ingest_interchange
from relcrm.sync.ingest_sources import ingest_cases, ingest_social, ingest_survey
from relcrm.sync.preview import PersonPreview, preview_persons
from relcrm.sync.profiling import ProfileRun, profile_store
from relcrm.testing import dataverse as dv_fixtures
from relcrm.testing import zoho as zoho_fixtures
from relcrm.testing.hubspot import hubspot_connector, read_contacts, seed_portal
from relcrm.testing.salesforce import (
    OrgRest,
    contact_ids_by_email,
    read_back,
    salesforce_connector,
    seed_org,
)
from relcrm.testing.synthetic import generate_sample

CHANGED_VERBATIM = (
    "Third outage this month and nobody called back. I am looking at other providers."
)
"""What the person who changes their mind says in the demo's second survey answer."""


@dataclass
class CrmDemo:
    """What the demo did in one CRM, for printing and for tests."""

    crm: str
    """Salesforce, HubSpot, Dataverse or Zoho CRM."""
    target: str
    url: str
    seeded: int
    """People the CRM held before relcrm came (seeded as the CRM's stand-in)."""
    cases: IngestReport | None
    plan: FieldsPlan
    applied: FieldsApplied
    first: SyncReport
    second: SyncReport | None = None
    records: dict[str, RecordRef] = field(default_factory=dict)
    """Person id -> the record the sync wrote to."""
    read_back: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Person id -> the twins' records as the CRM's own API returns them."""
    notes: NotesReport | None = None
    mapping: Mapping | None = None
    tasks: dict[str, list[DemoTask]] | None = None
    """Person id -> the follow-up tasks on the twins' records after the first sync, read
    back from the CRM (None: the demo does not create tasks in this CRM)."""
    tasks_after_second: dict[str, list[DemoTask]] | None = None
    """The same after the second sync, for the twins and the person who changed."""


@dataclass
class DemoResult:
    """What each stage did; a CRM part is absent when it was turned off."""

    sample_file: Path
    store_url: str
    ingest: IngestReport
    survey: IngestReport
    social: IngestReport
    run: ProfileRun
    profiles: list[Any]
    twins: tuple[str, str]
    persons: tuple[Person, ...] = ()
    crms: list[CrmDemo] = field(default_factory=list)
    changed: str | None = None
    """The person whose new survey answer the second sync sends."""
    preview: PersonPreview | None = None
    """What the first CRM's second sync would send for ``changed``, before it ran."""
    report_file: Path | None = None
    """The relationship report the demo wrote last (issue 14), when asked for one."""

    def crm(self, name: str) -> CrmDemo | None:
        return next((c for c in self.crms if c.crm == name), None)

    @property
    def salesforce(self) -> CrmDemo | None:
        return self.crm("Salesforce")

    @property
    def hubspot(self) -> CrmDemo | None:
        return self.crm("HubSpot")

    @property
    def dataverse(self) -> CrmDemo | None:
        return self.crm("Dataverse")

    @property
    def zoho(self) -> CrmDemo | None:
        return self.crm("Zoho CRM")


@contextmanager
def _salesforce(
    given: SalesforceSandbox | None, org_file: Path | None
) -> Iterator[SalesforceSandbox]:
    if given is not None:
        yield given
        return
    with running_sandbox(data_file=org_file) as started:
        yield started


@contextmanager
def _hubspot(given: HubSpotSandbox | None) -> Iterator[HubSpotSandbox]:
    if given is not None:
        yield given
        return
    with running_hubspot_sandbox() as started:
        yield started


@contextmanager
def _dataverse(given: DataverseSandbox | None) -> Iterator[DataverseSandbox]:
    if given is not None:
        yield given
        return
    with running_dataverse_sandbox() as started:
        yield started


@contextmanager
def _zoho(given: ZohoSandbox | None) -> Iterator[ZohoSandbox]:
    if given is not None:
        yield given
        return
    with running_zoho_sandbox() as started:
        yield started


def _write_sources(workdir: Path, sources: DemoSources) -> tuple[Path, Path, Path, Path]:
    sample = workdir / "sample.jsonl"
    write_interchange(sources.interchange, sample)
    survey = workdir / "survey-export.csv"
    survey.write_text(sources.survey_csv, encoding="utf-8-sig")  # as Qualtrics writes it
    columns = workdir / "survey-columns.toml"
    columns.write_text(SURVEY_COLUMNS, encoding="utf-8")
    social = workdir / "social.jsonl"
    social.write_text(sources.social_jsonl, encoding="utf-8")
    return sample, survey, columns, social


def _seed_cases_salesforce(
    sandbox: SalesforceSandbox, rest: OrgRest, stories: Sequence[Any]
) -> int:
    if rest.query("SELECT Id FROM Case LIMIT 1"):
        return 0  # a kept org (--keep) has its cases already: never seed them twice
    contacts = contact_ids_by_email(rest)
    made = 0
    for story in stories:
        contact = contacts.get(story.email.casefold())
        if contact is None:
            continue
        add_case(
            sandbox.org,
            contact,
            CaseStory(story.subject, story.description, "Medium", "Email", "Closed"),
            created=story.perception.occurred_at,
            closed_at=story.perception.occurred_at + timedelta(hours=5),
        )
        made += 1
    return made


def _seed_tickets_hubspot(
    sandbox: HubSpotSandbox, connector: HubSpotConnector, stories: Sequence[Any]
) -> int:
    found = connector.find_records("contacts", {s.person_id: [s.email] for s in stories})
    made = 0
    for story in stories:
        ref = found.matched.get(story.person_id)
        if ref is None:
            continue
        add_ticket(
            sandbox.portal,
            ref.id,
            TicketStory(story.subject, story.description, "MEDIUM", "EMAIL", "4"),
            created=story.perception.occurred_at,
            closed_at=story.perception.occurred_at + timedelta(hours=5),
        )
        made += 1
    return made


def _sync_crm(
    crm: str,
    target: str,
    url: str,
    store: Store,
    connector: Connector,
    mapping: Mapping,
    seeded: int,
    cases: IngestReport | None,
    now: datetime,
    *,
    kept: bool = False,
) -> CrmDemo:
    """Plan, apply and a first sync to one CRM. A CRM that is not ``kept`` (every sandbox
    but a Salesforce org kept with ``--keep``) starts empty at each demo, so what a kept
    store remembers of it is forgotten first: matched afresh, every field sent."""
    if not kept:
        store.forget_target_state(target)
        # the tasks it tracked were in the CRM that is gone too: track them afresh
        store.drop_outreach_tasks(row.key for row in store.outreach_tasks(target))
    plan = plan_fields(connector, mapping)
    applied = apply_fields(connector, mapping)
    engine = SyncEngine(store, connector, mapping, target=target, now=lambda: now)
    first = engine.run()
    ids = [p.id for p in store.iter_persons()]
    records = {
        person_id: RecordRef(system=connector.capabilities.name, object=r.object, id=r.record_id)
        for person_id, r in store.known_records(target, ids).items()
    }
    return CrmDemo(
        crm, target, url, seeded, cases, plan, applied, first, records=records, mapping=mapping
    )


TaskReader = Callable[[Sequence[RecordRef]], dict[str, list[DemoTask]]]
"""Record refs -> record id -> the tasks on it, as the CRM's own API returns them."""


def _tasks_of(
    part: CrmDemo, person_ids: Sequence[str], read: TaskReader
) -> dict[str, list[DemoTask]]:
    """Person id -> the tasks on their record in ``part``'s CRM, as ``read`` finds them."""
    refs = {pid: ref for pid in person_ids if (ref := part.records.get(pid)) is not None}
    found = read(list(refs.values()))
    return {pid: found.get(ref.id, []) for pid, ref in refs.items()}


def _change_one(
    store: Store, persons: Sequence[Person], twins: Sequence[str], now: datetime
) -> str:
    """A consenting person (not a twin) answers a survey again, furious; returns their id."""
    person = next(p for p in persons if p.consent.granted and p.emails and p.id not in twins)
    analysis = default_analyzer().analyze(CHANGED_VERBATIM)
    store.add_perceptions(
        [
            Perception(
                person_id=person.id,
                occurred_at=now - timedelta(minutes=5),
                channel=Channel.SURVEY,
                touchpoint="relationship survey",
                nps=NpsScore(value=1, kind="relational"),
                valence=analysis.valence,
                arousal=analysis.arousal,
                emotions=analysis.emotions,
                flags=analysis.flags,
                confidence=analysis.confidence,
                verbatim=CHANGED_VERBATIM,
                provenance=Provenance(
                    source_system="qualtrics",
                    source_record_id="relationship-2026/R_demo-second-answer",
                    analyzer=analysis.analyzer,
                    analyzer_version=analysis.analyzer_version,
                ),
            )
        ]
    )
    return person.id


def run_demo(
    workdir: Path,
    *,
    persons: int,
    seed: int,
    now: datetime,
    salesforce: bool = True,
    sandbox: SalesforceSandbox | None = None,
    org_file: Path | None = None,
    hubspot: bool = True,
    hubspot_sandbox: HubSpotSandbox | None = None,
    hubspot_notes: bool = True,
    dataverse: bool = True,
    dataverse_sandbox: DataverseSandbox | None = None,
    zoho: bool = True,
    zoho_sandbox: ZohoSandbox | None = None,
    report_file: Path | None = None,
) -> DemoResult:
    """Run the demo in ``workdir`` (sample files and a fresh SQLite store there).

    Each sandbox is started here unless one is given (tests pass theirs to inspect the
    CRM afterwards); ``org_file`` keeps the started Salesforce org's records in a SQLite
    file (the other sandboxes keep theirs in memory only). With ``report_file``, the demo
    ends by writing the relationship report (:func:`relcrm.report.write_report`) there.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    sample = generate_sample(persons=persons, seed=seed, now=now)
    records = [*sample.records(), *stated_preferences(sample.twins[1], now)]
    sources = split_sample(records, sample.persons, keep=sample.twins, cases=salesforce or hubspot)
    twin_emails = {p.id: p.emails[0] for p in sample.persons if p.id in sample.twins}
    # Cases go to one CRM each, as a company's support desk lives in one of them.
    sf_cases = sources.cases[0::2] if hubspot else sources.cases
    hs_cases = sources.cases[1::2] if salesforce else sources.cases
    sample_file, survey_file, columns_file, social_file = _write_sources(workdir, sources)
    store_url = f"sqlite:///{workdir / 'relcrm.db'}"
    analyze = default_analyzer().analyze
    with Store.open(store_url) as store, ExitStack() as crms:
        ingest = ingest_interchange(sample_file, store, analyzer=DEFAULT_ANALYZER)
        survey = ingest_survey(survey_file, columns_file, store, analyzer=analyze)
        social = ingest_social(social_file, store, analyzer=analyze, now=now)
        sf = crms.enter_context(_salesforce(sandbox, org_file)) if salesforce else None
        hs = crms.enter_context(_hubspot(hubspot_sandbox)) if hubspot else None
        dv = crms.enter_context(_dataverse(dataverse_sandbox)) if dataverse else None
        zo = crms.enter_context(_zoho(zoho_sandbox)) if zoho else None
        sf_connector = salesforce_connector(sf) if sf is not None else None
        hs_connector = hubspot_connector(hs) if hs is not None else None
        dv_connector = dv_fixtures.dataverse_connector(dv) if dv is not None else None
        zo_connector = zoho_fixtures.zoho_connector(zo) if zo is not None else None
        if dv_connector is not None:
            crms.callback(dv_connector.close)
        if zo_connector is not None:
            crms.callback(zo_connector.client.close)
        seeded: dict[str, int] = {}
        cases: dict[str, IngestReport] = {}
        if sf is not None and sf_connector is not None:
            rest = OrgRest(sf)
            created, already = seed_org(rest, sample.persons)
            seeded["Salesforce"] = sum(created.values()) + already
            _seed_cases_salesforce(sf, rest, sf_cases)
            own_salesforce(sf, rest, twin_emails.values())
            cases["Salesforce"] = ingest_cases(
                sf_connector.read_cases(), store, source="salesforce cases", analyzer=analyze
            )
        if hs is not None and hs_connector is not None:
            seeded["HubSpot"] = seed_portal(hs_connector.client.sdk, sample.persons)
            _seed_tickets_hubspot(hs, hs_connector, hs_cases)
            own_hubspot(hs_connector, twin_emails)
            cases["HubSpot"] = ingest_cases(
                hs_connector.read_cases(), store, source="hubspot tickets", analyzer=analyze
            )
        # Dataverse and Zoho hold people only here: support desks stay in the other two.
        if dv is not None:
            seeded["Dataverse"] = sum(dv_fixtures.seed_environment(dv, sample.persons).values())
        if zo is not None:
            seeded["Zoho CRM"] = sum(zoho_fixtures.seed_org(zo, sample.persons).values())
        run = ProfileRun(as_of=now)
        profiles = list(profile_store(store, now, run=run))
        # CRM -> how the demo reads its tasks back (only where it turned tasks on)
        readers: dict[str, TaskReader] = {}
        result = DemoResult(
            sample_file=sample_file,
            store_url=store_url,
            ingest=ingest,
            survey=survey,
            social=social,
            run=run,
            profiles=profiles,
            twins=sample.twins,
            persons=sample.persons,
        )
        if sf is not None and sf_connector is not None:
            mapping = with_outreach(load_shipped("salesforce-contact"))
            part = _sync_crm(
                "Salesforce",
                mapping.target,
                sf.instance_url,
                store,
                sf_connector,
                mapping,
                seeded["Salesforce"],
                cases.get("Salesforce"),
                now,
                kept=org_file is not None,
            )
            sf_rest = OrgRest(sf)
            part.read_back = read_back(
                sf_rest, part.records, sample.twins, sorted(mapping.field_names())
            )
            readers[part.crm] = lambda refs: salesforce_tasks(sf_rest, refs)
            part.tasks = _tasks_of(part, sample.twins, readers[part.crm])
            result.crms.append(part)
        if hs is not None and hs_connector is not None:
            mapping = with_outreach(load_shipped("hubspot-contact"))
            part = _sync_crm(
                "HubSpot",
                mapping.target,
                hs.base_url,
                store,
                hs_connector,
                mapping,
                seeded["HubSpot"],
                cases.get("HubSpot"),
                now,
            )
            sdk = hs_connector.client.sdk
            part.read_back = read_contacts(
                sdk, part.records, sample.twins, sorted(mapping.field_names())
            )
            readers[part.crm] = lambda refs: hubspot_tasks(sdk, refs)
            part.tasks = _tasks_of(part, sample.twins, readers[part.crm])
            if hubspot_notes:
                perceptions = [p for _, found in store.iter_person_perceptions() for p in found]
                part.notes = write_history_notes(hs_connector, part.records, perceptions)
            result.crms.append(part)
        if dv is not None and dv_connector is not None:
            mapping = load_shipped("dataverse-contact")
            part = _sync_crm(
                "Dataverse",
                mapping.target,
                dv.environment_url,
                store,
                dv_connector,
                mapping,
                seeded["Dataverse"],
                None,
                now,
            )
            part.read_back = dv_fixtures.read_back(
                dv, part.records, sample.twins, sorted(mapping.field_names())
            )
            result.crms.append(part)
        if zo is not None and zo_connector is not None:
            mapping = load_shipped("zoho-contact")
            part = _sync_crm(
                "Zoho CRM",
                mapping.target,
                zo.api_domain,
                store,
                zo_connector,
                mapping,
                seeded["Zoho CRM"],
                None,
                now,
            )
            part.read_back = zoho_fixtures.read_back(
                zo, part.records, sample.twins, sorted(mapping.field_names())
            )
            result.crms.append(part)
        if result.crms:
            result.changed = _change_one(store, sample.persons, sample.twins, now)
            list(profile_store(store, now))
            connectors: dict[str, Connector] = {}
            if sf_connector is not None:
                connectors["Salesforce"] = sf_connector
            if hs_connector is not None:
                connectors["HubSpot"] = hs_connector
            if dv_connector is not None:
                connectors["Dataverse"] = dv_connector
            if zo_connector is not None:
                connectors["Zoho CRM"] = zo_connector
            first = result.crms[0]
            assert first.mapping is not None
            [result.preview] = preview_persons(
                store, first.mapping, [result.changed], target=first.target
            ).persons
            for part in result.crms:
                assert part.mapping is not None
                engine = SyncEngine(
                    store, connectors[part.crm], part.mapping, target=part.target, now=lambda: now
                )
                part.second = engine.run()
            watched = [*sample.twins, result.changed]
            for part in result.crms:
                if part.crm in readers:
                    part.tasks_after_second = _tasks_of(part, watched, readers[part.crm])
        if report_file is not None:
            write_report(store, report_file, ReportOptions(generated_at=now))
            result.report_file = report_file
    return result


__all__ = ["CHANGED_VERBATIM", "CrmDemo", "DemoResult", "run_demo"]
