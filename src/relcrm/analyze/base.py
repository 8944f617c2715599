"""What every analyzer offers: a name, a version, and ``analyze(text) -> TextAnalysis``."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from relcrm.models import TextAnalysis


@runtime_checkable
class Analyzer(Protocol):
    """A text analyzer plugin.

    Its ``name`` and ``version`` go into each perception's provenance, so a score can be
    traced to the code that made it. ``analyze`` must be deterministic, work offline,
    and return a neutral analysis with confidence 0 for empty text.
    """

    name: str
    version: str

    def analyze(self, text: str) -> TextAnalysis: ...
