"""HubSpot connector, built on hubspot-api-client and relcrm's one retry policy.

Modules: ``settings`` (environment), ``errors`` (the table from HubSpot code to what
happens next), ``ratelimit`` (the client-side window shared by all threads), ``client``
(every call goes through limiter and policy), ``describe``, ``values`` (formatting per
property type), ``provisioning``, ``matching``, ``writer`` (batch update with 207s mapped
per person), ``reading`` (values read back, normalised), ``notes`` (one history note per
perception), ``connector`` (the facade).
"""

from relcrm.connectors.errors import Rule
from relcrm.connectors.hubspot.connector import CAPABILITIES, HubSpotConnector
from relcrm.connectors.hubspot.errors import ERROR_TABLE
from relcrm.connectors.hubspot.provisioning import HubSpotPlan
from relcrm.connectors.hubspot.ratelimit import RateLimiter
from relcrm.connectors.hubspot.settings import HubSpotSettings
from relcrm.models import MatchReport

__all__ = [
    "CAPABILITIES",
    "ERROR_TABLE",
    "HubSpotConnector",
    "HubSpotPlan",
    "HubSpotSettings",
    "MatchReport",
    "RateLimiter",
    "Rule",
]
