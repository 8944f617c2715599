"""The base of the store's parts (sync state, audit log, unresolved posts): each is a
mixin of :class:`relcrm.store.Store`, written against these three primitives."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from itertools import islice
from typing import TypeVar

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

_T = TypeVar("_T")


class StorePart:
    """Declares what :class:`relcrm.store.Store` provides, so a part type-checks alone."""

    def _read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _insert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        raise NotImplementedError


def to_utc(moment: datetime) -> datetime:
    """``moment`` in UTC, for a column; a naive datetime is refused (its zone would be a
    guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is required, got {moment.isoformat()}")
    return moment.astimezone(UTC)


def from_column(value: datetime) -> datetime:
    """A stored datetime, aware: SQLite hands back naive UTC, PostgreSQL an aware one."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def chunks(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """``items`` in lists of at most ``size``: statements stay under the databases'
    bound-parameter limits (SQLite's 32,766, PostgreSQL's 65,535)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
