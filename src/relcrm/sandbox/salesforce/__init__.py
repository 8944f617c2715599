"""A local Salesforce org over HTTPS, faithful enough to test integrations against.

Start it with :func:`running_sandbox` (tests) or :func:`serve_forever` (the CLI); point
simple-salesforce at it with :func:`loopback_session`.
"""

from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.salesforce.org import Org, OrgConfig
from relcrm.sandbox.salesforce.server import SalesforceSandbox, running_sandbox, serve_forever
from relcrm.sandbox.salesforce.transport import LoopbackAdapter, loopback_session

__all__ = [
    "FaultPlan",
    "LoopbackAdapter",
    "Org",
    "OrgConfig",
    "SalesforceSandbox",
    "loopback_session",
    "running_sandbox",
    "serve_forever",
]
