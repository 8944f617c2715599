"""relcrm's one exception tree.

Every error relcrm raises on purpose derives from :class:`RelcrmError` and carries:

- ``code``: a stable, dotted identifier (``"input.invalid_record"``) that scripts and
  dashboards can match on; it never changes between releases;
- ``message``: what went wrong, naming the record and the field where there is one;
- ``hint``: what the caller should do next.

The tree::

    RelcrmError
    ├── ConfigurationError          settings or files that cannot work; fix them and re-run
    │   └── InvalidFileError        a mapping file (or the like) names its bad keys
    ├── InputError                  a record from a source that cannot be used as it is
    │   └── InvalidRecordError      one record (line, row) is invalid; the rest of the batch goes on
    ├── StoreError                  the state store cannot be used
    │   └── SchemaVersionError      the store was written by a newer relcrm
    ├── RunError                    a sync run could not go on as a run
    │   ├── TargetBusyError         another live run holds the target's lease
    │   └── LeaseLostError          this run's lease expired and another run took it
    └── ConnectorError              talking to a CRM failed (see relcrm.connectors for details)

Every error class also carries ``exit_code``: the :class:`ExitCode` a command ends with
when this error stops it, so schedulers see one table of outcomes (README, "Exit codes").

Messages never contain secrets: values that could be secret are never interpolated,
and long values are shortened by :func:`shorten` before they are quoted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """What a scheduler can act on; every ``relcrm`` command exits with one of these."""

    OK = 0
    """everything went through"""
    REJECTED = 1
    """some records were rejected (each is reported; the rest went through)"""
    CONFIG = 2
    """configuration or input error (nothing was changed)"""
    CONNECT = 3
    """cannot connect to or authenticate with a CRM"""
    QUOTA = 4
    """paused by a CRM quota; run again later to resume"""
    BUSY = 5
    """another run holds the target; nothing was written (wait, or run again later)"""


def shorten(value: object, limit: int = 60) -> str:
    """Quote a value for an error message without flooding the log with it."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 15]}... ({len(text)} chars)"


class RelcrmError(Exception):
    """Root of every error relcrm raises on purpose."""

    code: str = "relcrm.error"
    default_hint: str = ""
    exit_code: ExitCode = ExitCode.CONFIG

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        if self.hint:
            return f"[{self.code}] {self.message} ({self.hint})"
        return f"[{self.code}] {self.message}"


class ConfigurationError(RelcrmError):
    """Settings, a mapping or a file cannot work as given; nothing was changed."""

    code = "config.invalid"
    default_hint = "fix the configuration and run again"


class InvalidFileError(ConfigurationError):
    """A file an admin wrote (a mapping, a survey's column mapping) that cannot be used:
    the message names the file and every bad key, so all can be fixed in one go."""

    code = "config.invalid_file"
    kind = "file"
    """How messages name the file: ``mapping relcrm.toml: ...``."""
    empty_detail = "invalid file"

    def __init__(self, origin: str, problems: list[FieldProblem], *, hint: str | None = None):
        self.origin = origin
        self.problems = problems
        detail = "; ".join(str(p) for p in problems) or self.empty_detail
        super().__init__(f"{self.kind} {origin}: {detail}", hint=hint)


class InputError(RelcrmError):
    """Data from a source cannot be used as it is."""

    code = "input.invalid"
    default_hint = "correct the source data and ingest it again"


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field of one record: where, what, and the offending value."""

    field: str
    problem: str
    value: str | None = None

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.field}: {self.problem}"
        return f"{self.field}: {self.problem} (got {self.value})"


class InvalidRecordError(InputError):
    """One record is invalid. It names the record and each bad field; the batch goes on."""

    code = "input.invalid_record"

    def __init__(self, record: str, problems: list[FieldProblem], *, hint: str | None = None):
        self.record = record
        self.problems = problems
        detail = "; ".join(str(p) for p in problems) or "invalid record"
        super().__init__(f"{record}: {detail}", hint=hint)


class StoreError(RelcrmError):
    """The state store cannot be opened, read or written."""

    code = "store.error"
    default_hint = "check the store URL and that the file or server is reachable"


class SchemaVersionError(StoreError):
    """The store's schema is newer than this relcrm understands."""

    code = "store.schema_too_new"
    default_hint = "upgrade relcrm, or point it at another store"


class RunError(RelcrmError):
    """A sync run could not go on as a run (not a CRM's or a record's fault)."""

    code = "run.error"
    default_hint = "run again later"


class TargetBusyError(RunError):
    """Another live run holds the target's lease: running now would write its records
    twice. Nothing was written."""

    code = "run.target_busy"
    default_hint = "wait for the other run (relcrm sync --wait SECONDS), or run again later"
    exit_code = ExitCode.BUSY


class LeaseLostError(RunError):
    """This run stopped renewing its lease in time (a long stall) and another run took
    the target; it stopped before its next batch so that nothing is written twice."""

    code = "run.lease_lost"
    default_hint = "the other run carries on; check why this one stalled (see relcrm runs)"
    exit_code = ExitCode.BUSY


class ConnectorError(RelcrmError):
    """Talking to a CRM failed; the subclass says whether to retry, pause or stop."""

    code = "connector.error"
    exit_code = ExitCode.CONNECT
