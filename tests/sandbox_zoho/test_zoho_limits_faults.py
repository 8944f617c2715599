"""Credits, concurrency and the shared fault plan on the Zoho sandbox."""

from __future__ import annotations

import httpx
import pytest

from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.zoho.limits import LimitsConfig, edition_credits, write_credits
from relcrm.sandbox.zoho.pytest_support import access_token, auth_headers, zoho_http
from relcrm.sandbox.zoho.server import ZohoSandbox


def test_credits_per_edition_follow_zohos_formula_and_caps() -> None:
    assert edition_credits("free") == 5000
    assert edition_credits("standard", 10) == 52_500
    assert edition_credits("standard", 1000) == 100_000  # capped
    assert edition_credits("enterprise", 100) == 150_000
    assert edition_credits("ultimate", 1) == 52_000  # no cap
    assert [write_credits(n) for n in (1, 10, 11, 100)] == [1, 1, 2, 10]


def test_writes_cost_one_credit_per_ten_records_and_reads_one(
    api: httpx.Client, zoho: ZohoSandbox
) -> None:
    rows = [{"Last_Name": f"N{i}", "Email": f"n{i}@example.com"} for i in range(100)]
    before = zoho.limits.used()
    api.post("/crm/v8/Contacts", json={"data": rows})
    assert zoho.limits.used() - before == 10
    api.post("/crm/v8/Contacts/upsert", json={"data": rows[:25]})
    assert zoho.limits.used() - before == 13
    api.get("/crm/v8/Contacts/search", params={"email": "n1@example.com"})
    assert zoho.limits.used() - before == 14


def test_spent_credits_answer_429_until_the_rolling_window_frees_them(
    zoho: ZohoSandbox, api: httpx.Client
) -> None:
    zoho.set_limits(LimitsConfig(credits=4))
    search = {"email": "x@example.com"}
    first = api.get("/crm/v8/Contacts/search", params=search)
    assert "X-API-CREDITS-REMAINING" not in first.headers  # under half used
    api.get("/crm/v8/Contacts/search", params=search)
    third = api.get("/crm/v8/Contacts/search", params=search)
    assert third.headers["X-API-CREDITS-REMAINING"] == "1"
    api.get("/crm/v8/Contacts/search", params=search)
    spent = api.get("/crm/v8/Contacts/search", params=search)
    assert spent.status_code == 429
    assert spent.json()["code"] == "TOO_MANY_REQUESTS"
    assert "24 hour" in spent.json()["message"]
    assert spent.headers["X-API-CREDITS-REMAINING"] == "0"
    zoho.advance(86_400)  # the access token has expired too: a fresh one
    api.headers["Authorization"] = f"Zoho-oauthtoken {access_token(zoho, api)}"
    assert api.get("/crm/v8/Contacts/search", params=search).status_code == 204


def test_calls_over_the_apps_concurrency_limit_get_429(
    zoho: ZohoSandbox, api: httpx.Client
) -> None:
    zoho.set_limits(LimitsConfig(edition="free"))
    with zoho.limits.occupy(zoho.client_id, 5):
        refused = api.get("/crm/v8/Contacts/search", params={"email": "x@example.com"})
    assert refused.status_code == 429
    assert "concurrency" in refused.json()["message"]
    assert zoho.limits.refused == {"concurrency": 1}
    assert api.get("/crm/v8/Contacts/search", params={"email": "x@example.com"}).status_code == 204


def test_searches_share_the_sub_concurrency_limit_of_ten(
    zoho: ZohoSandbox, api: httpx.Client
) -> None:
    with zoho.limits.occupy(zoho.client_id, 10, heavy=True):
        refused = api.get("/crm/v8/Contacts/search", params={"email": "x@example.com"})
        light = api.get("/crm/v8/settings/fields", params={"module": "Contacts"})
    assert refused.status_code == 429 and "sub-concurrency" in refused.json()["message"]
    assert light.status_code == 200  # enterprise: 20 concurrent calls


def test_overlapping_calls_are_counted_while_processed(zoho: ZohoSandbox) -> None:
    import concurrent.futures

    zoho.set_limits(LimitsConfig(concurrency=2))
    zoho.set_work_ms(150)
    with zoho_http(zoho) as http:
        token = access_token(zoho, http)

    def one(_: int) -> int:
        with zoho_http(zoho) as own:
            return own.get(
                "/crm/v8/settings/fields", params={"module": "Leads"}, headers=auth_headers(token)
            ).status_code

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(one, range(4)))
    assert 429 in statuses and 200 in statuses
    assert zoho.limits.peak(zoho.client_id) == 2


def test_fault_plan_failures_answer_zohos_500_with_retry_after(
    zoho: ZohoSandbox, api: httpx.Client
) -> None:
    zoho.set_faults(FaultPlan(unavailable_calls=[1], retry_after_s=3))
    failed = api.get("/crm/v8/settings/fields", params={"module": "Contacts"})
    assert failed.status_code == 500
    assert failed.json()["code"] == "INTERNAL_ERROR"
    assert failed.headers["Retry-After"] == "3"


def test_a_session_expires_after_n_calls_and_a_fresh_token_carries_on(
    zoho: ZohoSandbox, http: httpx.Client
) -> None:
    zoho.set_faults(FaultPlan(session_expires_after=2))
    token = access_token(zoho, http)
    call = {"params": {"module": "Contacts"}, "headers": auth_headers(token)}
    assert [http.get("/crm/v8/settings/fields", **call).status_code for _ in range(3)] == [
        200,
        200,
        401,
    ]
    fresh = auth_headers(access_token(zoho, http))
    assert (
        http.get(
            "/crm/v8/settings/fields", params={"module": "Contacts"}, headers=fresh
        ).status_code
        == 200
    )


def test_chosen_records_are_locked_then_free(zoho: ZohoSandbox, api: httpx.Client) -> None:
    a = zoho.org.add_record("Contacts", {"Last_Name": "A", "Email": "a@example.com"})
    zoho.set_faults(FaultPlan(record_failure_keys=["a@example.com"], record_failure_times=1))
    body = {"data": [{"id": a, "First_Name": "Al"}]}
    first = api.put("/crm/v8/Contacts", json=body).json()["data"][0]
    assert first["code"] == "RECORD_LOCKED"
    assert api.put("/crm/v8/Contacts", json=body).json()["data"][0]["code"] == "SUCCESS"
    assert [w.success for w in zoho.log.writes(successful_only=False)] == [False, True]


def test_a_dropped_connection_after_processing_keeps_the_write(
    zoho: ZohoSandbox, api: httpx.Client
) -> None:
    a = zoho.org.add_record("Contacts", {"Last_Name": "A", "Email": "a@example.com"})
    zoho.set_faults(FaultPlan(drop_calls=[1], drop_after_processing=True, paths=["/Contacts"]))
    with pytest.raises(httpx.TransportError):
        api.put("/crm/v8/Contacts", json={"data": [{"id": a, "First_Name": "Al"}]})
    assert zoho.org.values_of("Contacts", a)["First_Name"] == "Al"
    (call,) = [c for c in zoho.log if c.method == "PUT"]
    assert call.fault == "dropped_after_processing" and len(call.writes) == 1
