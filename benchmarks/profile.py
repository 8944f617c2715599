"""Benchmark: ingest and profile 1,000,000 perceptions of 100,000 persons.

The measured path is the columnar one (issue 15): a store keeping its perceptions in
Parquet segments, `relcrm ingest` (columns first) and `relcrm profile --engine duckdb`.
Prints ingest, profile, total and peak memory, then, in the same run, the pandas, polars
and DuckDB baselines on the recipe's core quantities (decayed evidence and attitude per
person) and relcrm's ratio to each. Not a timed test: compare the figures of one run.

    python benchmarks/profile.py                         # 1M perceptions, 100k persons
    python benchmarks/profile.py --persons 10000         # a quick look
    python benchmarks/profile.py --compare-table         # also today's table + reference path
    python benchmarks/profile.py --sizes 100000,1000000,10000000   # linearity, one process each
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from relcrm.store import Store
from relcrm.sync import ingest_interchange, profile_all

K = 0.5  # the recipe's shrinkage
HALF_LIFE_DAYS = 90.0

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

# A pool of perception bodies (what was said and felt); each line picks one and adds
# the person, time and source record. Realistic mix: surveys, tickets, public posts.
_SURVEYS = (
    [f'"channel":"survey","touchpoint":"relationship","nps":{{"value":{v}}}' for v in range(11)]
    + [f'"channel":"survey","touchpoint":"support","csat":{{"value":{v}}}' for v in range(1, 6)]
    + [f'"channel":"survey","ces":{{"value":{v},"version":"2.0"}}' for v in range(1, 8)]
)
_TEXTS = [
    ("support", "billing", -0.6, '{"anger":0.8}', "Charged twice again and nobody answers."),
    ("support", "outage", -0.4, '{"anger":0.5,"fear":0.3}', "The portal is down before month end."),
    ("chat", "onboarding", 0.5, '{"joy":0.6,"trust":0.4}', "Thanks, that fixed it quickly."),
    ("social", "outage", -0.7, '{"anger":0.6,"disgust":0.5}', "Down AGAIN. Avoid."),
    ("review", "product", 0.8, '{"joy":0.7,"trust":0.5}', "Five stars, would buy again."),
    ("email", "pricing", -0.3, '{"sadness":0.4}', "Sad to see the free tier go."),
    ("event", "roadmap", 0.6, '{"anticipation":0.7}', "Looking forward to the new release."),
]
_BODIES = _SURVEYS + [
    f'"channel":"{channel}","topic":"{topic}","valence":{valence},"emotions":{emotions},'
    f'"confidence":0.6,"verbatim":"{text}"'
    + (',"public":true' if channel in ("social", "review") else "")
    + (',"flags":{"churn_intent":true}' if topic == "outage" and channel == "support" else "")
    for channel, topic, valence, emotions, text in _TEXTS
]


def write_dataset(path: Path, persons: int, per_person: int, seed: int) -> int:
    """Write the JSONL interchange file quickly (string templates, no model building)."""
    rnd = random.Random(seed)
    two_years = 730 * 86400
    lines = 0
    with path.open("w", encoding="utf-8") as out:
        for index in range(persons):
            pid = f"b{index:07d}"
            since = (NOW - timedelta(days=rnd.randint(30, 3000))).isoformat()
            bought = (NOW - timedelta(days=rnd.randint(1, 400))).isoformat()
            out.write(
                f'{{"type":"person","id":"{pid}","emails":["{pid}@example.com"],'
                f'"consent":{{"granted":true}},"facts":{{"customer_since":"{since}",'
                f'"last_purchase_at":"{bought}","purchases_last_365d":{rnd.randint(0, 8)},'
                f'"renewals":{rnd.randint(0, 4)},"renewed_last_term":'
                f"{'true' if rnd.random() < 0.7 else 'false'}}}}}\n"
            )
            for number in range(per_person):
                when = (NOW - timedelta(seconds=rnd.randrange(two_years))).isoformat()
                body = rnd.choice(_BODIES)
                source = f'{{"source_system":"bench","source_record_id":"{pid}-{number}"}}'
                out.write(
                    f'{{"type":"perception","person_id":"{pid}","occurred_at":"{when}",{body},'
                    f'"provenance":{source}}}\n'
                )
            lines += 1 + per_person
    return lines


def peak_memory_mb() -> float:
    """Peak resident memory of this process, in MB (each size runs in its own process)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def core_columns(url: str) -> dict[str, object]:
    """The core quantities' inputs, one signal a perception (its first), as arrays: person,
    age in days, source weight x confidence, valence; read from the store's segments."""
    import numpy as np

    with Store.open(url) as store:
        segments = store.perception_segments
        assert segments is not None
        now = (NOW - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        nps_valence = "[-1.0, -0.9, -0.8, -0.7, -0.6, -0.5, -0.3, 0.0, 0.2, 0.8, 1.0][nps + 1]"
        query = segments.scan()
        arrays = segments.connection.execute(
            f"SELECT person_id, ({now} - occurred_us) / 1e6 / 86400.0 AS age, "
            "CASE WHEN nps IS NOT NULL THEN 1.0 WHEN csat_value IS NOT NULL THEN 0.7 "
            "WHEN valence IS NOT NULL THEN 0.8 * 0.6 ELSE 0.6 END AS w, "
            f"CASE WHEN nps IS NOT NULL THEN {nps_valence} "
            "WHEN csat_value IS NOT NULL THEN 2.0 * (csat_value - 1.0) / 4.0 - 1.0 "
            f"ELSE COALESCE(valence, 0.0) END AS v FROM {query}"
        ).fetchnumpy()
    return {name: np.asarray(values) for name, values in arrays.items()}


def time_baselines(columns: dict[str, object]) -> dict[str, float]:
    """E = sum of decayed weights, A = weighted valence / (E + K), per person, in memory."""
    import duckdb
    import numpy as np
    import pandas as pd
    import polars as pl

    figures: dict[str, float] = {}
    frame = pd.DataFrame(columns)
    start = time.perf_counter()
    decayed = frame["w"] * np.power(0.5, frame["age"] / HALF_LIFE_DAYS)
    sums = frame.assign(e=decayed, wv=decayed * frame["v"]).groupby("person_id")[["e", "wv"]].sum()
    sums["a"] = sums["wv"] / (sums["e"] + K)
    figures["pandas"] = time.perf_counter() - start

    polars = pl.DataFrame(columns)
    start = time.perf_counter()
    decay = pl.col("w") * pl.lit(0.5).pow(pl.col("age") / HALF_LIFE_DAYS)
    (
        polars.group_by("person_id")
        .agg(decay.sum().alias("e"), (decay * pl.col("v")).sum().alias("wv"))
        .with_columns((pl.col("wv") / (pl.col("e") + K)).alias("a"))
    )
    figures["polars"] = time.perf_counter() - start

    connection = duckdb.connect()
    connection.register("frame", frame)
    connection.execute("CREATE TABLE core AS SELECT * FROM frame")
    start = time.perf_counter()
    connection.execute(
        "SELECT person_id, SUM(w * POWER(0.5, age / 90.0)) AS e, "
        "SUM(w * POWER(0.5, age / 90.0) * v) / (SUM(w * POWER(0.5, age / 90.0)) + 0.5) AS a "
        "FROM core GROUP BY person_id"
    ).fetchall()
    figures["duckdb"] = time.perf_counter() - start
    connection.close()
    return figures


def run_columnar(folder: Path, data: Path, total: int) -> tuple[str, dict[str, float]]:
    """Ingest into a segments store and profile it with the columnar engine."""
    url = f"sqlite:///{folder / 'bench.db'}"
    with Store.open(url) as store:
        store.use_perception_segments()
        start, cpu = time.perf_counter(), time.process_time()
        report = ingest_interchange(data, store)
        ingested, ingest_cpu = time.perf_counter() - start, time.process_time() - cpu
    if not report.ok or report.perceptions_new != total:
        raise SystemExit(f"ingest went wrong: {report.rejections[:3]}")
    start, cpu = time.perf_counter(), time.process_time()
    run = profile_all(url, NOW, engine="duckdb")
    profiled, profile_cpu = time.perf_counter() - start, time.process_time() - cpu
    if run.perceptions != total:
        raise SystemExit(f"profiled {run.perceptions} perceptions of {total}")
    return url, {
        "ingest": ingested,
        "profile": profiled,
        "total": ingested + profiled,
        "ingest_cpu": ingest_cpu,
        "profile_cpu": profile_cpu,
    }


def time_unchecked_read(folder: Path, data: Path) -> dict[str, float]:
    """What reading the file costs with none of relcrm's guarantees: DuckDB's own JSON
    reader (types guessed from a sample of lines, lax, no per-line errors, no ids, no
    persons, no redaction) writing the perception lines to one Parquet file sorted as
    the segments are. A floor for the ingest on this machine, in wall and CPU seconds."""
    import duckdb

    connection = duckdb.connect()
    target = folder / "unchecked.parquet"
    start, cpu = time.perf_counter(), time.process_time()
    connection.execute(
        f"COPY (SELECT * FROM read_json('{data}', format = 'newline_delimited') "
        "WHERE type = 'perception' "
        f"ORDER BY person_id, occurred_at) TO '{target}' (FORMAT PARQUET, COMPRESSION ZSTD)"
    )
    figures = {"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu}
    connection.close()
    target.unlink()
    return figures


def run_table(folder: Path, data: Path, total: int, workers: int | None) -> dict[str, float]:
    """The table layout and the reference engine: the path before issue 15."""
    url = f"sqlite:///{folder / 'table.db'}"
    with Store.open(url) as store:
        start = time.perf_counter()
        report = ingest_interchange(data, store)
        ingested = time.perf_counter() - start
    if not report.ok or report.perceptions_new != total:
        raise SystemExit(f"ingest went wrong: {report.rejections[:3]}")
    start = time.perf_counter()
    profile_all(url, NOW, workers=workers)
    profiled = time.perf_counter() - start
    return {"ingest": ingested, "profile": profiled, "total": ingested + profiled}


def measure(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="relcrm-bench-", dir=args.scratch) as scratch:
        folder = Path(scratch)
        data = folder / "bench.jsonl"
        total = args.persons * args.per_person
        start = time.perf_counter()
        write_dataset(data, args.persons, args.per_person, args.seed)
        built = time.perf_counter() - start
        url, columnar = run_columnar(folder, data, total)
        peak = peak_memory_mb()  # before the baselines load pandas and polars
        figures: dict[str, object] = {
            "persons": args.persons,
            "perceptions": total,
            "build_jsonl": built,
            "ingest": columnar["ingest"],
            "profile": columnar["profile"],
            "total": columnar["total"],
            "ingest_cpu": columnar["ingest_cpu"],
            "profile_cpu": columnar["profile_cpu"],
            "cores": os.cpu_count() or 1,
            "peak_mb": peak,
        }
        if not args.no_baselines:
            figures["baselines"] = time_baselines(core_columns(url))
            figures["unchecked_read"] = time_unchecked_read(folder, data)
        if args.compare_table:
            figures["table"] = run_table(folder, data, total, args.workers or None)
    return figures


def print_figures(figures: dict[str, object]) -> None:
    total = int(figures["perceptions"])  # type: ignore[call-overload]
    ingest, profile = float(figures["ingest"]), float(figures["profile"])  # type: ignore[arg-type]
    whole = float(figures["total"])  # type: ignore[arg-type]
    print(f"persons                  {figures['persons']:>12,}")
    print(f"perceptions              {total:>12,}")
    print(f"build JSONL              {figures['build_jsonl']:>10.2f} s  (not counted)")
    print(f"ingest (segments)        {ingest:>10.2f} s  {total / ingest:>12,.0f} perceptions/s")
    print(f"profile (--engine duckdb){profile:>10.2f} s  {total / profile:>12,.0f} perceptions/s")
    print(f"total                    {whole:>10.2f} s  (aim: 3 s at 1M)")
    print(f"peak memory              {figures['peak_mb']:>10.0f} MB (aim: 1,024 MB)")
    ingest_cpu, profile_cpu = float(figures["ingest_cpu"]), float(figures["profile_cpu"])  # type: ignore[arg-type]
    cores = int(figures["cores"])  # type: ignore[call-overload]
    for name, seconds, cpu in (("ingest", ingest, ingest_cpu), ("profile", profile, profile_cpu)):
        print(f"CPU time: {name:<15}{cpu:>10.2f} s  ({cpu / seconds:.2f} cores busy)")
    print(
        f"CPU time: total          {ingest_cpu + profile_cpu:>10.2f} s  "
        f"(3 s on {cores} cores allow {3 * cores} s)"
    )
    unchecked = figures.get("unchecked_read")
    if isinstance(unchecked, dict):
        print(
            f"floor: DuckDB reading the file unchecked into sorted Parquet "
            f"{unchecked['wall']:.2f} s ({unchecked['cpu']:.2f} s CPU)"
        )
    baselines = figures.get("baselines")
    if isinstance(baselines, dict):
        for name, seconds in baselines.items():
            print(f"core quantities, {name:<8}{seconds:>10.3f} s")
        for name, seconds in baselines.items():
            print(f"ratio relcrm profile / {name:<8} {profile / seconds:>8.1f}x")
            print(f"ratio relcrm total   / {name:<8} {whole / seconds:>8.1f}x")
    table = figures.get("table")
    if isinstance(table, dict):
        print(f"table layout: ingest     {table['ingest']:>10.2f} s")
        print(f"table layout: reference profile {table['profile']:>7.2f} s")
        print(f"table layout: total      {table['total']:>10.2f} s")
        print(f"ratio table path / columnar path  {table['total'] / whole:>8.1f}x")


def run_sizes(args: argparse.Namespace) -> int:
    """Each size in its own process (so peak memory is that size's), then a table."""
    rows = []
    for size in (int(part) for part in args.sizes.split(",")):
        command = [
            sys.executable,
            __file__,
            "--persons",
            str(size // args.per_person),
            "--per-person",
            str(args.per_person),
            "--json",
            "--no-baselines",
        ]
        if args.scratch:
            command += ["--scratch", args.scratch]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        row = rows[-1]
        print(
            f"{row['perceptions']:>12,} perceptions: ingest {row['ingest']:7.2f} s, "
            f"profile {row['profile']:7.2f} s, total {row['total']:7.2f} s, "
            f"peak {row['peak_mb']:6.0f} MB",
            flush=True,
        )
    first = rows[0]
    per = first["total"] / first["perceptions"]
    print("size           total s   us/perception   x smallest's per-perception cost")
    for row in rows:
        mine = row["total"] / row["perceptions"]
        size, seconds = row["perceptions"], row["total"]
        print(f"{size:>12,} {seconds:>9.2f} {mine * 1e6:>12.2f} {mine / per:>12.2f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--per-person", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="reference profiling processes")
    parser.add_argument("--compare-table", action="store_true", help="also the table path")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--sizes", help="comma-separated perception counts, e.g. 100000,1000000")
    parser.add_argument("--scratch", help="folder for the temporary files [default: $TMPDIR]")
    args = parser.parse_args()
    if args.sizes:
        return run_sizes(args)
    figures = measure(args)
    if args.json:
        print(json.dumps(figures))
    else:
        print_figures(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
