"""Bulk API 2.0 ingest through simple-salesforce's ``sf.bulk2`` and by hand."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceOperationError

from relcrm.sandbox.salesforce import SalesforceSandbox


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_upsert_end_to_end_with_simple_salesforce(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    records = [{"Email": f"p{i}@example.com", "LastName": f"P{i}"} for i in range(50)]
    records.append({"Email": "broken", "LastName": "Bad"})
    result = sf.bulk2.Contact.upsert(records=records, external_id_field="Email", wait=0)
    assert result[0]["numberRecordsProcessed"] == 51
    assert result[0]["numberRecordsFailed"] == 1
    job_id = result[0]["job_id"]
    failed = rows(sf.bulk2.Contact.get_failed_records(job_id))
    assert list(failed[0])[:2] == ["sf__Id", "sf__Error"]
    assert failed[0]["sf__Error"].startswith("INVALID_EMAIL_ADDRESS:")
    ok = rows(sf.bulk2.Contact.get_successful_records(job_id))
    assert list(ok[0])[:2] == ["sf__Id", "sf__Created"]
    assert {r["sf__Created"] for r in ok} == {"true"}
    again = sf.bulk2.Contact.upsert(records=records[:10], external_id_field="Email", wait=0)
    ok_again = rows(sf.bulk2.Contact.get_successful_records(again[0]["job_id"]))
    assert {r["sf__Created"] for r in ok_again} == {"false"}
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 50
    assert set(sf_sandbox.log.write_counts("Contact").values()) <= {1, 2}


def test_insert_update_and_na_semantics(sf: Any) -> None:
    inserted = sf.bulk2.Contact.insert(
        records=[{"LastName": "Keep", "Title": "CEO", "Phone": "1"}], wait=0
    )
    ok = rows(sf.bulk2.Contact.get_successful_records(inserted[0]["job_id"]))
    record_id = ok[0]["sf__Id"]
    data = f"Id,Title,Phone\n{record_id},,#N/A\n"
    job = sf.bulk2.Contact._client.create_job("update")
    sf.bulk2.Contact._client.upload_job_data(job["id"], data)
    sf.bulk2.Contact._client.close_job(job["id"])
    sf.bulk2.Contact._client.wait_for_job(job["id"], False, 0)
    got = sf.Contact.get(record_id)
    assert got["Title"] == "CEO"  # an empty cell leaves the field alone
    assert got["Phone"] is None  # "#N/A" sets it to null


def test_unknown_column_fails_the_job(sf: Any) -> None:
    with pytest.raises(SalesforceOperationError) as failure:
        sf.bulk2.Contact.insert(records=[{"LastName": "x", "Mood__c": "y"}], wait=0)
    assert "InvalidBatch : Field name not found : Mood__c" in str(failure.value)


def test_job_lifecycle_by_hand(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    session = sf.session
    base = f"{sf_sandbox.instance_url}/services/data/v59.0/jobs/ingest"
    headers = {
        "Authorization": f"Bearer {sf_sandbox.session_id}",
        "Content-Type": "application/json",
    }
    created = session.post(
        base,
        headers=headers,
        json={
            "object": "Lead",
            "operation": "insert",
            "contentType": "CSV",
            "lineEnding": "LF",
            "columnDelimiter": "PIPE",
        },
    )
    info = created.json()
    assert created.status_code == 200 and info["state"] == "Open"
    assert info["contentUrl"] == f"services/data/v59.0/jobs/ingest/{info['id']}/batches"
    assert info["id"].startswith("750")
    upload = session.put(
        f"{base}/{info['id']}/batches",
        headers={**headers, "Content-Type": "text/csv"},
        data=b"LastName|Company\nA|Acme\nB|\n",
    )
    assert upload.status_code == 201 and upload.content == b""
    closed = session.patch(
        f"{base}/{info['id']}", headers=headers, json={"state": "UploadComplete"}
    )
    assert closed.json()["state"] == "UploadComplete"
    states = set()
    for _ in range(100):
        state = session.get(f"{base}/{info['id']}", headers=headers).json()
        states.add(state["state"])
        if state["state"] == "JobComplete":
            break
        time.sleep(0.01)
    assert state["numberRecordsProcessed"] == 2 and state["numberRecordsFailed"] == 1
    failed = session.get(f"{base}/{info['id']}/failedResults/", headers=headers).text
    assert "REQUIRED_FIELD_MISSING" in failed
    unprocessed = session.get(f"{base}/{info['id']}/unprocessedRecords", headers=headers)
    assert unprocessed.status_code == 200  # matched case-insensitively
    deleted = session.delete(f"{base}/{info['id']}", headers=headers)
    assert deleted.status_code == 204 and deleted.content == b""
    assert session.get(f"{base}/{info['id']}", headers=headers).status_code == 404


def test_in_progress_state_is_visible(sf_sandbox: SalesforceSandbox, sf: Any) -> None:
    sf_sandbox.bulk.processing_delay_s = 0.2
    try:
        client = sf.bulk2.Contact._client
        job = client.create_job("insert")
        client.upload_job_data(job["id"], "LastName\nA\n")
        assert client.close_job(job["id"])["state"] == "UploadComplete"
        time.sleep(0.05)
        assert client.get_job(job["id"], False)["state"] == "InProgress"
        aborted = client.abort_job(job["id"], False)
        assert aborted["state"] == "Aborted"
        time.sleep(0.3)
        assert client.get_job(job["id"], False)["state"] == "Aborted"
        assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    finally:
        sf_sandbox.bulk.processing_delay_s = 0.0
