"""Support cases from the CRMs of a targets file, into the store as perceptions.

Each distinct CRM of the file (one org or portal may back several targets) whose
connector declares ``capabilities.support_cases`` is read once through its ``read_cases``
(:class:`relcrm.connectors.CaseSource`: Salesforce Case, HubSpot tickets); the others are
skipped. Re-reading is harmless, since a case's perception id derives from the case's id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime

from relcrm.analyze import DEFAULT as DEFAULT_REDACTION
from relcrm.analyze import RedactionConfig
from relcrm.connectors import CaseSource, Connector
from relcrm.errors import ConfigurationError
from relcrm.models import TextAnalysis
from relcrm.store import Store
from relcrm.sync.config import Config, build_connector
from relcrm.sync.ingest import IngestReport
from relcrm.sync.ingest_sources import ingest_cases


def ingest_cases_from(
    config: Config,
    store: Store,
    *,
    target: str | None = None,
    since: datetime | None = None,
    analyzer: Callable[[str], TextAnalysis] | None = None,
    connectors: Mapping[str, Connector] | None = None,
    progress: Callable[[int], None] | None = None,
    redaction: RedactionConfig = DEFAULT_REDACTION,
) -> list[IngestReport]:
    """One report per CRM read: cases modified at or after ``since`` (all when None)."""
    reports: list[IngestReport] = []
    seen: set[str] = set()
    for chosen in config.select(target):
        key = chosen.connector + json.dumps(chosen.settings, sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        connector = (connectors or {}).get(chosen.name) or build_connector(chosen)
        if not connector.capabilities.support_cases:
            continue  # a connector without support cases: nothing to read there
        if not isinstance(connector, CaseSource):
            raise ConfigurationError(
                f"target {chosen.name}: connector {chosen.connector!r} declares support "
                "cases (capabilities.support_cases) but has no read_cases",
                code="config.unsupported_connector",
                hint="ask the connector's authors to implement relcrm.connectors.CaseSource, "
                "or to declare support_cases = False",
            )
        reports.append(
            ingest_cases(
                connector.read_cases(since),
                store,
                source=f"{chosen.name} cases",
                analyzer=analyzer,
                redaction=redaction,
                progress=progress,
            )
        )
    return reports


__all__ = ["ingest_cases_from"]
