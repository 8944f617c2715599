"""Figures for the columnar staging (not a test): lines/s staged, redaction and analysis
per distinct verbatim, peak memory, against the per-line path on one chunk.

    python tests/ingest_columnar/bench_staging.py --chunk 250000
    python tests/ingest_columnar/bench_staging.py --persons 10000 --chunk 100000

The file is the benchmark's (``benchmarks/profile.py`` ``write_dataset``): about 900,000
perception lines and 100,000 person lines for 100,000 persons.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from relcrm.analyze import DEFAULT, DEFAULT_ANALYZER
from relcrm.sources.dates import DateRange
from relcrm.sources.interchange import DEFAULT_MAX_LINE_BYTES
from relcrm.sources.interchange_columnar import stage_perceptions
from relcrm.sync.ingest_chunks import parse_chunk, raw_chunks
from relcrm.sync.ingest_verbatims import analyse_staged, redact_staged

ROOT = Path(__file__).resolve().parents[2]
DATES = DateRange(latest=datetime(2027, 1, 1, tzinfo=UTC))


def cpu() -> float:
    times = os.times()
    return times.user + times.system


def write_dataset(path: Path, persons: int) -> int:
    spec = importlib.util.spec_from_file_location("bench_profile", ROOT / "benchmarks/profile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines: int = module.write_dataset(path, persons, 9, 7)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=250_000)
    parser.add_argument("--file", type=Path, default=None, help="reuse a written file")
    parser.add_argument("--per-line", action="store_true", help="time parse_chunk on chunk 1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.file or Path(folder) / "bench.jsonl"
        if args.file is None or not path.exists():
            write_dataset(path, args.persons)
        connection = duckdb.connect()
        staged_rows = other = lines = 0
        wall = used = redact_wall = 0.0
        counts: dict[str, int] = {}
        for first, raws in raw_chunks(path, args.chunk, DEFAULT_MAX_LINE_BYTES):
            started, spent = time.perf_counter(), cpu()
            staged = stage_perceptions(connection, first, raws, "staged", dates=DATES)
            wall += time.perf_counter() - started
            used += cpu() - spent
            started = time.perf_counter()
            for kind, count in redact_staged(connection, "staged", DEFAULT).items():
                counts[kind] = counts.get(kind, 0) + count
            redact_wall += time.perf_counter() - started
            staged_rows += staged.rows
            other += len(staged.other_lines)
            lines += len(raws)
            if args.per_line and first == 1:
                started = time.perf_counter()
                parse_chunk((first, raws), DEFAULT_MAX_LINE_BYTES, "segment", DEFAULT, None)
                per_line = time.perf_counter() - started
                print(f"per-line path, chunk 1: {len(raws) / per_line:,.0f} lines/s")
        # analysis: the last chunk's perceptions again, without their valence
        connection.execute("UPDATE staged SET valence = NULL")
        started = time.perf_counter()
        analysed = analyse_staged(connection, "staged", DEFAULT_ANALYZER)
        analyse_wall = time.perf_counter() - started
        distinct = connection.execute(
            "SELECT count(DISTINCT verbatim) FROM staged WHERE verbatim IS NOT NULL"
        ).fetchone()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"lines {lines:,}, staged {staged_rows:,}, per-line {other:,}, chunk {args.chunk:,}")
    print(
        f"staging: {lines / wall:,.0f} lines/s wall ({wall:.2f} s), "
        f"{used / lines * 1e6:.2f} µs CPU a line (DuckDB threads included)"
    )
    print(f"redaction of every chunk: {redact_wall:.3f} s, counts {counts}")
    print(
        f"analysis of {len(analysed):,} rows ({distinct[0] if distinct else 0} distinct "
        f"verbatims): {analyse_wall:.3f} s"
    )
    print(f"peak memory: {peak:,.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
