"""Benchmark: the relationship report of 100,000 persons: seconds to build and render, and
the size of the HTML file (the targets: under 10 s and under 15 MB).

The store is built first and not timed: synthetic persons and perceptions
(``relcrm.testing.synthetic.generate_bulk_lines``) ingested as interchange lines, then
profiled twice a week apart (so the report has a movement and a two-week trend).

    python benchmarks/report.py                     # 100,000 persons
    python benchmarks/report.py --persons 10000     # a quick look
    python benchmarks/report.py --keep /tmp/r100k   # keep the store; the next run reuses it

This machine (2 cores, shared), 100,000 persons and 500,000 perceptions (293,000 in the
90-day window), profiled twice: 5.4-5.6 s and 1.30 MB (3,200 dots over a density grid, 200
person sections), about 5.5 s of CPU; with the cores busy with other work (load average
8) the same run took 13-15 s of wall time. Building the store takes about 6 minutes.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from relcrm.report import ReportOptions, write_report
from relcrm.store import Store
from relcrm.sync import ingest_interchange, profile_all
from relcrm.testing.synthetic import generate_bulk_lines

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def build_store(folder: Path, persons: int, per_person: int, seed: int) -> str:
    """A profiled store of ``persons`` synthetic persons (not timed)."""
    lines = folder / "bulk.jsonl"
    with lines.open("w", encoding="utf-8") as out:
        out.writelines(
            generate_bulk_lines(
                persons=persons, perceptions_per_person=per_person, seed=seed, now=NOW
            )
        )
    url = f"sqlite:///{folder / 'relcrm.db'}"
    with Store.open(url) as store:
        ingest_interchange(lines, store)
    profile_all(url, NOW - timedelta(days=7))
    profile_all(url, NOW)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--perceptions", type=int, default=5, help="per person")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="build the store here, or reuse it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relcrm-report-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        if (folder / "relcrm.db").exists():
            url = f"sqlite:///{folder / 'relcrm.db'}"
            print(f"store: reusing {url}")
        else:
            url = build_store(folder, args.persons, args.perceptions, args.seed)
            print(f"store: {args.persons:,} persons built in {time.perf_counter() - started:.0f} s")
        out = folder / "report.html"
        with Store.open(url) as store:
            started, cpu = time.perf_counter(), time.process_time()
            report = write_report(store, out, ReportOptions(generated_at=NOW))
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        size_mb = out.stat().st_size / 1_000_000
        print(f"report: {seconds:.2f} s (target < 10 s), {size_mb:.2f} MB (target < 15 MB)")
        # On a shared machine the wall time includes waiting for a core: say how busy it was.
        load = os.getloadavg()[0]
        print(
            f"  {cpu:.2f} s of CPU (all threads); load average {load:.1f} on {os.cpu_count()} cores"
        )
        print(
            f"  {report.meta.persons:,} persons, {len(report.loyalty_map.dots):,} dots drawn "
            f"(sampled: {report.loyalty_map.sampled}), {len(report.people)} person sections, "
            f"{len(report.trend)} trend weeks"
        )


if __name__ == "__main__":
    main()
