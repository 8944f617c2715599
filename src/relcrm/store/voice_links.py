"""The feedback page's links (schema version 9): opaque ids, whose page each opens, and the
nonce that makes a link answer once.

A signed link carries only the row's id, never a person id or an address: who the link
is for stays in the store. ``answered_at`` is the nonce: :meth:`VoiceLinkStore.take_answer`
sets it with one conditional ``UPDATE ... WHERE answered_at IS NULL``, so two answers racing
on SQLite or PostgreSQL cannot both be taken. Rows are erased with their person.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, delete, insert, select, update

from relcrm.errors import StoreError
from relcrm.store._part import StorePart, from_column, to_utc
from relcrm.store._tables import persons, voice_links

LinkPurpose = Literal["feedback", "preferences"]
"""What a link opens: the whole page (a score, a comment and preferences, answered once),
or the preferences alone (which may be changed again and again)."""

LINK_PURPOSES: tuple[LinkPurpose, ...] = ("feedback", "preferences")


@dataclass(frozen=True)
class VoiceLink:
    """A link as stored."""

    id: str
    person_id: str
    purpose: LinkPurpose
    issued_at: datetime
    expires_at: datetime
    answered_at: datetime | None

    def expired(self, now: datetime) -> bool:
        return self.expires_at <= now

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


def _link(row: object) -> VoiceLink:
    answered = row.answered_at  # type: ignore[attr-defined]
    return VoiceLink(
        id=row.id,  # type: ignore[attr-defined]
        person_id=row.person_id,  # type: ignore[attr-defined]
        purpose=row.purpose,  # type: ignore[attr-defined]
        issued_at=from_column(row.issued_at),  # type: ignore[attr-defined]
        expires_at=from_column(row.expires_at),  # type: ignore[attr-defined]
        answered_at=None if answered is None else from_column(answered),
    )


class VoiceLinkStore(StorePart):
    """Voice links in the store; a mixin of :class:`relcrm.store.Store`."""

    def issue_voice_link(
        self, person_id: str, purpose: LinkPurpose, *, issued_at: datetime, expires_at: datetime
    ) -> VoiceLink:
        """Store a new link for a stored person and return it (its id is random, 128 bits).

        Raises :class:`StoreError` (``store.unknown_person``) when nobody has ``person_id``.
        """
        if purpose not in LINK_PURPOSES:
            raise ValueError(f"purpose must be one of {LINK_PURPOSES}, got {purpose!r}")
        if expires_at <= issued_at:
            raise ValueError("a link must expire after it is issued")
        link = VoiceLink(
            id=secrets.token_hex(16),
            person_id=person_id,
            purpose=purpose,
            issued_at=to_utc(issued_at),
            expires_at=to_utc(expires_at),
            answered_at=None,
        )
        with self._write() as connection:
            known = connection.scalar(select(persons.c.id).where(persons.c.id == person_id))
            if known is None:
                raise StoreError(
                    f"no person {person_id!r} in the store",
                    hint="ingest the person first, or check the id (relcrm profile lists them)",
                    code="voice.unknown_person",
                )
            connection.execute(
                insert(voice_links).values(
                    id=link.id,
                    person_id=link.person_id,
                    purpose=link.purpose,
                    issued_at=link.issued_at,
                    expires_at=link.expires_at,
                    answered_at=None,
                )
            )
        return link

    def voice_link(self, link_id: str) -> VoiceLink | None:
        """The link with this id, or None (never issued, or erased with its person)."""
        with self._read() as connection:
            row = connection.execute(select(voice_links).where(voice_links.c.id == link_id)).first()
        return None if row is None else _link(row)

    def take_answer(self, link_id: str, at: datetime) -> bool:
        """Use the link's one answer: True for the first caller, False once it was taken
        (or for an unknown link). Atomic, so concurrent answers cannot both win."""
        with self._write() as connection:
            result = connection.execute(
                update(voice_links)
                .where(voice_links.c.id == link_id, voice_links.c.answered_at.is_(None))
                .values(answered_at=to_utc(at))
            )
        return result.rowcount == 1

    def release_answer(self, link_id: str, taken_at: datetime) -> None:
        """Give back an answer taken at ``taken_at`` whose recording failed, so the person
        can try again; an answer taken at another moment is left alone."""
        with self._write() as connection:
            connection.execute(
                update(voice_links)
                .where(voice_links.c.id == link_id, voice_links.c.answered_at == to_utc(taken_at))
                .values(answered_at=None)
            )

    def voice_links_of(self, person_id: str) -> list[VoiceLink]:
        """The person's links, oldest first."""
        query = (
            select(voice_links)
            .where(voice_links.c.person_id == person_id)
            .order_by(voice_links.c.issued_at, voice_links.c.id)
        )
        with self._read() as connection:
            return [_link(row) for row in connection.execute(query)]

    def purge_voice_links(self, expired_before: datetime) -> int:
        """Delete links that expired before ``expired_before``; return how many."""
        with self._write() as connection:
            result = connection.execute(
                delete(voice_links).where(voice_links.c.expires_at < to_utc(expired_before))
            )
        return int(result.rowcount)

    @staticmethod
    def _erase_voice_links(connection: Connection, person_id: str) -> None:
        """Delete the person's links inside the caller's (erasure's) transaction."""
        connection.execute(delete(voice_links).where(voice_links.c.person_id == person_id))


__all__ = ["LINK_PURPOSES", "LinkPurpose", "VoiceLink", "VoiceLinkStore"]
