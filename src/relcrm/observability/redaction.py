"""Redaction of log records: nothing personal or secret reaches a log line.

Logs name counts, persons (relcrm's own ids), fields and CRM codes. A message can still
pick up a value by accident: a CRM error that echoes what it was sent, an exception
that quotes a record, an HTTP library logging a URL with a query. :func:`redact_log_text`
replaces what looks like personal data or a secret, and :class:`RedactingFilter` applies
it to every record a handler emits (message, arguments, ``extra`` fields, tracebacks).

It reuses the verbatim redaction (:func:`relcrm.analyze.redaction.redact`: emails,
phones, Luhn-checked cards, mod-97-checked IBANs, secrets in URL parameters) and adds
what logs carry and verbatims do not:

- ``Bearer``/``Basic``/``Token`` credentials, as in an ``Authorization`` header;
- ``password=...``, ``"client_secret": "..."``, ``api_key: ...`` and the like, in
  ``key=value``, ``key: value`` and JSON or Python-repr shapes;
- ``user:password@`` in a URL;
- known token shapes: JWTs, HubSpot private-app tokens (``pat-na1-...``), Salesforce
  session ids (``00D...!...``), and long mixed-case base64 runs with digits;
- percent-encoded emails (``jane%40example.com``) in URLs and SOQL queries.

Lowercase hexadecimal ids (relcrm's run ids, uuid4 hex) are kept, so a log line can still
be matched with ``relcrm runs``. A verbatim cannot be recognised by its shape: the rule
that keeps verbatims out of logs is that relcrm never logs them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Final

from relcrm.analyze.redaction import CustomPattern, RedactionConfig, redact

__all__ = ["LOG_REDACTION", "RedactingFilter", "redact_log_text"]

LOG_REDACTION: Final = RedactionConfig(
    custom_patterns=(CustomPattern(label="secret", pattern=r"(?!)"),),
)
"""The verbatim redaction's defaults (emails, phones, cards, IBANs, URL secrets), told
about the ``[secret]`` placeholder (its pattern never matches: the passes below put it
there) so that its detectors never look inside one."""

SECRET: Final = "[secret]"
TOKEN: Final = "[token]"

_SECRET_NAMES = (
    r"password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|private[_-]?key"
    r"|session[_-]?id|sessionid|authorization"
)
# A name that is or ends in a secret's name (client_secret, security_token, x-api-key),
# optionally quoted, then = or :, then the value: quoted, or up to a delimiter.
_ASSIGNMENT_RE = re.compile(
    rf"(?i)(?<![\w-])([\"']?)((?:[\w-]*?[_-])?(?:{_SECRET_NAMES}))\1(\s*[:=]\s*)"
    r"(?!\[(?:secret|token)\]|(?:bearer|basic|digest|token)\s)"
    r"(\"[^\"\n]*\"|'[^'\n]*'|[^\s,;&'\"}\])]+)"
)
# Authorization schemes; the credential runs up to whitespace, a quote or a delimiter.
_SCHEME_RE = re.compile(
    r"(?i)\b(bearer|basic|token|digest)(\s+)(?!\[(?:secret|token)\])([^\s'\",;}\]]{6,})"
)
# user:password@host in a URL.
_USERINFO_RE = re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+@")
# Token shapes: JWT, HubSpot private-app token, Salesforce session id.
_TOKEN_SHAPES_RE = re.compile(
    r"\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*"
    r"|\bpat-[a-z]{2,3}\d?-[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b"
    r"|\b00D\w{12,15}![\w.]{20,}"
)
# Long base64-ish runs: redacted when they mix upper and lower case and digits.
_LONG_RUN_RE = re.compile(r"(?<![\w+/\-.])[A-Za-z0-9+/_\-]{32,}={0,2}(?![\w+/\-=])")
_PERCENT_AT_RE = re.compile(r"%40", re.IGNORECASE)


def _long_run(match: re.Match[str]) -> str:
    text = match.group()
    mixed = any(c.islower() for c in text) and any(c.isupper() for c in text)
    return TOKEN if mixed and any(c.isdigit() for c in text) else text


def _scheme(match: re.Match[str]) -> str:
    scheme, space, credential = match.groups()
    if scheme.lower() != "bearer" and not _looks_like_credential(credential):
        return match.group()  # "basic settings", "token expired": prose, not a credential
    return f"{scheme}{space}{TOKEN}"


def _looks_like_credential(text: str) -> bool:
    mixed = any(c.islower() for c in text) and any(c.isupper() for c in text)
    return mixed or any(c.isdigit() for c in text) or text.endswith("=")


def _assignment(match: re.Match[str]) -> str:
    quote, name, separator, value = match.groups()
    value = value[0] + SECRET + value[0] if value[:1] in "\"'" else SECRET
    return f"{quote}{name}{quote}{separator}{value}"


def redact_log_text(text: str) -> str:
    """``text`` with every email, phone, card, IBAN, credential and token replaced.

    Idempotent: redacting a redacted text changes nothing. The passes are repeated until
    nothing changes (at most :data:`MAX_PASSES` times), because an item can hide another
    until it is replaced (two emails run together: ``a@x.comb+c@y.com``).
    """
    for _ in range(MAX_PASSES):
        redacted = _one_pass(text)
        if redacted == text:
            break
        text = redacted
    return text


MAX_PASSES: Final = 4


def _one_pass(text: str) -> str:
    if not text:
        return text
    text = _PERCENT_AT_RE.sub("@", text)
    text = _USERINFO_RE.sub(SECRET + "@", text)
    text = _TOKEN_SHAPES_RE.sub(TOKEN, text)
    text = _SCHEME_RE.sub(_scheme, text)
    text = _ASSIGNMENT_RE.sub(_assignment, text)
    text = _LONG_RUN_RE.sub(_long_run, text)
    return redact(text, LOG_REDACTION).text


_RECORD_ATTRIBUTES: Final = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
"""The attributes every LogRecord has; anything else came in through ``extra=``."""


def extra_fields(record: logging.LogRecord) -> dict[str, object]:
    """The ``extra=`` fields of a record (what a JSON line shows besides the message)."""
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
    }


def _scrub(value: object) -> object:
    if isinstance(value, str):
        return redact_log_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(key): _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(item) for item in value]
    return redact_log_text(str(value))


class RedactingFilter(logging.Filter):
    """Redacts a record in place before any formatter sees it; never drops one.

    Attach it to a handler (as :func:`relcrm.observability.configure_logging` does), so
    it covers the records of every library (httpx, urllib3, uvicorn), not only relcrm's.
    The message is rendered with its arguments first, so a value passed as ``%s`` is
    redacted too.
    """

    _plain = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what we have, redacted
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact_log_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._plain.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_log_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_log_text(record.stack_info)
        for key, value in extra_fields(record).items():
            setattr(record, key, _scrub(value))
        return True
