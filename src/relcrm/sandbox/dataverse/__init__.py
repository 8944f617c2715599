"""A local Dynamics 365 / Dataverse environment: the Entra ID token endpoint (client
credentials), the Web API (``contacts``, ``leads``, OData queries, ``$batch``,
``UpdateMultiple``/``UpsertMultiple``), table metadata (custom columns, option sets,
alternate keys), service protection limits and fault plans, served over HTTPS on 127.0.0.1
for tests and demos.

Start it with :func:`running_dataverse_sandbox` (tests) or :func:`serve_forever` (CLI);
point a client's environment URL and authority URL at ``sandbox.base_url`` and trust
``sandbox.ca_file``. What it reproduces, and from which published source, is in each
module's docstring.
"""

from relcrm.sandbox.dataverse.auth import AppRegistration, Directory
from relcrm.sandbox.dataverse.org import Organization, OrgConfig
from relcrm.sandbox.dataverse.ratelimit import ServiceLimits
from relcrm.sandbox.dataverse.server import (
    DataverseSandbox,
    running_dataverse_sandbox,
    serve_forever,
)

__all__ = [
    "AppRegistration",
    "DataverseSandbox",
    "Directory",
    "OrgConfig",
    "Organization",
    "ServiceLimits",
    "running_dataverse_sandbox",
    "serve_forever",
]
