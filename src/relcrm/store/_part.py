"""The base of the store's parts (sync state, audit log, unresolved posts): each is a
mixin of :class:`relcrm.store.Store`, written against these three primitives."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


class StorePart:
    """Declares what :class:`relcrm.store.Store` provides, so a part type-checks alone."""

    def _read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _insert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        raise NotImplementedError
