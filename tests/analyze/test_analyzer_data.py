"""relcrm's own word lists and labelled sets: present, well-formed, licence stated."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from relcrm.analyze.lexicon import cx_valence, foreign, plutchik
from relcrm.models import WHEEL

DATA = Path(__file__).resolve().parent.parent / "data" / "analyzer"
CATEGORIES = {
    "survey",
    "ticket",
    "social",
    "donor",
    "b2b",
    "sarcasm",
    "negation",
    "mixed",
    "other_language",
    "churn",
    "trapped",
    "polite_request",
}


def test_plutchik_lexicon_is_relcrms_own_and_covers_every_emotion() -> None:
    text = files("relcrm.analyze").joinpath("data", "plutchik.tsv").read_text(encoding="utf-8")
    header = text.split("\n# joy")[0]
    assert "relcrm's own work" in header
    assert "NOT derived from the NRC" in header
    table = plutchik()
    entries = [
        entry
        for group in (table.exact, table.stems, table.phrases)
        for values in group.values()
        for entry in values
    ]
    assert {emotion for emotion, _ in entries} == set(WHEEL)
    assert all(0.0 < weight <= 1.0 for _, weight in entries)
    assert len(entries) >= 300


def test_cx_valence_and_foreign_lexicons_load() -> None:
    assert cx_valence()["please"] == 0.0
    assert cx_valence()["outage"] < 0
    assert set(foreign()) == {"es", "fr", "de", "pt"}
    assert all(
        -4.0 <= term.valence <= 4.0 for lex in foreign().values() for term in lex.exact.values()
    )


def test_labelled_sets_are_well_formed_and_disjoint() -> None:
    sets = {}
    for name, minimum in (("eval", 150), ("tune", 80)):
        rows = [json.loads(line) for line in (DATA / f"{name}.jsonl").read_text().splitlines()]
        assert len(rows) >= minimum
        for row in rows:
            assert set(row) == {"text", "sentiment", "emotions", "category"}
            assert row["sentiment"] in {"positive", "neutral", "negative"}
            assert row["category"] in CATEGORIES
            assert len(row["emotions"]) <= 2
            assert set(row["emotions"]) <= {e.value for e in WHEEL}
            assert row["emotions"] or row["sentiment"] == "neutral"
        sets[name] = {row["text"] for row in rows}
        assert len(sets[name]) == len(rows)
    assert not sets["eval"] & sets["tune"]
