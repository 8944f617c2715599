"""Issue 12's fault tests on the Dataverse and Zoho sandboxes, through the real sync engine
(the connector-level cases are in tests/connectors_dataverse and tests/connectors_zoho;
the killed process is in test_new_crms_killed.py):

- a 429 with ``Retry-After`` is waited exactly as asked, on the connector's injected
  sleep (Dataverse's service protection limit; Zoho documents no ``Retry-After`` on its
  429, so there the concurrency 429 is backed off and the ``Retry-After`` of its 500s is
  honoured);
- an access token that expires mid-run is renewed and the run goes on;
- one bad record in Dataverse's all-or-nothing ``UpdateMultiple``: the connector
  isolates it, only that person is dead-lettered, with Dataverse's reason and none of
  the values, and the others are written;
- a spent quota (Dataverse's service protection window, Zoho's credits of 24 hours)
  pauses each run with the catalogued code, and later runs finish the work.

Every scenario ends with each record the runs had to write written exactly once (the
sandbox's request log), nothing lost, nothing written twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from relcrm.connectors.scrub import without_values
from relcrm.error_codes import CODES
from relcrm.mapping.coerce import values_for
from relcrm.models import Person
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.dataverse import ServiceLimits
from relcrm.sandbox.dataverse.seeding import table_of
from relcrm.sandbox.dataverse.server import DataverseSandbox
from relcrm.sandbox.zoho.limits import DAY_S, LimitsConfig
from relcrm.sandbox.zoho.server import ZohoSandbox
from relcrm.sync.engine import SyncProgress, SyncReport
from tests.faults.test_fault_matrix import BusyApp
from tests.faults.world import (
    TARGET,
    WRITE_PATHS,
    Sandbox,
    Waits,
    World,
    build_world,
    restore_quota,
)

SMALL_BATCH = 10
QUOTA_CODE = "connector.quota_exhausted"
REASONS = "relcrm_reasons"


@pytest.fixture(params=["dataverse", "zoho"])
def world(
    request: pytest.FixtureRequest,
    dataverse_sandbox: DataverseSandbox,
    zoho_sandbox: ZohoSandbox,
    dataverse_clock: Waits,
    sample: tuple[Path, list[Person]],
    tmp_path: Path,
) -> Iterator[World]:
    """A fresh world on each new CRM; the sandbox calm and at its own limits afterwards."""
    crm: str = request.param
    sandbox: Sandbox = dataverse_sandbox if crm == "dataverse" else zoho_sandbox
    template, persons = sample
    waits = dataverse_clock.fresh() if crm == "dataverse" else Waits()
    built = build_world(crm, sandbox, template, persons, tmp_path, waits=waits)
    try:
        yield built
    finally:
        built.sandbox.set_faults(None)
        restore_quota(built.sandbox)
        built.store.close()


def each_written_once(world: World, *reports: SyncReport) -> None:
    """Every person the runs had to write is written exactly once, none lost."""
    outcome = world.outcome()
    shown = [r.to_json() for r in reports]
    assert outcome.twice == 0, (outcome.twice_records, shown)
    assert outcome.lost == [], shown
    assert (outcome.once, outcome.dead) == (outcome.expected, 0), (outcome.row(), shown)


def answers_to(world: World, status: int) -> list[httpx.Response]:
    """The connector's HTTP answers of ``status`` from now on (an httpx event hook)."""
    seen: list[httpx.Response] = []

    def hook(response: httpx.Response) -> None:
        if response.status_code == status:
            seen.append(response)

    world.connector.client.http.event_hooks["response"].append(hook)  # type: ignore[attr-defined]
    return seen


# ---------------------------------------------------------------------- 429


@pytest.mark.parametrize("world", ["dataverse"], indirect=True)
def test_dataverse_429s_are_waited_exactly_their_retry_after(world: World) -> None:
    """Five requests per 30 s: each 429 names its wait, the connector sleeps exactly that
    (on the sandbox's clock, so the window really passes), and sends the call again."""
    assert isinstance(world.sandbox, DataverseSandbox)
    world.connector = world.connector_with(policy={"budget_s": 900.0, "attempts": 10})
    refused = answers_to(world, 429)
    world.sandbox.set_limits("5/30s")
    started, refused_before = world.waits.now, world.sandbox.protection.refused
    report = world.run(batch_size=SMALL_BATCH)
    assert report.status == "succeeded", report.to_json()
    asked = [float(r.headers["Retry-After"]) for r in refused]
    assert len(asked) >= 3 and all(0 < s <= 30 for s in asked)
    assert world.waits.calls == asked  # no other wait, none shorter, none longer
    assert world.waits.now - started == sum(asked)
    assert world.sandbox.protection.refused - refused_before == len(asked)
    each_written_once(world, report)


@pytest.mark.parametrize("world", ["zoho"], indirect=True)
def test_zoho_429s_are_backed_off_and_its_retry_after_honoured(world: World) -> None:
    """Zoho's 429 (another integration holds the app's one concurrency slot) carries no
    Retry-After: it is backed off and retried. Its 500s carry one, waited exactly, on a
    search and on a write (read back after the wait, then sent again)."""
    sandbox = world.sandbox
    assert isinstance(sandbox, ZohoSandbox)
    sandbox.set_limits(LimitsConfig(concurrency=1))
    sandbox.set_faults(
        FaultPlan(paths=WRITE_PATHS["zoho"], unavailable_calls=[2, 6], retry_after_s=7)
    )
    busy = BusyApp(sandbox)
    world.waits.on_sleep.append(busy.finish)
    too_many = answers_to(world, 429)
    failed = answers_to(world, 500)
    busy.start()
    try:
        report = world.run(batch_size=SMALL_BATCH, progress=busy.start)
    finally:
        busy.finish()
    assert report.status == "succeeded", report.to_json()
    assert len(too_many) >= 4 and not any("Retry-After" in r.headers for r in too_many)
    assert len(failed) == 2 and all(r.headers["Retry-After"] == "7" for r in failed)
    assert {r.request.method for r in failed} == {"GET", "PUT"}
    assert world.waits.calls.count(7.0) == len(failed)
    backoffs = [s for s in world.waits.calls if s != 7.0]
    assert len(backoffs) >= len(too_many) and all(0 <= s < 7 for s in backoffs)
    each_written_once(world, report)


# ---------------------------------------------------------------------- expired token


def test_a_token_expired_mid_run_is_renewed(world: World) -> None:
    sandbox = world.sandbox
    assert isinstance(sandbox, DataverseSandbox | ZohoSandbox)
    tokens = world.connector.client.tokens  # type: ignore[attr-defined]
    minted = _tokens(tokens)
    expired: list[int] = []

    def expire_after_first_batch(progress: SyncProgress) -> None:
        if progress.batch == 1 and not expired:
            expired.append(progress.batch)
            sandbox.expire_tokens()

    report = world.run(batch_size=SMALL_BATCH, progress=expire_after_first_batch)
    assert report.status == "succeeded", report.to_json()
    assert expired and sandbox.log.statuses()[401] == 1
    assert _tokens(tokens) == minted + 1
    each_written_once(world, report)


def _tokens(provider: object) -> int:
    """Tokens a connector obtained: Dataverse counts ``fetched``, Zoho ``minted``."""
    counted = getattr(provider, "fetched", None)
    return int(counted if counted is not None else getattr(provider, "minted", 0))


# ---------------------------------------------------------------------- one bad record


@pytest.mark.parametrize("world", ["dataverse"], indirect=True)
def test_one_bad_record_in_an_all_or_nothing_batch_is_isolated(world: World) -> None:
    """After the run's schema check and first batch, an admin shortens the contacts'
    reasons column so exactly one person's reasons no longer fit: Dataverse refuses the whole
    UpdateMultiple; the connector isolates the record, that person alone is
    dead-lettered with Dataverse's reason (no value in it), the others are written."""
    sandbox = world.sandbox
    assert isinstance(sandbox, DataverseSandbox)
    victim, length = _longest_reasons(world)

    def shorten_after_first_batch(progress: SyncProgress) -> None:
        if progress.batch == 1:  # after the schema check and the first batch
            with sandbox.org.lock:
                sandbox.org.entity("contact").attributes[REASONS].max_length = length

    report = world.run(batch_size=SMALL_BATCH, progress=shorten_after_first_batch)
    assert report.status == "partial" and report.exit_code == 1, report.to_json()
    outcome = world.outcome()
    assert outcome.twice == 0 and outcome.lost == []
    assert (outcome.once, outcome.dead) == (outcome.expected - 1, 1)
    (letter,) = world.store.open_dead_letters(TARGET)
    assert (letter.person_id, letter.error_code) == (victim, "0x80044331")
    assert REASONS in letter.error_message and f"'{length}'" in letter.error_message
    leaked = without_values(letter.error_message, list(letter.fields.values())) != (
        letter.error_message
    )
    assert not leaked
    assert world.connector.writer.isolations == 1  # type: ignore[attr-defined]
    posts = [
        (c.path.rsplit("/", 1)[-1], c.status) for c in sandbox.log.calls() if c.method == "POST"
    ]
    assert ("Microsoft.Dynamics.CRM.UpdateMultiple", 400) in posts and ("$batch", 200) in posts

    with sandbox.org.lock:  # the admin widens it again: the next run writes the letter
        sandbox.org.entity("contact").attributes[REASONS].max_length = 32768
    healed = world.run(batch_size=SMALL_BATCH)
    assert healed.status == "succeeded" and healed.counts["written"] == 1, healed.to_json()
    each_written_once(world, report, healed)


def _longest_reasons(world: World) -> tuple[str, int]:
    """The contact person (after the first batch) whose reasons are the longest
    (strictly), and a length every other person's reasons fit in."""
    expected = {p.id: p for p in sorted(world.expected, key=lambda p: p.id)[SMALL_BATCH:]}
    lengths: list[tuple[int, str]] = []
    for profile in world.store.iter_profiles():
        person = expected.get(profile.person_id)
        if person is not None and table_of(person) == "contact":
            text = values_for(profile, world.mapping).values.get(REASONS)
            lengths.append((len(str(text or "")), person.id))
    lengths.sort(reverse=True)
    (longest, victim), (second, _) = lengths[0], lengths[1]
    assert longest > second, "the sample has no single longest reasons text"
    return victim, second


# ---------------------------------------------------------------------- spent quota


def test_a_spent_quota_pauses_each_run_and_later_runs_finish(world: World) -> None:
    """A small quota the runs spend: each run pauses (exit 4) with the catalogued code
    once it is gone; when the window has passed the next run resumes, until one
    finishes. Dataverse: 12 requests per hour (its 429 asks for longer than a run
    waits); Zoho: 8 credits per rolling 24 hours (a search costs one, a write of up
    to ten records one)."""
    sandbox = world.sandbox
    window = _small_quota(sandbox)
    reports: list[SyncReport] = []
    for _ in range(12):
        report = world.run(batch_size=SMALL_BATCH)
        reports.append(report)
        if report.status != "paused":
            break
        assert report.exit_code == 4 and report.error_code == QUOTA_CODE, report.to_json()
        _let_time_pass(world, window)
    *paused, finished = reports
    assert finished.status == "succeeded", finished.to_json()
    assert len(paused) >= 2 and all(r.status == "paused" for r in paused)
    assert QUOTA_CODE in CODES
    assert all(report.counts["written"] > 0 for report in reports[1:])
    each_written_once(world, *reports)


def _small_quota(sandbox: Sandbox) -> float:
    """Set a quota a run spends before it ends; the seconds until it is back."""
    if isinstance(sandbox, DataverseSandbox):
        sandbox.set_limits(ServiceLimits(requests=12, window_s=3600.0))
        return 3600.0
    assert isinstance(sandbox, ZohoSandbox)
    sandbox.set_limits(LimitsConfig(credits=8))
    return DAY_S


def _let_time_pass(world: World, seconds: float) -> None:
    """The quota's window passes: on the Dataverse sandbox's clock (the connector's own),
    or on the Zoho sandbox's (its access token has expired too by then)."""
    if isinstance(world.sandbox, DataverseSandbox):
        world.waits.now += seconds
    else:
        assert isinstance(world.sandbox, ZohoSandbox)
        world.sandbox.advance(seconds)
