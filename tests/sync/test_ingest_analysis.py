"""Interchange ingest lets the analyzer read every verbatim that carries no valence."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from relcrm.analyze import DEFAULT_ANALYZER, analyzer_named
from relcrm.cli import app
from relcrm.errors import ConfigurationError
from relcrm.models import Perception
from relcrm.store import Store
from relcrm.sync import ingest_interchange
from relcrm.sync.analysis import analyzer_for

runner = CliRunner()

ANGRY = "Charged twice again, nobody answers at jane@example.com. I will cancel."
GIVEN_VALENCE = 0.42


def _perception(person_id: str, record: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "perception",
        "person_id": person_id,
        "occurred_at": "2026-11-02T14:05:00Z",
        "channel": "email",
        "provenance": {"source_system": "mail", "source_record_id": record},
        **fields,
    }


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _sample(tmp_path: Path) -> Path:
    """Verbatim-only, a valence of its own, source-set flags, a score, a late person."""
    return _write(
        tmp_path / "in.jsonl",
        [
            {"type": "person", "id": "p1"},
            _perception("p1", "text-only", verbatim=ANGRY),
            _perception("p1", "has-valence", verbatim="Great, thanks.", valence=GIVEN_VALENCE),
            _perception(
                "p1",
                "source-signals",
                verbatim="Thanks, all good now.",
                arousal=0.95,
                flags={"trapped": True},
            ),
            _perception("p1", "score-only", nps={"value": 9}),
            _perception("p2", "before-its-person", verbatim="The portal is down again."),
            _perception("nobody", "never-a-person", verbatim="Who am I?"),
            {"type": "person", "id": "p2"},
        ],
    )


def _stored(url: str) -> dict[str, Perception]:
    with Store.open(url) as store:
        return {
            p.provenance.source_record_id: p
            for _, found in store.iter_person_perceptions()
            for p in found
        }


@pytest.mark.parametrize("workers", [1, 2])
def test_a_verbatim_without_valence_is_analyzed(
    tmp_path: Path, workers: int, caplog: pytest.LogCaptureFixture
) -> None:
    source = _sample(tmp_path)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    analyzer_for.cache_clear()
    with Store.open(url) as store, caplog.at_level(logging.WARNING):
        report = ingest_interchange(
            source, store, analyzer=DEFAULT_ANALYZER, workers=workers, chunk_lines=2
        )
    if workers > 1:  # the worker processes loaded the analyzer and read; this one did not
        assert "workers are unavailable" not in caplog.text
        assert analyzer_for.cache_info().currsize == 0
    assert report.perceptions_new == 5
    assert report.rejected == 1  # the perception whose person never came
    # Read: text-only, source-signals, before-its-person (not the rejected one).
    assert report.analyzed == 3
    assert report.redactions == {"email": 1}
    stored = _stored(url)
    analyzer = analyzer_named(DEFAULT_ANALYZER)

    text_only = stored["text-only"]
    assert text_only.verbatim is not None and "jane@example.com" not in text_only.verbatim
    expected = analyzer.analyze(text_only.verbatim)  # the redacted text is what it read
    assert text_only.valence == expected.valence < 0
    assert text_only.arousal == expected.arousal
    assert text_only.emotions == expected.emotions
    assert text_only.flags == expected.flags
    assert text_only.confidence == expected.confidence
    assert text_only.provenance.analyzer == analyzer.name
    assert text_only.provenance.analyzer_version == analyzer.version

    own = stored["has-valence"]  # the source said how it sounds: not read again
    assert own.valence == GIVEN_VALENCE
    assert own.provenance.analyzer is None and own.provenance.analyzer_version is None
    assert own.emotions.is_empty()

    signals = stored["source-signals"]  # the analyzer's reading, the source's signals kept
    assert signals.valence is not None and signals.provenance.analyzer == analyzer.name
    assert signals.arousal == 0.95
    assert signals.flags.trapped

    assert stored["score-only"].valence is None  # nothing to read
    late = stored["before-its-person"]
    assert late.valence is not None and late.provenance.analyzer == analyzer.name


def test_without_an_analyzer_verbatims_are_stored_unread(tmp_path: Path) -> None:
    source = _sample(tmp_path)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store.open(url) as store:
        report = ingest_interchange(source, store, workers=1)  # the library's default
    assert report.analyzed == 0
    text_only = _stored(url)["text-only"]
    assert text_only.valence is None
    assert text_only.provenance.analyzer is None


def test_an_unknown_analyzer_stops_before_anything_is_read(tmp_path: Path) -> None:
    source = _sample(tmp_path)
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:
        with pytest.raises(ConfigurationError, match="no-such-analyzer"):
            ingest_interchange(source, store, analyzer="no-such-analyzer")
        assert store.count_persons() == 0


def _cli_ingest(source: Path, store: Path, *extra: str) -> Any:
    return runner.invoke(app, ["ingest", str(source), "--store", str(store), "--json", *extra])


def test_relcrm_ingest_analyzes_interchange_texts_by_default(tmp_path: Path) -> None:
    source = _sample(tmp_path)
    database = tmp_path / "store.db"
    result = _cli_ingest(source, database)
    assert result.exit_code == 1  # the perception whose person never came
    summary = json.loads(result.stdout)
    assert summary["analyzed"] == 3
    stored = _stored(f"sqlite:///{database}")
    analyzer = analyzer_named(DEFAULT_ANALYZER)
    assert stored["text-only"].valence is not None
    assert stored["text-only"].provenance.analyzer == analyzer.name
    assert stored["text-only"].provenance.analyzer_version == analyzer.version
    assert stored["has-valence"].valence == GIVEN_VALENCE

    again = json.loads(_cli_ingest(source, database).stdout)
    assert again["perceptions_new"] == 0 and again["perceptions_already_known"] == 5


def test_relcrm_ingest_analyzer_none_and_another_analyzer(tmp_path: Path) -> None:
    source = _sample(tmp_path)
    unread = tmp_path / "unread.db"
    summary = json.loads(_cli_ingest(source, unread, "--analyzer", "none").stdout)
    assert summary["analyzed"] == 0
    assert _stored(f"sqlite:///{unread}")["text-only"].valence is None

    vader = tmp_path / "vader.db"
    summary = json.loads(_cli_ingest(source, vader, "--analyzer", "vader").stdout)
    assert summary["analyzed"] == 3
    stored = _stored(f"sqlite:///{vader}")["text-only"]
    assert stored.provenance.analyzer == analyzer_named("vader").name


def test_relcrm_ingest_unknown_analyzer_changes_nothing(tmp_path: Path) -> None:
    database = tmp_path / "store.db"
    result = _cli_ingest(_sample(tmp_path), database, "--analyzer", "no-such-analyzer")
    assert result.exit_code == 2
    assert "no-such-analyzer" in result.stderr
    assert not database.exists()
