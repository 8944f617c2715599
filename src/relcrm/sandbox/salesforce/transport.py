"""Point simple-salesforce's login calls at a loopback sandbox.

simple-salesforce hard-codes ``https://{domain}.salesforce.com`` for its SOAP and OAuth
logins. Mounting :class:`LoopbackAdapter` on the ``requests.Session`` it uses rewrites
those URLs (and any My Domain host) to the sandbox, so every login flow can be tested for
real. The session trusts the sandbox's CA explicitly, and ignores ``REQUESTS_CA_BUNDLE``
(``trust_env = False``): requests would otherwise let the environment override
``session.verify``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

DEFAULT_HOSTS: tuple[str, ...] = ("login.salesforce.com", "test.salesforce.com")


class LoopbackAdapter(HTTPAdapter):
    """A transport adapter that sends requests for some hosts to another base URL."""

    def __init__(self, target_base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        parts = urlsplit(target_base_url)
        self._scheme = parts.scheme
        self._netloc = parts.netloc

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        request.url = urlunsplit(
            (self._scheme, self._netloc, parts.path, parts.query, parts.fragment)
        )
        request.headers.pop("Host", None)
        return super().send(request, **kwargs)


def loopback_session(
    instance_url: str,
    ca_file: Path | str,
    *,
    hosts: Iterable[str] = DEFAULT_HOSTS,
    domains: Iterable[str] = (),
    extra_headers: Mapping[str, str] | None = None,
) -> requests.Session:
    """A ``requests.Session`` that trusts the sandbox CA and routes logins to the sandbox.

    ``domains`` are simple-salesforce ``domain=`` values (``"mycompany.my"``) whose
    ``https://{domain}.salesforce.com`` host should reach the sandbox too.
    """
    session = requests.Session()
    session.verify = str(ca_file)
    session.trust_env = False
    adapter = LoopbackAdapter(instance_url)
    for host in [*hosts, *(f"{d}.salesforce.com" for d in domains)]:
        session.mount(f"https://{host}", adapter)
    if extra_headers:
        session.headers.update(extra_headers)
    return session
