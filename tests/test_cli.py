"""The command line, end to end on real files: sample -> ingest -> profile, demo, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relcrm.cli import app

runner = CliRunner()
CLOCK = "2026-11-22T12:00:00Z"


def test_sample_ingest_profile(tmp_path: Path) -> None:
    sample = tmp_path / "sample.jsonl"
    store = str(tmp_path / "relcrm.db")
    result = runner.invoke(app, ["sample", "--out", str(sample), "--persons", "30", "--now", CLOCK])
    assert result.exit_code == 0, result.output
    assert sample.stat().st_size > 0

    result = runner.invoke(app, ["ingest", str(sample), "--store", store, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["persons"] == 30
    assert summary["rejected"] == 0

    again = runner.invoke(app, ["ingest", str(sample), "--store", store, "--json"])
    assert json.loads(again.stdout)["perceptions_new"] == 0  # same file, nothing new

    result = runner.invoke(app, ["profile", "--store", store, "--json", "--as-of", CLOCK])
    assert result.exit_code == 0, result.output
    parallel = runner.invoke(
        app, ["profile", "--store", store, "--json", "--as-of", CLOCK, "--workers", "2"]
    )
    assert parallel.stdout == result.stdout  # same profiles, however many processes
    profiles = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(profiles) == 30
    by_id = {p["person_id"]: p for p in profiles}
    assert by_id["twin-delighted"]["segment"] == "delighted"
    assert by_id["twin-trapped"]["segment"] == "trapped_and_vocal"
    assert all(1 <= len(p["reasons"]) <= 4 for p in profiles)

    table = runner.invoke(
        app, ["profile", "--store", store, "--as-of", CLOCK], env={"COLUMNS": "200"}
    )
    assert table.exit_code == 0
    assert "twin-trapped" in table.stdout


def test_bad_lines_are_reported_and_the_rest_loads(tmp_path: Path) -> None:
    person = {"type": "person", "id": "p1", "consent": {"granted": True}}
    good = {
        "type": "perception",
        "person_id": "p1",
        "occurred_at": "2026-10-02T14:00:00Z",
        "channel": "survey",
        "nps": {"value": 9},
        "provenance": {"source_system": "s", "source_record_id": "1"},
    }
    lines = [
        json.dumps(person),
        json.dumps(good),
        json.dumps(
            {
                **good,
                "nps": {"value": 11},
                "provenance": {"source_system": "s", "source_record_id": "2"},
            }
        ),
        json.dumps(
            {
                **good,
                "occurred_at": "2026-10-02T14:00:00",
                "provenance": {"source_system": "s", "source_record_id": "3"},
            }
        ),
        json.dumps(
            {
                **good,
                "person_id": "ghost",
                "provenance": {"source_system": "s", "source_record_id": "4"},
            }
        ),
        "{not json",
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["ingest", str(source), "--store", str(tmp_path / "s.db"), "--json"]
    )
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary == {
        "source": str(source),
        "persons": 1,
        "perceptions_new": 1,
        "perceptions_already_known": 0,
        "preferences": 0,
        "rejected": 4,
        "forgotten": 0,
        "restored": 0,
        "analyzed": 0,
        "redacted": {},
    }
    assert "line 3" in result.stderr and "nps.value" in result.stderr
    assert "line 4" in result.stderr and "occurred_at" in result.stderr
    assert "line 5" in result.stderr and "person_id" in result.stderr
    assert "line 6" in result.stderr


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ingest", str(tmp_path / "nope.jsonl"), "--store", str(tmp_path / "s.db")]
    )
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_demo_shows_the_twins_apart(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--keep", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "twin-delighted" in result.stdout and "twin-trapped" in result.stdout
    assert "true_loyalty / delighted" in result.stdout
    assert "spurious_loyalty / trapped_detractor" in result.stdout
    assert "Keeps buying" in result.stdout
    assert (tmp_path / "sample.jsonl").exists()


def test_schema_writes_the_public_models(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", str(tmp_path / "schemas")])
    assert result.exit_code == 0
    names = sorted(p.name for p in (tmp_path / "schemas").iterdir())
    assert names == [
        "Perception.schema.json",
        "Person.schema.json",
        "Preference.schema.json",
        "RelationshipProfile.schema.json",
    ]
    perception = json.loads((tmp_path / "schemas" / "Perception.schema.json").read_text())
    assert "occurred_at" in perception["required"]


def test_help_reads_well() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "sample", "ingest", "profile", "schema"):
        assert command in result.stdout


def test_store_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "from-env.db"
    monkeypatch.setenv("RELCRM_STORE_URL", f"sqlite:///{store}")
    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps({"type": "person", "id": "p1"}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(source)])
    assert result.exit_code == 0, result.output
    assert store.exists()


def test_verbatims_are_redacted_before_they_are_stored(tmp_path: Path) -> None:
    said = {
        "type": "perception",
        "person_id": "p1",
        "occurred_at": "2026-10-02T14:00:00Z",
        "channel": "support",
        "valence": -0.6,
        "verbatim": "Charged twice on 4111 1111 1111 1111, write to o'brien@example.com now",
        "provenance": {"source_system": "zendesk", "source_record_id": "T-9"},
    }
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"type": "person", "id": "p1"}), json.dumps(said)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = tmp_path / "s.db"
    result = runner.invoke(app, ["ingest", str(source), "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["redacted"] == {"card": 1, "email": 1}
    from relcrm.store import Store

    with Store.open(f"sqlite:///{store}") as opened:
        [(_, [stored])] = list(opened.iter_person_perceptions())
    assert stored.verbatim is not None
    assert "4111" not in stored.verbatim and "o'brien" not in stored.verbatim
    assert stored.verbatim.startswith("Charged twice on [card]")
