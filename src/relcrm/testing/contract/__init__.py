"""The connector contract suite: one import gives a plugin author every check relcrm
makes of a connector, run against their own test server.

::

    from relcrm.testing.contract import ConnectorAdapter, ConnectorContract

    class MyCrmAdapter(ConnectorAdapter[MyServer]):
        ...  # how to start the test server, build the connector, seed records

    class TestMyCrm(ConnectorContract):
        adapter = MyCrmAdapter()

Each check is a test method; a check that needs what the connector does not declare, or
an optional adapter member the adapter lacks, is skipped with the reason, never passed.
This is test-time code (it imports pytest): relcrm's production code never imports it.
"""

from relcrm.testing.contract.adapter import (
    ConnectorAdapter,
    SeedRecord,
    StoredTask,
    Throttle,
    Unsupported,
    optional,
)
from relcrm.testing.contract.base import ContractBase, email_of
from relcrm.testing.contract.clock import ContractClock
from relcrm.testing.contract.core import ConstructionChecks, MatchChecks, SchemaChecks
from relcrm.testing.contract.faults import FaultChecks
from relcrm.testing.contract.features import FeatureChecks
from relcrm.testing.contract.specs import (
    BAND,
    REFUSED_TOKEN,
    contract_specs,
    key_spec,
    refused_value,
    sample_value,
    sample_values,
    secret_values,
)
from relcrm.testing.contract.tasks import TaskChecks
from relcrm.testing.contract.writes import WriteChecks


class ConnectorContract(
    ConstructionChecks,
    SchemaChecks,
    MatchChecks,
    WriteChecks,
    FaultChecks,
    FeatureChecks,
    TaskChecks,
):
    """Every check of the connector contract; subclass it as ``Test...`` and set
    ``adapter`` (a :class:`ConnectorAdapter`). Not collected itself (no ``Test`` prefix)."""


__all__ = [
    "BAND",
    "REFUSED_TOKEN",
    "ConnectorAdapter",
    "ConnectorContract",
    "ContractBase",
    "ContractClock",
    "SeedRecord",
    "StoredTask",
    "TaskChecks",
    "Throttle",
    "Unsupported",
    "contract_specs",
    "email_of",
    "key_spec",
    "optional",
    "refused_value",
    "sample_value",
    "sample_values",
    "secret_values",
]
