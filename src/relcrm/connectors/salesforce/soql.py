"""Safe SOQL building: every value quoted, every name checked.

SOQL has no bind variables over REST, so values go into the query text. ``soql_quote``
escapes them so that no value, whatever it contains, can end its literal early and
change the query (an email such as ``o'hara@example.com`` or ``a\\'b@example.com``).
Names (objects and fields) cannot be quoted in SOQL, so they are checked instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from relcrm.errors import ConfigurationError

_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$")

MAX_VALUES_PER_QUERY = 200
MAX_IN_CHARS = 4000
"""Keep each query's ``IN (...)`` short: queries travel in the URL of a GET, and URL-encoding
can triple a value's size; real orgs refuse URLs beyond about 16,000 characters."""


def soql_quote(value: str) -> str:
    """``value`` as a SOQL string literal, quotes included. Accepts any string.

    >>> soql_quote("o'hara@example.com")
    "'o\\\\'hara@example.com'"
    """
    return "'" + "".join(_ESCAPES.get(char, char) for char in value) + "'"


def check_name(name: str) -> str:
    """An object or field API name, refused if it could alter a query."""
    if not _NAME.match(name):
        raise ConfigurationError(f"not a Salesforce API name: {name!r}")
    return name


def in_lists(
    values: Sequence[str],
    *,
    max_values: int = MAX_VALUES_PER_QUERY,
    max_chars: int = MAX_IN_CHARS,
) -> Iterator[str]:
    """Comma-separated quoted lists for ``IN (...)``, each within the size limits."""
    chunk: list[str] = []
    size = 0
    for value in values:
        quoted = soql_quote(value)
        if chunk and (len(chunk) >= max_values or size + len(quoted) + 1 > max_chars):
            yield ",".join(chunk)
            chunk, size = [], 0
        chunk.append(quoted)
        size += len(quoted) + 1
    if chunk:
        yield ",".join(chunk)
