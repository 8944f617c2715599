"""Zoho CRM (API v8) connector, built on httpx and relcrm's one retry policy.

Why httpx and not Zoho's official SDK (``zohocrmsdk8-0``, read at 6.0.0 in
``zoho/zohocrm-python-sdk-8.0`` and at 7.0.0 on PyPI, Apache-2.0):

- **Secrets on disk.** The SDK keeps OAuth tokens in a token store: a plain CSV file
  (``FileStore``, ``sdk_tokens.txt`` in the working directory by default) or MySQL
  (``DBStore``); refresh and access tokens land there in clear. It also writes the
  modules' field metadata as JSON files under ``resource_path`` (default: the working
  directory). relcrm keeps secrets as ``SecretStr`` in memory only.
- **TLS and timeouts cannot be set per client.** Every request goes through module-level
  ``requests.get/post/put/...`` (``APIHTTPConnector.fire_request``,
  ``OAuthToken.refresh_access_token``): no session to hand a CA file to (only the
  process-wide ``REQUESTS_CA_BUNDLE``), and ``read_timeout``/``connect_timeout`` reach GET
  calls only - writes and token refreshes wait forever on a quiet connection.
- **Process-global state.** ``Initializer.initialize`` sets one org per process
  (``Initializer.switch_user`` swaps a thread-local), which fights the sync engine's
  several targets and workers.
- **Errors are swallowed.** ``CommonAPIHandler.api_call`` logs an ``SDKException`` raised
  while firing a request and returns None, so a failure cannot be told from "no content".
- **Retries and refreshes outside relcrm's policy.** The SDK does not retry calls, but
  refreshes tokens inside ``authenticate`` and, on first use, calls the users API to name
  the token's user; relcrm wants every call, refresh included, under its one policy and
  its call count.
- **Dependencies.** It requires ``requests``, ``urllib3``, ``python-dateutil`` and
  ``setuptools`` at run time (its requirements file pins ``urllib3==2.6.0``).

httpx is already relcrm's dependency; the API is plain JSON over HTTPS with a documented
shape, so a thin client is less code than adapting the SDK. What the SDK does know (data
centre hosts, the token endpoint, header prefix ``Zoho-oauthtoken``) is cited where used.

Modules: ``settings`` (environment), ``datacentres``, ``errors`` (the table from Zoho code
to what happens next), ``auth`` (access tokens, refreshed ahead of expiry and on
``INVALID_TOKEN``), ``client`` (every call through the token, the concurrency gate and the
policy), ``describe``, ``values`` (formatting and normalising per data type),
``provisioning``, ``matching`` (batched searches), ``writer`` (updates and upserts of 100
with per-record results), ``reading``, ``connector`` (the facade).
"""

from relcrm.connectors.zoho.connector import ZohoConnector, capabilities_for, credits_per_day
from relcrm.connectors.zoho.errors import ERROR_TABLE
from relcrm.connectors.zoho.settings import ZohoSettings

__all__ = [
    "ERROR_TABLE",
    "ZohoConnector",
    "ZohoSettings",
    "capabilities_for",
    "credits_per_day",
]
