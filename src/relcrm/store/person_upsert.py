"""The statements of the person upsert: a few set-wise statements per chunk of persons.

:meth:`relcrm.store.Store.upsert_person_rows_reporting` decides in Python which persons
of a chunk to write (unchanged ones are skipped, an identity held by another person is a
conflict); these functions read what it needs and write what it decided. Each read or
write is one statement for the whole chunk, whatever its size: the values go in as one
parameter, a JSON array (read by ``json_each`` on SQLite, ``json_array_elements`` on
PostgreSQL), so there is no ``IN (...)`` list to cut under a bound-parameter limit and no
statement for SQLAlchemy to compile per chunk (compiling 900-value ``IN`` lists cost more
than the database's work). On PostgreSQL the writes too are one statement over a JSON
array, one round trip instead of one per row (and JSON, not a PostgreSQL array literal:
psycopg quotes a text array element by element, which cost 70 µs per person's JSON).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, TextClause, text

from relcrm.store.identities import IdentityKey

_SQLITE: Final[dict[str, TextClause]] = {
    "data": text("SELECT id, data FROM persons WHERE id IN (SELECT value FROM json_each(:ids))"),
    "owners_of_values": text(
        "SELECT kind, value, person_id FROM identities "
        "WHERE kind = :kind AND value IN (SELECT value FROM json_each(:values))"
    ),
    "owners_of_persons": text(
        "SELECT kind, value, person_id FROM identities "
        "WHERE person_id IN (SELECT value FROM json_each(:ids))"
    ),
    "clear": text("DELETE FROM identities WHERE person_id IN (SELECT value FROM json_each(:ids))"),
}
_LISTED = "SELECT json_array_elements_text(CAST(:{} AS JSON))"
_POSTGRES: Final[dict[str, TextClause]] = {
    "data": text(f"SELECT id, data FROM persons WHERE id IN ({_LISTED.format('ids')})"),
    "owners_of_values": text(
        "SELECT kind, value, person_id FROM identities "
        f"WHERE kind = :kind AND value IN ({_LISTED.format('values')})"
    ),
    "owners_of_persons": text(
        "SELECT kind, value, person_id FROM identities "
        f"WHERE person_id IN ({_LISTED.format('ids')})"
    ),
    "clear": text(f"DELETE FROM identities WHERE person_id IN ({_LISTED.format('ids')})"),
    "persons": text(
        "INSERT INTO persons (id, data, updated_at) "
        "SELECT row ->> 0, row ->> 1, CAST(:now AS TIMESTAMPTZ) "
        "FROM json_array_elements(CAST(:rows AS JSON)) AS t(row) "
        "ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at"
    ),
    "identities": text(
        "INSERT INTO identities (kind, value, person_id) "
        "SELECT row ->> 0, row ->> 1, row ->> 2 "
        "FROM json_array_elements(CAST(:rows AS JSON)) AS t(row)"
    ),
}
# SQLite's writes go to the driver as they are: executemany of plain tuples.
_SQLITE_PERSONS: Final = (
    "INSERT INTO persons (id, data, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at"
)
_SQLITE_IDENTITIES: Final = "INSERT INTO identities (kind, value, person_id) VALUES (?, ?, ?)"

Accepted = Mapping[str, tuple[str, AbstractSet[IdentityKey]]]
"""Persons to write: their id, their stored JSON and their identities."""


class PersonStatements:
    """The statements for one store's dialect (SQLite or PostgreSQL)."""

    def __init__(self, *, sqlite: bool) -> None:
        self.sqlite = sqlite
        self._sql = _SQLITE if sqlite else _POSTGRES

    @staticmethod
    def _values(values: Iterable[object]) -> str:
        """Values as one bound value: a JSON array."""
        return json.dumps(list(values), ensure_ascii=False)

    def stored_data(self, connection: Connection, ids: Iterable[str]) -> dict[str, str]:
        """The stored JSON of those of ``ids`` that are stored."""
        rows = connection.execute(self._sql["data"], {"ids": self._values(ids)}).all()
        return dict(rows)

    def owners(
        self,
        connection: Connection,
        claimed: Mapping[str, set[str]],
        ids: Iterable[str],
    ) -> dict[IdentityKey, str]:
        """Who owns each identity ``claimed`` (values by kind), and every identity held by
        one of ``ids``: the identities a chunk may take, and those it may release."""
        owners: dict[IdentityKey, str] = {}
        for kind, values in sorted(claimed.items()):
            rows = connection.execute(
                self._sql["owners_of_values"], {"kind": kind, "values": self._values(values)}
            ).all()
            owners.update(((row[0], row[1]), row[2]) for row in rows)
        rows = connection.execute(self._sql["owners_of_persons"], {"ids": self._values(ids)}).all()
        owners.update(((row[0], row[1]), row[2]) for row in rows)
        return owners

    def write(
        self,
        connection: Connection,
        accepted: Accepted,
        clear: Iterable[str],
        now: datetime | str,
    ) -> None:
        """Upsert the ``accepted`` persons (``updated_at`` = ``now``: UTC text on SQLite),
        drop the identities of ``clear`` (those that may hold some), then insert every
        accepted person's identities."""
        cleared = sorted(clear)
        # Each person's identities in order, as ever (most persons have one: no sort).
        identity_rows = [
            (kind, value, pid)
            for pid, (_, keys) in accepted.items()
            for kind, value in (keys if len(keys) < 2 else sorted(keys))
        ]
        if self.sqlite:
            driver = connection.exec_driver_sql
            driver(_SQLITE_PERSONS, [(pid, data, now) for pid, (data, _) in accepted.items()])
            if cleared:
                connection.execute(self._sql["clear"], {"ids": self._values(cleared)})
            if identity_rows:
                driver(_SQLITE_IDENTITIES, identity_rows)
            return
        rows = [(pid, data) for pid, (data, _) in accepted.items()]
        connection.execute(self._sql["persons"], {"rows": self._values(rows), "now": now})
        if cleared:
            connection.execute(self._sql["clear"], {"ids": self._values(cleared)})
        if identity_rows:
            connection.execute(self._sql["identities"], {"rows": self._values(identity_rows)})
