"""relcrm ingest --redaction FILE: the operator's redaction settings, applied before storing."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from relcrm.analyze import load_redaction_config, redact
from relcrm.cli import app
from relcrm.store import Store


def write_lines(path: Path) -> None:
    person = {"type": "person", "id": "p1", "emails": ["ann@example.com"]}
    perception = {
        "type": "perception",
        "person_id": "p1",
        "occurred_at": "2026-11-01T10:00:00Z",
        "channel": "support",
        "verbatim": "My customer number is CUST-123456, write to ann.other@example.com",
        "provenance": {"source_system": "helpdesk", "source_record_id": "t-1"},
    }
    path.write_text("\n".join(json.dumps(x) for x in (person, perception)) + "\n", "utf-8")


def test_custom_patterns_and_placeholders_from_a_file(tmp_path: Path) -> None:
    data = tmp_path / "in.jsonl"
    write_lines(data)
    settings = tmp_path / "redaction.toml"
    settings.write_text(
        'template = "<{label}>"\n\n[[custom_patterns]]\nlabel = "customer_id"\n'
        'pattern = "CUST-[0-9]{6}"\n',
        encoding="utf-8",
    )
    db = tmp_path / "relcrm.db"
    result = CliRunner().invoke(
        app, ["ingest", str(data), "--store", str(db), "--redaction", str(settings), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["redacted"] == {"customer_id": 1, "email": 1}
    with Store.open(f"sqlite:///{db}") as store:
        ((_, found),) = list(store.iter_person_perceptions())
    assert found[0].verbatim == "My customer number is <customer_id>, write to <email>"


def test_a_bad_settings_file_names_the_key_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "in.jsonl"
    write_lines(data)
    settings = tmp_path / "redaction.toml"
    settings.write_text('emails = "maybe"\ntemplate = "{label}"\n', encoding="utf-8")
    db = tmp_path / "relcrm.db"
    result = CliRunner().invoke(
        app, ["ingest", str(data), "--store", str(db), "--redaction", str(settings)]
    )
    assert result.exit_code == 2
    assert "emails" in result.output and "template" in result.output
    assert not db.exists()


def test_the_shipped_example_settings_load() -> None:
    config = load_redaction_config(Path(__file__).parents[1] / "examples" / "redaction.toml")
    assert redact("CUST-123456 at https://x.io/a?code=abc123", config).text == (
        "[customer_id] at https://x.io/a?code=[token]"
    )
