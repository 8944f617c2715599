"""The person lines' shortcuts read exactly what the general path reads (pydantic's).

:class:`relcrm.sync.ingest_persons.PersonLines` (no pydantic) and
:func:`relcrm.sources.interchange.read_person_quickly` (pydantic, less around it) must
give the row the general path gives for every line they take, and take no line the
general path rejects: generated lines mix the usual shape with everything that must go
the general way (bad values, odd dates, white space, escapes, unknown or repeated keys).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from relcrm.models import Person
from relcrm.sources.dates import DateRange
from relcrm.sources.interchange import (
    InterchangeItem,
    interchange_line,
    parse_interchange_line,
    read_person_quickly,
)
from relcrm.store.store import canonical_json, person_row
from relcrm.sync.ingest_persons import PersonLines

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
FIXED = DateRange(
    earliest=datetime(1990, 1, 1, tzinfo=UTC), latest=datetime(2027, 1, 1, tzinfo=UTC)
)
RELATIVE = DateRange()  # to a day after the moment of the check

# Each pool: values the fast way takes, then values it must leave to the general path.
IDS = (["b0000001", "A.b:c@d-e_f", "x" * 128], ["x" * 129, " x", "", "-bad", "é1", "a\\u0041"])
EMAILS = (
    ["Jane.Doe@Example.COM", "a@b.co", "o'brien@x.io", "{x}|~@q.example", "q" * 242 + "@ex.com"],
    [
        "a@b",
        "x@-a.com",
        "a b@c.com",
        " a@b.com",
        "a@b.com ",
        "a,b@c.com",
        "xa@b.co,xc@d.cox",
        "\uff41@b.com",
        "a@b.com\\u200b",
        "\u0430dmin@b.com",
        "q" * 243 + "@ex.com",
        'p@q.co\\"r',
    ],
)
DATES = (
    [
        "2023-03-07T12:00:00+00:00",
        "2023-03-07T12:00:00Z",
        "2023-03-07T12:00:00-00:00",
        "2023-03-07T12:00:00+01:30",
        "2023-03-07T12:00:00-05:00",
        "2023-03-07T12:00:00+23:59",
    ],
    [
        "2023-03-07T12:00:00+24:00",
        "2023-03-07T12:00:00+01:99",
        "2023-03-07T12:00:00-05:60",
        "2023-02-30T12:00:00Z",
        "2023-03-07T24:00:00Z",
        "2023-03-07T12:00:60Z",
        "2023-03-07T12:00:00",
        "2023-03-07T12:00:00.5Z",
        "2023-03-07 12:00:00Z",
        "1960-01-01T00:00:00Z",
        "2099-01-01T00:00:00Z",
        "2026-12-02T11:00:00Z",
        "0001-01-01T00:30:00+01:00",
    ],
)
INTEGERS = (["0", "6", "123456789012345"], ["12345678901234567890", "-1", "6.0", '"6"', "true"])
BOOLEANS = (["true", "false"], ["null", '"yes"', "1"])


def _mostly(pools: tuple[list[str], list[str]]) -> st.SearchStrategy[str]:
    """A value of the first pool nine times in ten, else one of the second."""
    good, bad = pools
    return st.integers(0, 9).flatmap(lambda n: st.sampled_from(good if n else bad))


_json = st.sampled_from


def _string(pools: tuple[list[str], list[str]]) -> st.SearchStrategy[str]:
    """A JSON string: the pools hold JSON text between the quotes (escapes included)."""
    return _mostly(pools).map(lambda text: f'"{text}"')


@st.composite
def person_lines(draw: st.DrawFn) -> str:
    """A person line: usually the plain shape with plausible values, often not."""
    members: list[tuple[str, str]] = [("id", draw(_string(IDS)))]
    if draw(st.booleans()):
        emails = draw(st.lists(_string(EMAILS), max_size=3))
        members.append(("emails", "[" + ",".join(emails) + "]"))
    if draw(st.booleans()):
        consent = [("granted", draw(_mostly(BOOLEANS)))]
        if draw(st.booleans()):
            consent.append(("updated_at", draw(_string(DATES))))
        if draw(st.integers(0, 5)) == 0:
            consent.append(("source", '"signup"'))
        members.append(("consent", _object(draw, consent)))
    if draw(st.booleans()):
        facts = [
            (name, draw(pool))
            for name, pool in (
                ("customer_since", _string(DATES)),
                ("last_purchase_at", _string(DATES)),
                ("purchases_last_365d", _mostly(INTEGERS)),
                ("renewals", _mostly(INTEGERS)),
                ("renewed_last_term", _mostly(BOOLEANS)),
                ("behavioural_loyalty", _json(["0.5", "null"])),
            )
            if draw(st.integers(0, 9)) < (1 if name == "behavioural_loyalty" else 6)
        ]
        members.append(("facts", _object(draw, facts)))
    if draw(st.integers(0, 8)) == 0:
        members.append((draw(_json(["id", "emails", "nickname"])), '"x"'))
    line = '{"type":"person",' + _object(draw, members)[1:]
    return line + draw(_mostly((["", "\n", "\r\n"], [" \n", "\r\r\n", "\t"])))


def _object(draw: st.DrawFn, members: list[tuple[str, str]]) -> str:
    """Members as a JSON object: in the model's order, or shuffled, sometimes spaced."""
    if draw(st.integers(0, 9)) == 0:
        members = draw(st.permutations(members))
    separator = draw(_mostly(([","], [", ", " ,"])))
    colon = draw(_mostly(([":"], [": "])))
    body = separator.join(f'"{name}"{colon}{value}' for name, value in members)
    return "{" + body + draw(_mostly((["}"], [",}", " }"])))


def _general(line: str, dates: DateRange) -> InterchangeItem | object:
    return parse_interchange_line(line, 7, dates=dates)


def _agree(line: str, dates: DateRange, now: datetime) -> bool:
    """The shortcuts agree with the general path on ``line``; True when the fast one
    took it (so a test can check that the usual lines do go the fast way)."""
    general = _general(line, dates)
    fast = PersonLines(dates, now).row(line)
    quick = read_person_quickly(line, dates, now)
    if isinstance(general, InterchangeItem) and isinstance(general.record, Person):
        expected = person_row(general.record)
        assert fast is None or fast == expected, line
        assert quick is None or person_row(quick) == expected, line
    else:
        assert fast is None, line
        assert quick is None, line
    return fast is not None


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=person_lines())
@example(line='{"type":"person","id":"a","emails":["xa@b.co,xc@d.cox"]}')
@example(line='{"type":"person","id":"a","emails":["a@b.co,","x@y.io"]}')
@example(line='{"type":"person","id":"a","facts":{"renewals":1,"renewals":2}}')
@example(line='{"type":"person","id":"a","facts":{,"renewals":1}}')
@example(line='{"type":"person","id":"a","consent":{"granted":true},}')
@example(line='{"type":"person","id":"a","emails":[]}\n')
@example(line='{"type":"person","id":"a","facts":{}}\n')
@example(line='{"type":"person","id":"a","consent":{"updated_at":"2026-11-02T14:05:00+01:99"}}')
def test_the_shortcuts_agree_with_the_general_path(line: str) -> None:
    _agree(line, FIXED, NOW)
    _agree(line, RELATIVE, datetime.now(UTC))


def test_the_usual_lines_take_the_fast_way() -> None:
    """Lines as relcrm writes them (write_interchange) and as the benchmark does."""
    since = datetime(2023, 3, 7, 12, tzinfo=UTC)
    persons = [
        Person.model_validate(
            {
                "id": f"p{index}",
                "emails": [f"P{index}.Name@Example.COM", f"p{index}@b.io"][: index % 3],
                "consent": {"granted": index % 2 == 0, "updated_at": since + timedelta(days=index)}
                if index % 4
                else {"granted": True},
                "facts": {
                    "customer_since": since,
                    "last_purchase_at": since + timedelta(hours=index),
                    "purchases_last_365d": index,
                    "renewals": index % 3,
                    "renewed_last_term": index % 5 == 0,
                }
                if index % 3
                else {},
            }
        )
        for index in range(40)
    ]
    lines = [interchange_line(person) for person in persons]
    lines.append(
        '{"type":"person","id":"b0000000","emails":["b0000000@example.com"],'
        '"consent":{"granted":true},"facts":{"customer_since":"2023-03-07T12:00:00+00:00",'
        '"last_purchase_at":"2026-09-05T12:00:00+00:00","purchases_last_365d":6,"renewals":0,'
        '"renewed_last_term":true}}\n'
    )
    for line in lines:
        assert _agree(line, FIXED, NOW), line
        assert _agree(line, RELATIVE, datetime.now(UTC)), line


def test_a_date_at_the_end_of_the_range_is_left_to_the_general_path() -> None:
    """The fast way reads the range once a chunk: a date after its end but before the
    general path's (read later) goes the general way, and is accepted there."""
    now = datetime.now(UTC)
    later = (now + timedelta(days=1, seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = f'{{"type":"person","id":"a","consent":{{"granted":true,"updated_at":"{later}"}}}}'
    assert PersonLines(RELATIVE, now).row(line) is None
    general = parse_interchange_line(line, 1, dates=DateRange(latest=now + timedelta(days=2)))
    assert isinstance(general, InterchangeItem)


def test_canonical_json_is_the_sorted_dump_of_the_model() -> None:
    person = Person.model_validate(
        {
            "id": "x",
            "display_name": 'Zoë "Z" \u2028 \x1f',
            "emails": ["Zoë@Example.com"],
            "phones": ["+44 20 7946 0018"],
            "facts": {"expected_purchases_per_year": 1e-5, "behavioural_loyalty": 0.1},
        }
    )
    reference = json.dumps(
        person.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert canonical_json(person) == reference
