"""The column mapping of a survey export: which column says what.

A survey export is a table whose columns only its author understands (``Q1``, ``Q7_3``,
"How likely are you to recommend us?"). The mapping file (TOML, read by ``tomllib``)
says which column identifies the respondent, which one holds the response id and time
(with the time zone of the export's naive times: it must be declared, since guessing it
shifts every answer by hours), and which hold NPS, CSAT, CES and free-text answers with
their scales. It is validated here, and its JSON Schema is published for editors.
"""

from __future__ import annotations

import codecs
import os
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from relcrm.errors import FieldProblem, InvalidFileError
from relcrm.models import CesDirection, problems_from

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"

Column = Annotated[str, StringConstraints(min_length=1, max_length=500)]
"""A column as the export names it: a Qualtrics column id (``Q1``) or question text,
a SurveyMonkey question text (``"Question | Sub-answer"`` for one of its sub-columns),
or a plain CSV header."""


class Flavour(StrEnum):
    """Which tool wrote the export: it decides how many header rows there are."""

    AUTO = "auto"
    QUALTRICS = "qualtrics"
    SURVEYMONKEY = "surveymonkey"
    PLAIN = "plain"


DEFAULT_SOURCE_SYSTEMS: Final[dict[Flavour, str]] = {
    Flavour.QUALTRICS: "qualtrics",
    Flavour.SURVEYMONKEY: "surveymonkey",
    Flavour.PLAIN: "survey",
}
"""``source_system`` of the perceptions when the mapping does not name one."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Respondent(_Strict):
    """Who answered: exactly one of ``email``, ``person_id`` or ``crm_id`` (a column)."""

    email: Column | None = Field(default=None, description="column with the email address")
    person_id: Column | None = Field(default=None, description="column with a relcrm person id")
    crm_id: Column | None = Field(default=None, description="column with a CRM record id")
    crm_system: str | None = Field(default=None, description="with crm_id: e.g. salesforce")
    crm_object: str | None = Field(default=None, description="with crm_id: e.g. Contact")

    @model_validator(mode="after")
    def _one_identity(self) -> Self:
        given = [name for name in ("email", "person_id", "crm_id") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError(
                "name exactly one respondent column: email, person_id or crm_id "
                f"(got {', '.join(given) or 'none'})"
            )
        if self.crm_id and not (self.crm_system and self.crm_object):
            raise ValueError("crm_id needs crm_system and crm_object (e.g. salesforce, Contact)")
        return self


class Response(_Strict):
    """Which response it was and when it was given."""

    id: Column = Field(description="column with the response id (ResponseId, Respondent ID)")
    time: Column = Field(description="column with the response time")
    time_format: str = Field(
        default="iso",
        description='"iso" (2026-11-02 14:05:00, offsets allowed) or a strptime format, '
        'e.g. "%m/%d/%Y %I:%M:%S %p"',
    )
    time_zone: str | None = Field(
        default=None,
        description="IANA zone of the export's naive times, e.g. Europe/London (required)",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError(
                'declare the time zone of the export\'s times, e.g. time_zone = "Europe/London"'
                " (exports hold naive local times)"
            )
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as Europe/London or UTC"
            ) from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _zone_is_required(cls, data: Any) -> Any:
        # A missing key must reach the validator above (which explains it), not stop at
        # pydantic's bare "Field required".
        if isinstance(data, dict) and "time_zone" not in data:
            return {**data, "time_zone": None}
        return data

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone or "UTC")


class Question(_Strict):
    """One answer column and what it means."""

    column: Column
    kind: Literal["nps", "csat", "ces", "text"]
    nps_kind: Literal["relational", "transactional"] = Field(
        default="transactional", description="nps only"
    )
    scale_min: int | None = Field(
        default=None, description="csat (default 1) or ces with a direction"
    )
    scale_max: int | None = Field(
        default=None, description="csat (default 5) or ces with a direction"
    )
    version: Literal["1.0", "2.0"] | None = Field(
        default=None, description="ces: 1.0 is effort 1-5, 2.0 ease 1-7"
    )
    direction: CesDirection | None = Field(
        default=None,
        description="ces: effort (higher is harder) or ease (higher is easier), with the scale",
    )

    @model_validator(mode="after")
    def _options_fit_kind(self) -> Self:
        if self.kind == "ces":
            declared = self.direction is not None
            if self.version is None and not (
                declared and self.scale_min is not None and self.scale_max is not None
            ):
                raise ValueError(
                    'a CES question needs its version ("1.0": effort 1-5, "2.0": ease 1-7) '
                    'or a direction ("effort" or "ease") with scale_min and scale_max'
                )
            if self.version is not None and (declared or self.scale_min or self.scale_max):
                raise ValueError(
                    "a CES question takes either a version or a direction with its scale, not both"
                )
        else:
            if self.version is not None or self.direction is not None:
                raise ValueError("version and direction apply to CES questions only")
            if self.kind != "csat" and (self.scale_min is not None or self.scale_max is not None):
                raise ValueError("scale_min and scale_max apply to CSAT and CES questions only")
        low, high = self.scale_min or 1, self.scale_max or 5
        if self.kind in ("csat", "ces") and high <= low:
            raise ValueError(f"scale_max ({high}) must be greater than scale_min ({low})")
        return self

    def ces_scale(self) -> dict[str, object]:
        """The CES score's scale keys, as this question declares them."""
        if self.version is not None:
            return {"version": self.version}
        return {
            "scale_min": self.scale_min,
            "scale_max": self.scale_max,
            "direction": self.direction,
        }


class ConsentColumn(_Strict):
    """A column whose yes/no (true/false, 1/0) answer is the respondent's consent."""

    column: Column
    source: str | None = Field(
        default=None,
        max_length=200,
        description='where the consent was given; default "<source system> survey <survey>"',
    )


class SurveyColumns(_Strict):
    """A survey export's column mapping."""

    survey: Annotated[str, StringConstraints(min_length=1, max_length=80)] = Field(
        description="the survey's name: part of every response's provenance"
    )
    flavour: Flavour = Flavour.AUTO
    source_system: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = Field(
        default=None, description="default: qualtrics, surveymonkey, or survey for plain CSV"
    )
    encoding: str | None = Field(default=None, description="default: detected")
    delimiter: Literal[",", ";", "\t", "|"] | None = Field(
        default=None, description="default: sniffed"
    )
    respondent: Respondent
    response: Response
    questions: list[Question] = Field(min_length=1)
    consent: ConsentColumn | None = None
    touchpoint: str | None = Field(default=None, max_length=80, description="for every row")
    touchpoint_column: Column | None = None
    topic: str | None = Field(default=None, max_length=80, description="for every row")
    topic_column: Column | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                f"unknown encoding {value!r}: use a Python codec name such as utf-8, "
                "utf-16 or cp1252, or leave it out to have it detected"
            ) from None
        return value

    @model_validator(mode="after")
    def _columns_named_once(self) -> Self:
        questions = [q.column for q in self.questions]
        twice = sorted({c for c in questions if questions.count(c) > 1})
        if twice:
            raise ValueError(f"questions name these columns twice: {', '.join(twice)}")
        if self.touchpoint and self.touchpoint_column:
            raise ValueError("give touchpoint or touchpoint_column, not both")
        if self.topic and self.topic_column:
            raise ValueError("give topic or topic_column, not both")
        return self

    def system(self, flavour: Flavour) -> str:
        """The source system of the perceptions, for the export's (detected) flavour."""
        return self.source_system or DEFAULT_SOURCE_SYSTEMS.get(flavour, "survey")

    def columns(self) -> list[str]:
        """Every column the mapping reads, each once, in the order they are checked."""
        named = [
            self.respondent.email or self.respondent.person_id or self.respondent.crm_id,
            self.response.id,
            self.response.time,
            *(q.column for q in self.questions),
            self.consent.column if self.consent else None,
            self.touchpoint_column,
            self.topic_column,
        ]
        return list(dict.fromkeys(c for c in named if c))


class SurveyColumnsError(InvalidFileError):
    """A column mapping that cannot be used: it names the file and each bad key."""

    code = "config.invalid_survey_columns"
    default_hint = "fix the column mapping and run again"
    kind = "survey columns"
    empty_detail = "invalid column mapping"


def survey_columns_from(
    data: Mapping[str, Any], *, origin: str = "<survey columns>"
) -> SurveyColumns:
    """A mapping from already-parsed data (a dict), with the file's error messages."""
    try:
        return SurveyColumns.model_validate(data)
    except ValidationError as error:
        raise SurveyColumnsError(origin, problems_from(error)) from None


def parse_survey_columns(text: str, *, origin: str = "<survey columns>") -> SurveyColumns:
    """A mapping from TOML text; ``origin`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        problem = FieldProblem("(file)", f"not valid TOML: {error}")
        raise SurveyColumnsError(origin, [problem]) from None
    return survey_columns_from(data, origin=origin)


def load_survey_columns(path: str | os.PathLike[str]) -> SurveyColumns:
    """Read and validate the column mapping file at ``path`` (UTF-8 TOML)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise SurveyColumnsError(
            str(file), [FieldProblem("(file)", f"cannot be read: {error}")]
        ) from None
    return parse_survey_columns(text, origin=str(file))


def survey_columns_json_schema() -> dict[str, Any]:
    """The column mapping's JSON Schema (draft 2020-12), for editors to complete and check."""
    schema = SurveyColumns.model_json_schema(mode="validation")
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "relcrm survey columns",
        **{k: v for k, v in schema.items() if k != "title"},
    }
