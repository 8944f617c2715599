"""Search (filters, sorts, paging, the 10,000 cap) and rate limits (429s and headers)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputUpsert,
)
from hubspot.crm.contacts.exceptions import ApiException

from relcrm.sandbox.hubspot.ratelimit import RateLimits
from relcrm.sandbox.hubspot.server import HubSpotSandbox


def _seed(client: Any, n: int) -> None:
    inputs = [
        SimplePublicObjectBatchInputUpsert(
            id=f"p{i:02d}@example.com",
            id_property="email",
            properties={"firstname": f"P{i:02d}", **({"lastname": "Odd"} if i % 2 else {})},
        )
        for i in range(n)
    ]
    client.crm.contacts.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs)
    )


def _search(client: Any, filters: list[Filter], **kw: Any) -> Any:
    return client.crm.contacts.search_api.do_search(
        PublicObjectSearchRequest(filter_groups=[FilterGroup(filters=filters)], **kw)
    )


def test_search_filters(hs_client: Any) -> None:
    _seed(hs_client, 10)
    eq = _search(hs_client, [Filter(property_name="email", operator="EQ", value="P03@example.com")])
    assert eq.total == 1 and eq.results[0].properties["firstname"] == "P03"
    values = ["p01@example.com", "p02@example.com"]
    inn = _search(hs_client, [Filter(property_name="email", operator="IN", values=values)])
    assert inn.total == 2
    has = _search(hs_client, [Filter(property_name="lastname", operator="HAS_PROPERTY")])
    assert has.total == 5
    nothas = _search(hs_client, [Filter(property_name="lastname", operator="NOT_HAS_PROPERTY")])
    assert nothas.total == 5
    both = _search(
        hs_client,
        [
            Filter(property_name="lastname", operator="HAS_PROPERTY"),
            Filter(property_name="firstname", operator="NEQ", value="P01"),
        ],
        sorts=["-firstname"],
        properties=["firstname"],
    )
    assert [r.properties["firstname"] for r in both.results] == ["P09", "P07", "P05", "P03"]


def test_search_paging_and_cap(hs_client: Any) -> None:
    _seed(hs_client, 25)
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        page = _search(
            hs_client, [Filter(property_name="email", operator="HAS_PROPERTY")], limit=10,
            after=after,
        )  # fmt: skip
        pages += 1
        assert page.total == 25
        seen += [r.id for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert pages == 3 and len(set(seen)) == 25
    with pytest.raises(ApiException) as info:
        _search(hs_client, [], limit=201)
    assert info.value.status == 400
    with pytest.raises(ApiException) as cap:
        _search(hs_client, [], limit=10, after="9995")
    assert cap.value.status == 400


def test_rate_limit_headers_and_429(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    hs_sandbox.set_rate_limits(RateLimits(max_per_window=3, daily=1000))
    _data, status, headers = hs_client.crm.contacts.basic_api.get_page_with_http_info()
    assert status == 200
    assert headers["X-HubSpot-RateLimit-Max"] == "3"
    assert headers["X-HubSpot-RateLimit-Remaining"] == "2"
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert headers["X-HubSpot-RateLimit-Daily"] == "1000"
    assert headers["X-HubSpot-RateLimit-Daily-Remaining"] == "999"
    assert "X-HubSpot-RateLimit-Secondly" in headers
    hs_client.crm.contacts.basic_api.get_page()
    hs_client.crm.contacts.basic_api.get_page()
    with pytest.raises(ApiException) as info:
        hs_client.crm.contacts.basic_api.get_page()
    assert info.value.status == 429
    body = json.loads(info.value.body)
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert "category" not in body
    assert info.value.headers["X-HubSpot-RateLimit-Remaining"] == "0"


def test_daily_budget_429(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    hs_sandbox.set_rate_limits(RateLimits(max_per_window=100, daily=1))
    hs_client.crm.contacts.basic_api.get_page()
    with pytest.raises(ApiException) as info:
        hs_client.crm.contacts.basic_api.get_page()
    assert json.loads(info.value.body)["policyName"] == "DAILY"


def test_search_has_its_own_lower_limit(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    hs_sandbox.set_rate_limits(RateLimits(max_per_window=100, search_per_second=2))
    _search(hs_client, [])
    _search(hs_client, [])
    with pytest.raises(ApiException) as info:
        _search(hs_client, [])
    assert info.value.status == 429
    assert json.loads(info.value.body)["policyName"] == "SECONDLY"
    hs_client.crm.contacts.basic_api.get_page()  # the general window is untouched


def test_rate_limit_spec_parsing() -> None:
    assert RateLimits.parse("190/10s").max_per_window == 190
    assert RateLimits.parse("100/10s").window_ms == 10_000
    assert RateLimits.parse(None).max_per_window == 100
    with pytest.raises(ValueError):
        RateLimits.parse("fast")
