"""Analyzers are plugins found through the ``relcrm.analyzers`` entry points."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from relcrm.analyze import (
    DEFAULT_ANALYZER,
    Analyzer,
    CxAnalyzer,
    LinearAnalyzer,
    VaderAnalyzer,
    analyzer_named,
    available_analyzers,
    default_analyzer,
)
from relcrm.errors import ConfigurationError


def test_entry_point_registers_the_default() -> None:
    found = {entry.name: entry.value for entry in entry_points(group="relcrm.analyzers")}
    assert found["relcrm-cx"] == "relcrm.analyze.cx:CxAnalyzer"
    assert found["vader"] == "relcrm.analyze.vader:VaderAnalyzer"


def test_available_analyzers_is_sorted_and_includes_ours() -> None:
    names = available_analyzers()
    assert names == sorted(names)
    assert {"relcrm-linear", "relcrm-cx", "vader"} <= set(names)


def test_default_analyzer_is_the_linear_analyzer() -> None:
    analyzer = default_analyzer()
    assert DEFAULT_ANALYZER == "relcrm-linear"
    assert isinstance(analyzer, LinearAnalyzer)
    assert isinstance(analyzer, Analyzer)
    assert analyzer.name == "relcrm-linear"
    result = analyzer.analyze("Five stars, would buy again.")
    assert (result.analyzer, result.analyzer_version) == (analyzer.name, analyzer.version)
    assert result.valence > 0.3


def test_the_cx_analyzer_stays_selectable() -> None:
    analyzer = analyzer_named("relcrm-cx")
    assert isinstance(analyzer, CxAnalyzer)
    assert analyzer.version.startswith("1.0.0+vader-3.")
    assert analyzer.analyze("Five stars, would buy again.").valence > 0.5


def test_analyzers_are_created_once() -> None:
    assert analyzer_named("relcrm-cx") is analyzer_named("relcrm-cx")


def test_vader_baseline_by_name() -> None:
    analyzer = analyzer_named("vader")
    assert isinstance(analyzer, VaderAnalyzer)
    assert analyzer.analyze("Great, another outage.").valence > 0  # VADER misses sarcasm


def test_unknown_name_lists_the_installed_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        analyzer_named("nrc-lexicon")
    error = caught.value
    assert error.code == "config.unknown_analyzer"
    assert "'nrc-lexicon'" in error.message
    assert "relcrm-cx" in error.message and "vader" in error.message
    assert error.hint
    assert str(error).startswith("[config.unknown_analyzer]")
