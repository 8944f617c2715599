"""UpdateMultiple, UpsertMultiple and $batch: atomicity as Dataverse documents it.

[doc: bulk-operations] on a standard table any error in a bulk operation rolls the whole
operation back; [doc: execute-batch-operations-using-web-api] a change set succeeds or fails
as a whole, a batch stops at its first failure (answering that failure's status) unless
``Prefer: odata.continue-on-error`` asks it to go on (then ``200 OK`` with each response),
and holds at most 1,000 requests. Targets carry ``@odata.type`` [sample: PowerApps-Samples
``UpsertMultipleRequest.cs``].
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from relcrm.sandbox.dataverse.server import DataverseSandbox
from tests.sandbox_dataverse.helpers import add_key_column, error_of, seed_contacts

TYPE = "Microsoft.Dynamics.CRM.contact"
UPDATE_MULTIPLE = "contacts/Microsoft.Dynamics.CRM.UpdateMultiple"
UPSERT_MULTIPLE = "contacts/Microsoft.Dynamics.CRM.UpsertMultiple"


def _target(contact: str, **values: Any) -> dict[str, Any]:
    return {"@odata.type": TYPE, "contactid": contact, **values}


def _titles(api: httpx.Client, *ids: str) -> list[Any]:
    return [
        api.get(f"contacts({i})", params={"$select": "jobtitle"}).json()["jobtitle"] for i in ids
    ]


def test_update_multiple_writes_every_target(dv: DataverseSandbox, api: httpx.Client) -> None:
    ids = seed_contacts(dv, "a@example.com", "b@example.com")
    answer = api.post(UPDATE_MULTIPLE, json={"Targets": [_target(i, jobtitle="CFO") for i in ids]})
    assert answer.status_code == 204
    assert _titles(api, *ids) == ["CFO", "CFO"]
    assert dv.log.write_counts("contact") == {ids[0]: 1, ids[1]: 1}


def test_update_multiple_fails_whole_when_one_record_is_bad(
    dv: DataverseSandbox, api: httpx.Client
) -> None:
    ids = seed_contacts(dv, "a@example.com", "b@example.com", "c@example.com")
    targets = [
        _target(ids[0], jobtitle="CFO"),
        _target(ids[1], firstname="x" * 51),
        _target(ids[2], jobtitle="CTO"),
    ]
    answer = api.post(UPDATE_MULTIPLE, json={"Targets": targets})
    assert answer.status_code == 400
    assert error_of(answer)[0] == "0x80044331"
    assert _titles(api, *ids) == [None, None, None]  # the good ones were rolled back
    assert dv.log.write_counts() == {}


def test_update_multiple_needs_the_odata_type_and_an_existing_id(
    dv: DataverseSandbox, api: httpx.Client
) -> None:
    (contact,) = seed_contacts(dv, "a@example.com")
    untyped = api.post(UPDATE_MULTIPLE, json={"Targets": [{"contactid": contact, "jobtitle": "x"}]})
    assert untyped.status_code == 400 and error_of(untyped)[0] == "0x80048d19"
    missing = str(uuid.uuid4())
    gone = api.post(
        UPDATE_MULTIPLE,
        json={"Targets": [_target(contact, jobtitle="x"), _target(missing, jobtitle="y")]},
    )
    assert gone.status_code == 404 and error_of(gone)[0] == "0x80040217"
    assert _titles(api, contact) == [None]


def test_upsert_multiple_by_alternate_key_creates_and_updates_all_or_nothing(
    dv: DataverseSandbox, api: httpx.Client
) -> None:
    add_key_column(api, dv)
    new = {"@odata.type": TYPE, "relcrm_personid": "p1", "lastname": "One"}
    assert api.post(UPSERT_MULTIPLE, json={"Targets": [new]}).status_code == 204
    again = {"@odata.type": TYPE, "relcrm_personid": "P1", "jobtitle": "CFO"}  # keys ignore case
    bad = {"@odata.type": TYPE, "relcrm_personid": "p2", "firstname": "x" * 51}
    refused = api.post(UPSERT_MULTIPLE, json={"Targets": [again, bad]})
    assert refused.status_code == 400
    rows = api.get("contacts", params={"$select": "relcrm_personid,jobtitle"}).json()["value"]
    assert [(r["relcrm_personid"], r["jobtitle"]) for r in rows] == [("p1", None)]
    assert api.post(UPSERT_MULTIPLE, json={"Targets": [again]}).status_code == 204
    record = api.get("contacts(relcrm_personid='p1')", params={"$select": "jobtitle"}).json()
    assert record["jobtitle"] == "CFO"


def _batch(api: httpx.Client, parts: list[str], *, go_on: bool = False) -> httpx.Response:
    boundary = "batch_AAA123"
    body = "".join(f"--{boundary}\r\n{part}" for part in parts) + f"--{boundary}--\r\n"
    headers = {"Content-Type": f'multipart/mixed; boundary="{boundary}"'}
    if go_on:
        headers["Prefer"] = "odata.continue-on-error"
    return api.post("$batch", content=body.encode(), headers=headers)


def _patch(url: str, body: str, content_id: str | None = None) -> str:
    cid = f"Content-ID: {content_id}\r\n" if content_id else ""
    return (
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        f"{cid}\r\nPATCH {url} HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n"
        f"If-Match: *\r\n\r\n{body}\r\n"
    )


def _changeset(*parts: str) -> str:
    inner = "changeset_BBB456"
    text = "".join(f"--{inner}\r\n{p}" for p in parts) + f"--{inner}--\r\n"
    return f"Content-Type: multipart/mixed; boundary={inner}\r\n\r\n{text}"


def _statuses(answer: httpx.Response) -> list[int]:
    return [
        int(line.split()[1]) for line in answer.text.splitlines() if line.startswith("HTTP/1.1")
    ]


def test_a_batch_stops_at_its_first_failure(dv: DataverseSandbox, api: httpx.Client) -> None:
    ids = seed_contacts(dv, "a@example.com", "b@example.com", "c@example.com")
    parts = [
        _patch(f"/api/data/v9.2/contacts({ids[0]})", '{"jobtitle": "CFO"}'),
        _patch(f"/api/data/v9.2/contacts({ids[1]})", '{"firstname": "' + "x" * 51 + '"}'),
        _patch(f"/api/data/v9.2/contacts({ids[2]})", '{"jobtitle": "CTO"}'),
    ]
    answer = _batch(api, parts)
    assert answer.status_code == 400  # the failure's status is the batch's
    assert answer.headers["content-type"].startswith("multipart/mixed; boundary=batchresponse_")
    assert _statuses(answer) == [204, 400]
    assert '"code":"0x80044331"' in answer.text
    assert _titles(api, *ids) == ["CFO", None, None]


def test_continue_on_error_answers_200_with_every_response(
    dv: DataverseSandbox, api: httpx.Client
) -> None:
    ids = seed_contacts(dv, "a@example.com", "b@example.com", "c@example.com")
    parts = [
        _patch(f"{dv.api_url}contacts({ids[0]})", '{"jobtitle": "CFO"}'),
        _patch(f"{dv.api_url}contacts({ids[1]})", '{"firstname": "' + "x" * 51 + '"}'),
        _patch(f"{dv.api_url}contacts({ids[2]})", '{"jobtitle": "CTO"}'),
    ]
    answer = _batch(api, parts, go_on=True)
    assert answer.status_code == 200
    assert _statuses(answer) == [204, 400, 204]
    assert _titles(api, *ids) == ["CFO", None, "CTO"]
    assert len(dv.log.calls()[-4].writes) == 3  # the batch call: two written, one refused


def test_a_change_set_is_atomic(dv: DataverseSandbox, api: httpx.Client) -> None:
    ids = seed_contacts(dv, "a@example.com", "b@example.com")
    good = _changeset(
        _patch(f"/api/data/v9.2/contacts({ids[0]})", '{"jobtitle": "CFO"}', "1"),
        _patch(f"/api/data/v9.2/contacts({ids[1]})", '{"jobtitle": "CTO"}', "2"),
    )
    answer = _batch(api, [good])
    assert answer.status_code == 200 and "changesetresponse_" in answer.text
    assert _statuses(answer) == [204, 204] and "Content-ID: 2" in answer.text
    bad = _changeset(
        _patch(f"/api/data/v9.2/contacts({ids[0]})", '{"jobtitle": "CEO"}', "1"),
        _patch(f"/api/data/v9.2/contacts({ids[1]})", '{"firstname": "' + "x" * 51 + '"}', "2"),
    )
    refused = _batch(api, [bad])
    assert refused.status_code == 400 and _statuses(refused) == [400]
    assert _titles(api, *ids) == ["CFO", "CTO"]  # the first update of the set was rolled back


def test_a_batch_holds_at_most_1000_requests(dv: DataverseSandbox, api: httpx.Client) -> None:
    (contact,) = seed_contacts(dv, "a@example.com")
    part = _patch(f"/api/data/v9.2/contacts({contact})", '{"jobtitle": "CFO"}')
    answer = _batch(api, [part] * 1001)
    assert answer.status_code == 400 and "1000" in error_of(answer)[1]
    assert _batch(api, [part] * 1000).status_code == 200
