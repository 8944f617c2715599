"""A forgotten person stays forgotten: re-ingesting the source file does not bring them
back, and the next sync does not write them (issue 11, defect 4).

Over both real sandboxes and a real SQLite store, as tests/admin/test_forget.py: the
sample is synced to both CRMs, one person is forgotten, the same file is ingested again
with ``relcrm ingest``, profiles are rebuilt, and ``relcrm sync`` runs. The person must be
refused at ingest (one line per refused record, naming the line, never the identity),
absent from the store, and their CRM records must stay cleared.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from relcrm.models import Consent, Provenance
from relcrm.sources.interchange import InterchangeRecord, write_interchange
from relcrm.store import Store
from relcrm.sync import profile_store
from relcrm.testing.synthetic import generate_sample
from tests.admin.test_forget import (
    NOW,
    Sandboxes,
    audit_rows,
    crm_values,
    empty,
    prepare,
    records_of,
    run,
    store_url,
    traces,
)


def test_a_forgotten_person_is_refused_at_reingest_and_never_synced_again(
    config: Path, sandboxes: Sandboxes
) -> None:
    persons = prepare(config, sandboxes)
    jane = persons[0]
    records = records_of(config, jane.id)
    forgotten = run("forget", jane.emails[0], "--config", str(config))
    assert forgotten.exit_code == 0, forgotten.output
    assert "every ingest refuses them from now on" in forgotten.output
    assert empty(crm_values(sandboxes, records))
    sample = config.parent / "sample.jsonl"
    jane_lines = [
        number
        for number, line in enumerate(sample.read_text("utf-8").splitlines(), start=1)
        if jane.id in line
    ]
    assert len(jane_lines) >= 2  # her person line and at least one perception

    again = run("ingest", str(sample), "--store", store_url(config), "--analyzer", "none")

    # Refused, each record by its line, and never by what identifies her.
    assert again.exit_code == 1, again.output
    refused = [line for line in again.output.splitlines() if line.startswith("rejected ")]
    assert len(refused) == len(jane_lines), again.output
    for number in jane_lines:
        assert any(f"line {number} " in line for line in refused), (number, refused)
    secrets = [jane.id, *jane.emails, *jane.phones, *(rid for _, rid in records.values())]
    for secret in secrets:
        assert secret.lower() not in again.output.lower(), secret
    db = config.parent / "relcrm.db"
    assert traces(db, *secrets) == []
    with Store.open(store_url(config)) as store:
        assert store.get_person(jane.id) is None
        assert store.find_person("email", jane.emails[0]) is None
        list(profile_store(store, NOW))

    synced = run("sync", "--config", str(config), "--json")
    assert synced.exit_code == 0, synced.output
    assert empty(crm_values(sandboxes, records)), "a sync wrote the forgotten person again"
    assert traces(db, *secrets) == []
    # The audit log kept one entry only: a refusal is not an audited action.
    assert [row["action"] for row in audit_rows(db)] == ["forget"]


def test_a_reconsent_dated_after_the_erasure_brings_the_person_back_and_is_audited(
    config: Path, sandboxes: Sandboxes
) -> None:
    persons = prepare(config, sandboxes)
    jane = persons[1]
    records = records_of(config, jane.id)
    forgotten = run("forget", jane.emails[0], "--config", str(config), "--json")
    assert forgotten.exit_code == 0, forgotten.output
    with Store.open(store_url(config)) as store:
        (entry,) = store.audit_entries()
        erased_at = entry.at

    # The same person, in a later export, saying yes again after the erasure, with one
    # new answer; her old answers (and preferences) come along in the same file.
    later = erased_at + timedelta(minutes=1)
    sample = generate_sample(persons=12, seed=5, now=NOW)
    consent = Consent(granted=True, updated_at=later, source="preference centre")
    old = [p for p in sample.perceptions if p.person_id == jane.id]
    old_preferences = [p for p in sample.preferences if p.person_id == jane.id]
    assert old
    fresh = old[0].model_copy(
        update={
            "occurred_at": later + timedelta(minutes=1),
            "provenance": Provenance(source_system="qualtrics", source_record_id="R_after"),
        }
    )
    lines: list[InterchangeRecord] = [
        *(
            p.model_copy(update={"consent": consent}) if p.id == jane.id else p
            for p in sample.persons
        ),
        *sample.perceptions,
        fresh,
        *sample.preferences,
    ]
    path = config.parent / "later.jsonl"
    write_interchange(lines, path)

    back = run("ingest", str(path), "--store", store_url(config), "--analyzer", "none")
    assert back.exit_code == 1, back.output  # her answers from before the erasure are refused
    refused = [line for line in back.output.splitlines() if line.startswith("rejected ")]
    assert len(refused) == len(old) + len(old_preferences), back.output
    with Store.open(store_url(config)) as store:
        person = store.get_person(jane.id)
        assert person is not None and person.consent == consent
        (stored,) = [ps for p, ps in store.iter_person_perceptions() if p.id == jane.id]
        assert [p.provenance.source_record_id for p in stored] == ["R_after"]
        assert store.preferences_of(jane.id) == []
        list(profile_store(store, later + timedelta(days=1)))

    listed = run("audit", "--config", str(config))
    assert listed.exit_code == 0, listed.output
    (line,) = [line for line in listed.stdout.splitlines() if "reconsent" in line]
    assert "restored" in line and "back by consent given" in line, line
    number = 1 + [p.id for p in sample.persons].index(jane.id)  # persons come first
    assert line.endswith(f": interchange line {number}"), line
    mine = run("audit", "--config", str(config), "--person-id", jane.id, "--json")
    actions = [json.loads(line)["action"] for line in mine.stdout.splitlines()]
    assert actions == ["reconsent", "forget"], mine.stdout
    for secret in [jane.id, *jane.emails]:
        assert secret.lower() not in listed.output.lower()

    synced = run("sync", "--config", str(config), "--json")
    assert synced.exit_code == 0, synced.output
    assert not empty(crm_values(sandboxes, records)), "a consenting person is synced again"
