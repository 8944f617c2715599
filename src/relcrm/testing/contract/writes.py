"""Checks of writing: read back, idempotent re-runs, one bad record isolated, upserts."""

from __future__ import annotations

from typing import Any

import pytest

from relcrm.connectors import Connector
from relcrm.models import FieldWrite, RecordKey, WriteOutcome
from relcrm.testing.contract.adapter import SeedRecord
from relcrm.testing.contract.base import ContractBase, email_of, need
from relcrm.testing.contract.specs import REFUSED_TOKEN, sample_values

RECORDS = 3
"""Records per write check: a first, a middle and a last one in one batch."""


class WriteChecks(ContractBase):
    """Values written are the values read back, however often they are sent."""

    def test_write_then_read_back(self, provisioned: Connector, server: Any) -> None:
        ids = self.seed(server, "w", RECORDS)
        writes = self.writes_for(ids)
        results = provisioned.write(self.adapter.object_name, writes)
        self.assert_written(results, writes)
        for result, record_id in zip(results, ids, strict=True):
            assert result.record_id in (None, record_id), "the result names the record"
        self.assert_held(provisioned, writes)
        assert provisioned.api_calls > 0, "api_calls counts the calls made"

    def test_idempotent_rerun(self, provisioned: Connector, server: Any) -> None:
        ids = self.seed(server, "r", RECORDS)
        writes = self.writes_for(ids)
        self.assert_written(provisioned.write(self.adapter.object_name, writes), writes)
        provisioned.begin_run()
        self.assert_written(provisioned.write(self.adapter.object_name, writes), writes)
        self.assert_held(provisioned, writes)
        keys = {f"p{n}": [email_of("r", n)] for n in range(RECORDS)}
        report = provisioned.find_records(self.adapter.object_name, keys)
        assert not report.ambiguous, "a re-run created no duplicate record"
        assert {p: ref.id for p, ref in report.matched.items()} == {
            f"p{n}": ids[n] for n in range(RECORDS)
        }

    def test_partial_failure_is_isolated_to_its_record(
        self, provisioned: Connector, server: Any
    ) -> None:
        field, bad = need(self.adapter, "refused_value")
        ids = self.seed(server, "x", RECORDS)
        writes = self.writes_for(ids, override={1: {field: bad}})
        results = provisioned.write(self.adapter.object_name, writes)
        assert len(results) == RECORDS and [r.person_id for r in results] == [
            w.person_id for w in writes
        ]
        rejected = results[1]
        assert rejected.outcome is WriteOutcome.REJECTED, rejected
        assert rejected.error_code, "a rejection carries the CRM's own code"
        assert rejected.error_message, "and its message"
        assert REFUSED_TOKEN not in rejected.error_message, "messages never quote values"
        kept = [writes[0], writes[2]]
        self.assert_written([results[0], results[2]], kept)
        self.assert_held(provisioned, kept)  # all_or_nothing CRMs too: the connector isolates
        held = self.read(provisioned, [ids[1]]).get(ids[1], {})
        folded = {name.casefold(): value for name, value in held.items()}
        assert folded.get(field.casefold()) != bad, "the refused value was not stored"

    def test_upsert_by_external_id(self, provisioned: Connector, server: Any) -> None:
        if not self.capabilities.upsert_by_external_id:
            pytest.skip("the connector does not declare upsert_by_external_id")
        key = self.key_field()
        obj = self.adapter.object_name
        (existing,) = self.adapter.seed(
            server, obj, [SeedRecord(email_of("u", 0), "Contract0", {key.name: "key-old"})]
        )
        fresh = SeedRecord(email_of("u", 1), "Contract1")
        create = need(self.adapter, "create_values", fresh)
        writes = [
            FieldWrite(
                person_id="p-old",
                key=RecordKey(field=key.name, value="key-old"),
                values=sample_values(self.specs, 0),
                create_values=create,
            ),
            FieldWrite(
                person_id="p-new",
                key=RecordKey(field=key.name, value="key-new"),
                values=sample_values(self.specs, 1),
                create_values=create,
            ),
        ]
        first = provisioned.write(obj, writes)
        self.assert_written(first, writes)
        assert first[0].record_id == existing and first[0].created is False, first[0]
        assert first[1].record_id and first[1].created is True, first[1]
        new_id = first[1].record_id
        provisioned.begin_run()
        again = provisioned.write(obj, writes)
        self.assert_written(again, writes)
        assert [r.record_id for r in again] == [existing, new_id]
        assert [r.created for r in again] == [False, False], "a re-run creates nothing"
        report = provisioned.find_records(obj, {"p-new": ["key-new"]}, by=key.name)
        assert report.matched["p-new"].id == new_id and not report.ambiguous
        bound = [
            w.model_copy(update={"record": self.ref(record_id), "key": None})
            for w, record_id in zip(writes, [existing, new_id], strict=True)
        ]
        self.assert_held(provisioned, bound)


__all__ = ["RECORDS", "WriteChecks"]
