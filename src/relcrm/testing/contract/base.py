"""The fixtures and helpers every check of :class:`ConnectorContract` shares.

One test server per test class (the adapter's :meth:`~ConnectorAdapter.start`), reset
before each check; one :class:`ContractClock` per check, so no check waits for real and a
check can tell a connector that waited (on the injected clock) from one that did not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import pytest

from relcrm.connectors import Connector
from relcrm.error_codes import describe as describe_code
from relcrm.errors import RelcrmError
from relcrm.models import (
    ConnectorCapabilities,
    FieldSpec,
    FieldValue,
    FieldWrite,
    ReadValue,
    RecordRef,
    WriteOutcome,
    WriteResult,
    value_holds,
)
from relcrm.testing.contract.adapter import ConnectorAdapter, SeedRecord, Unsupported, optional
from relcrm.testing.contract.clock import ContractClock
from relcrm.testing.contract.specs import key_spec, sample_values


def email_of(tag: str, n: int) -> str:
    """A seeded record's email: unique per check (``tag``) and per record."""
    return f"contract-{tag}-{n}@example.com"


def need(adapter: ConnectorAdapter[Any], name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the adapter's optional member ``name``; skip the check when it is
    :class:`Unsupported` (a check that cannot run is skipped with why, never passed)."""
    try:
        return optional(adapter, name)(*args, **kwargs)
    except Unsupported as exc:
        pytest.skip(f"{type(adapter).__name__}: {exc}")


def assert_catalogued(error: BaseException) -> None:
    """``error`` is a relcrm error whose code is in relcrm's catalogue."""
    assert isinstance(error, RelcrmError), f"{type(error).__name__} is not a relcrm error"
    assert describe_code(error.code) is not None, f"{error.code} is not a catalogued code"


def close(connector: object) -> None:
    """Close a connector that holds connections (``close()``), if it has one."""
    closer: Callable[[], None] | None = getattr(connector, "close", None)
    if callable(closer):
        closer()


def leaks(text: str, secrets: Sequence[str]) -> list[str]:
    """The secrets (shown shortened) that ``text`` contains."""
    return [secret[:3] + "…" for secret in secrets if secret in text]


class ContractBase:
    """Fixtures and helpers; the checks live in the mixins :class:`ConnectorContract`
    is made of."""

    adapter: ClassVar[ConnectorAdapter[Any]]
    """The plugin author's adapter (set on the test class)."""

    # ------------------------------------------------------------------ fixtures

    @pytest.fixture(scope="class")
    @classmethod
    def contract_server(cls) -> Iterator[Any]:
        """The adapter's test server, once per test class."""
        with cls.adapter.start() as server:
            yield server

    @pytest.fixture
    def clock(self, contract_server: Any) -> ContractClock:
        """A fresh clock, and the server reset onto it."""
        clock = ContractClock()
        self.adapter.reset(contract_server, clock)
        return clock

    @pytest.fixture
    def server(self, contract_server: Any, clock: ContractClock) -> Any:
        """The reset server (``clock`` resets it)."""
        return contract_server

    @pytest.fixture
    def connector(self, server: Any, clock: ContractClock) -> Iterator[Connector]:
        """A connector on the reset server waiting on ``clock``; closed afterwards."""
        built = self.adapter.connector(server, clock)
        built.begin_run()
        yield built
        close(built)

    @pytest.fixture
    def provisioned(self, connector: Connector) -> Connector:
        """The connector, with the adapter's specs provisioned on its object."""
        connector.provision(self.adapter.object_name, self.adapter.specs)
        return connector

    # ------------------------------------------------------------------ helpers

    @property
    def capabilities(self) -> ConnectorCapabilities:
        return self.adapter.connector_class.declared_capabilities

    @property
    def specs(self) -> list[FieldSpec]:
        return list(self.adapter.specs)

    def key_field(self) -> FieldSpec:
        """The external id field, skipping checks of connectors that declare none."""
        key = key_spec(self.adapter.specs)
        if key is None:
            pytest.skip("the adapter's specs have no external_id field")
        return key

    def seed(self, server: Any, tag: str, count: int, **values: FieldValue) -> list[str]:
        """``count`` records of the object, emails tagged ``tag``; their ids in order."""
        records = [
            SeedRecord(email=email_of(tag, n), last_name=f"Contract{n}", values=dict(values))
            for n in range(count)
        ]
        ids = self.adapter.seed(server, self.adapter.object_name, records)
        assert len(ids) == count and all(ids), "seed must return one id per record"
        return ids

    def writes_for(
        self,
        ids: Sequence[str],
        *,
        first: int = 0,
        override: Mapping[int, dict[str, Any]] | None = None,
    ) -> list[FieldWrite]:
        """One write per record id: ``sample_values`` numbered from ``first``, with the
        values of ``override[offset]`` replacing some."""
        override = override or {}
        writes = []
        for offset, record_id in enumerate(ids):
            n = first + offset
            values = {**sample_values(self.specs, n), **override.get(offset, {})}
            writes.append(
                FieldWrite(
                    person_id=f"person-{n}",
                    record=self.ref(record_id),
                    values=values,
                )
            )
        return writes

    def ref(self, record_id: str) -> RecordRef:
        """A record of the adapter's object."""
        return RecordRef(
            system=self.capabilities.name, object=self.adapter.object_name, id=record_id
        )

    def read(self, connector: Connector, ids: Sequence[str]) -> dict[str, dict[str, ReadValue]]:
        fields = [spec.name for spec in self.specs]
        return connector.read_values(self.adapter.object_name, list(ids), fields)

    def mismatches(
        self, held: Mapping[str, ReadValue], sent: Mapping[str, FieldValue]
    ) -> dict[str, tuple[Any, Any]]:
        """The fields of ``sent`` whose value ``held`` does not hold (normalised)."""
        by_name = {spec.name.casefold(): spec for spec in self.specs}
        wrong: dict[str, tuple[Any, Any]] = {}
        folded = {name.casefold(): value for name, value in held.items()}
        for name, value in sent.items():
            spec = by_name.get(name.casefold())
            read = folded.get(name.casefold())
            kind = spec.type if spec else None
            scale = spec.scale if spec else None
            if not value_holds(kind, value, read, scale=scale):
                wrong[name] = (value, read)
        return wrong

    def assert_held(self, connector: Connector, writes: Sequence[FieldWrite]) -> None:
        """Every write's values read back (normalised) from its record."""
        ids = [w.record.id for w in writes if w.record is not None]
        held = self.read(connector, ids)
        for write in writes:
            assert write.record is not None
            record = held.get(write.record.id)
            assert record is not None, f"record {write.record.id} was not read back"
            wrong = self.mismatches(record, write.values)
            assert not wrong, f"{write.record.id}: sent -> read back differ: {wrong}"

    @staticmethod
    def assert_written(results: Sequence[WriteResult], writes: Sequence[FieldWrite]) -> None:
        assert len(results) == len(writes), "one result per write"
        for result, write in zip(results, writes, strict=True):
            assert result.person_id == write.person_id, "results come in the writes' order"
            assert result.outcome is WriteOutcome.WRITTEN, (
                f"{write.person_id}: {result.outcome} {result.error_code} {result.error_message}"
            )


__all__ = ["ContractBase", "assert_catalogued", "close", "email_of", "leaks", "need"]
