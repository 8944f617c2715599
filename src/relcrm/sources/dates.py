"""The range of dates a source may carry, and the check every source makes against it.

A date such as ``9999-12-31T23:59:59-05:00`` is valid ISO 8601, but it is year 10000 in
UTC, which neither Python nor a database can hold; ``1900-01-01`` is representable but no
customer answered a survey then. Both are source problems (a placeholder, a typo, an
epoch of zero), so every source rejects a record with a date outside a plausible range,
naming the record, the field and the range, and goes on with the rest.

The range is, by default, 1970-01-01 (UTC) to one day ahead of now (clocks and time
zones of sources differ by hours, not days). It is configurable:

- from Python, a :class:`DateRange` passed as ``dates=`` to the readers
  (``read_interchange``, ``read_survey``, ``read_social``, ``read_cases``...);
- for every reader that is not given one, including ``relcrm ingest`` and its worker
  processes, from the environment (or a ``.env`` file): ``RELCRM_EARLIEST_DATE``,
  ``RELCRM_LATEST_DATE`` (a fixed end), ``RELCRM_MAX_DAYS_AHEAD`` (how far after now,
  when there is no fixed end). Dates without a time zone are read as UTC.
"""

from __future__ import annotations

import functools
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import pydantic
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from relcrm.errors import ConfigurationError, FieldProblem, shorten
from relcrm.models import problems_from
from relcrm.models.person import UnconvertibleDatetimeError

DEFAULT_EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
"""The earliest plausible date unless configured: the Unix epoch."""

DEFAULT_DAYS_AHEAD: Final = 1.0
"""How far after now a date may be unless configured: a day, for clocks and zones."""

ENVIRONMENT: Final = ("RELCRM_EARLIEST_DATE", "RELCRM_LATEST_DATE", "RELCRM_MAX_DAYS_AHEAD")
"""The environment variables that configure the default range."""

_AWARE: Final = TypeAdapter(pydantic.AwareDatetime)


@dataclass(frozen=True, slots=True)
class DateRange:
    """Dates a source may carry: from ``earliest`` to ``latest``, or, without a fixed
    ``latest``, to ``ahead`` after the moment of the check. Bounds are inclusive."""

    earliest: datetime = DEFAULT_EARLIEST
    latest: datetime | None = None
    ahead: timedelta = timedelta(days=DEFAULT_DAYS_AHEAD)

    def __post_init__(self) -> None:
        for name in ("earliest", "latest"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"DateRange.{name} must carry a time zone (got {value})")
        if self.latest is not None and self.latest <= self.earliest:
            raise ValueError(
                f"DateRange: earliest ({_shown(self.earliest)}) must come before latest "
                f"({_shown(self.latest)})"
            )
        if self.ahead < timedelta(0):
            raise ValueError(f"DateRange.ahead must not be negative (got {self.ahead})")

    def bounds(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """The earliest and latest plausible dates, ``now`` deciding a relative end."""
        if self.latest is not None:
            return self.earliest, self.latest
        return self.earliest, (now or datetime.now(UTC)) + self.ahead

    def describe(self) -> str:
        """The range in words, for notices and messages."""
        end = _shown(self.latest) if self.latest is not None else _ahead(self.ahead)
        return f"{_shown(self.earliest)} to {end}"

    def problem(
        self, field: str, value: datetime, now: datetime | None = None
    ) -> FieldProblem | None:
        """The problem with ``value`` in ``field``, or None when it is plausible."""
        earliest, latest = self.bounds(now)
        if value < earliest:
            return FieldProblem(
                field,
                f"before the earliest plausible date {_shown(earliest)}: correct the date in "
                "the source, or allow earlier dates with RELCRM_EARLIEST_DATE (or a DateRange "
                "passed as dates=)",
                shorten(value.isoformat()),
            )
        if value > latest:
            when = _shown(latest)
            if self.latest is None:
                when += f" ({_ahead(self.ahead)})"
            return FieldProblem(
                field,
                f"after the latest plausible date {when}: correct the date in the source, or "
                "allow later dates with RELCRM_LATEST_DATE or RELCRM_MAX_DAYS_AHEAD (or a "
                "DateRange passed as dates=)",
                shorten(value.isoformat()),
            )
        return None

    def record_problems(self, record: BaseModel, now: datetime | None = None) -> list[FieldProblem]:
        """A problem for each date of a valid ``record`` (nested models included) that
        lies outside the range, named by its dotted path (``consent.updated_at``)."""
        paths = date_paths(type(record))
        if not paths:
            return []
        now = now or datetime.now(UTC)
        earliest, latest = self.bounds(now)
        problems: list[FieldProblem] = []
        for path in paths:
            value: Any = record
            for part in path:
                value = getattr(value, part, None)
                if value is None:
                    break
            if isinstance(value, datetime) and not earliest <= value <= latest:
                found = self.problem(".".join(path), value, now)
                if found is not None:
                    problems.append(found)
        return problems

    def validation_problems(
        self, error: ValidationError, model: type[BaseModel], data: object
    ) -> list[FieldProblem]:
        """The problems of a record that did not validate, with its dates explained by
        this range: a date that cannot even be converted to UTC is named with the range
        (not a generic message), and an implausible date elsewhere in the record is
        reported too, so one pass names every bad field. ``data`` is the record's input
        (a dict), or anything else when it is not at hand."""
        now = datetime.now(UTC)
        problems = problems_from(error)
        for index, item in enumerate(error.errors(include_url=False)):
            cause = (item.get("ctx") or {}).get("error")
            if isinstance(cause, UnconvertibleDatetimeError):
                explained = self.problem(problems[index].field, cause.value, now)
                if explained is not None:
                    problems[index] = explained
        if not isinstance(data, Mapping):
            return problems
        named = {problem.field for problem in problems}
        for path in date_paths(model):
            field = ".".join(path)
            if field in named:
                continue
            value = _at(data, path)
            if value is None:
                continue
            try:
                moment = _AWARE.validate_python(value)
            except (ValidationError, OverflowError):
                continue  # reported by the validation itself
            found = self.problem(field, moment, now)
            if found is not None:
                problems.append(found)
        return problems


def _shown(moment: datetime) -> str:
    """A bound as messages show it: the date alone at midnight UTC, else to the minute."""
    utc = moment.astimezone(UTC)
    if utc.time() == datetime.min.time():
        return utc.strftime("%Y-%m-%d")
    return utc.strftime("%Y-%m-%dT%H:%MZ")


def _ahead(ahead: timedelta) -> str:
    days = ahead / timedelta(days=1)
    if days == 1:
        return "one day ahead of now"
    return f"{days:g} days ahead of now"


def _at(data: Mapping[Any, Any], path: tuple[str, ...]) -> object:
    value: object = data
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


@functools.cache
def date_paths(model: type[BaseModel]) -> tuple[tuple[str, ...], ...]:
    """The dotted paths of every date-time field of ``model``, nested models included
    (worked out once per model class from its annotations)."""
    paths: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        for kind in _leaf_types(info.annotation):
            if _is_datetime(kind):
                paths.append((name,))
            elif isinstance(kind, type) and issubclass(kind, BaseModel):
                paths.extend((name, *sub) for sub in date_paths(kind))
    return tuple(dict.fromkeys(paths))


def _leaf_types(annotation: object) -> list[object]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _leaf_types(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [leaf for arg in typing.get_args(annotation) for leaf in _leaf_types(arg)]
    return [annotation]


def _is_datetime(kind: object) -> bool:
    if not isinstance(kind, type):
        return False
    if issubclass(kind, datetime):
        return True
    # pydantic's AwareDatetime, NaiveDatetime, PastDatetime...: markers, not subclasses.
    return kind.__module__ == "pydantic.types" and kind.__name__.endswith("Datetime")


# -- the default range, from the environment ----------------------------------------------


class DateRangeSettings(BaseSettings):
    """The default range's settings: ``RELCRM_EARLIEST_DATE``, ``RELCRM_LATEST_DATE``,
    ``RELCRM_MAX_DAYS_AHEAD``, from the environment or a ``.env`` file."""

    model_config = SettingsConfigDict(
        env_prefix="RELCRM_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    earliest_date: datetime | date = Field(
        default=DEFAULT_EARLIEST,
        description="earliest plausible date of any record (ISO 8601; UTC without a zone)",
    )
    latest_date: datetime | date | None = Field(
        default=None,
        description="latest plausible date; without it, max_days_ahead after now",
    )
    max_days_ahead: float = Field(
        default=DEFAULT_DAYS_AHEAD,
        ge=0,
        description="how many days after now a date may be when latest_date is not set",
    )

    def date_range(self) -> DateRange:
        latest = _utc(self.latest_date) if self.latest_date is not None else None
        return DateRange(_utc(self.earliest_date), latest, timedelta(days=self.max_days_ahead))


def _utc(value: datetime | date) -> datetime:
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)


def date_range_from_environment() -> DateRange:
    """The range the readers use when they are given none (see the module).

    Read again whenever the environment variables change, and at most once otherwise
    (``.env`` is read then). A value that cannot be used is a configuration error that
    names the variable.
    """
    return _range_for(tuple(os.environ.get(name) for name in ENVIRONMENT))


@functools.lru_cache(maxsize=16)
def _range_for(values: tuple[str | None, ...]) -> DateRange:
    try:
        return DateRangeSettings().date_range()
    except ValidationError as error:
        named = {
            f"RELCRM_{problem.field.split('.', 1)[0].upper()}": problem.value
            for problem in problems_from(error)
        }
        detail = "; ".join(f"{name} is not usable (got {value})" for name, value in named.items())
        raise ConfigurationError(
            f"the plausible date range cannot be used: {detail}",
            hint="use ISO 8601 dates such as RELCRM_EARLIEST_DATE=1970-01-01, and a number "
            "of days for RELCRM_MAX_DAYS_AHEAD",
        ) from None
    except ValueError as error:
        raise ConfigurationError(
            f"the plausible date range cannot be used: {error} "
            f"({', '.join(name for name in ENVIRONMENT)})",
            hint="make RELCRM_EARLIEST_DATE come before RELCRM_LATEST_DATE",
        ) from None


def resolve(dates: DateRange | None) -> DateRange:
    """``dates``, or the range from the environment when it is None."""
    return dates if dates is not None else date_range_from_environment()
