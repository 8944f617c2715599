"""What an analyzer reads in a text: the vocabulary between ``analyze`` and the rest.

It lives in ``models`` so that the ingest (in ``sync``) can apply any analyzer to the
perceptions a source produced, without a source ever importing an analyzer.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from relcrm.models._base import FrozenModel
from relcrm.models.emotions import EmotionIntensities
from relcrm.models.perception import PerceptionFlags


class TextAnalysis(FrozenModel):
    """How a text sounds: valence, arousal, emotions, flags, and how sure the analyzer is.

    ``cues`` are short, plain phrases naming what the analyzer reacted to ("negated
    praise", "contract lock-in"), so a reason can be explained; they never quote the text.
    """

    valence: float = Field(ge=-1.0, le=1.0)
    arousal: float = Field(ge=0.0, le=1.0)
    emotions: EmotionIntensities = EmotionIntensities()
    flags: PerceptionFlags = PerceptionFlags()
    confidence: float = Field(ge=0.0, le=1.0)
    analyzer: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    analyzer_version: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2,3}$",
        description="ISO 639 code of the language the analyzer took the text for",
    )
    cues: tuple[str, ...] = ()
