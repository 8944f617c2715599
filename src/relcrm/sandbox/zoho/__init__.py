"""A local Zoho CRM (API v8): Zoho Accounts' token endpoint and the CRM API on one HTTPS
host with its own CA, with field metadata and custom fields, Contacts and Leads (search,
get, insert, update, upsert), per-record results, access tokens that expire, credits over a
rolling 24 hours, concurrency limits, and the shared fault plans and request log.

Start it with :func:`running_zoho_sandbox` (tests) or :func:`serve_forever` (CLI).
"""

from relcrm.sandbox.zoho.auth import Accounts
from relcrm.sandbox.zoho.limits import Limits, LimitsConfig, edition_credits
from relcrm.sandbox.zoho.org import Org, OrgConfig
from relcrm.sandbox.zoho.seed import seed_persons, seed_records
from relcrm.sandbox.zoho.server import ZohoSandbox, running_zoho_sandbox, serve_forever

__all__ = [
    "Accounts",
    "Limits",
    "LimitsConfig",
    "Org",
    "OrgConfig",
    "ZohoSandbox",
    "edition_credits",
    "running_zoho_sandbox",
    "seed_persons",
    "seed_records",
    "serve_forever",
]
