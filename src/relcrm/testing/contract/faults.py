"""Checks of a CRM that pushes back: rate limits, expired credentials, a spent quota."""

from __future__ import annotations

from typing import Any

import pytest

from relcrm.connectors import Connector
from relcrm.connectors.errors import QuotaExhausted, VendorError
from relcrm.errors import RelcrmError
from relcrm.models import WriteOutcome, WriteResult
from relcrm.testing.contract.base import ContractBase, assert_catalogued, need
from relcrm.testing.contract.clock import ContractClock

QUOTA_RECORDS_CAP = 200
"""Above this batch size the quota check spends the quota before the first call (seeding
and writing more records per check would make the suite slow)."""

THROTTLE_RECORDS = 5
"""Records the rate-limit check writes to, one per call, in turn."""

AUTH_CODES = ("connector.session_expired", "connector.authentication_failed")


class FaultChecks(ContractBase):
    """Limits are waited out on the injected clock; credentials renewed; quotas pause."""

    def test_rate_limit_is_honoured(
        self, provisioned: Connector, server: Any, clock: ContractClock
    ) -> None:
        throttling = need(self.adapter, "throttled", server, clock)  # skips if unsupported
        ids = self.seed(server, "t", THROTTLE_RECORDS)
        writes = self.writes_for(ids)
        slept = clock.slept
        with throttling as throttle:
            for call in range(throttle.calls):
                write = writes[call % len(writes)]
                result = provisioned.write(self.adapter.object_name, [write])
                self.assert_written(result, [write])
        assert clock.slept > slept, (
            f"the server limited requests ({throttle.description or 'throttled'}) and the "
            "connector never waited on the injected clock"
        )
        self.assert_held(provisioned, writes[: throttle.calls])

    def test_expired_credentials_are_renewed_or_reported(
        self, provisioned: Connector, server: Any
    ) -> None:
        ids = self.seed(server, "e", 2)
        first, second = self.writes_for(ids)
        self.assert_written(provisioned.write(self.adapter.object_name, [first]), [first])
        need(self.adapter, "expire_credentials", server)
        try:
            results = provisioned.write(self.adapter.object_name, [second])
        except RelcrmError as exc:  # a session the connector cannot renew: reported
            assert_catalogued(exc)
            assert exc.code in AUTH_CODES, f"{exc.code}: {exc}"
            return
        self.assert_written(results, [second])
        self.assert_held(provisioned, [first, second])

    def test_spent_quota_pauses_without_writing_twice(
        self, provisioned: Connector, server: Any
    ) -> None:
        per_call = provisioned.capabilities.max_batch_size
        records, writes_left = (per_call + 1, 1) if per_call <= QUOTA_RECORDS_CAP else (2, 0)
        ids = self.seed(server, "q", records + 1)
        warm, *writes = self.writes_for(ids)
        # a connector that has been working (logged in, schema read) when the quota runs out
        self.assert_written(provisioned.write(self.adapter.object_name, [warm]), [warm])
        spent = need(self.adapter, "quota_spent", server, writes_left=writes_left)
        with spent, pytest.raises(QuotaExhausted) as caught:
            provisioned.write(self.adapter.object_name, writes)
        error: VendorError = caught.value
        assert_catalogued(error)
        done: dict[str, WriteResult] = {}
        for result in error.completed:
            assert isinstance(result, WriteResult)
            done[result.person_id] = result
        written = [w for w in writes if self._written(done.get(w.person_id))]
        if writes_left:
            assert len(written) >= per_call, "the call the quota let through is reported"
        self.assert_held(provisioned, [warm, *written])
        rest = [w for w in writes if not self._written(done.get(w.person_id))]
        held = self.read(provisioned, [w.record.id for w in rest if w.record is not None])
        for write in rest:
            assert write.record is not None
            record = held.get(write.record.id, {})
            assert self.mismatches(record, write.values), (
                f"{write.person_id} was written but not reported: a resumed run sends it twice"
            )
        provisioned.begin_run()  # the quota reset: the run resumes with what is left
        self.assert_written(provisioned.write(self.adapter.object_name, rest), rest)
        self.assert_held(provisioned, writes)

    @staticmethod
    def _written(result: WriteResult | None) -> bool:
        return result is not None and result.outcome is WriteOutcome.WRITTEN


__all__ = ["AUTH_CODES", "FaultChecks"]
