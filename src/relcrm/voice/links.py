"""Signed, expiring links: what ``relcrm voice link`` prints and the page verifies.

A link is ``{base_url}/{purpose}/{token}``; the token is an itsdangerous signature over
``{"l": link id, "e": expiry (epoch seconds)}``, with a salt per purpose, so a
preferences link can never be replayed as a feedback link. The link id is random and
opaque: who it is for is only in the store (``voice_links``), never in the link, so a
forwarded or logged link gives away no address. Signing uses the newest key, verifying
tries every key (rotation: see :class:`relcrm.voice.settings.VoiceSettings`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from relcrm.store import Store
from relcrm.store.voice_links import LINK_PURPOSES, LinkPurpose, VoiceLink
from relcrm.voice.errors import expired_link, invalid_link

Clock = Callable[[], datetime]

MAX_TOKEN_LENGTH = 200
"""Longer path segments are refused before any signature work."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def _salt(purpose: LinkPurpose) -> str:
    return f"relcrm.voice.link.{purpose}"


@dataclass(frozen=True)
class LinkClaim:
    """What a verified token says: which link, and until when it is valid."""

    link_id: str
    purpose: LinkPurpose
    expires_at: datetime


class LinkSigner:
    """Signs and verifies link tokens with the keys given newest first."""

    def __init__(self, keys: Sequence[str], *, clock: Clock = utc_now) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        # itsdangerous signs with the last key and verifies with all: newest last.
        self._serializers = {
            purpose: URLSafeSerializer(list(reversed(keys)), salt=_salt(purpose))
            for purpose in LINK_PURPOSES
        }
        self._clock = clock

    def __repr__(self) -> str:
        return "LinkSigner(keys=**********)"

    def sign(self, link_id: str, purpose: LinkPurpose, expires_at: datetime) -> str:
        payload = {"l": link_id, "e": int(expires_at.timestamp())}
        return str(self._serializers[purpose].dumps(payload))

    def verify(self, token: str, purpose: LinkPurpose) -> LinkClaim:
        """The claim of a valid token; :class:`VoiceLinkError` (404 invalid, 410 expired)
        otherwise. Expiry is checked against the signed time, so no store is needed."""
        if purpose not in LINK_PURPOSES or not token or len(token) > MAX_TOKEN_LENGTH:
            raise invalid_link("malformed link token")
        try:
            payload = self._serializers[purpose].loads(token)
        except BadSignature:
            raise invalid_link("link token with a bad signature") from None
        if (
            not isinstance(payload, dict)
            or not isinstance(payload.get("l"), str)
            or not isinstance(payload.get("e"), int)
        ):
            raise invalid_link("link token with an unexpected payload")
        expires_at = datetime.fromtimestamp(payload["e"], UTC)
        if expires_at <= self._clock():
            raise expired_link("link expired")
        return LinkClaim(link_id=payload["l"], purpose=purpose, expires_at=expires_at)


@dataclass(frozen=True)
class IssuedLink:
    """A link as ``relcrm voice link`` prints it."""

    url: str
    link: VoiceLink


def link_url(base_url: str, purpose: LinkPurpose, token: str) -> str:
    return f"{base_url.rstrip('/')}/{purpose}/{token}"


def issue_link(
    store: Store,
    signer: LinkSigner,
    person_id: str,
    *,
    purpose: LinkPurpose,
    ttl: timedelta,
    base_url: str,
    now: datetime,
) -> IssuedLink:
    """Store a new link for ``person_id`` and return its signed address.

    Raises :class:`relcrm.errors.StoreError` (``voice.unknown_person``) for a person the
    store does not hold. The expiry is whole seconds, as the token carries it.
    """
    expires_at = (now + ttl).replace(microsecond=0)
    link = store.issue_voice_link(person_id, purpose, issued_at=now, expires_at=expires_at)
    token = signer.sign(link.id, purpose, link.expires_at)
    return IssuedLink(url=link_url(base_url, purpose, token), link=link)


__all__ = ["IssuedLink", "LinkClaim", "LinkSigner", "issue_link", "link_url", "utc_now"]
