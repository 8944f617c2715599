"""Transport failures, uncertain writes, failing inputs and value-free messages, against
the HubSpot sandbox through hubspot-api-client (issue 11: #2, #9, #11, #12).

#2: a connection dropped with a TLS error makes hubspot-api-client wrap the urllib3
``SSLError`` in ``ApiException(status=0)`` and then trip over it
(``AttributeError: 'NoneType' object has no attribute 'decode'``); relcrm used to let
that crash the whole sync.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from relcrm.connectors.errors import ConnectionFailed, RequestRejected, TransientError
from relcrm.connectors.hubspot import HubSpotConnector, HubSpotSettings
from relcrm.connectors.retry import RetryBudget, RetryPolicy
from relcrm.models import WriteOutcome
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.hubspot import PortalConfig, running_hubspot_sandbox
from relcrm.sandbox.hubspot.pytest_support import hs_client_for
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from tests.connectors_hubspot.conftest import connector_for, settings_for
from tests.connectors_hubspot.helpers import SPECS, read, seed_contacts, write_for

FEELING = "Feels trapped by the contract and furious about the outage last week"


def updates(sandbox: HubSpotSandbox) -> list[Any]:
    return [c for c in sandbox.log.calls() if c.path.endswith("/batch/update")]


def ready(sandbox: HubSpotSandbox, client: Any, count: int, **kwargs: Any) -> tuple[Any, list[str]]:
    connector = connector_for(sandbox, **kwargs)
    connector.provision("contacts", SPECS)
    connector.writer.schema("contacts")
    ids = seed_contacts(client, [f"f{i}@example.com" for i in range(count)])
    sandbox.log.clear()
    return connector, list(ids.values())


@pytest.mark.parametrize("mode", ["close", "reset", "tls"])
def test_a_dropped_connection_of_any_kind_is_translated_and_retried(
    hs_client: Any, hs_sandbox: HubSpotSandbox, mode: str
) -> None:
    connector = connector_for(hs_sandbox)
    hs_sandbox.set_faults(FaultPlan(drop_calls=[1, 2], drop_mode=mode))  # type: ignore[arg-type]
    assert connector.describe("contacts")
    assert [c.fault for c in hs_sandbox.log.calls()][:3] == ["dropped", "dropped", None]


def test_the_sdks_attribute_error_on_a_tls_drop_becomes_a_transient_error(
    hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    connector = HubSpotConnector(
        settings_for(hs_sandbox), policy=RetryPolicy(attempts=1, sleep=lambda s: None)
    )
    hs_sandbox.set_faults(FaultPlan(drop_calls=[1], drop_mode="tls"))
    with pytest.raises(TransientError) as failure:
        connector.describe("contacts")
    assert failure.value.vendor_code == "CONNECTION_DROPPED" and failure.value.maybe_applied
    assert isinstance(failure.value.__cause__, AttributeError)  # what the SDK raised


@pytest.mark.parametrize("mode", ["close", "reset", "tls"])
def test_a_write_carried_out_but_unanswered_is_read_back_not_sent_again(
    hs_client: Any, hs_sandbox: HubSpotSandbox, mode: str
) -> None:
    connector, ids = ready(hs_sandbox, hs_client, 30)
    hs_sandbox.set_faults(
        FaultPlan(drop_calls=[1], drop_after_processing=True, drop_mode=mode)  # type: ignore[arg-type]
    )
    writes = [
        write_for(f"p{i}", r, relcrm_health=i, relcrm_band="Stable") for i, r in enumerate(ids)
    ]
    results = connector.write("contacts", writes)
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    counts = hs_sandbox.log.write_counts("contacts")
    assert len(counts) == 30 and set(counts.values()) == {1}
    assert len(updates(hs_sandbox)) == 1  # read back, nothing sent again
    assert connector.writer.recovered == 30


def test_a_write_dropped_before_it_was_carried_out_is_sent_again_once(
    hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    connector, ids = ready(hs_sandbox, hs_client, 10)
    hs_sandbox.set_faults(FaultPlan(drop_calls=[1], drop_mode="tls"))
    results = connector.write(
        "contacts", [write_for(f"p{i}", r, relcrm_health=7) for i, r in enumerate(ids)]
    )
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    assert set(hs_sandbox.log.write_counts("contacts").values()) == {1}
    assert [c.fault for c in updates(hs_sandbox)] == ["dropped", None]


def test_a_read_timeout_after_hubspot_did_the_work_is_read_back(
    hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    settings = settings_for(hs_sandbox).model_copy(update={"timeout_s": 0.3})
    connector = HubSpotConnector(settings, policy=RetryPolicy(sleep=lambda s: None))
    connector.provision("contacts", SPECS)
    connector.writer.schema("contacts")
    ids = list(seed_contacts(hs_client, [f"s{i}@example.com" for i in range(6)]).values())
    hs_sandbox.log.clear()
    hs_sandbox.set_faults(FaultPlan(slow_calls=[1], slow_ms=900))
    results = connector.write(
        "contacts", [write_for(f"p{i}", r, relcrm_health=3) for i, r in enumerate(ids)]
    )
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    assert set(hs_sandbox.log.write_counts("contacts").values()) == {1}
    assert [c.fault for c in updates(hs_sandbox)] == ["slow"]


def test_an_untrusted_certificate_stops_at_once(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    settings = HubSpotSettings(
        _env_file=None, access_token=hs_sandbox.token, base_url=hs_sandbox.base_url
    )
    sleeps: list[float] = []
    connector = HubSpotConnector(settings, policy=RetryPolicy(sleep=sleeps.append))
    with pytest.raises(ConnectionFailed):
        connector.describe("contacts")
    assert sleeps == []


def test_an_input_that_keeps_failing_is_reported_after_its_tries(
    hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    sleeps: list[float] = []
    connector, ids = ready(hs_sandbox, hs_client, 300, sleeps=sleeps)
    connector.client.policy = RetryPolicy(
        sleep=sleeps.append, record_attempts=2, budget=RetryBudget(1.0)
    )
    stuck = ["f7@example.com", "f150@example.com", "f299@example.com"]
    hs_sandbox.set_faults(FaultPlan(record_failure_keys=stuck, record_failure_times=0))
    results = connector.write(
        "contacts", [write_for(f"p{i}", r, relcrm_health=1) for i, r in enumerate(ids)]
    )
    outcomes = Counter((r.outcome, r.error_code) for r in results)
    assert outcomes == {(WriteOutcome.WRITTEN, None): 297, (WriteOutcome.RETRYABLE, "TRANSIENT"): 3}
    assert sum(sleeps) <= 1.0 and len(sleeps) == 1  # one round for all three batches' failures
    assert [len(c.writes) for c in updates(hs_sandbox)] == [100, 100, 100, 3]
    assert set(hs_sandbox.log.write_counts("contacts").values()) == {1}


def test_no_value_written_appears_in_any_result_message(
    hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    connector, ids = ready(hs_sandbox, hs_client, 4)
    writes = [
        write_for("p0", ids[0], relcrm_band="Ecstatically trapped"),
        write_for("p1", ids[1], relcrm_health="very angry"),
        write_for("p2", ids[2], relcrm_churn_risk="perhaps"),
        write_for(
            "p3", ids[3], relcrm_last_nps_date="2024-05-01T10:40:00Z", relcrm_reasons=FEELING
        ),
    ]
    results = connector.write("contacts", writes)
    assert [r.outcome for r in results] == [WriteOutcome.REJECTED] * 3 + [WriteOutcome.WRITTEN]
    for result in results[:3]:
        message = result.error_message or ""
        assert message and not [
            v for v in ("Ecstatically", "very angry", "perhaps") if v in message
        ]
    assert "relcrm_band: INVALID_OPTION" in (results[0].error_message or "")


def test_a_batch_refused_whole_names_no_value_in_results_or_errors() -> None:
    with running_hubspot_sandbox(config=PortalConfig(per_input_validation=False)) as portal:
        client = hs_client_for(portal)
        connector = connector_for(portal)
        connector.provision("contacts", SPECS)
        ids = list(seed_contacts(client, [f"w{i}@example.com" for i in range(4)]).values())
        writes = [write_for(f"p{i}", r, relcrm_health=i) for i, r in enumerate(ids)]
        writes[2] = write_for("p2", ids[2], relcrm_band=FEELING)
        results = connector.write("contacts", writes)
        assert [r.outcome for r in results].count(WriteOutcome.REJECTED) == 1
        assert FEELING not in (results[2].error_message or "")
        assert "relcrm_band: INVALID_OPTION" in (results[2].error_message or "")
        body = {"inputs": [{"id": ids[2], "properties": {"relcrm_band": FEELING}}]}
        with pytest.raises(RequestRejected) as failure:
            connector.client.call(
                "batch update contacts",
                lambda sdk: sdk.crm.objects.batch_api.update_with_http_info("contacts", body),
            )
        assert FEELING not in str(failure.value) and "INVALID_OPTION" in str(failure.value)
        assert read(client, ids[0], "relcrm_health")["relcrm_health"] == "0"
