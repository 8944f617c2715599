"""Throughput of the interchange reader and the bulk generators (prints figures; not a test).

    python benchmarks/interchange.py                  # 100,000 persons, 1M perceptions
    python benchmarks/interchange.py --persons 10000  # a quicker run

Reading is measured the way an ingest consumes it: streamed, each record handled and
dropped. Keeping a million models in a list measures the garbage collector instead.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from relcrm.sources import LineRejection, read_interchange, write_interchange
from relcrm.testing import generate_bulk, generate_bulk_lines

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def timed(label: str, count: int, started: float) -> None:
    seconds = time.perf_counter() - started
    print(f"{label:<48} {count:>10,} in {seconds:7.2f} s  = {count / seconds:>10,.0f} /s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--per-person", type=int, default=10)
    args = parser.parse_args()
    sizes = {"persons": args.persons, "perceptions_per_person": args.per_person, "seed": 1}

    with tempfile.TemporaryDirectory() as folder:
        mixed = Path(folder) / "bulk.jsonl"
        started = time.perf_counter()
        with mixed.open("w", encoding="utf-8", newline="\n") as stream:
            lines = 0
            for text in generate_bulk_lines(**sizes, now=NOW):
                stream.write(text)
                lines += 1
        timed("generate_bulk_lines -> file", lines, started)
        print(f"{'':<48} {mixed.stat().st_size / 1e6:,.0f} MB")

        started = time.perf_counter()
        records = sum(1 for _ in generate_bulk(**sizes, now=NOW))
        timed("generate_bulk (models)", records, started)

        started = time.perf_counter()
        rejected = 0
        items = 0
        for item in read_interchange(mixed):
            items += 1
            rejected += isinstance(item, LineRejection)
        timed("read_interchange, persons + perceptions", items, started)
        assert rejected == 0, rejected

        only = Path(folder) / "perceptions.jsonl"
        perceptions = (
            r for r in generate_bulk(**sizes, now=NOW) if r.__class__.__name__ == "Perception"
        )
        started = time.perf_counter()
        written = write_interchange(perceptions, only)
        timed("generate_bulk + write_interchange (perceptions)", written, started)

        started = time.perf_counter()
        items = sum(1 for _ in read_interchange(only))
        timed("read_interchange, perceptions only", items, started)


if __name__ == "__main__":
    main()
