"""Letting an analyzer read a perception's verbatim at ingest: one rule for every source.

Every ingest (interchange lines, survey exports, social posts, support cases) redacts a
verbatim first; then, when the perception carries no valence, an analyzer reads the
redacted text and :func:`with_analysis` merges its reading into the perception, with the
analyzer's name and version in the provenance. A perception that carries a valence is
stored as the source gave it, and costs nothing here.

Analyzers are named (``relcrm.analyze.analyzer_named``) where work crosses a process
boundary: a name pickles, and each process loads its own analyzer once
(:func:`analyzer_for`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from relcrm.analyze import analyzer_named, available_analyzers
from relcrm.models import Perception, PerceptionFlags, TextAnalysis

Analyzer = Callable[[str], TextAnalysis]
"""Reads a (redacted) verbatim: any function from text to :class:`TextAnalysis`."""


def text_to_analyze(perception: Perception) -> str | None:
    """The verbatim an analyzer should read: the perception's, when it has one and no
    valence; otherwise None (nothing to read, or the source said how it sounds)."""
    if perception.valence is None and perception.verbatim:
        return perception.verbatim
    return None


def with_analysis(perception: Perception, analysis: TextAnalysis) -> Perception:
    """The perception with what the analyzer read; structural signals the source set
    (a case's arousal floor, churn intent, sarcasm, trapped) are kept where they are
    stronger. The analyzer's name and version go into the provenance."""
    arousal = analysis.arousal
    if perception.arousal is not None:
        arousal = max(arousal, perception.arousal)
    flags = PerceptionFlags(
        churn_intent=perception.flags.churn_intent or analysis.flags.churn_intent,
        sarcasm=perception.flags.sarcasm or analysis.flags.sarcasm,
        trapped=perception.flags.trapped or analysis.flags.trapped,
    )
    provenance = perception.provenance.model_copy(
        update={"analyzer": analysis.analyzer, "analyzer_version": analysis.analyzer_version}
    )
    return perception.model_copy(
        update={
            "valence": analysis.valence,
            "arousal": arousal,
            "emotions": analysis.emotions,
            "flags": flags,
            "confidence": analysis.confidence,
            "provenance": provenance,
        }
    )


def check_analyzer(name: str) -> None:
    """Raise :class:`relcrm.errors.ConfigurationError` (``config.unknown_analyzer``, naming
    the installed ones) unless an analyzer is installed under ``name``. Loads nothing."""
    if name not in available_analyzers():
        analyzer_named(name)  # raises, with the installed names and a hint


@cache
def analyzer_for(name: str) -> Analyzer:
    """The ``analyze`` of the analyzer installed under ``name``, loaded once per process
    (a worker process loads its own the first time it needs it)."""
    return analyzer_named(name).analyze
