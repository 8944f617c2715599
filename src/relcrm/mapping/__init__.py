"""The admin's mapping: which profile attribute feeds which CRM field, and the values sent.

Pure: it reads a mapping file and turns a RelationshipProfile into coerced field
values, but never talks to a CRM, a store or a connector. The sync engine wires it in.

- :func:`load_mapping` reads and validates a TOML mapping file; :func:`load_shipped`
  and :func:`shipped_mappings` give the ready-made ones; :func:`mapping_json_schema` is
  the file's JSON Schema for editors.
- :func:`values_for` turns a profile (with the person's behaviour facts and stated
  preferences, :class:`StatedPreferences`) into the values one mapping sends, with what was
  cut and what was held back; :func:`fingerprint` hashes them to send only changes.
- :func:`unsupported` / :func:`require_supported` check a mapping against what its
  connector declares (``ConnectorCapabilities``) before anything runs.
"""

from relcrm.mapping.capabilities import require_supported, unsupported
from relcrm.mapping.coerce import (
    ELLIPSIS,
    OPTION_SEPARATOR,
    WORD_SEPARATOR,
    Adjustment,
    CoercedValues,
    field_fingerprint,
    field_fingerprints,
    fingerprint,
    iso_datetime,
    truncate,
    values_for,
)
from relcrm.mapping.compare import crm_holds
from relcrm.mapping.model import (
    FORMAT_VERSION,
    ConsentField,
    FieldMapping,
    FormatDate,
    InvalidMappingError,
    JoinReasons,
    JoinTopics,
    Lower,
    Mapping,
    Match,
    Round,
    Scale0To100,
    Transform,
    Upper,
    load_mapping,
    mapping_from,
    mapping_json_schema,
    mapping_problems,
    parse_mapping,
)
from relcrm.mapping.outreach import OutreachSettings
from relcrm.mapping.shipped import load_shipped, shipped_mappings
from relcrm.mapping.sources import (
    CONSTANT,
    FACT_SOURCES,
    NO_PREFERENCES,
    PREFERENCE_SOURCES,
    SOURCE_PATHS,
    SourceInfo,
    SourceKind,
    SourceOrigin,
    StatedPreferences,
    read_source,
    source_info,
)

__all__ = [
    "CONSTANT",
    "ELLIPSIS",
    "FACT_SOURCES",
    "FORMAT_VERSION",
    "NO_PREFERENCES",
    "OPTION_SEPARATOR",
    "PREFERENCE_SOURCES",
    "SOURCE_PATHS",
    "WORD_SEPARATOR",
    "Adjustment",
    "CoercedValues",
    "ConsentField",
    "FieldMapping",
    "FormatDate",
    "InvalidMappingError",
    "JoinReasons",
    "JoinTopics",
    "Lower",
    "Mapping",
    "Match",
    "OutreachSettings",
    "Round",
    "Scale0To100",
    "SourceInfo",
    "SourceKind",
    "SourceOrigin",
    "StatedPreferences",
    "Transform",
    "Upper",
    "crm_holds",
    "field_fingerprint",
    "field_fingerprints",
    "fingerprint",
    "iso_datetime",
    "load_mapping",
    "load_shipped",
    "mapping_from",
    "mapping_json_schema",
    "mapping_problems",
    "parse_mapping",
    "read_source",
    "require_supported",
    "shipped_mappings",
    "source_info",
    "truncate",
    "unsupported",
    "values_for",
]
