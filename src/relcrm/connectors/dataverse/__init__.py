"""Dataverse (Dynamics 365) connector, built on httpx and relcrm's one retry policy.

Why httpx and a plain token request, not Microsoft's ``PowerPlatform-Dataverse-Client``
(checked: version 1.1.0 on PyPI, MIT, Python >= 3.10) nor msal:

- retries must stay in relcrm's one policy, and the SDK keeps its own: its ``_HttpClient``
  sends every request, writes included, up to five times on any
  ``requests.RequestException`` (a read timeout after a ``POST`` too, so a write may arrive
  twice), with a ``time.sleep`` backoff that cannot be injected; ``http_retries=1`` in
  ``DataverseConfig`` (documented as "reserved for future use") shortens that loop, but its
  metadata reads still retry a 404 five times with hard-coded sleeps, and after creating a
  column it polls with sleeps of 3, 10 and 20 s. relcrm would have to fight the SDK to get
  one retry policy, injectable sleeps and read-back-before-resend;
- its dependencies are heavy for what relcrm uses: ``azure-identity``, ``azure-core``,
  ``requests`` and ``pandas`` (required, not an extra); authentication goes through an
  azure-identity ``TokenCredential``, so pointing it at a sandbox's token endpoint means
  writing a credential class anyway;
- it does not isolate a bad record in an all-or-nothing ``UpdateMultiple`` (its own
  docstring: "if any individual update fails, the entire request rolls back"), which is
  the part relcrm must get right, and ``$batch`` answers must be parsed anyway;
- msal (1.39.0) would add a dependency for one form POST: the client-credentials grant
  needs no token cache across processes, no interactive flows and no authority
  discovery, and msal applies its own throttling to the token endpoint;
- httpx is already a required dependency of relcrm (``pyproject.toml``), is typed, and
  takes an ``ssl.SSLContext``, so the sandbox's CA is trusted explicitly and TLS
  verification never turns off.

So: no new dependency. The Web API is plain OData v4.0 JSON; the modules are ``settings``
(environment), ``errors`` (the table from Dataverse's hexadecimal codes to what happens
next), ``auth`` (client-credentials tokens), ``ratelimit`` (the client-side request window),
``client`` (every call through token, window, error table and policy), ``describe``,
``values`` (formatting per column type), ``query`` (OData literals), ``provisioning``
(columns, options, alternate keys), ``matching``, ``reading``, ``batch`` (``$batch``
bodies), ``writer`` (``UpdateMultiple`` with bad records isolated) and ``connector`` (the
facade).
"""

from relcrm.connectors.dataverse.connector import CAPABILITIES, DataverseConnector
from relcrm.connectors.dataverse.errors import ERROR_TABLE
from relcrm.connectors.dataverse.settings import DataverseSettings

__all__ = ["CAPABILITIES", "ERROR_TABLE", "DataverseConnector", "DataverseSettings"]
