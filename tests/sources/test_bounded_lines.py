"""Lines cut out of blocks are the lines ``readline`` gives, over-long ones included."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relcrm.sources import interchange
from relcrm.sources.interchange import bounded_lines


def by_readline(stream: io.BytesIO, limit: int) -> Iterator[bytes | None]:
    """The reader as it was: one readline a line (the yardstick)."""
    while True:
        chunk = stream.readline(limit + 1)
        if not chunk:
            return
        if len(chunk) > limit and not chunk.endswith(b"\n"):
            while True:
                rest = stream.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
        else:
            yield chunk


@settings(max_examples=400)
@given(
    lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"x")), max_size=30),
    ends=st.booleans(),
    limit=st.integers(1, 25),
    block=st.integers(1, 64),
)
def test_the_same_lines_as_readline(lines: list[bytes], ends: bool, limit: int, block: int) -> None:
    data = b"\n".join(lines) + (b"\n" if ends and lines else b"")
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(interchange, "_BLOCK_BYTES", block)
        got = list(bounded_lines(io.BytesIO(data), limit))
    assert got == list(by_readline(io.BytesIO(data), limit))


def test_a_huge_line_is_never_held_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interchange, "_BLOCK_BYTES", 1024)
    data = b'{"a": 1}\n' + b"y" * 10_000_000 + b"\n" + b'{"b": 2}'
    assert list(bounded_lines(io.BytesIO(data), 100)) == [b'{"a": 1}\n', None, b'{"b": 2}']


def test_a_line_on_a_pipe_comes_before_the_pipe_closes() -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as reader, os.fdopen(write_end, "wb") as writer:
        writer.write(b'{"id": "t1"}\n')
        writer.flush()
        lines = bounded_lines(reader, 100)
        assert next(lines) == b'{"id": "t1"}\n'  # read1: no waiting for a whole block
