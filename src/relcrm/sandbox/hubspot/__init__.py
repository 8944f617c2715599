"""A local HubSpot: properties, contacts (and companies, notes), search, v4 associations,
rate limits and fault plans, served over HTTPS on 127.0.0.1 for tests and demos.

Start it with :func:`running_hubspot_sandbox` (tests) or :func:`serve_forever` (CLI); point
``hubspot.HubSpot(host=..., ssl_ca_cert=...)`` at it.
"""

from relcrm.sandbox.hubspot.portal import ALL_SCOPES, DEFAULT_TOKEN, Portal, PortalConfig
from relcrm.sandbox.hubspot.ratelimit import RateLimits
from relcrm.sandbox.hubspot.server import HubSpotSandbox, running_hubspot_sandbox, serve_forever

__all__ = [
    "ALL_SCOPES",
    "DEFAULT_TOKEN",
    "HubSpotSandbox",
    "Portal",
    "PortalConfig",
    "RateLimits",
    "running_hubspot_sandbox",
    "serve_forever",
]
