"""No email, phone, card, IBAN, credential or token reaches a log line.

Records go through real loggers into the handler :func:`configure_logging` installs, in
both formats; what comes out is read as an ops team would read it.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relcrm.observability import configure_logging, redact_log_text

EMAIL = "jane.doe+crm@example.com"
PHONE = "+33 6 12 34 56 78"
CARD = "4111 1111 1111 1111"
IBAN = "DE89 3704 0044 0532 0130 00"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
SF_SESSION = "00D5g000004XYZa!AQcAQH0dMHZfz972Szmpkb58urFRkgeBGsxL_QJWwYMfAbUeeG7c1E6LY"
HUBSPOT_TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
PASSWORD = "hunter2-Correct"

SECRETS = [EMAIL, PHONE, CARD, IBAN, JWT, SF_SESSION, HUBSPOT_TOKEN, PASSWORD]


def _lines(log_format: str) -> tuple[io.StringIO, logging.Logger]:
    stream = io.StringIO()
    configure_logging("DEBUG", log_format, stream=stream)
    return stream, logging.getLogger("relcrm.sync.engine")


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    for fragment in (
        "jane.doe",
        "12 34 56",
        "1111 1111",
        "3704 0044",
        "dozjg",
        "AQcAQH",
        "hunter2",
    ):
        assert fragment not in text


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_values_in_messages_and_arguments_are_redacted(log_format: str) -> None:
    stream, logger = _lines(log_format)
    logger.warning(f"person p-0042 wrote {EMAIL} and asked to be called on {PHONE}")
    logger.warning("paid with %s, refund to %s", CARD, IBAN)
    logger.info("POST /services/data: Authorization: Bearer %s", SF_SESSION)
    logger.info("headers %r", {"Authorization": f"Bearer {JWT}", "Accept": "json"})
    logger.debug("hubspot client token=%s", HUBSPOT_TOKEN)
    logger.error('login failed: {"username": "ops", "password": "%s"}', PASSWORD)
    text = stream.getvalue()
    _assert_clean(text)
    assert text.count("[email]") == 1 and "[phone]" in text
    assert "[card]" in text and "[iban]" in text
    assert "Bearer [token]" in text
    assert '"password": "[secret]"' in text or '\\"password\\": \\"[secret]\\"' in text
    # What ops need stays: the person, the logger, the level.
    assert "person p-0042 wrote" in text and "relcrm.sync.engine" in text
    assert len(text.splitlines()) == 6


def test_json_lines_redact_extra_fields_and_tracebacks() -> None:
    stream, logger = _lines("json")
    try:
        raise ValueError(f"STRING_TOO_LONG: value {EMAIL} does not fit; card {CARD}")
    except ValueError:
        logger.exception(
            "write rejected",
            extra={"target": "sf-contact", "record": {"email": EMAIL, "calls": 3}},
        )
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    _assert_clean(line)
    assert record["target"] == "sf-contact"
    assert record["record"] == {"email": "[email]", "calls": 3}
    assert (
        "ValueError: STRING_TOO_LONG: value [email] does not fit; card [card]"
        in (record["exception"])
    )


def test_text_tracebacks_are_redacted() -> None:
    stream, logger = _lines("text")
    try:
        raise RuntimeError(f"cannot reach https://ops:{PASSWORD}@crm.example/api")
    except RuntimeError:
        logger.exception("connector failed")
    text = stream.getvalue()
    _assert_clean(text)
    assert "Traceback" in text and "https://[secret]@crm.example/api" in text


def test_other_libraries_records_are_redacted_too() -> None:
    stream, _ = _lines("text")
    # httpx logs each request at INFO with its URL; a SOQL query names emails in it.
    logging.getLogger("httpx").info(
        "HTTP Request: GET https://x.my.salesforce.com/services/data/v60.0/query?q=SELECT+Id"
        "+FROM+Contact+WHERE+Email+IN+(%%27jane%%40example.com%%27)&access_token=%s "
        '"HTTP/1.1 200 OK"',
        "abc123DEF456",
    )
    text = stream.getvalue()
    assert "jane" not in text and "abc123DEF456" not in text
    assert "httpx" in text and "HTTP/1.1 200 OK" in text


@pytest.mark.parametrize(
    "line",
    [
        "resuming run 3f9a0c1e7b2d4a65b1c2d3e4f5a6b7c8 on sf-contact: 12 persons already done",
        "sync sf-contact succeeded: written 1180, unchanged 98820 in 8.1 s, 9 API calls",
        "took over sf-contact from host:4242:abcdef123456, whose lease expired at "
        "2026-11-22T06:00:00+00:00",
        "hs-contact: person p-0042: field relcrm_health not sent: outside 0..100",
        "the basic plan: the token expired; a bearer of bad news",
        "sync hs: 1,000 of 10,000 (10%), written 990, 3.9 s, 256/s",
    ],
)
def test_what_ops_need_is_kept(line: str) -> None:
    assert redact_log_text(line) == line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("password=hunter2&user=x", "password=[secret]&user=x"),
        ("security_token: XyZ123abc", "security_token: [secret]"),
        ("x-api-key: abc123 and apikey=zzz", "x-api-key: [secret] and apikey=[secret]"),
        ("{'client_secret': 'a b c'}", "{'client_secret': '[secret]'}"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [token]"),
        (f"private app {HUBSPOT_TOKEN} used", "private app [token] used"),
        ("key AKIAxY9ZabcDEF1234567890qwertyUIOP12 leaked", "key [token] leaked"),
        ("https://u:p4ss@pg:9091/x?sig=abc", "https://[secret]@pg:9091/x?sig=[token]"),
    ],
)
def test_credentials_in_their_usual_shapes(line: str, expected: str) -> None:
    assert redact_log_text(line) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*SECRETS, "password=", "Bearer ", " ", ", ", "run 3f9a0c1e", "%40", "@", ":", "'"]
        )
        | st.text(max_size=12),
        max_size=8,
    )
)
def test_redacting_twice_changes_nothing(pieces: list[str]) -> None:
    once = redact_log_text("".join(pieces))
    assert redact_log_text(once) == once
