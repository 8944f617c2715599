"""The token endpoint (client credentials) and the Web API's 401s.

Shapes: Microsoft identity platform, "OAuth 2.0 client credentials flow" (the success body;
the error body's error, error_description with its AADSTS code, error_codes, trace and
correlation ids) and Dataverse's authenticate-oauth page (the ``WWW-Authenticate`` header a
401 carries, which clients use to discover the authority).
"""

from __future__ import annotations

import httpx

from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.dataverse.pytest_support import dv_client_for, tls_context, token_for
from relcrm.sandbox.dataverse.server import DataverseSandbox


def _token(dv: DataverseSandbox, **form: str) -> httpx.Response:
    data = {
        "grant_type": "client_credentials",
        "client_id": dv.client_id,
        "client_secret": dv.client_secret,
        "scope": dv.scope,
        **form,
    }
    with httpx.Client(verify=tls_context(dv), trust_env=False) as http:
        return http.post(dv.token_url, data=data)


def test_client_credentials_answer_a_bearer_token_with_its_lifetime(dv: DataverseSandbox) -> None:
    answer = _token(dv)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599 and body["ext_expires_in"] == 3599
    assert body["access_token"]


def test_the_org_resource_scope_is_accepted_too(dv: DataverseSandbox) -> None:
    assert _token(dv, scope=f"{dv.org.config.resource}/.default").status_code == 200


def test_a_wrong_secret_is_401_invalid_client_with_its_aadsts_code(dv: DataverseSandbox) -> None:
    answer = _token(dv, client_secret="wrong")
    assert answer.status_code == 401
    body = answer.json()
    assert body["error"] == "invalid_client"
    assert body["error_codes"] == [7000215]
    assert body["error_description"].startswith("AADSTS7000215: Invalid client secret")
    assert {"timestamp", "trace_id", "correlation_id", "error_uri"} <= set(body)


def test_unknown_tenant_app_scope_and_grant_each_have_their_error(dv: DataverseSandbox) -> None:
    with httpx.Client(verify=tls_context(dv), trust_env=False) as http:
        other_tenant = http.post(
            dv.token_url.replace(dv.tenant_id, "contoso.onmicrosoft.com"),
            data={"grant_type": "client_credentials"},
        )
    assert (other_tenant.status_code, other_tenant.json()["error_codes"]) == (400, [90002])
    unknown = _token(dv, client_id="22222222-0000-4000-8000-000000000000")
    assert (unknown.json()["error"], unknown.json()["error_codes"]) == (
        "unauthorized_client",
        [700016],
    )
    no_default = _token(dv, scope=dv.base_url)
    assert (no_default.json()["error"], no_default.json()["error_codes"]) == (
        "invalid_scope",
        [1002012],
    )
    other = _token(dv, scope="https://other.crm.dynamics.com/.default")
    assert other.json()["error"] == "invalid_resource"
    grant = _token(dv, grant_type="password")
    assert grant.json()["error"] == "unsupported_grant_type"


def test_no_token_is_401_with_the_authority_to_discover(dv: DataverseSandbox) -> None:
    with httpx.Client(verify=tls_context(dv), trust_env=False) as http:
        answer = http.get(f"{dv.api_url}WhoAmI")
    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer authorization_uri=https://login.microsoftonline.com/")
    assert f"{dv.tenant_id}/oauth2/authorize" in challenge
    assert "resource_id=https://relcrm-sandbox.crm.dynamics.com/" in challenge


def test_an_expired_token_is_401_invalid_token_and_a_new_one_works(dv: DataverseSandbox) -> None:
    with dv_client_for(dv) as api:
        assert api.get("WhoAmI").status_code == 200
        dv.expire_tokens()
        expired = api.get("WhoAmI")
        assert expired.status_code == 401
        assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    with dv_client_for(dv, token=token_for(dv)) as fresh:
        body = fresh.get("WhoAmI").json()
        assert {"UserId", "BusinessUnitId", "OrganizationId"} <= set(body)


def test_the_fault_plan_expires_a_session_after_n_calls(dv: DataverseSandbox) -> None:
    dv.set_faults(FaultPlan(session_expires_after=2))
    with dv_client_for(dv) as api:
        assert [api.get("WhoAmI").status_code for _ in range(3)] == [200, 200, 401]


def test_the_token_endpoint_is_not_counted_by_service_protection(dv: DataverseSandbox) -> None:
    dv.set_limits("1/300s")
    for _ in range(3):
        assert _token(dv).status_code == 200
