"""Social posts from a listening tool (JSONL) and the handle map that says whose they are.

A post names a handle on a platform, not a person. Whose handle it is comes from a
handle map (CSV: ``platform,handle,email`` or ``platform,handle,person_id``) or from an
identity already stored; resolving against the store is the ingest's job
(``relcrm.sync.ingest_sources.ingest_social``), which keeps unresolved posts aside
instead of dropping them. This module only reads and converts.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import from_json

from relcrm.errors import ConfigurationError, FieldProblem, InvalidRecordError, shorten
from relcrm.models import Email, Perception, PersonId, problems_from
from relcrm.models.person import StorableDatetime, clean_identity_text
from relcrm.sources.csv_reading import (
    CSV_ERROR,
    bad_byte_line,
    csv_records,
    read_text,
    sniff_delimiter,
)
from relcrm.sources.dates import DateRange, resolve
from relcrm.sources.items import Identity, SourcedPerception

DEFAULT_SOURCE_SYSTEM: Final = "social-listening"
"""``source_system`` of social perceptions unless the caller names the listening tool."""


class SocialPost(BaseModel):
    """One post as the listening tool exports it. Other keys (reach, the tool's own
    sentiment...) are ignored: tools add many, and none of them is a feeling."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    platform: Annotated[
        str,
        AfterValidator(clean_identity_text),
        StringConstraints(min_length=1, max_length=40, to_lower=True),
    ]
    handle: Annotated[
        str, AfterValidator(clean_identity_text), StringConstraints(min_length=1, max_length=100)
    ]
    text: str = Field(min_length=1)
    time: StorableDatetime
    url: str | None = Field(default=None, max_length=2000)
    public: bool
    post_id: Annotated[str, StringConstraints(min_length=1, max_length=150)] | None = None

    @model_validator(mode="after")
    def _has_an_id(self) -> Self:
        if self.post_id is None and not self.url:
            raise ValueError("a post needs a post_id or a url to be told apart from others")
        return self

    @property
    def key(self) -> str:
        """The post's id on its platform: its ``post_id``, else a hash of its url."""
        if self.post_id is not None:
            return self.post_id
        url = (self.url or "").strip()
        return "url-" + hashlib.blake2b(url.encode(), digest_size=10).hexdigest()

    @property
    def record_id(self) -> str:
        """The source record id: ``"<platform>/<post id>"``."""
        return f"{self.platform}/{self.key}"

    @property
    def handle_identity(self) -> Identity:
        return Identity("handle", f"{self.platform}:{self.handle}")


@dataclass(frozen=True, slots=True)
class PostLine:
    """A post read from the line ``line`` of a JSONL file."""

    line: int
    post: SocialPost

    @property
    def record(self) -> str:
        return f"line {self.line}"


def read_social(
    path: str | os.PathLike[str], *, dates: DateRange | None = None
) -> Iterator[PostLine | InvalidRecordError]:
    """Posts of a JSONL file, one per line; a bad line is a rejection naming it and its
    fields, and the lines after it still load. Blank lines are skipped. A post whose
    time lies outside ``dates`` (by default the range the environment configures, see
    :mod:`relcrm.sources.dates`) is rejected."""
    checker = resolve(dates)
    with Path(path).open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            yield parse_social_line(raw, number, dates=checker)


def parse_social_line(
    raw: bytes | str, line: int, *, dates: DateRange | None = None
) -> PostLine | InvalidRecordError:
    """One line of the JSONL file as a post, or the rejection naming what is wrong."""
    checker = resolve(dates)
    record = f"line {line}"
    try:
        data = from_json(raw)
    except ValueError as error:
        return InvalidRecordError(record, [FieldProblem("(record)", f"not valid JSON: {error}")])
    if not isinstance(data, dict):
        problem = FieldProblem("(record)", "each line must be one JSON object", shorten(data))
        return InvalidRecordError(record, [problem])
    try:
        post = SocialPost.model_validate(data)
    except ValidationError as error:
        return InvalidRecordError(record, checker.validation_problems(error, SocialPost, data))
    problems = checker.record_problems(post)
    if problems:
        return InvalidRecordError(record, problems)
    return PostLine(line, post)


def social_perception(
    post: SocialPost,
    identities: tuple[Identity, ...],
    *,
    record: str,
    source_system: str = DEFAULT_SOURCE_SYSTEM,
    text: str | None = None,
) -> SourcedPerception | InvalidRecordError:
    """The perception a post gives once its author is known by ``identities``.

    ``text`` replaces the post's text (a held post's text, redacted when it was held).
    A handle map's identities come first, then the post's handle: a person found by
    the map's email also gets the handle, so the next post resolves without the map.
    """
    data = {
        "person_id": identities[0].new_person_id(),
        "occurred_at": post.time,
        "channel": "social",
        "public": post.public,
        "verbatim": text if text is not None else post.text,
        "provenance": {"source_system": source_system, "source_record_id": post.record_id},
    }
    try:
        perception = Perception.model_validate(data)
    except ValidationError as error:
        return InvalidRecordError(record, problems_from(error))
    return SourcedPerception(
        record, perception, identities, create_person=True, attach_identities=True
    )


# -- handle map -------------------------------------------------------------------------

HANDLE_MAP_COLUMNS: Final = ("platform", "handle")
"""Required columns of a handle map, with ``email`` or ``person_id`` (or both)."""


def handle_key(platform: str, handle: str) -> tuple[str, str]:
    """How handles are compared: platform and handle normalised as identities are (NFKC,
    no invisible characters) and lower-cased, without a leading ``@`` (a map that says
    ``jane`` means the post's ``@Jane``)."""
    return clean_identity_text(platform).lower(), clean_identity_text(handle).lower().lstrip("@")


class _HandleRow(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    platform: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    handle: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    email: Email | None = None
    person_id: PersonId | None = None

    @model_validator(mode="after")
    def _names_someone(self) -> Self:
        if self.email is None and self.person_id is None:
            raise ValueError("give an email or a person_id for the handle")
        return self


@dataclass(frozen=True)
class HandleMap:
    """Whose handle is whose: ``(platform, handle)`` (see :func:`handle_key`) to identity."""

    owners: dict[tuple[str, str], Identity]

    def owner(self, platform: str, handle: str) -> Identity | None:
        return self.owners.get(handle_key(platform, handle))

    def __len__(self) -> int:
        return len(self.owners)


def load_handle_map(path: str | os.PathLike[str]) -> HandleMap:
    """Read a handle map (CSV with a header; delimiter and encoding are detected).

    A person id wins over an email when a row gives both. A bad row, or a handle mapped
    to two different people, is a configuration error naming its row: a handle map is
    configuration, and a wrong one would put feelings on the wrong person.
    """
    decoded = read_text(path)
    records = [r for r in csv_records(decoded.text, sniff_delimiter(decoded.text)) if r.cells]
    origin = os.fspath(path)
    if not records:
        raise ConfigurationError(f"handle map {origin} is empty", hint="add a header row")
    header = [cell.strip().lower() for cell in records[0].cells]
    twice = sorted({name for name in header if name and header.count(name) > 1})
    if twice:
        raise ConfigurationError(
            f"handle map {origin}: the header names {', '.join(twice)} twice, so which "
            "column is meant cannot be told",
            hint="rename or remove the extra column",
        )
    missing = [c for c in HANDLE_MAP_COLUMNS if c not in header]
    if missing or not ({"email", "person_id"} & set(header)):
        raise ConfigurationError(
            f"handle map {origin}: the header must name platform, handle, and email or "
            f"person_id (got {', '.join(header)})",
            hint="first row: platform,handle,email",
        )
    owners: dict[tuple[str, str], Identity] = {}
    problems: list[str] = []
    for record in records[1:]:
        if not any(cell.strip() for cell in record.cells):
            continue
        undecodable = bad_byte_line(record.cells, record.line)
        if record.cells[0] == CSV_ERROR or undecodable is not None:
            why = (
                record.cells[1]
                if undecodable is None
                else f"line {undecodable[2]} is not valid {decoded.encoding}"
            )
            problems.append(f"{record.name}: {why}")
            continue
        row = {name: cell for name, cell in zip(header, record.cells, strict=False) if cell}
        try:
            parsed = _HandleRow.model_validate({k: row.get(k) for k in _HandleRow.model_fields})
        except ValidationError as error:
            detail = "; ".join(str(p) for p in problems_from(error))
            problems.append(f"{record.name}: {detail}")
            continue
        owner = (
            Identity("person", parsed.person_id)
            if parsed.person_id
            else Identity("email", parsed.email or "")
        )
        key = handle_key(parsed.platform, parsed.handle)
        if key in owners and owners[key] != owner:
            problems.append(f"{record.name}: {key[0]}:{parsed.handle} is mapped twice")
            continue
        owners[key] = owner
    if problems:
        raise ConfigurationError(
            f"handle map {origin}: " + "; ".join(problems[:20]),
            hint="fix these rows of the handle map and run again",
        )
    return HandleMap(owners)
