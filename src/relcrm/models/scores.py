"""Survey scores with their scales: a number means nothing without its scale and version."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import Field, model_validator

from relcrm.models._base import FrozenModel


class NpsCategory(StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


def nps_category(value: int) -> NpsCategory:
    """Promoter 9-10, passive 7-8, detractor 0-6 (Reichheld)."""
    if value >= 9:
        return NpsCategory.PROMOTER
    if value >= 7:
        return NpsCategory.PASSIVE
    return NpsCategory.DETRACTOR


class NpsScore(FrozenModel):
    """'How likely are you to recommend us?' on the fixed 0-10 scale (Reichheld 2003)."""

    value: int = Field(ge=0, le=10, description="0 (not at all likely) to 10 (extremely likely)")
    kind: Literal["relational", "transactional"] = Field(
        default="transactional",
        description="relational: asked periodically about the whole relationship; "
        "transactional: asked after one touchpoint",
    )

    @property
    def category(self) -> NpsCategory:
        return nps_category(self.value)


class CsatScore(FrozenModel):
    """'How satisfied were you?' on a declared scale, 1-5 unless said otherwise."""

    value: float
    scale_min: int = 1
    scale_max: int = 5

    @model_validator(mode="after")
    def _fits_scale(self) -> Self:
        if self.scale_max <= self.scale_min:
            raise ValueError(
                f"scale_max ({self.scale_max}) must be greater than scale_min ({self.scale_min})"
            )
        if not self.scale_min <= self.value <= self.scale_max:
            raise ValueError(
                f"CSAT {self.value:g} is outside its scale {self.scale_min}-{self.scale_max}"
            )
        return self


class CesScore(FrozenModel):
    """Customer effort. The direction flips between versions, so the version is required.

    - ``"1.0"``: effort on 1-5, higher means *more* effort (worse).
    - ``"2.0"``: agreement with "they made it easy" on 1-7, higher means *easier* (better).
    """

    value: float
    version: Literal["1.0", "2.0"]

    @property
    def scale_min(self) -> int:
        return 1

    @property
    def scale_max(self) -> int:
        return 5 if self.version == "1.0" else 7

    @model_validator(mode="after")
    def _fits_scale(self) -> Self:
        if not self.scale_min <= self.value <= self.scale_max:
            raise ValueError(
                f"CES {self.version} {self.value:g} is outside its scale "
                f"{self.scale_min}-{self.scale_max}"
            )
        return self
