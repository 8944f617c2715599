"""Analyzers are plugins: found through the ``relcrm.analyzers`` entry-point group.

A third-party package adds an analyzer by declaring, in its own pyproject::

    [project.entry-points."relcrm.analyzers"]
    my-analyzer = "mypackage.analyzer:MyAnalyzer"

The entry point names a class that takes no arguments. relcrm's own analyzers are
registered the same way, so nothing is special-cased.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from relcrm.analyze.base import Analyzer
from relcrm.errors import ConfigurationError

GROUP = "relcrm.analyzers"
DEFAULT_ANALYZER = "relcrm-linear"


def _entry_points() -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group=GROUP)}


def available_analyzers() -> list[str]:
    """Names of the installed analyzers, sorted."""
    return sorted(_entry_points())


def analyzer_named(name: str) -> Analyzer:
    """The analyzer registered under ``name``, created once and then shared.

    Raises :class:`ConfigurationError` (``config.unknown_analyzer``) naming the installed
    ones when there is none.
    """
    found = _entry_points().get(name)
    if found is None:
        installed = ", ".join(available_analyzers()) or "none"
        raise ConfigurationError(
            f"no analyzer named {name!r} is installed (installed: {installed})",
            code="config.unknown_analyzer",
            hint="use one of the installed names, or install the package that provides it",
        )
    return _load(found)


@cache
def _load(found: EntryPoint) -> Analyzer:
    factory = found.load()
    if not callable(factory):
        raise ConfigurationError(
            f"the analyzer entry point {found.name!r} does not name a class ({found.value})",
            code="config.bad_analyzer_entry_point",
        )
    analyzer = factory()
    if not isinstance(analyzer, Analyzer):
        raise ConfigurationError(
            f"the analyzer {found.name!r} ({found.value}) lacks name, version or analyze()",
            code="config.bad_analyzer_entry_point",
            hint="an analyzer needs name and version strings and analyze(text) -> TextAnalysis",
        )
    return analyzer


def default_analyzer() -> Analyzer:
    """relcrm's default offline analyzer: the linear model over words, character n-grams,
    CX cues and lexicon scores (``relcrm-linear``; docs/analyzer.md is its model card)."""
    return analyzer_named(DEFAULT_ANALYZER)
