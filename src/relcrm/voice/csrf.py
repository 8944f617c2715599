"""Form tokens: only a form the page itself served can be sent, and only for its link.

Opening a link records nothing (mail scanners follow links); an answer needs a POST that
carries the token the GET put in the form. The token is signed (its own salt, the same
keys as links), names the link it was served for and when, so it cannot be reused on
another link, forged without a key, or kept for longer than ``max_age``. No cookie is
needed, which keeps the page free of cookie banners and of state between requests.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from relcrm.voice.errors import bad_form
from relcrm.voice.links import Clock, utc_now

_SALT = "relcrm.voice.form"
MAX_FORM_TOKEN_LENGTH = 300


class FormTokens:
    """Issues and checks the hidden ``csrf`` field of the page's forms."""

    def __init__(self, keys: Sequence[str], *, max_age: timedelta, clock: Clock = utc_now) -> None:
        self._serializer = URLSafeSerializer(list(reversed(keys)), salt=_SALT)
        self._max_age = max_age
        self._clock = clock

    def __repr__(self) -> str:
        return "FormTokens(keys=**********)"

    def issue(self, link_id: str) -> str:
        payload = {"l": link_id, "t": int(self._clock().timestamp()), "n": secrets.token_hex(8)}
        return str(self._serializer.dumps(payload))

    def check(self, token: str | None, link_id: str) -> None:
        """Return when ``token`` was issued for ``link_id`` within ``max_age``; raise
        :class:`relcrm.voice.errors.VoiceLinkError` (403, ``voice.stale_form``) otherwise."""
        if not token or len(token) > MAX_FORM_TOKEN_LENGTH:
            raise bad_form("form sent without its token")
        try:
            payload = self._serializer.loads(token)
        except BadSignature:
            raise bad_form("form token with a bad signature") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("t"), int):
            raise bad_form("form token with an unexpected payload")
        if payload.get("l") != link_id:
            raise bad_form("form token of another link")
        issued = datetime.fromtimestamp(payload["t"], UTC)
        now = self._clock()
        if issued > now + timedelta(minutes=5) or now - issued > self._max_age:
            raise bad_form("form token too old")


__all__ = ["FormTokens"]
