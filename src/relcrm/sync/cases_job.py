"""Support cases from the CRMs of a targets file, into the store as perceptions.

Each distinct CRM of the file (one org or portal may back several targets) is read once
through its connector's ``read_cases`` (Salesforce Case, HubSpot tickets); re-reading is
harmless, since a case's perception id derives from the case's id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime

from relcrm.analyze import DEFAULT as DEFAULT_REDACTION
from relcrm.analyze import RedactionConfig
from relcrm.connectors import Connector
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
        read_cases = getattr(connector, "read_cases", None)
        if read_cases is None:
            continue  # a connector without support cases: nothing to read there
        reports.append(
            ingest_cases(
                read_cases(since),
                store,
                source=f"{chosen.name} cases",
                analyzer=analyzer,
                redaction=redaction,
                progress=progress,
            )
        )
    return reports


__all__ = ["ingest_cases_from"]
