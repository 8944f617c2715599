"""The sandbox's Zoho Accounts: OAuth clients, refresh tokens and the access tokens they mint.

As Zoho documents it (Accounts OAuth pages; CRM v8 "Token Validity"; Kaizen #43 "Tokens
and Limitations"):

- ``POST {accounts}/oauth/v2/token`` with ``grant_type=refresh_token``, ``client_id``,
  ``client_secret`` and ``refresh_token`` (in the query string or, as Zoho recommends, the
  form body) answers ``{"access_token", "scope", "api_domain", "token_type": "Bearer",
  "expires_in": 3600}``; the API is then called on ``api_domain`` with
  ``Authorization: Zoho-oauthtoken <access token>``;
- an access token is valid for one hour; at most 15 are active per refresh token (the 16th
  invalidates the oldest); at most 10 are minted from one refresh token in 10 minutes,
  after which the endpoint answers HTTP 200 with ``"error": "Access Denied"``;
- failures are HTTP 200 with an ``error`` key: ``invalid_client`` (an unknown client id:
  also a client registered in another data centre), ``invalid_code`` (a refresh token that
  is unknown or revoked). ``invalid_client_secret`` for a wrong secret rests on memory.

Token values are random per sandbox start and only ever leave through :meth:`describe`
of the running sandbox (for the person who started it) and the token answers.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

ACCESS_TOKEN_TTL_S = 3600
MAX_ACTIVE_ACCESS_TOKENS = 15
MINT_LIMIT = 10
MINT_WINDOW_S = 600.0
ACCESS_DENIED = {
    "error": "Access Denied",
    "error_description": "You have made too many requests continuously. "
    "Please try again after some time.",
}
DEFAULT_SCOPES: frozenset[str] = frozenset(
    {"ZohoCRM.modules.ALL", "ZohoCRM.settings.fields.ALL", "ZohoCRM.settings.modules.READ"}
)


def _token() -> str:
    return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


@dataclass
class OAuthClient:
    """A registered app (a "self client" in Zoho's API console)."""

    client_id: str
    client_secret: str


@dataclass
class RefreshGrant:
    """A refresh token: its app, its scopes, the access tokens minted from it."""

    token: str
    client_id: str
    scopes: frozenset[str]
    minted: deque[float] = field(default_factory=deque)
    active: deque[str] = field(default_factory=deque)
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    client_id: str
    refresh_token: str
    scopes: frozenset[str]
    expires_at: float
    calls: int = 0
    valid: bool = True


class Accounts:
    """Clients and tokens of one sandbox; thread-safe."""

    def __init__(self, clock: Callable[[], float], *, token_ttl_s: float = ACCESS_TOKEN_TTL_S):
        self.clock = clock
        self.token_ttl_s = token_ttl_s
        self._default_ttl_s = token_ttl_s
        self.lock = threading.Lock()
        self.clients: dict[str, OAuthClient] = {}
        self.grants: dict[str, RefreshGrant] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.minted = 0
        """Access tokens minted so far (tests count refreshes by it)."""
        default = self.add_client("1000." + secrets.token_hex(15).upper(), secrets.token_hex(21))
        self.default_client = default
        self.default_refresh_token = self.add_refresh_token(default.client_id)

    def add_client(self, client_id: str, client_secret: str) -> OAuthClient:
        with self.lock:
            client = OAuthClient(client_id, client_secret)
            self.clients[client_id] = client
            return client

    def add_refresh_token(
        self, client_id: str, scopes: Iterable[str] | None = None, *, token: str | None = None
    ) -> str:
        """A refresh token for ``client_id`` with ``scopes`` (all of relcrm's by default)."""
        with self.lock:
            value = token or _token()
            self.grants[value] = RefreshGrant(
                value, client_id, frozenset(DEFAULT_SCOPES if scopes is None else scopes)
            )
            return value

    def revoke(self, refresh_token: str) -> None:
        with self.lock:
            grant = self.grants.get(refresh_token)
            if grant is not None:
                grant.revoked = True
                for token in grant.active:
                    if token in self.tokens:
                        self.tokens[token].valid = False

    def expire_all(self) -> None:
        """Every access token stops working (as an hour after they were minted)."""
        with self.lock:
            for token in self.tokens.values():
                token.valid = False

    def reset(self) -> None:
        """Forget access tokens and mint history, and mint tokens of the lifetime the sandbox
        started with; clients and refresh tokens stay."""
        with self.lock:
            self.token_ttl_s = self._default_ttl_s
            self.tokens.clear()
            self.minted = 0
            for grant in self.grants.values():
                grant.minted.clear()
                grant.active.clear()

    def token_answer(self, params: dict[str, str], api_domain: str) -> dict[str, Any]:
        """The body of ``POST /oauth/v2/token`` (always HTTP 200, as Zoho answers)."""
        grant_type = params.get("grant_type", "")
        if grant_type != "refresh_token":
            return {"error": "unsupported_grant_type"}
        with self.lock:
            client = self.clients.get(params.get("client_id", ""))
            if client is None:
                return {"error": "invalid_client"}
            if not secrets.compare_digest(client.client_secret, params.get("client_secret", "")):
                return {"error": "invalid_client_secret"}
            grant = self.grants.get(params.get("refresh_token", ""))
            if grant is None or grant.revoked or grant.client_id != client.client_id:
                return {"error": "invalid_code"}
            now = self.clock()
            while grant.minted and grant.minted[0] <= now - MINT_WINDOW_S:
                grant.minted.popleft()
            if len(grant.minted) >= MINT_LIMIT:
                return dict(ACCESS_DENIED)
            grant.minted.append(now)
            value = _token()
            self.tokens[value] = AccessToken(
                value, client.client_id, grant.token, grant.scopes, now + self.token_ttl_s
            )
            grant.active.append(value)
            while len(grant.active) > MAX_ACTIVE_ACCESS_TOKENS:
                oldest = grant.active.popleft()
                if oldest in self.tokens:
                    self.tokens[oldest].valid = False
            self.minted += 1
            return {
                "access_token": value,
                "scope": " ".join(sorted(grant.scopes)),
                "api_domain": api_domain,
                "token_type": "Bearer",
                "expires_in": int(self.token_ttl_s),
            }

    def check(self, value: str, *, expires_after_calls: int | None = None) -> AccessToken | None:
        """The live access token ``value`` (counting this call), or None."""
        with self.lock:
            token = self.tokens.get(value)
            if token is None or not token.valid:
                return None
            if self.clock() >= token.expires_at:
                token.valid = False
                return None
            token.calls += 1
            if expires_after_calls is not None and token.calls > expires_after_calls:
                token.valid = False  # the fault plan's "session expires after N calls"
                return None
            return token
