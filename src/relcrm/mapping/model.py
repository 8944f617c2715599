"""The admin's mapping file: which profile attribute feeds which CRM field, and how.

The file is TOML (read by the standard library's ``tomllib``, so no new dependency) and
is validated by the pydantic models below, whose JSON Schema is published so editors
complete and check the file as it is typed. Everything that can be checked without
the CRM is checked on load: the attribute a field reads exists, the transform suits
that attribute and the field's type, a text has a length, a number its precision, a
picklist its values, no field is named twice. A mapping that loads can only still fail
against the live CRM schema (``relcrm mapping check``, a later step).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping as AbstractMapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Final, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from relcrm.errors import FieldProblem, InvalidFileError, shorten
from relcrm.mapping.outreach import OutreachSettings
from relcrm.mapping.sources import (
    CONSTANT,
    SOURCE_PATHS,
    SourceInfo,
    SourceKind,
    SourceOrigin,
    source_info,
)
from relcrm.models import FieldSpec, FieldType, FieldValue, Person, problems_from

FORMAT_VERSION: Final = 1
"""The mapping file format this relcrm reads; a later format gets a new number."""

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"


class _Strict(BaseModel):
    """Frozen and closed to unknown keys, so a misspelt key is an error, not ignored.

    Unlike the data models it does not strip whitespace: a separator of ``"\\n"`` or
    ``" · "`` is meant exactly as written.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- transforms


class _Transform(_Strict):
    """A transform turns the source value into what the field takes, before coercion."""

    accepts: ClassVar[frozenset[SourceKind]]

    def result_kind(self, kind: SourceKind) -> SourceKind:
        """The kind of value the transform yields from a ``kind`` source."""
        return SourceKind.TEXT


class JoinReasons(_Transform):
    """The reasons (up to four sentences) as one text, for a long text field."""

    kind: Literal["join_reasons"]
    separator: str = Field(default="\n", description="put between two reasons")
    accepts: ClassVar[frozenset[SourceKind]] = frozenset({SourceKind.TEXTS})


class JoinTopics(_Transform):
    """The pet peeves' topics (worst first), or a person's chosen topics
    (``preferences.topic``), as one text, for a text field."""

    kind: Literal["join_topics"]
    separator: str = Field(default="; ", description="put between two topics")
    limit: int | None = Field(default=None, ge=1, description="keep at most this many topics")
    accepts: ClassVar[frozenset[SourceKind]] = frozenset({SourceKind.TOPICS, SourceKind.WORDS})


class Round(_Transform):
    """Round to fewer digits than the field keeps (the field's scale rounds anyway)."""

    kind: Literal["round"]
    digits: int = Field(default=0, ge=0, le=10)
    accepts: ClassVar[frozenset[SourceKind]] = frozenset({SourceKind.NUMBER})

    def result_kind(self, kind: SourceKind) -> SourceKind:
        return SourceKind.NUMBER


class Scale0To100(_Transform):
    """A -1..1 quantity (attitude, public advocacy) as 0..100, the scale a report reads."""

    kind: Literal["scale_0_100"]
    accepts: ClassVar[frozenset[SourceKind]] = frozenset({SourceKind.NUMBER})

    def result_kind(self, kind: SourceKind) -> SourceKind:
        return SourceKind.NUMBER


class FormatDate(_Transform):
    """A moment as text in UTC (``strftime`` format), for a text field."""

    kind: Literal["format_date"]
    format: str = Field(default="%Y-%m-%d", min_length=1, description="strftime format, UTC")
    accepts: ClassVar[frozenset[SourceKind]] = frozenset({SourceKind.DATETIME})


class Lower(_Transform):
    """Lower-case a text or a choice (the values map then uses the lower-cased words)."""

    kind: Literal["lower"]
    accepts: ClassVar[frozenset[SourceKind]] = frozenset({SourceKind.TEXT, SourceKind.CHOICE})

    def result_kind(self, kind: SourceKind) -> SourceKind:
        return kind


class Upper(_Transform):
    """Upper-case a text or a choice (the values map then uses the upper-cased words)."""

    kind: Literal["upper"]
    accepts: ClassVar[frozenset[SourceKind]] = frozenset({SourceKind.TEXT, SourceKind.CHOICE})

    def result_kind(self, kind: SourceKind) -> SourceKind:
        return kind


TransformName = Literal[
    "join_reasons", "join_topics", "round", "scale_0_100", "format_date", "lower", "upper"
]
"""A transform without options may be written as its bare name: ``transform = "lower"``."""

AnyTransform = Annotated[
    JoinReasons | JoinTopics | Round | Scale0To100 | FormatDate | Lower | Upper,
    Field(discriminator="kind"),
]


def _transform_shorthand(value: Any) -> Any:
    return {"kind": value} if isinstance(value, str) else value


Transform = Annotated[
    AnyTransform,
    BeforeValidator(_transform_shorthand, json_schema_input_type=AnyTransform | TransformName),
]


# --------------------------------------------------------------------------- fields

_TEXT_TYPES: Final = frozenset({FieldType.TEXT, FieldType.LONG_TEXT})
_NUMBER_TYPES: Final = frozenset({FieldType.NUMBER, FieldType.PERCENT})

_FITS: Final[dict[FieldType, frozenset[SourceKind]]] = {
    FieldType.TEXT: frozenset(SourceKind) - {SourceKind.TEXTS, SourceKind.TOPICS, SourceKind.GROUP},
    FieldType.NUMBER: frozenset({SourceKind.NUMBER}),
    FieldType.CHECKBOX: frozenset({SourceKind.BOOL}),
    FieldType.DATE: frozenset({SourceKind.DATETIME}),
    FieldType.PICKLIST: frozenset({SourceKind.CHOICE, SourceKind.TEXT}),
    FieldType.MULTI_PICKLIST: frozenset({SourceKind.WORDS, SourceKind.CHOICE, SourceKind.TEXT}),
}
_FITS[FieldType.LONG_TEXT] = _FITS[FieldType.TEXT]
_FITS[FieldType.PERCENT] = _FITS[FieldType.NUMBER]
_FITS[FieldType.DATETIME] = _FITS[FieldType.DATE]

_NEEDS: Final = {
    SourceKind.TEXTS: 'transform = "join_reasons"',
    SourceKind.TOPICS: 'transform = "join_topics"',
    SourceKind.WORDS: 'type = "multi_picklist", or a text field (the words joined by "; ")',
}
_PICKLISTS: Final = frozenset({FieldType.PICKLIST, FieldType.MULTI_PICKLIST})

ConstantValue = str | bool | int | float
"""A constant a field receives for every person (``value = "relcrm"``)."""

_CONSTANT_KINDS: Final[tuple[tuple[type, SourceKind], ...]] = (
    (bool, SourceKind.BOOL),  # before int: a bool is an int to Python
    (int, SourceKind.NUMBER),
    (float, SourceKind.NUMBER),
    (str, SourceKind.TEXT),
)


def _constant_shorthand(data: Any) -> Any:
    """``value = ...`` alone means ``source = "constant"``: the admin writes one key."""
    if isinstance(data, dict) and "value" in data and "source" not in data:
        return {**data, "source": CONSTANT}
    return data


"""The transform that makes a list source fit one field, offered in the error."""


def _invalid(code: str, problems: list[FieldProblem]) -> PydanticCustomError:
    """A validation error that carries its problems, each with its own sub-path.

    pydantic places a model validator's error at the model, not at the key at fault;
    the problems ride along in the error's context and :func:`mapping_problems`
    spreads them out to ``fields[3].length`` and the like.
    """
    detail = "; ".join(str(p) for p in problems)
    return PydanticCustomError(code, "{detail}", {"detail": detail, "problems": tuple(problems)})


class FieldMapping(_Strict):
    """One CRM field: its name and shape, the source that feeds it, and how."""

    name: Annotated[
        str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^#\s]\S*$")
    ] = Field(description="the field's API name in the CRM (relcrm_Health__c, relcrm_health)")
    source: str = Field(
        description="what feeds the field: a RelationshipProfile attribute (trend.direction), "
        "a preference (preferences.channel), a behaviour fact (facts.renewals), or "
        '"constant" (implied by value)',
        json_schema_extra={"enum": list(SOURCE_PATHS)},
    )
    value: ConstantValue | None = Field(
        default=None,
        description='a constant sent for every person (source = "constant" is implied)',
    )
    type: FieldType = Field(description="the field's type, in relcrm's CRM-neutral words")
    label: str | None = Field(default=None, description="the label a CRM user sees")
    length: int | None = Field(default=None, ge=1, description="characters (text fields)")
    precision: int | None = Field(default=None, ge=1, description="digits in all (numbers)")
    scale: int | None = Field(default=None, ge=0, description="digits after the point (numbers)")
    picklist: tuple[str, ...] = Field(default=(), description="the CRM's picklist values")
    values: dict[str, str] = Field(
        default_factory=dict,
        description="relcrm's value -> the CRM's picklist value (at_risk = 'At Risk')",
    )
    restricted: bool = Field(
        default=False, description="the CRM refuses values outside the picklist"
    )
    transform: Transform | None = Field(default=None, description="applied before coercion")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return _constant_shorthand(data)

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        source_info(value)
        return value

    @property
    def info(self) -> SourceInfo:
        """What the source holds; a constant's kind is its value's."""
        info = source_info(self.source)
        if info.origin is SourceOrigin.CONSTANT and self.value is not None:
            kind = next(k for t, k in _CONSTANT_KINDS if isinstance(self.value, t))
            return SourceInfo(CONSTANT, kind, False, (), SourceOrigin.CONSTANT)
        return info

    @property
    def source_kind(self) -> SourceKind:
        """The kind of value the field receives: the source's, after the transform."""
        kind = self.info.kind
        return self.transform.result_kind(kind) if self.transform is not None else kind

    def choices(self) -> tuple[str, ...]:
        """The words a choice source can yield after the transform (empty otherwise)."""
        words = self.info.choices
        if isinstance(self.transform, Lower):
            return tuple(w.lower() for w in words)
        if isinstance(self.transform, Upper):
            return tuple(w.upper() for w in words)
        return words

    def spec(self) -> FieldSpec:
        """The field as the connectors' vocabulary describes it (to plan and provision)."""
        return FieldSpec(
            name=self.name,
            label=self.label or self.name,
            type=self.type,
            length=self.length,
            precision=self.precision,
            scale=self.scale,
            picklist_values=self.picklist,
            restricted=self.restricted,
        )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = self._problems()
        if problems:
            raise _invalid("mapping_field", problems)
        return self

    def _problems(self) -> list[FieldProblem]:
        info = self.info
        problems: list[FieldProblem] = []

        def bad(key: str, problem: str, value: object = None) -> None:
            problems.append(FieldProblem(key, problem, None if value is None else shorten(value)))

        if info.origin is SourceOrigin.CONSTANT and self.value is None:
            bad("value", 'source = "constant" needs the value to send (value = ...)')
            return problems
        if info.origin is not SourceOrigin.CONSTANT and self.value is not None:
            bad(
                "value",
                f"a field reads either a source or a constant, not both (source = {self.source})",
                self.value,
            )
            return problems

        kind = info.kind
        if self.transform is not None:
            if kind not in self.transform.accepts:
                wanted = " or ".join(sorted(self.transform.accepts))
                bad(
                    "transform",
                    f"{self.transform.kind} needs a {wanted} source, but {self.source} is a {kind}",
                    self.transform.kind,
                )
                return problems
            kind = self.transform.result_kind(kind)
        if kind not in _FITS[self.type]:
            hint = f"; add {_NEEDS[kind]}" if kind in _NEEDS and self.transform is None else ""
            bad(
                "type",
                f"a {self.type} field cannot take {self.source} (a {kind}){hint}",
                self.type.value,
            )
        if (
            isinstance(self.transform, Round)
            and self.scale is not None
            and self.transform.digits > self.scale
        ):
            bad(
                "transform",
                f"rounds to {self.transform.digits} digits but the field keeps {self.scale}",
                self.transform.digits,
            )

        if self.type in _TEXT_TYPES:
            if self.length is None:
                bad("length", f"a {self.type} field needs a length (characters)")
        elif self.length is not None:
            bad("length", f"only text fields have a length, not a {self.type} field", self.length)

        if self.type in _NUMBER_TYPES:
            if self.precision is None:
                bad("precision", f"a {self.type} field needs a precision (digits in all)")
            if self.scale is None:
                bad("scale", f"a {self.type} field needs a scale (digits after the point)")
            if (
                self.precision is not None
                and self.scale is not None
                and self.scale > self.precision
            ):
                bad("scale", f"greater than the precision ({self.precision})", self.scale)
        else:
            for key in ("precision", "scale"):
                if (given := getattr(self, key)) is not None:
                    bad(key, f"only numbers have a {key}, not a {self.type} field", given)

        if self.type in _PICKLISTS:
            if not self.picklist:
                bad("picklist", "a picklist field needs its values (picklist = [...])")
            seen: set[str] = set()
            for value in self.picklist:
                if value in seen:
                    bad("picklist", "listed twice", value)
                seen.add(value)
            choices = self.choices()
            if isinstance(self.value, str) and self.restricted:
                sent = self.values.get(self.value, self.value)
                if sent not in self.picklist:
                    bad("value", "not a value of the restricted picklist", sent)
            for key, target in self.values.items():
                if choices and key not in choices:
                    bad(
                        f"values.{key}",
                        f"{self.source} never takes this value; it takes: {', '.join(choices)}",
                        key,
                    )
                if self.picklist and target not in self.picklist:
                    bad(f"values.{key}", "maps onto a value missing from picklist", target)
        else:
            if self.picklist:
                bad("picklist", f"only picklist fields have values, not a {self.type} field")
            if self.values:
                bad("values", f"only picklist fields map values, not a {self.type} field")
            if self.restricted:
                bad("restricted", f"only picklist fields are restricted, not a {self.type} field")
        return problems


class Match(_Strict):
    """How a person is found in the CRM."""

    by: Annotated[str, StringConstraints(min_length=1, pattern=r"^\S+$")] = Field(
        default="email",
        description='"email", or the name of an external-id field holding the person id',
    )
    fallback: tuple[Annotated[str, StringConstraints(min_length=1)], ...] = Field(
        default=(),
        description="objects searched, in order, when the mapped object has no match (Lead)",
    )
    create_missing: bool = Field(
        default=False,
        description="create a record for a person no record holds the external id of "
        "(by upserting on the `by` field, whose value is the person's relcrm id); false: "
        "such persons are reported unmatched and nothing is created",
    )
    create_values: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^#\s]\S*$")],
        str | int | float | bool,
    ] = Field(
        default_factory=dict,
        description="fields the CRM requires on a new record, with fixed values sent only "
        'when relcrm creates it (Salesforce Contact: LastName = "[not provided]"); never '
        "sent to a record that exists",
    )

    @property
    def by_external_id(self) -> bool:
        """Whether persons are found by an external id field (not by email)."""
        return self.by != "email"


class ConsentField(_Strict):
    """A CRM field that holds the person's consent: read before each sync, never written.

    Where the company keeps consent in its CRM (a checkbox the privacy team maintains),
    relcrm follows it: a person whose field says no is not written, and one who withdraws
    has relcrm's fields cleared on the same sync.
    """

    field: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^\S+$")] = (
        Field(description="the field's API name (relcrm_Consent__c, HasOptedOutOfEmail)")
    )
    granted: tuple[str, ...] = Field(
        default=("true", "yes", "1", "granted", "opt-in", "opted in"),
        description="values (case-insensitive) that mean consent is granted; any other "
        "value, or an empty field, means it is not",
    )
    inverted: bool = Field(
        default=False,
        description="the field records a refusal (HasOptedOutOfEmail): granted values mean no",
    )

    def grants(self, value: object) -> bool:
        """Whether the field's ``value`` (as the CRM returned it) grants consent."""
        said = value is not None and str(value).strip().casefold() in {
            v.casefold() for v in self.granted
        }
        return said != self.inverted


class Mapping(_Strict):
    """One target: a CRM object, how persons are matched in it, and the fields written."""

    version: Literal[1] = Field(default=FORMAT_VERSION, description="mapping format version")
    target: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")] = Field(
        description="this mapping's name (sync --target NAME; the key of its sync state)"
    )
    connector: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")] = Field(
        description='"salesforce", "hubspot", or another connector\'s registered name',
        examples=["salesforce", "hubspot"],
    )
    object: Annotated[str, StringConstraints(min_length=1, pattern=r"^\S+$")] = Field(
        description="the CRM object written (Contact, Lead, contacts)"
    )
    match: Match = Field(default_factory=Match)
    consent: ConsentField | None = Field(
        default=None, description="a CRM field that holds consent (read, never written)"
    )
    fields: tuple[FieldMapping, ...] = Field(
        description="the CRM fields written, each fed by one profile attribute",
        json_schema_extra={"minItems": 1},
    )
    outreach: OutreachSettings = Field(
        default_factory=OutreachSettings,
        description="follow-up tasks for the record's owner (relcrm.mapping.outreach)",
    )

    @field_validator("fields")
    @classmethod
    def _some_fields(cls, value: tuple[FieldMapping, ...]) -> tuple[FieldMapping, ...]:
        # Checked here, not by min_length, which would also complain when items are invalid.
        if not value:
            raise ValueError("a mapping needs at least one field ([[fields]])")
        return value

    @model_validator(mode="after")
    def _unique(self) -> Self:
        problems: list[FieldProblem] = []
        first: dict[str, int] = {}
        for index, item in enumerate(self.fields):
            key = item.name.casefold()
            if key in first:
                problems.append(
                    FieldProblem(
                        f"fields[{index}].name",
                        f"already mapped by fields[{first[key]}] (CRM field names ignore case)",
                        shorten(item.name),
                    )
                )
            else:
                first[key] = index
        if self.consent is not None and self.consent.field.casefold() in first:
            problems.append(
                FieldProblem(
                    "consent.field",
                    "is also a mapped field: relcrm reads consent and never writes it",
                    shorten(self.consent.field),
                )
            )
        problems.extend(self._creation_problems(first))
        for index, name in enumerate(self.match.fallback):
            if name == self.object:
                problems.append(
                    FieldProblem(
                        f"match.fallback[{index}]",
                        "is the mapped object itself",
                        shorten(name),
                    )
                )
        if problems:
            raise _invalid("mapping", problems)
        return self

    def _creation_problems(self, mapped: AbstractMapping[str, int]) -> list[FieldProblem]:
        """``match.create_missing`` and ``match.create_values`` make sense together, with
        an external id to create by, and never name a field relcrm writes or reads."""
        match = self.match
        problems: list[FieldProblem] = []
        if match.create_missing and not match.by_external_id:
            problems.append(
                FieldProblem(
                    "match.create_missing",
                    "needs match.by to name an external id field (the created record holds "
                    "the person's relcrm id there, so the next run finds it); email cannot "
                    "key a new record",
                    "true",
                )
            )
        if match.create_values and not match.create_missing:
            problems.append(
                FieldProblem(
                    "match.create_values",
                    "only used when relcrm creates records: set match.create_missing = true "
                    "or remove it",
                )
            )
        taken = {
            match.by.casefold(): "match.by",
            **{name: "a mapped field" for name in mapped},
        }
        if self.consent is not None:
            taken[self.consent.field.casefold()] = "consent.field"
        for name in match.create_values:
            if name.casefold() in taken:
                problems.append(
                    FieldProblem(
                        f"match.create_values.{name}",
                        f"is {taken[name.casefold()]}; create_values are only for the other "
                        "fields a new record needs",
                        shorten(name),
                    )
                )
        return problems

    def field_specs(self) -> tuple[FieldSpec, ...]:
        """The fields as specs, in file order, for planning and provisioning."""
        return tuple(item.spec() for item in self.fields)

    @property
    def reads_preferences(self) -> bool:
        """Whether a field reads a stated preference: the sync engine then reads each
        person's preferences, and a new statement marks the person changed."""
        return any(item.info.origin is SourceOrigin.PREFERENCE for item in self.fields)

    def field_names(self) -> frozenset[str]:
        """The only field names a write for this target may carry."""
        return frozenset(item.name for item in self.fields)

    def clearing_values(self) -> dict[str, FieldValue]:
        """Every mapped field, empty: what a write sends to take relcrm out of a record
        (consent withdrawn, a person forgotten), and nothing beyond the mapping."""
        return dict.fromkeys(sorted(self.field_names()))

    def match_keys(self, person: Person) -> list[str]:
        """What ``match.by`` looks a person up by: their emails, or their relcrm id in
        an external-id field. Empty when the person has no email to match by."""
        return list(person.emails) if self.match.by == "email" else [person.id]


# --------------------------------------------------------------------------- loading


class InvalidMappingError(InvalidFileError):
    """A mapping file that cannot be used; it names the file and every bad key."""

    code = "config.invalid_mapping"
    default_hint = "fix the mapping file and run again"
    kind = "mapping"
    empty_detail = "invalid mapping"


def _path(loc: tuple[int | str, ...]) -> str:
    """``("fields", 3, "source")`` as ``fields[3].source``, the way an admin reads it."""
    text = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        elif index > 0 and loc[index - 1] == "transform" and part != "kind":
            continue  # the union's tag: pydantic names the branch, the file does not
        else:
            text += f".{part}" if text else part
    return text


def mapping_problems(error: ValidationError) -> list[FieldProblem]:
    """pydantic's errors on a mapping as problems with file paths (``fields[3].source``)."""
    problems: list[FieldProblem] = []
    plain = problems_from(error)
    for item, problem in zip(error.errors(include_url=False), plain, strict=True):
        where = _path(tuple(item["loc"]))
        ctx = item.get("ctx") or {}
        nested = ctx.get("problems")
        if nested:
            for sub in nested:
                field = f"{where}.{sub.field}" if where else sub.field
                problems.append(FieldProblem(field, sub.problem, sub.value))
        else:
            problems.append(FieldProblem(where or "(file)", problem.problem, problem.value))
    return problems


def parse_mapping(text: str, *, origin: str = "<mapping>") -> Mapping:
    """A mapping from TOML text; ``origin`` names it in errors (a path, a shipped name)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidMappingError(
            origin,
            [FieldProblem("(file)", f"not valid TOML: {exc}")],
            hint="fix the TOML syntax at the line named",
        ) from None
    return mapping_from(data, origin=origin)


def mapping_from(data: AbstractMapping[str, Any], *, origin: str = "<mapping>") -> Mapping:
    """A mapping from already-parsed data (a dict), with the file's error messages."""
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        raise InvalidMappingError(origin, mapping_problems(exc)) from None


def load_mapping(path: str | os.PathLike[str]) -> Mapping:
    """Read and validate the mapping file at ``path``.

    Raises :class:`InvalidMappingError` (a ConfigurationError, code
    ``config.invalid_mapping``) naming the file and each bad key with its value.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidMappingError(
            str(file),
            [FieldProblem("(file)", f"cannot be read: {exc.__class__.__name__}: {exc}")],
            hint="check the path; relcrm mapping files are UTF-8 TOML",
        ) from None
    return parse_mapping(text, origin=str(file))


def mapping_json_schema() -> dict[str, Any]:
    """The mapping file's JSON Schema (draft 2020-12), for editors to complete and check.

    Validation mode: it describes what may be written (``transform = "lower"`` as well
    as the table form), not what relcrm holds after loading.
    """
    schema = Mapping.model_json_schema(mode="validation")
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "relcrm mapping",
        **{k: v for k, v in schema.items() if k != "title"},
    }
