"""The accounts server and the gate in front of the API, as Zoho documents them: the
refresh-token grant, its failures (HTTP 200 with ``error``), token lifetime and limits,
and the 401s of the API."""

from __future__ import annotations

import httpx

from relcrm.sandbox.zoho.auth import MAX_ACTIVE_ACCESS_TOKENS, MINT_LIMIT
from relcrm.sandbox.zoho.pytest_support import access_token, auth_headers
from relcrm.sandbox.zoho.server import ZohoSandbox


def grant(zoho: ZohoSandbox, http: httpx.Client, **override: str) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "client_id": zoho.client_id,
        "client_secret": zoho.client_secret,
        "refresh_token": zoho.refresh_token,
        **override,
    }
    return http.post("/oauth/v2/token", data=form)


def fields(http: httpx.Client, token: str) -> httpx.Response:
    return http.get(
        "/crm/v8/settings/fields", params={"module": "Contacts"}, headers=auth_headers(token)
    )


def test_refresh_grant_answers_a_bearer_token_for_an_hour_on_the_api_domain(
    zoho: ZohoSandbox, http: httpx.Client
) -> None:
    answer = grant(zoho, http)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "scope", "api_domain", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["api_domain"] == zoho.base_url
    assert body["access_token"].startswith("1000.")
    assert "ZohoCRM.modules.ALL" in body["scope"].split()
    assert fields(http, body["access_token"]).status_code == 200


def test_parameters_may_come_in_the_query_string_as_in_zohos_examples(
    zoho: ZohoSandbox, http: httpx.Client
) -> None:
    answer = http.post(
        "/oauth/v2/token",
        params={
            "grant_type": "refresh_token",
            "client_id": zoho.client_id,
            "client_secret": zoho.client_secret,
            "refresh_token": zoho.refresh_token,
        },
    )
    assert "access_token" in answer.json()


def test_failures_are_http_200_with_an_error_key(zoho: ZohoSandbox, http: httpx.Client) -> None:
    assert grant(zoho, http, client_id="1000.OTHERDC").json() == {"error": "invalid_client"}
    assert grant(zoho, http, client_secret="wrong").json() == {"error": "invalid_client_secret"}
    unknown = grant(zoho, http, refresh_token="1000.nope.nope")
    assert unknown.status_code == 200 and unknown.json() == {"error": "invalid_code"}
    other = zoho.accounts.add_refresh_token(zoho.client_id)
    zoho.accounts.revoke(other)
    assert grant(zoho, http, refresh_token=other).json() == {"error": "invalid_code"}


def test_ten_tokens_in_ten_minutes_then_access_denied_until_the_window_passes(
    zoho: ZohoSandbox, http: httpx.Client
) -> None:
    for _ in range(MINT_LIMIT):
        assert "access_token" in grant(zoho, http).json()
    refused = grant(zoho, http)
    assert refused.status_code == 200
    assert refused.json()["error"] == "Access Denied"
    zoho.advance(601)
    assert "access_token" in grant(zoho, http).json()


def test_the_sixteenth_active_token_invalidates_the_oldest(
    zoho: ZohoSandbox, http: httpx.Client
) -> None:
    tokens = []
    for n in range(MAX_ACTIVE_ACCESS_TOKENS + 1):
        if n and n % MINT_LIMIT == 0:
            zoho.advance(601)
        tokens.append(grant(zoho, http).json()["access_token"])
    assert fields(http, tokens[0]).json()["code"] == "INVALID_TOKEN"
    assert fields(http, tokens[1]).status_code == 200


def test_an_access_token_expires_after_an_hour(zoho: ZohoSandbox, http: httpx.Client) -> None:
    token = access_token(zoho, http)
    zoho.advance(3599)
    assert fields(http, token).status_code == 200
    zoho.advance(2)
    expired = fields(http, token)
    assert expired.status_code == 401
    assert expired.json() == {
        "code": "INVALID_TOKEN",
        "details": {},
        "message": "invalid oauth token",
        "status": "error",
    }


def test_a_call_without_the_zoho_oauthtoken_header_fails_authentication(
    http: httpx.Client, token: str
) -> None:
    bare = http.get("/crm/v8/settings/fields", params={"module": "Contacts"})
    assert bare.status_code == 401 and bare.json()["code"] == "AUTHENTICATION_FAILURE"
    bearer = http.get(
        "/crm/v8/settings/fields",
        params={"module": "Contacts"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bearer.status_code == 401


def test_a_token_without_the_scope_is_refused_with_oauth_scope_mismatch(
    zoho: ZohoSandbox, http: httpx.Client
) -> None:
    narrow = zoho.accounts.add_refresh_token(zoho.client_id, ["ZohoCRM.modules.contacts.READ"])
    token = access_token(zoho, http, narrow)
    headers = auth_headers(token)
    assert (
        http.get(
            "/crm/v8/Contacts/search", params={"email": "x@example.com"}, headers=headers
        ).status_code
        == 204
    )
    denied = fields(http, token)
    assert denied.status_code == 401 and denied.json()["code"] == "OAUTH_SCOPE_MISMATCH"
    write = http.put("/crm/v8/Contacts", json={"data": [{"id": "1"}]}, headers=headers)
    assert write.json()["code"] == "OAUTH_SCOPE_MISMATCH"
    leads = http.get("/crm/v8/Leads/search", params={"email": "x@example.com"}, headers=headers)
    assert leads.json()["code"] == "OAUTH_SCOPE_MISMATCH"


def test_unknown_paths_and_modules_answer_zohos_codes(api: httpx.Client) -> None:
    missing = api.get("/crm/v8/nothing/here/at/all")
    assert missing.status_code == 404 and missing.json()["code"] == "INVALID_URL_PATTERN"
    module = api.get("/crm/v8/Dealz", params={"fields": "Email"})
    assert module.status_code == 400 and module.json()["code"] == "INVALID_MODULE"
