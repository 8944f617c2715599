"""Sources: where perceptions and persons come from (files, exports, generators).

Sources only read and build models; they never write to a CRM.
"""

from relcrm.sources.interchange import (
    InterchangeItem,
    InterchangeLoad,
    InterchangeRecord,
    LineRejection,
    interchange_line,
    load_interchange,
    parse_interchange_line,
    read_interchange,
    write_interchange,
)
from relcrm.sources.synthetic import (
    PERSONA_ARCHETYPES,
    SampleData,
    generate_bulk,
    generate_bulk_lines,
    generate_sample,
    sample_to_interchange,
)

__all__ = [
    "PERSONA_ARCHETYPES",
    "InterchangeItem",
    "InterchangeLoad",
    "InterchangeRecord",
    "LineRejection",
    "SampleData",
    "generate_bulk",
    "generate_bulk_lines",
    "generate_sample",
    "interchange_line",
    "load_interchange",
    "parse_interchange_line",
    "read_interchange",
    "sample_to_interchange",
    "write_interchange",
]
