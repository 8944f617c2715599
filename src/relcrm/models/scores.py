"""Survey scores with their scales: a number means nothing without its scale and version."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, model_validator

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


SCALE_LIMIT = 1_000_000
"""A scale's ends lie within a million either way: far beyond any questionnaire, and within
the 32-bit integers a store keeping perceptions in columns holds them as."""


ScaleEnd = Annotated[int, Field(ge=-SCALE_LIMIT, le=SCALE_LIMIT)]


class CsatScore(FrozenModel):
    """'How satisfied were you?' on a declared scale, 1-5 unless said otherwise."""

    value: float
    scale_min: ScaleEnd = Field(default=1, description="lowest answer on the scale")
    scale_max: ScaleEnd = Field(default=5, description="highest answer on the scale")

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


CesDirection = Literal["effort", "ease"]
"""Which way a CES scale points: ``effort`` (higher is harder) or ``ease`` (higher is easier)."""

CES_VERSIONS: dict[str, tuple[int, int, CesDirection]] = {
    "1.0": (1, 5, "effort"),
    "2.0": (1, 7, "ease"),
}
"""The two published CES versions as shorthands for a scale and a direction."""


class CesScore(FrozenModel):
    """Customer effort, with its scale and the direction the scale points.

    The direction flips between questionnaires, so it is never guessed:

    - ``{"value": 6, "scale_min": 1, "scale_max": 7, "direction": "effort"}``: how much
      effort it took, higher is harder (common in the field on 1-5 and 1-7);
    - ``{"value": 6, "scale_min": 1, "scale_max": 7, "direction": "ease"}``: agreement with
      "they made it easy", higher is easier;
    - ``{"value": 2, "version": "1.0"}`` is shorthand for effort on 1-5 (Dixon et al. 2010),
      ``{"value": 6, "version": "2.0"}`` for ease on 1-7 (CES 2.0, 2013).

    Either a version or a direction is required; a version and an explicit scale or
    direction must agree, so effort answers sent as CES 2.0 are refused, not inverted.
    """

    model_config = ConfigDict(
        **FrozenModel.model_config, json_schema_extra=lambda schema: _ces_schema(schema)
    )

    value: float
    version: Literal["1.0", "2.0"] | None = Field(
        default=None, description='shorthand: "1.0" is effort on 1-5, "2.0" ease on 1-7'
    )
    scale_min: ScaleEnd = Field(description="lowest answer on the scale (set by a version)")
    scale_max: ScaleEnd = Field(description="highest answer on the scale (set by a version)")
    direction: CesDirection = Field(
        description="effort: higher is harder; ease: higher is easier (set by a version)"
    )

    @model_validator(mode="before")
    @classmethod
    def _expand_version(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        version = data.get("version")
        # Any other value (a list or object included) is left to the field's own error.
        if not isinstance(version, str) or version not in CES_VERSIONS:
            if version is None:
                missing = [k for k in ("direction", "scale_min", "scale_max") if k not in data]
                if missing:
                    raise ValueError(
                        f"CES needs {', '.join(missing)}: declare the scale and its direction "
                        '("effort": higher is harder, "ease": higher is easier), or a version: '
                        '"1.0" (effort 1-5) or "2.0" (ease 1-7)'
                    )
            return data
        low, high, direction = CES_VERSIONS[data["version"]]
        implied = {"scale_min": low, "scale_max": high, "direction": direction}
        clashes = [
            f"{key} {data[key]!r}"
            for key, value in implied.items()
            if data.get(key) is not None and data[key] != value
        ]
        if clashes:
            raise ValueError(
                f"CES version {data['version']} means {direction} on {low}-{high}, but "
                f"{' and '.join(clashes)} was given; drop the version and declare "
                "scale_min, scale_max and direction"
            )
        return {**data, **implied}

    @model_validator(mode="after")
    def _fits_scale(self) -> Self:
        if self.scale_max <= self.scale_min:
            raise ValueError(
                f"scale_max ({self.scale_max}) must be greater than scale_min ({self.scale_min})"
            )
        if not self.scale_min <= self.value <= self.scale_max:
            label = f"CES {self.version}" if self.version else f"CES ({self.direction})"
            raise ValueError(
                f"{label} {self.value:g} is outside its scale {self.scale_min}-{self.scale_max}"
            )
        return self

    @property
    def valence(self) -> float:
        """-1 (hardest) .. +1 (easiest), linear on the declared scale."""
        position = (self.value - self.scale_min) / (self.scale_max - self.scale_min)
        return 2.0 * position - 1.0 if self.direction == "ease" else 1.0 - 2.0 * position


def _ces_schema(schema: dict[str, Any]) -> None:
    """In the published schema, a version stands in for the scale and direction."""
    schema["required"] = ["value"]
    schema["anyOf"] = [
        {"required": ["version"]},
        {"required": ["scale_min", "scale_max", "direction"]},
    ]
