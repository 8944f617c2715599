"""The client side of ``$batch``: a ``multipart/mixed`` body of independent requests, and
the reading of its answer [doc: execute-batch-operations-using-web-api].

relcrm uses it for one thing: when ``UpdateMultiple`` refused a whole batch for one bad
record, the same updates go again as one ``$batch`` of ``PATCH`` requests (each its own
transaction, ``If-Match: *`` so a missing record is not created) with
``Prefer: odata.continue-on-error``, and the answer says, request by request, which were
written and why the others were refused: two calls instead of one per record.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_REQUESTS = 1000
"""Requests per ``$batch`` [doc]."""


@dataclass(frozen=True)
class Patch:
    url: str
    body: dict[str, Any]


@dataclass(frozen=True)
class PartAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


def compose(patches: Sequence[Patch]) -> tuple[str, bytes]:
    """(content type, body) of a batch of independent ``PATCH`` requests."""
    if len(patches) > MAX_REQUESTS:
        raise ValueError(f"a $batch holds at most {MAX_REQUESTS} requests")
    boundary = f"batch_{uuid.uuid4()}"
    lines: list[str] = []
    for patch in patches:
        lines += [
            f"--{boundary}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "",
            f"PATCH {patch.url} HTTP/1.1",
            "Content-Type: application/json; type=entry",
            "If-Match: *",
            "",
            json.dumps(patch.body, separators=(",", ":")),
        ]
    lines += [f"--{boundary}--", ""]
    return f'multipart/mixed; boundary="{boundary}"', "\r\n".join(lines).encode("utf-8")


def _boundary(content_type: str) -> str | None:
    match = re.search(r'boundary\s*=\s*"?([^";]+)"?', content_type, re.IGNORECASE)
    return match.group(1).strip() if match else None


def _parts(text: str, boundary: str) -> list[list[str]]:
    parts: list[list[str]] = []
    current: list[str] | None = None
    for line in (raw.rstrip("\r") for raw in text.split("\n")):
        stripped = line.strip()
        if stripped == f"--{boundary}--":
            if current is not None:
                parts.append(current)
            break
        if stripped == f"--{boundary}":
            if current is not None:
                parts.append(current)
            current = []
        elif current is not None:
            current.append(line)
    return parts


def _split_headers(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    for index, line in enumerate(lines):
        if not line.strip():
            return headers, lines[index + 1 :]
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, []


def parse_answer(content_type: str, body: bytes) -> list[PartAnswer]:
    """The responses of a batch answer, in order (a change set's responses in line)."""
    boundary = _boundary(content_type)
    if boundary is None:
        raise ValueError("the $batch answer is not multipart/mixed")
    answers: list[PartAnswer] = []
    for part in _parts(body.decode("utf-8", "replace"), boundary):
        headers, rest = _split_headers(part)
        inner = _boundary(headers.get("content-type", ""))
        if inner is not None and headers.get("content-type", "").startswith("multipart/"):
            answers += parse_answer(headers["content-type"], "\n".join(rest).encode("utf-8"))
            continue
        while rest and not rest[0].strip():
            rest = rest[1:]
        if not rest or not rest[0].startswith("HTTP/"):
            raise ValueError("a $batch answer part holds no status line")
        status = int(rest[0].split()[1])
        part_headers, content = _split_headers(rest[1:])
        answers.append(PartAnswer(status, part_headers, "\n".join(content).strip().encode("utf-8")))
    return answers
