"""Sources: where perceptions and persons come from (files, exports, CRM cases).

Sources only read and build models; they never write to a CRM. Synthetic data (made-up
people for demos and tests) is in :mod:`relcrm.testing.synthetic`, out of production.
"""

from relcrm.sources.cases import case_perception, read_cases
from relcrm.sources.dates import DateRange, date_range_from_environment
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
from relcrm.sources.items import Identity, SkippedRecord, SourcedPerception, SourceItem
from relcrm.sources.social import (
    HandleMap,
    SocialPost,
    load_handle_map,
    read_social,
    social_perception,
)
from relcrm.sources.survey import SurveyExport, open_survey, read_survey
from relcrm.sources.survey_columns import (
    SurveyColumns,
    SurveyColumnsError,
    load_survey_columns,
    parse_survey_columns,
    survey_columns_json_schema,
)

__all__ = [
    "DateRange",
    "HandleMap",
    "Identity",
    "InterchangeItem",
    "InterchangeLoad",
    "InterchangeRecord",
    "LineRejection",
    "SkippedRecord",
    "SocialPost",
    "SourceItem",
    "SourcedPerception",
    "SurveyColumns",
    "SurveyColumnsError",
    "SurveyExport",
    "case_perception",
    "date_range_from_environment",
    "interchange_line",
    "load_handle_map",
    "load_interchange",
    "load_survey_columns",
    "open_survey",
    "parse_interchange_line",
    "parse_survey_columns",
    "read_cases",
    "read_interchange",
    "read_social",
    "read_survey",
    "social_perception",
    "survey_columns_json_schema",
    "write_interchange",
]
