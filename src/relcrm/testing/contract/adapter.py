"""What a connector's author tells the contract suite: how to reach their test server.

The suite (:class:`relcrm.testing.contract.ConnectorContract`) knows relcrm's side of the
contract; it cannot know how a CRM's test server starts, how to build a connector for it,
how the CRM stores the records it already holds, or how to make the server misbehave.
:class:`ConnectorAdapter` is that knowledge, one small class per connector. The suite
builds everything else (fields to provision, values to write, the checks) from the
connector's declared capabilities, so an adapter states facts about the server and never
restates what the connector does.

Required members make the core checks run (describe, provision, match, write, read back,
partial failure, settings, reprs). The fault injectors (:meth:`ConnectorAdapter.throttled`,
:meth:`ConnectorAdapter.expire_credentials`, :meth:`ConnectorAdapter.quota_spent`) and the
seeders of optional features are optional: one the server cannot do raises
:class:`Unsupported` (the default when the protocol is subclassed explicitly), and the
checks that need it are skipped with that reason, never passed silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic_settings import BaseSettings

from relcrm.connectors import Connector
from relcrm.models import FieldSpec, FieldValue
from relcrm.testing.contract.clock import ContractClock
from relcrm.testing.contract.specs import refused_value

ServerT = TypeVar("ServerT")


class Unsupported(Exception):
    """The test server (or the adapter) cannot do this; the checks that need it are
    skipped with the message as their reason."""


@dataclass(frozen=True)
class SeedRecord:
    """A record the CRM already holds before relcrm comes (a contact, a lead), in neutral
    terms: the adapter writes ``email`` into the object's email field, ``last_name`` into
    whatever name the CRM requires, and ``values`` (field API names) as they are."""

    email: str
    last_name: str
    values: Mapping[str, FieldValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Throttle:
    """How :meth:`ConnectorAdapter.throttled` made the server limit requests."""

    calls: int
    """How many write calls (one record each) the check makes inside the block: enough
    that a connector that neither paces itself nor waits is refused."""
    description: str = ""
    """What the server now does, for failure messages (``3 requests per 10 s``)."""


@dataclass(frozen=True)
class StoredTask:
    """A follow-up task as the CRM stores it, read by the adapter from the server (not
    through the connector under test), for ``follow_up_tasks`` checks."""

    subject: str
    body: str
    """The body as a person reads it: markup removed, entities unescaped, one line per
    paragraph."""
    owner: str | None
    """The id of the user the task is assigned to (as :meth:`ConnectorAdapter.seed_owner`
    returns ids); None when the task has no owner."""
    record: str | None
    """The id of the record the task is on (its contact, its lead)."""


@runtime_checkable
class ConnectorAdapter(Protocol[ServerT]):
    """How the contract suite reaches a connector's test server (``ServerT``: the handle
    :meth:`start` yields). One instance serves a whole test class.

    Subclass it explicitly (``class MyAdapter(ConnectorAdapter[MyServer])``) to inherit
    the defaults of the optional members, which raise :class:`Unsupported`.
    """

    connector_class: type[Connector]
    """The connector under test (the class a ``relcrm.connectors`` entry point names)."""

    object_name: str
    """The object persons are written to (``Contact``, ``contacts``...)."""

    email_field: str
    """The standard email field of :attr:`object_name`, as ``describe`` names it."""

    specs: Sequence[FieldSpec]
    """The fields the checks provision and write: one per field type the connector
    declares, and one ``external_id`` field when it matches by external id. Build them
    with :func:`relcrm.testing.contract.contract_specs` and your CRM's naming rule."""

    fallback_object: str | None
    """A second object persons may be found in (``Lead``), for connectors that declare
    ``fallback_matching``; None otherwise."""

    def start(self) -> AbstractContextManager[ServerT]:
        """Start the test server (once per test class) and stop it when the block ends.
        It is a real server on 127.0.0.1 (HTTPS with its own CA, as the CRM is), never a
        mock of the connector's own functions."""
        ...

    def reset(self, server: ServerT, clock: ContractClock) -> None:
        """Before each check: no records, no custom fields, no faults, default limits,
        and a server that keeps time by ``clock`` (its ``monotonic``, or ``listen``)."""
        ...

    def settings(self, server: ServerT) -> BaseSettings:
        """Settings (an instance of the connector's ``settings_class``) that reach the
        server: URL, the CA to trust, credentials as ``SecretStr``. The suite builds a
        connector from them with ``from_settings`` and checks no secret leaks."""
        ...

    def connector(self, server: ServerT, clock: ContractClock) -> Connector:
        """A connector for the server whose waits go to ``clock.sleep`` and whose clock
        (if it keeps one: a limiter, token ages) is ``clock.monotonic``. Usually
        ``from_settings`` plus the injected retry policy and limiter."""
        ...

    def seed(self, server: ServerT, object_name: str, records: Sequence[SeedRecord]) -> list[str]:
        """Create ``records`` in ``object_name`` as the CRM's own users would have, not
        through the connector under test; return their ids, in order. The fields of
        :attr:`specs` exist when ``values`` name them (the suite provisions first)."""
        ...

    # ------------------------------------------------------------------ optional

    def refused_value(self) -> tuple[str, FieldValue]:
        """A field of :attr:`specs` and a value the CRM refuses for one record with its
        own error code. The default: an option outside the restricted picklist (or text
        longer than its field); override it when the CRM accepts those."""
        return refused_value(self.specs)

    def throttled(self, server: ServerT, clock: ContractClock) -> AbstractContextManager[Throttle]:
        """Inside the block the server limits requests so that a connector must wait:
        a lowered rate limit on ``clock``'s time (``429`` with ``Retry-After``), or calls
        refused until the client has waited (``clock.after``). Leaving the block restores
        the server's limits. Raise :class:`Unsupported` when the CRM sets no limit that a
        client must honour."""
        raise Unsupported("the adapter does not throttle its test server")

    def expire_credentials(self, server: ServerT) -> None:
        """Make every session or access token the connector holds stop working now, as
        when it expires (the server answers as the CRM does to an expired token)."""
        raise Unsupported("the adapter cannot expire credentials on its test server")

    def quota_spent(self, server: ServerT, *, writes_left: int) -> AbstractContextManager[None]:
        """Inside the block, the CRM's request quota (daily API calls, credits) lets
        ``writes_left`` more write calls of up to ``max_batch_size`` records through and
        then answers with its quota error; leaving the block restores it."""
        raise Unsupported("the adapter cannot spend its test server's quota")

    def create_values(self, record: SeedRecord) -> dict[str, FieldValue]:
        """For ``upsert_by_external_id``: the fields the CRM requires on a new record of
        :attr:`object_name` (its email, a last name...) as a write's ``create_values``."""
        raise Unsupported("the adapter gives no values for creating records")

    def seed_case(self, server: ServerT, record_id: str, subject: str) -> str:
        """For ``support_cases``: create a support case raised by the record ``record_id``
        with ``subject``, as the CRM's support desk would; return the case's id."""
        raise Unsupported("the adapter cannot create support cases on its test server")

    def seed_owner(self, server: ServerT, record_id: str) -> str:
        """For ``follow_up_tasks``: make a user other than the connector's own (a sales
        rep) the owner of the seeded record ``record_id`` of :attr:`object_name`, as the
        CRM's admin would; return the owner's id as :class:`StoredTask` names owners."""
        raise Unsupported("the adapter cannot assign an owner on its test server")

    def read_task(self, server: ServerT, task_id: str) -> StoredTask:
        """For ``follow_up_tasks``: the task ``task_id`` as the CRM stores it, read from
        the server as the CRM's users would see it, not through the connector."""
        raise Unsupported("the adapter cannot read tasks from its test server")

    def delete_record(self, server: ServerT, record_id: str) -> None:
        """Delete the seeded record ``record_id`` of :attr:`object_name`, as a user of
        the CRM would (a person's record gone between two runs)."""
        raise Unsupported("the adapter cannot delete records on its test server")


def optional(adapter: ConnectorAdapter[Any], name: str) -> Any:
    """The adapter's optional member ``name``, or a stand-in raising :class:`Unsupported`
    (an adapter that follows the protocol structurally, without subclassing it)."""
    member = getattr(adapter, name, None)
    if member is None:

        def missing(*args: Any, **kwargs: Any) -> Any:
            raise Unsupported(f"the adapter has no {name}()")

        return missing
    return member


__all__ = [
    "ConnectorAdapter",
    "SeedRecord",
    "ServerT",
    "StoredTask",
    "Throttle",
    "Unsupported",
    "optional",
]
