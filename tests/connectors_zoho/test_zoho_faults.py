"""The Zoho connector when Zoho misbehaves or says no: limits, expired tokens, spent
credits, dropped connections, locked records, refused credentials. No test waits: the
retry policy records its waits, and token ages are moved by clocks."""

from __future__ import annotations

import pytest

from relcrm.connectors.errors import (
    AuthenticationFailed,
    PermissionDenied,
    QuotaExhausted,
    SessionExpired,
    TransientError,
)
from relcrm.connectors.zoho import ZohoConnector
from relcrm.models import FieldWrite, RecordRef, WriteOutcome
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.zoho.limits import LimitsConfig
from relcrm.sandbox.zoho.server import ZohoSandbox
from tests.connectors_zoho.conftest import connector_for, settings_for, zoho_specs

SPECS = zoho_specs()


def contacts(zoho: ZohoSandbox, count: int) -> list[str]:
    return [
        zoho.org.add_record("Contacts", {"Last_Name": f"N{i}", "Email": f"n{i}@example.com"})
        for i in range(count)
    ]


def writes_for(ids: list[str], health: float = 42.0) -> list[FieldWrite]:
    return [
        FieldWrite(
            person_id=f"p{i}",
            record=RecordRef(system="zoho", object="Contacts", id=rid),
            values={"relcrm_Health": health, "relcrm_Scored_At": "2026-11-01T10:00:00.5+00:00"},
        )
        for i, rid in enumerate(ids)
    ]


def ready(zoho: ZohoSandbox, connector: ZohoConnector, count: int) -> list[str]:
    connector.provision("Contacts", SPECS)
    zoho.log.clear()
    return contacts(zoho, count)


def test_concurrency_is_held_to_the_apps_limit_without_a_429(zoho: ZohoSandbox) -> None:
    zoho.set_limits(LimitsConfig(concurrency=2))
    zoho.set_work_ms(40)
    connector = connector_for(zoho, max_concurrency=2, workers=4)
    ids = ready(zoho, connector, 400)
    results = connector.write("Contacts", writes_for(ids))
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    assert zoho.limits.refused == {}
    assert zoho.limits.peak(zoho.client_id) == 2
    assert set(zoho.log.write_counts("Contacts").values()) == {1}
    assert len([c for c in zoho.log if c.method == "PUT"]) == 4


def test_a_429_for_concurrency_is_waited_out_and_retried(zoho: ZohoSandbox) -> None:
    zoho.set_limits(LimitsConfig(concurrency=1))
    hold = zoho.limits.occupy(zoho.client_id)  # another integration of the app is busy
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        hold.__exit__(None, None, None)  # it finishes while we wait

    from relcrm.connectors.retry import RetryPolicy

    connector = ZohoConnector(settings_for(zoho), policy=RetryPolicy(sleep=sleep))
    connector.describe("Contacts")  # mints the token first
    hold.__enter__()
    specs = connector.describe("Leads")
    assert specs and sleeps == [0.5]
    assert connector.client.rate_limited == 1
    assert [c.status for c in zoho.log if "settings" in c.path][-2:] == [429, 200]


def test_a_token_expired_by_zoho_is_refreshed_and_the_call_sent_again(
    zoho: ZohoSandbox, connector: ZohoConnector, sleeps: list[float]
) -> None:
    ids = ready(zoho, connector, 3)
    connector.schema("Contacts")  # field types known: the write's first call is the PUT
    zoho.log.clear()
    zoho.expire_tokens()
    results = connector.write("Contacts", writes_for(ids))
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    assert [(c.path, c.status) for c in zoho.log] == [
        ("/crm/v8/Contacts", 401),
        ("/oauth/v2/token", 200),
        ("/crm/v8/Contacts", 200),
    ]
    assert sleeps == [0.0]  # a fresh token needs no wait
    assert connector.client.tokens.minted == 2


def test_sessions_that_expire_every_few_calls_are_renewed_each_time(
    zoho: ZohoSandbox, connector: ZohoConnector
) -> None:
    ids = ready(zoho, connector, 250)
    zoho.set_faults(FaultPlan(session_expires_after=2))
    minted = connector.client.tokens.minted
    results = connector.write("Contacts", writes_for(ids))
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    assert connector.client.tokens.minted > minted
    assert set(zoho.log.write_counts("Contacts").values()) == {1}


def test_tokens_are_refreshed_ahead_of_their_hour(zoho: ZohoSandbox) -> None:
    now = [1000.0]
    connector = connector_for(zoho, clock=lambda: now[0])
    connector.describe("Contacts")
    now[0] += 3600 - 61  # a minute and a second before the hour
    connector.describe("Contacts")
    assert connector.client.tokens.minted == 1
    now[0] += 2
    zoho.advance(3600)  # the org's token has expired too; relcrm does not wait to be told
    connector.describe("Contacts")
    assert connector.client.tokens.minted == 2
    assert 401 not in {c.status for c in zoho.log}


def test_spent_credits_stop_the_batch_with_what_was_written(zoho: ZohoSandbox) -> None:
    connector = connector_for(zoho)
    ids = ready(zoho, connector, 250)
    zoho.set_limits(LimitsConfig(credits=12))  # the describe (1) and 100 records (10) fit
    with pytest.raises(QuotaExhausted) as caught:
        connector.write("Contacts", writes_for(ids))
    error = caught.value
    assert error.vendor_code == "TOO_MANY_REQUESTS"
    written = [r for r in error.completed if r.outcome is WriteOutcome.WRITTEN]
    assert len(written) == 100
    assert len(zoho.log.write_counts("Contacts")) == 100
    assert "24 hours" in error.message


def test_a_connection_dropped_after_the_write_is_read_back_not_sent_again(
    zoho: ZohoSandbox, connector: ZohoConnector
) -> None:
    ids = ready(zoho, connector, 5)
    zoho.set_faults(
        FaultPlan(drop_calls=[1], drop_after_processing=True, paths=["/crm/v8/Contacts"])
    )
    results = connector.write("Contacts", writes_for(ids))
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    assert zoho.log.write_counts("Contacts") == {rid: 1 for rid in ids}
    assert connector.writer.recovered == 5
    methods = [c.method for c in zoho.log if c.path == "/crm/v8/Contacts"]
    assert methods == ["PUT", "GET"]  # the read-back, and nothing sent twice


def test_a_connection_dropped_before_the_write_is_read_back_then_sent(
    zoho: ZohoSandbox, connector: ZohoConnector
) -> None:
    ids = ready(zoho, connector, 3)
    zoho.set_faults(FaultPlan(drop_calls=[1], paths=["/crm/v8/Contacts"]))
    results = connector.write("Contacts", writes_for(ids))
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    assert zoho.log.write_counts("Contacts") == {rid: 1 for rid in ids}
    methods = [c.method for c in zoho.log if c.path == "/crm/v8/Contacts"]
    assert methods == ["PUT", "GET", "PUT"]


def test_an_unanswered_upsert_is_found_by_its_key(
    zoho: ZohoSandbox, connector: ZohoConnector
) -> None:
    connector.provision("Contacts", SPECS)
    zoho.set_faults(
        FaultPlan(drop_calls=[1], drop_after_processing=True, paths=["/Contacts/upsert"])
    )
    write = FieldWrite(
        person_id="new", values={"Email": "new@example.com", "Last_Name": "New", "relcrm_Health": 7}
    )
    (result,) = connector.write("Contacts", [write])
    assert result.outcome is WriteOutcome.WRITTEN and result.record_id
    assert len(zoho.org.records["Contacts"]) == 1


def test_a_locked_record_is_retried_alone(
    zoho: ZohoSandbox, connector: ZohoConnector, sleeps: list[float]
) -> None:
    ids = ready(zoho, connector, 4)
    zoho.set_faults(FaultPlan(record_failure_keys=[ids[1]], record_failure_times=1))
    results = connector.write("Contacts", writes_for(ids))
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    puts = [c for c in zoho.log if c.method == "PUT"]
    assert [len(c.writes) for c in puts] == [4, 1]
    assert len(sleeps) == 1


def test_a_record_that_stays_locked_is_reported_retryable(
    zoho: ZohoSandbox, connector: ZohoConnector
) -> None:
    ids = ready(zoho, connector, 2)
    zoho.set_faults(FaultPlan(record_failure_keys=[ids[0]], record_failure_times=0))
    first, second = connector.write("Contacts", writes_for(ids))
    assert (first.outcome, first.error_code) == (WriteOutcome.RETRYABLE, "RECORD_LOCKED")
    assert second.outcome is WriteOutcome.WRITTEN


def test_500s_are_retried_honouring_retry_after(
    zoho: ZohoSandbox, connector: ZohoConnector, sleeps: list[float]
) -> None:
    zoho.set_faults(FaultPlan(unavailable_calls=[1, 2], retry_after_s=7, paths=["/settings"]))
    assert connector.describe("Contacts")
    assert sleeps == [7.0, 7.0]


def test_zoho_that_stays_down_ends_as_a_transient_failure(
    zoho: ZohoSandbox, connector: ZohoConnector
) -> None:
    zoho.set_faults(FaultPlan(unavailable_rate=1.0, paths=["/settings"]))
    with pytest.raises(TransientError) as caught:
        connector.describe("Contacts")
    assert caught.value.vendor_code == "INTERNAL_ERROR"


def test_refused_credentials_stop_with_a_message_that_holds_no_secret(zoho: ZohoSandbox) -> None:
    from pydantic import SecretStr

    bad = settings_for(zoho, refresh_token=SecretStr("1000.revoked.token"))
    with pytest.raises(AuthenticationFailed) as caught:
        connector_for(zoho, settings=bad).describe("Contacts")
    error = caught.value
    assert error.vendor_code == "INVALID_CODE"
    text = f"{error} {error.hint} {caught.value!r}"
    for secret in ("1000.revoked.token", zoho.client_secret, zoho.client_id):
        assert secret not in text
    wrong_centre = settings_for(zoho, client_id=SecretStr("1000.ANOTHERCENTRE"))
    with pytest.raises(AuthenticationFailed, match="invalid_client"):
        connector_for(zoho, settings=wrong_centre).describe("Contacts")


def test_a_token_without_the_scope_is_a_permission_problem(zoho: ZohoSandbox) -> None:
    from pydantic import SecretStr

    narrow = zoho.accounts.add_refresh_token(zoho.client_id, ["ZohoCRM.modules.ALL"])
    connector = connector_for(zoho, settings=settings_for(zoho, refresh_token=SecretStr(narrow)))
    with pytest.raises(PermissionDenied) as caught:
        connector.describe("Contacts")
    assert caught.value.vendor_code == "OAUTH_SCOPE_MISMATCH"
    assert "ZohoCRM.settings.fields.ALL" in caught.value.hint


def test_a_token_zoho_keeps_refusing_is_not_refreshed_forever(zoho: ZohoSandbox) -> None:
    connector = connector_for(zoho)
    connector.describe("Contacts")
    zoho.set_faults(FaultPlan(session_expires_after=1))
    zoho.expire_tokens()
    zoho.accounts.token_ttl_s = 0  # every new token is born expired
    with pytest.raises(SessionExpired):
        connector.describe("Contacts")
    assert connector.client.tokens.minted <= 4
