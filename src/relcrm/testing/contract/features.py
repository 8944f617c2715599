"""Checks of the optional features a connector declares: support cases, history notes
(follow-up tasks: :mod:`relcrm.testing.contract.tasks`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from relcrm.connectors import CaseSource, Connector, NoteSink
from relcrm.models import PerceptionNote
from relcrm.testing.contract.base import ContractBase, need

CASE_SUBJECT = "Contract case: the invoice was wrong twice"


class FeatureChecks(ContractBase):
    """What ``support_cases`` and ``history_notes`` promise."""

    def test_support_cases_are_read(self, connector: Connector, server: Any) -> None:
        if not self.capabilities.support_cases:
            pytest.skip("the connector does not declare support_cases")
        assert isinstance(connector, CaseSource)
        (record,) = self.seed(server, "case", 1)
        case_id = need(self.adapter, "seed_case", server, record, CASE_SUBJECT)
        cases = {case.id: case for case in connector.read_cases()}
        assert case_id in cases, f"case {case_id} not read ({sorted(cases)})"
        case = cases[case_id]
        assert case.subject == CASE_SUBJECT
        assert case.requester is not None and case.requester.id == record, case.requester

    def test_history_notes_are_written_once(self, connector: Connector, server: Any) -> None:
        if not self.capabilities.history_notes:
            pytest.skip("the connector does not declare history_notes")
        assert isinstance(connector, NoteSink)
        (record,) = self.seed(server, "note", 1)
        at = datetime(2026, 10, 2, 14, 0, tzinfo=UTC)
        notes = [
            PerceptionNote(record, "contract-p1", at, "Felt let down by the renewal call."),
            PerceptionNote(record, "contract-p2", at, "Delighted with the new onboarding."),
        ]
        first = connector.add_perception_notes(notes)
        assert set(first.created) == {"contract-p1", "contract-p2"}, first
        assert not first.rejected
        again = connector.add_perception_notes(notes)
        assert not again.created, "a re-run creates no note twice"
        assert set(again.existing) == {"contract-p1", "contract-p2"}


__all__ = ["CASE_SUBJECT", "FeatureChecks"]
