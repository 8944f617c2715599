"""OData query text built from values: every value is a quoted literal, never pasted.

A string literal is single-quoted with each quote inside doubled (``'o''brien@x.com'``)
[doc: query-data-web-api]; column names are checked against Dataverse's logical-name
alphabet before they go into a URL. Many values are matched with the
``Microsoft.Dynamics.CRM.In`` query function, one request per chunk.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from relcrm.errors import ConfigurationError

IN_CHUNK = 50
"""Values per ``In`` filter: a URL of 50 e-mail addresses or GUIDs stays far below the
Web API's URL length limit."""
_LOGICAL_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,99}$")


def column_name(name: str) -> str:
    """``name`` if it can be a Dataverse logical name (lower-case), else an error."""
    if not _LOGICAL_NAME.match(name):
        raise ConfigurationError(
            f"{name!r} is not a Dataverse column (logical) name",
            hint="use the column's logical name: lower-case letters, digits and underscores",
            code="config.invalid",
        )
    return name


def literal(value: str) -> str:
    """An OData string literal."""
    return "'" + value.replace("'", "''") + "'"


def in_filter(column: str, values: Sequence[str]) -> str:
    """``Microsoft.Dynamics.CRM.In(PropertyName='col',PropertyValues=['a','b'])``."""
    listed = ",".join(literal(v) for v in values)
    return (
        f"Microsoft.Dynamics.CRM.In(PropertyName={literal(column_name(column))},"
        f"PropertyValues=[{listed}])"
    )


def chunks(values: Sequence[str], size: int = IN_CHUNK) -> list[list[str]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]
