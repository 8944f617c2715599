"""The protocol every CRM connector implements.

The sync engine plans around ``capabilities`` (batch sizes, value types, name limits)
and only ever speaks relcrm's CRM-neutral vocabulary from :mod:`relcrm.models`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from relcrm.models import ConnectorCapabilities, FieldSpec, FieldWrite, MatchReport, WriteResult


@runtime_checkable
class Connector(Protocol):
    """A CRM as relcrm sees it: describe fields, create missing ones, write values."""

    @property
    def capabilities(self) -> ConnectorCapabilities:
        """Limits and value types, declared as data."""
        ...

    def describe(self, object_name: str) -> list[FieldSpec]:
        """The fields of ``object_name`` that the connected user can see."""
        ...

    def provision(
        self, object_name: str, specs: Sequence[FieldSpec], *, dry_run: bool = False
    ) -> list[FieldSpec]:
        """Create the fields of ``specs`` that do not exist yet; return what was (or would be)
        created. Idempotent."""
        ...

    def find_records(
        self,
        object_name: str,
        keys: Mapping[str, Sequence[str]],
        *,
        by: str = "email",
        fallback: Sequence[str] = (),
    ) -> MatchReport:
        """Find each person's record (``{person_id: [key values]}``): in ``object_name``,
        then in the ``fallback`` objects; ``by`` is ``email`` or an external-id field.
        Several records for one person are reported as ambiguous, never guessed."""
        ...

    def read_values(
        self, object_name: str, record_ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """``{record id: {field: value}}`` for the records that exist, as the CRM returns
        the values (the engine compares them per field type)."""
        ...

    def begin_run(self) -> None:
        """A sync run starts: reset what is kept per run (the retry budget). Called by the
        engine at the start of each run, so a connector reused across runs (a script, the
        demo) starts each one afresh."""
        ...

    @property
    def api_calls(self) -> int:
        """Calls made to the CRM so far by this connector (for run reports)."""
        ...

    def write(self, object_name: str, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """Write a batch; one result per write, in order, never raising for one bad record.

        A write stopped by an error for the whole CRM (a spent quota, a refused login, a
        CRM that stays unreachable) raises a :class:`relcrm.connectors.errors.VendorError`
        whose ``completed`` holds every result finished before it, every record written
        among them. A call that fails after it may have reached the CRM is read back
        before it is sent again; messages never quote the values written."""
        ...
