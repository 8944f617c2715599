"""The staging's cheaper readings of a date, an NPS value and a string, against pydantic.

Each field is varied alone in an otherwise valid line, over the values sources write and
the ones they get wrong, and the chunk is checked line by line against the per-line path
(``check_chunk``: a staged row equals what pydantic stores). Each test also asserts that
the usual values are staged, so a check that refused everything would fail too.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from relcrm.sources.dates import DateRange
from tests.ingest_columnar.conftest import DATES, duckdb
from tests.ingest_columnar.staging import check_chunk

_CONNECTION = duckdb.connect()
"""One connection for every example (a new one each time would cost most of the test)."""

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WIDE = DateRange(earliest=datetime(1, 1, 3, tzinfo=UTC), latest=datetime(9999, 12, 29, tzinfo=UTC))
"""Nearly every year: the year bounds of the check are reached, not the range's."""

_PLAIN = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)


def _line(**fields: str) -> str:
    """A valid perception line, each of ``fields`` written as the given JSON token."""
    base: dict[str, object] = {
        "type": "perception",
        "person_id": "p1",
        "occurred_at": "2026-01-01T10:00:00Z",
        "channel": "chat",
        "valence": 0.5,
        "provenance": {"source_system": "s", "source_record_id": "1"},
    }
    text = json.dumps(base, separators=(",", ":"))
    for name, token in fields.items():
        if name == "nps":
            text = text[:-1] + f',"nps":{{"value":{token}}}}}'
        elif name == "verbatim" or name == "topic":
            text = text[:-1] + f',"{name}":{token}}}'
        else:
            entry = f'"{name}":{token}'
            text = re.sub(f'"{name}":"[^"]*"', lambda _, entry=entry: entry, text, count=1)
    return text


def _stage(lines: list[str], dates: DateRange) -> dict[int, tuple[object, ...]]:
    _, rows = check_chunk(_CONNECTION, 1, [(line + "\n").encode() for line in lines], dates)
    return rows


_digits2 = st.integers(0, 99).map(lambda n: f"{n:02d}")
_dates = st.builds(
    lambda y, mo, d, h, mi, s, fraction, zone: f"{y}-{mo}-{d}T{h}:{mi}:{s}{fraction}{zone}",
    st.one_of(
        st.sampled_from(["0000", "0001", "0002", "0003", "1969", "1970", "9997", "9998", "9999"]),
        st.integers(1968, 2031).map(str),
    ),
    st.one_of(st.integers(0, 13).map(lambda n: f"{n:02d}"), st.just("1")),
    st.one_of(st.integers(0, 32).map(lambda n: f"{n:02d}"), st.just("29")),
    st.one_of(st.integers(0, 24).map(lambda n: f"{n:02d}"), _digits2),
    st.integers(0, 60).map(lambda n: f"{n:02d}"),
    st.integers(0, 60).map(lambda n: f"{n:02d}"),
    st.sampled_from(["", ".0", ".5", ".000000", ".000001", ".999999", ".12", ".1234567", "."]),
    st.sampled_from(
        ["Z", "+00:00", "-00:00", "+23:59", "-23:59", "+05:30", "-12:00", "+24:00", "z", ""]
    ),
)
_edges = st.sampled_from(
    [
        "0001-06-01T00:00:00Z",  # pydantic reads it, the check leaves it to pydantic
        "0001-01-01T00:30:00+01:00",  # before year 1 in UTC
        "0002-01-01T00:00:00+23:59",
        "9998-12-31T23:59:59.999999-23:59",
        "9999-06-01T00:00:00Z",
        "9999-12-31T23:30:00-01:00",  # after year 9999 in UTC
        "2024-02-29T00:00:00.000000-00:00",
        "2023-02-29T00:00:00Z",
        "1970-01-01T00:00:00+00:01",
    ]
)


@SETTINGS
@given(
    dates=st.lists(st.one_of(_dates, _edges), min_size=1, max_size=30),
    wide=st.booleans(),
)
def test_dates_are_read_as_pydantic_reads_them(dates: list[str], wide: bool) -> None:
    """One cast to an instant, the year as text, the offset from the last characters."""
    lines = [_line(occurred_at=json.dumps(date)) for date in dates]
    date_range = WIDE if wide else DATES
    rows = _stage(lines, date_range)
    earliest, latest = date_range.bounds()
    for number, date in enumerate(dates, 1):
        if not _PLAIN.fullmatch(date) or not "0002" <= date[:4] <= "9998":
            assert number not in rows
            continue
        try:
            moment = datetime.fromisoformat(date.replace("Z", "+00:00"))
        except ValueError:  # not in the calendar
            assert number not in rows
            continue
        assert (number in rows) == (earliest <= moment <= latest), date


_nps_tokens = st.one_of(
    st.integers(-3, 13).map(str),
    st.sampled_from(["5.0", "10.0", "1e1", "-0", "-0.0", "0.0", '"5"', "true", "null"]),
    st.sampled_from(["1" + "0" * 20, "[5]", "{}", '"10"', "5e0", "100"]),
)


@SETTINGS
@given(tokens=st.lists(_nps_tokens, min_size=1, max_size=30))
def test_nps_values_are_read_as_pydantic_reads_them(tokens: list[str]) -> None:
    """0 to 10 written as an integer is staged (-0 too: DuckDB writes it back as 0, and it
    is 0 in pydantic); anything else takes the per-line path."""
    rows = _stage([_line(nps=token) for token in tokens], DATES)
    for number, token in enumerate(tokens, 1):
        assert (number in rows) == (token in {"-0", *map(str, range(11))}), token


_pieces = st.sampled_from(
    ["a", "Z", "0", " ", "é", "日", '\\"', "\\\\", "\\/", "\\n", "\\t", "\\b", "\\u00e9", "-"]
)
_string_tokens = st.one_of(
    st.lists(_pieces, min_size=0, max_size=8).map(lambda parts: '"' + "".join(parts) + '"'),
    st.sampled_from(["5", "null", "true", "[]", '["a"]', "{}", '""']),
)


@SETTINGS
@given(
    tokens=st.lists(_string_tokens, min_size=1, max_size=30),
    field=st.sampled_from(["person_id", "verbatim", "topic", "source_system", "source_record_id"]),
)
@example(tokens=['"a\\"b"', '"a\\/b\\\\c"', '"-a"', '"a-"', "5", '"a\\nb"'], field="verbatim")
@example(tokens=['"-a"', '"a-"', '"a\\"b"', '"a\\nb"', '"9"'], field="person_id")
def test_strings_are_decoded_as_pydantic_decodes_them(tokens: list[str], field: str) -> None:
    """json_extract_string on the value's JSON text: escapes decoded, a non-string
    refused. Plain text is staged, and in a verbatim escaped quotes and slashes too."""
    rows = _stage([_line(**{field: token}) for token in tokens], DATES)
    for number, token in enumerate(tokens, 1):
        plain = re.fullmatch(r'"[a-z0-9Z][a-z0-9Z-]*"', token) is not None
        if plain and (field != "topic" or token == token.lower()):
            assert number in rows, token
        if field == "verbatim" and re.fullmatch(r'"[a-z0-9]+(\\["\\/][a-z0-9]+)+"', token):
            assert number in rows, token
