"""The small sandbox hooks the contract suite relies on: the HubSpot sandbox keeps its
rate window on an injected clock, and a Dataverse allowance of zero requests answers 429
with a whole window to wait (a spent quota) instead of failing."""

from __future__ import annotations

import ssl

import httpx

from relcrm.sandbox.dataverse import running_dataverse_sandbox
from relcrm.sandbox.dataverse.pytest_support import dv_client_for
from relcrm.sandbox.dataverse.ratelimit import ServiceLimits
from relcrm.sandbox.hubspot.server import running_hubspot_sandbox
from relcrm.testing.contract import ContractClock


def test_the_hubspot_rate_window_follows_an_injected_clock() -> None:
    clock = ContractClock()
    with running_hubspot_sandbox(rate_limit="2/10s", clock=clock.monotonic) as sandbox:
        context = ssl.create_default_context(cafile=str(sandbox.ca_file))
        headers = {"Authorization": f"Bearer {sandbox.token}"}
        with httpx.Client(base_url=sandbox.base_url, verify=context, trust_env=False) as http:

            def status() -> int:
                return http.get("/crm/v3/properties/contacts", headers=headers).status_code

            assert [status(), status(), status()] == [200, 200, 429]
            clock.advance(9.9)
            assert status() == 429  # real time passing does not help; only the clock does
            clock.advance(0.2)
            assert status() == 200


def test_a_dataverse_allowance_of_nothing_is_a_429_with_a_window_to_wait() -> None:
    clock = ContractClock()
    with (
        running_dataverse_sandbox(clock=clock.monotonic) as sandbox,
        dv_client_for(sandbox) as api,
    ):
        sandbox.set_limits(ServiceLimits(requests=0, window_s=3600.0))
        refused = api.get("WhoAmI")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "3600"
        sandbox.set_limits(ServiceLimits())
        assert api.get("WhoAmI").status_code == 200
