"""Social posts kept aside until their author is known.

A post from a listening tool names a handle, not a person. When neither the handle map
nor a stored identity says whose handle it is, the post is not dropped: it waits here,
its text already redacted, until an ingest with a better handle map resolves it and
removes it. These methods are mixed into :class:`relcrm.store.Store`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Final

from sqlalchemy import delete, func, select

from relcrm.store._part import StorePart
from relcrm.store._part import from_column as _read_utc
from relcrm.store._part import to_utc as _utc
from relcrm.store._tables import unresolved_posts

IN_LIST_SIZE: Final = 900
"""Values per ``IN (...)``: under SQLite's historic limit of 999 bound parameters."""

WRITE_CHUNK: Final = 1_000
"""Posts per executemany when holding posts."""


@dataclass(frozen=True, slots=True)
class UnresolvedPost:
    """A post whose author is not known yet, as the store keeps it.

    ``key`` identifies the post across ingests (``"<platform>/<post id>"``); ``text`` is
    the redacted text: the store never holds a post's text unredacted.
    """

    key: str
    platform: str
    handle: str
    post_id: str
    source_system: str
    text: str
    posted_at: datetime
    public: bool
    url: str | None = None
    first_seen_at: datetime | None = None
    """When a post was first held; set by the store, ignored on :meth:`hold_unresolved_posts`."""


class UnresolvedPostStore(StorePart):
    """The store's part for posts whose author is not known yet (mixed into Store)."""

    def hold_unresolved_posts(
        self, posts: Iterable[UnresolvedPost], *, at: datetime | None = None
    ) -> int:
        """Keep posts until their author is known; return how many were new.

        A post already held (same key) is left as it is, its first-seen time included,
        so holding the same file's posts again changes nothing.
        """
        seen = _utc(at) if at is not None else datetime.now(UTC)
        rows: dict[str, dict[str, Any]] = {}
        for post in posts:
            rows.setdefault(
                post.key,
                {
                    "key": post.key,
                    "platform": post.platform,
                    "handle": post.handle,
                    "post_id": post.post_id,
                    "source_system": post.source_system,
                    "url": post.url,
                    "text": post.text,
                    "posted_at": _utc(post.posted_at),
                    "public": post.public,
                    "first_seen_at": seen,
                },
            )
        if not rows:
            return 0
        new = 0
        ordered = [rows[key] for key in sorted(rows)]
        iterator = iter(ordered)
        with self._write() as connection:
            while chunk := list(islice(iterator, WRITE_CHUNK)):
                statement = self._insert(unresolved_posts).on_conflict_do_nothing(
                    index_elements=[unresolved_posts.c.key]
                )
                new += len(
                    connection.execute(statement.returning(unresolved_posts.c.key), chunk).all()
                )
        return new

    def iter_unresolved_posts(self) -> Iterator[UnresolvedPost]:
        """Every held post, oldest first (by first-seen time, then key)."""
        query = select(unresolved_posts).order_by(
            unresolved_posts.c.first_seen_at, unresolved_posts.c.key
        )
        with self._read() as connection:
            rows = connection.execute(query).all()
        for row in rows:
            yield UnresolvedPost(
                key=row.key,
                platform=row.platform,
                handle=row.handle,
                post_id=row.post_id,
                source_system=row.source_system,
                text=row.text,
                posted_at=_read_utc(row.posted_at),
                public=bool(row.public),
                url=row.url,
                first_seen_at=_read_utc(row.first_seen_at),
            )

    def count_unresolved_posts(self) -> int:
        with self._read() as connection:
            query = select(func.count()).select_from(unresolved_posts)
            return int(connection.scalar(query) or 0)

    def release_unresolved_posts(self, keys: Iterable[str]) -> int:
        """Remove held posts (their author is now known); return how many were held."""
        wanted = sorted(set(keys))
        removed = 0
        with self._write() as connection:
            for start in range(0, len(wanted), IN_LIST_SIZE):
                part = wanted[start : start + IN_LIST_SIZE]
                result = connection.execute(
                    delete(unresolved_posts).where(unresolved_posts.c.key.in_(part))
                )
                removed += result.rowcount
        return removed
