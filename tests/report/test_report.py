"""The report's figures and page: consent, redaction, history (movement, trend,
retention, erasure), and the command."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relcrm import Perception, Provenance, profile_and_save
from relcrm.cli import app
from relcrm.errors import ConfigurationError
from relcrm.models import Channel
from relcrm.report import ReportOptions, build_report, parse_since, render_html
from relcrm.store import Store
from relcrm.store.profile_history import history_retention_days
from relcrm.testing.synthetic import generate_sample
from tests.report.conftest import DemoReport

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _sampled_store(url: str) -> Store:
    sample = generate_sample(persons=40, seed=3, now=NOW)
    store = Store.open(url)
    store.upsert_persons(sample.persons)
    store.add_perceptions(sample.perceptions)
    return store


def test_persons_without_consent_are_only_counted(demo_report: DemoReport) -> None:
    refusing = [p.id for p in demo_report.demo.persons if not p.consent.granted]
    assert refusing
    page = demo_report.html.read_text(encoding="utf-8")
    report = demo_report.report
    for person_id in refusing:
        assert person_id not in page
    assert all(p.person_id not in refusing for p in report.people)
    assert all(d.person_id not in refusing for d in report.loyalty_map.dots)
    placed = sum(report.loyalty_map.quadrants.values()) + report.loyalty_map.off_map
    assert placed == report.meta.profiled == 60
    assert sum(report.segments.counts.values()) == 60
    assert sum(report.health.bins) == report.meta.consenting == 56


def test_outreach_rows_carry_reason_drivers_and_records(demo_report: DemoReport) -> None:
    report = demo_report.report
    trapped = demo_report.demo.twins[1]
    assert trapped in report.outreach
    person = next(p for p in report.people if p.person_id == trapped)
    assert person.needs_outreach and person.outreach_reason
    assert person.drivers and all(d.valence is None or d.valence < 0.5 for d in person.drivers)
    targets = {t.target for t in report.sync}
    assert {"salesforce-contact", "hubspot-contact"} <= targets
    assert {r.target for r in person.records} == targets
    assert {c.target for c in person.written} == targets
    assert all(not name.startswith("#") for c in person.written for name, _ in c.fields)
    assert all(t.status == "succeeded" and t.api_calls > 0 for t in report.sync)


def test_verbatims_are_redacted_on_the_page(tmp_path: Path) -> None:
    with _sampled_store(f"sqlite:///{tmp_path / 'r.db'}") as store:
        person = next(p for p in store.iter_persons() if p.id == "twin-trapped")
        leaked = Perception(
            person_id=person.id,
            occurred_at=NOW - timedelta(days=1),
            channel=Channel.EMAIL,
            valence=-0.9,
            verbatim="Call me on +44 20 7946 0958 or write to jane.doe@example.com, I am done.",
            provenance=Provenance(source_system="mail", source_record_id="m-1"),
        )
        store.add_perceptions([leaked])  # straight into the store, as an old store might hold
        profile_and_save(store, NOW)
        page = render_html(build_report(store))
    assert "I am done" in page
    assert "jane.doe@example.com" not in page and "7946" not in page


def test_history_gives_movement_and_a_weekly_trend(tmp_path: Path) -> None:
    with _sampled_store(f"sqlite:///{tmp_path / 'r.db'}") as store:
        first = build_report(store)
        assert first.meta.profiled == 0 and first.segments.baseline is None
        assert "Nobody needs outreach now" in render_html(first)
        profile_and_save(store, NOW - timedelta(days=14))
        profile_and_save(store, NOW - timedelta(days=14))  # the same clock again: replaced
        assert [r.persons for r in store.history_runs()] == [40]
        before = build_report(store)
        assert before.segments.baseline is None
        assert "No earlier report" in render_html(before)
        profile_and_save(store, NOW)
        report = build_report(store)
    assert report.segments.baseline == NOW - timedelta(days=14)
    assert sum(report.segments.before.values()) == 40
    assert [p.as_of for p in report.trend] == [NOW - timedelta(days=14), NOW]
    assert all(abs(sum(p.shares.values()) - 1.0) < 1e-3 for p in report.trend)
    moved = sum(n for _, _, n in report.segments.moves)
    changed = sum(
        abs(report.segments.counts.get(s, 0) - report.segments.before.get(s, 0))
        for s in report.segments.counts
    )
    assert moved >= changed / 2


def test_history_keeps_only_the_retention_and_is_erased_with_the_person(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELCRM_PROFILE_HISTORY_DAYS", "30")
    with _sampled_store(store_url) as store:
        for days in (90, 20, 0):
            profile_and_save(store, NOW - timedelta(days=days))
        assert [r.as_of for r in store.history_runs()] == [NOW - timedelta(days=20), NOW]
        store.erase_person("twin-trapped")
        assert all(r.persons == 39 for r in store.history_runs())
        assert "twin-trapped" not in store.history_segments(NOW)


def test_no_history_is_kept_with_zero_days(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELCRM_PROFILE_HISTORY_DAYS", "0")
    with _sampled_store(f"sqlite:///{tmp_path / 'r.db'}") as store:
        profile_and_save(store, NOW)
        assert store.history_runs() == []
    with pytest.raises(ConfigurationError, match="RELCRM_PROFILE_HISTORY_DAYS"):
        history_retention_days({"RELCRM_PROFILE_HISTORY_DAYS": "a year"})


def test_as_of_profiles_again_with_what_was_known_then(tmp_path: Path) -> None:
    with _sampled_store(f"sqlite:///{tmp_path / 'r.db'}") as store:
        profile_and_save(store, NOW)
        earlier = NOW - timedelta(days=200)
        report = build_report(store, ReportOptions(as_of=earlier))
        now = build_report(store)
    assert report.meta.recomputed and report.meta.as_of == earlier
    assert all(s.occurred_at <= earlier for p in report.people for s in p.timeline)
    assert report.segments.counts != now.segments.counts


def test_options_are_checked() -> None:
    assert parse_since("12w") == timedelta(weeks=12)
    for bad in ("0d", "3 months", ""):
        with pytest.raises(ConfigurationError, match="since"):
            parse_since(bad)
    with pytest.raises(ConfigurationError, match="link template"):
        ReportOptions(links={"sf": "javascript:alert({id})"})


def test_the_command_writes_the_page_and_prints_the_figures(
    demo_report: DemoReport, tmp_path: Path
) -> None:
    store = demo_report.demo.store_url
    out = tmp_path / "r.html"
    runner = CliRunner()
    template = "https://example.my.salesforce.com/lightning/r/{object}/{id}/view"
    done = runner.invoke(
        app,
        ["report", "--store", store, "--out", str(out), "--link", f"salesforce-contact={template}"],
    )
    assert done.exit_code == 0, done.output
    assert str(out) in done.output and "trapped" in done.output
    assert "https://example.my.salesforce.com/lightning/r/Contact/" in out.read_text("utf-8")
    printed = runner.invoke(app, ["report", "--store", store, "--json", "--segment", "trapped"])
    assert printed.exit_code == 0, printed.output
    figures = json.loads(printed.stdout)
    assert figures["meta"]["segment_filter"] == "trapped"
    assert {p["segment"] for p in figures["people"]} == {"trapped"}
    assert figures["loyalty_map"]["quadrants"] == {
        q.value: n for q, n in demo_report.report.loyalty_map.quadrants.items()
    }
    bad = runner.invoke(app, ["report", "--store", store, "--since", "soon"])
    assert bad.exit_code == 2 and "report.invalid_option" in bad.output
    missing = runner.invoke(app, ["report", "--store", str(tmp_path / "none.db")])
    assert missing.exit_code == 2
    unwritable = runner.invoke(
        app, ["report", "--store", store, "--out", str(tmp_path / "no" / "r.html")]
    )
    assert unwritable.exit_code == 2 and "report.write_failed" in unwritable.output


def test_perception_figures_agree_with_the_sample_on_both_backends(store_url: str) -> None:
    sample = generate_sample(persons=40, seed=3, now=NOW)
    consenting = {p.id for p in sample.persons if p.consent.granted}
    since = NOW - timedelta(days=90)
    seen = [
        p for p in sample.perceptions if p.person_id in consenting and since <= p.occurred_at <= NOW
    ]
    with _sampled_store(store_url) as store:
        profile_and_save(store, NOW)
        report = build_report(store, ReportOptions(since=timedelta(days=90)))
    by_channel = {c.channel: c for c in report.channels}
    for channel in {p.channel.value for p in seen}:
        mine = [p for p in seen if p.channel.value == channel]
        assert by_channel[channel].perceptions == len(mine)
        expected = sum(p.emotions.anger for p in mine) / len(mine)
        assert by_channel[channel].emotions["anger"] == pytest.approx(expected, abs=1e-4)
    assert report.scores.nps.histogram == [
        sum(1 for p in seen if p.nps is not None and p.nps.value == v) for v in range(11)
    ]
    assert sum(r.answers for r in report.scores.csat) == sum(1 for p in seen if p.csat)
    assert sum(r.answers for r in report.scores.ces) == sum(1 for p in seen if p.ces)
    assert report.meta.persons == 40 and report.meta.consenting == len(consenting)
    assert report.meta.profiled == 40
    names = {p.id: p.display_name for p in sample.persons}
    assert all(
        dot.label == (names[dot.person_id] or dot.person_id) for dot in report.loyalty_map.dots
    )


def test_a_large_map_is_a_sample_over_a_density_with_people_and_pairs_drawn() -> None:
    from relcrm.report.quadrants import MapBuilder, Point, Quadrant

    builder = MapBuilder(max_dots=10)
    for index in range(200):
        attitude = -0.9 + (index % 19) * 0.1
        loyalty = 0.9 if index % 2 else 0.2
        quadrant = Quadrant.DELIGHTED if attitude >= 0.2 else Quadrant.TRAPPED
        if loyalty < 0.5:
            quadrant = Quadrant.LATENT if attitude >= 0.2 else Quadrant.DRIFTING
        builder.add(Point(f"p{index:03d}", attitude, loyalty, "loyal", quadrant, 50.0))
    builder.pin(Point("p000", -0.9, 0.2, "drifting", Quadrant.DRIFTING, 5.0))
    dots, sampled = builder.dots({"p000": "Ann"})
    assert sampled and 10 < len(dots) < 30
    assert sum(map(sum, builder.density)) == 200
    assert next(d for d in dots if d.person_id == "p000").label == "Ann"
    pairs = builder.pairs()
    assert pairs and all(p.attitude_gap > 0 for p in pairs)
    drawn = {d.person_id for d in dots}
    assert all(p.delighted in drawn and p.trapped in drawn for p in pairs)
