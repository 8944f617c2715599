"""``$batch`` bodies: ``multipart/mixed`` requests with change sets, and the responses.

[doc: execute-batch-operations-using-web-api; OData v4.0 part 1 §11.7] A batch holds up to
1,000 requests, each an ``application/http`` part (``Content-Transfer-Encoding: binary``,
then a request line, headers, a blank line and the body) or a change set: a nested
``multipart/mixed`` part whose requests carry a ``Content-ID`` and succeed or fail
together. The response is ``multipart/mixed`` with a ``batchresponse_…`` boundary; a change
set answers as a nested ``changesetresponse_…`` part, or, when it failed, as the one error
response of the request that failed. Without ``Prefer: odata.continue-on-error`` the batch
stops at the first failure and the whole answer carries that failure's status; with it,
the batch answers ``200 OK`` with every response in its body.

Lines may end with CRLF (as the specification says) or LF (as Microsoft's transcripts are
printed); both are read.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

REASONS: dict[int, str] = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class BatchSyntaxError(ValueError):
    """A body that is not a well-formed batch."""


@dataclass
class PartRequest:
    """One request inside a batch."""

    method: str
    target: str
    """The path and query, relative to the Web API root (``contacts(…)?$select=…``)."""
    headers: dict[str, str]
    body: bytes
    content_id: str | None = None


@dataclass
class ChangeSet:
    requests: list[PartRequest] = field(default_factory=list)


@dataclass
class PartResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_id: str | None = None


def boundary_of(content_type: str) -> str | None:
    """The ``boundary`` parameter of a ``multipart/mixed`` content type."""
    if not content_type.lower().startswith("multipart/mixed"):
        return None
    match = re.search(r'boundary\s*=\s*"?([^";]+)"?', content_type, re.IGNORECASE)
    return match.group(1).strip() if match else None


def _lines(text: str) -> list[str]:
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def _split(text: str, boundary: str) -> list[list[str]]:
    """The parts between ``--boundary`` lines, up to ``--boundary--``."""
    opening, closing = f"--{boundary}", f"--{boundary}--"
    parts: list[list[str]] = []
    current: list[str] | None = None
    closed = False
    for line in _lines(text):
        stripped = line.rstrip()
        if stripped == closing:
            if current is not None:
                parts.append(current)
            closed = True
            break
        if stripped == opening:
            if current is not None:
                parts.append(current)
            current = []
        elif current is not None:
            current.append(line)
    if not closed:
        raise BatchSyntaxError(f"the batch is not closed with '{closing}'")
    return parts


def _headers(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    for index, line in enumerate(lines):
        if not line.strip():
            return headers, lines[index + 1 :]
        name, sep, value = line.partition(":")
        if not sep:
            raise BatchSyntaxError(f"not a header line: {line!r}")
        headers[name.strip().lower()] = value.strip()
    return headers, []


def _relative(target: str, root: str) -> str:
    """``https://host/api/data/v9.2/contacts`` or ``/api/data/v9.2/contacts`` ->
    ``contacts``."""
    path = target
    if "://" in target:
        parts = urlsplit(target)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
    if path.startswith(root):
        return path[len(root) :]
    if path.startswith("/"):
        raise BatchSyntaxError(f"the request {target!r} is not under {root}")
    return path


def _request(lines: list[str], content_id: str | None, root: str) -> PartRequest:
    while lines and not lines[0].strip():
        lines = lines[1:]
    if not lines:
        raise BatchSyntaxError("a part holds no request line")
    words = lines[0].split()
    if len(words) < 2:
        raise BatchSyntaxError(f"not a request line: {lines[0]!r}")
    headers, rest = _headers(lines[1:])
    body = "\n".join(rest).strip()
    return PartRequest(
        words[0].upper(), _relative(words[1], root), headers, body.encode("utf-8"), content_id
    )


def parse(body: bytes, content_type: str, root: str) -> list[PartRequest | ChangeSet]:
    """The requests and change sets of a batch body, in order."""
    boundary = boundary_of(content_type)
    if boundary is None:
        raise BatchSyntaxError("a batch needs Content-Type: multipart/mixed; boundary=…")
    text = body.decode("utf-8")
    items: list[PartRequest | ChangeSet] = []
    for part in _split(text, boundary):
        headers, content = _headers(part)
        kind = headers.get("content-type", "")
        inner = boundary_of(kind)
        if inner is not None:
            changeset = ChangeSet()
            for sub in _split("\n".join(content), inner):
                sub_headers, sub_content = _headers(sub)
                if not sub_headers.get("content-type", "").startswith("application/http"):
                    raise BatchSyntaxError("a change set part must be application/http")
                request = _request(sub_content, sub_headers.get("content-id"), root)
                if request.method == "GET":
                    raise BatchSyntaxError("GET requests are not allowed in a change set")
                changeset.requests.append(request)
            items.append(changeset)
        elif kind.startswith("application/http"):
            items.append(_request(content, headers.get("content-id"), root))
        else:
            raise BatchSyntaxError(f"unexpected part type {kind!r}")
    return items


def _render_response(response: PartResponse) -> list[str]:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if response.content_id is not None:
        lines.append(f"Content-ID: {response.content_id}")
    lines += ["", f"HTTP/1.1 {response.status} {REASONS.get(response.status, '')}".rstrip()]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    lines.append("")
    if response.body:
        lines.append(response.body.decode("utf-8"))
    else:
        lines.append("")
    return lines


def render(items: list[PartResponse | list[PartResponse]]) -> tuple[str, bytes]:
    """(boundary, body) of a batch response; a list is a change set's responses."""
    boundary = f"batchresponse_{uuid.uuid4()}"
    lines: list[str] = []
    for item in items:
        lines.append(f"--{boundary}")
        if isinstance(item, list):
            inner = f"changesetresponse_{uuid.uuid4()}"
            lines += [f"Content-Type: multipart/mixed; boundary={inner}", ""]
            for response in item:
                lines.append(f"--{inner}")
                lines += _render_response(response)
            lines.append(f"--{inner}--")
        else:
            lines += _render_response(item)
    lines.append(f"--{boundary}--")
    lines.append("")
    return boundary, "\r\n".join(lines).encode("utf-8")
