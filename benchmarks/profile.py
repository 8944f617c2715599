"""Benchmark: build, ingest and profile 1,000,000 perceptions of 100,000 persons.

Prints perceptions per second for ingest and for profiling, and peak memory.
Not a timed test: compare the figures of one run, on one machine.

    python benchmarks/profile.py                       # the full size
    python benchmarks/profile.py --persons 10000       # a quick look
"""

from __future__ import annotations

import argparse
import random
import resource
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
    """Peak resident memory of this process and its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def read_rows(url: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Persons and perceptions as the columnar recipe's rows, from the store's JSON."""
    from relcrm.profile.columnar.inputs import perception_rows_of_json, person_rows_of_json

    with Store.open(url) as store:
        people, said = store.persons_and_perceptions_json()
    return person_rows_of_json(people), perception_rows_of_json(said)


def core_columns(rows: list[tuple[object, ...]]) -> dict[str, list[object]]:
    """The core quantities' inputs: person, age in days, source weight x confidence, valence.

    One signal a perception (its first), enough to time a group-by of weighted decay.
    """
    from relcrm.profile.columnar.inputs import PERCEPTION_COLUMNS, micros

    at = {name: index for index, (name, _) in enumerate(PERCEPTION_COLUMNS)}
    now = micros(NOW)
    person, age, weight, valence = [], [], [], []
    for row in rows:
        nps, csat, text = row[at["nps"]], row[at["csat_value"]], row[at["valence"]]
        if nps is not None:
            v, w = (-1.0, -0.9, -0.8, -0.7, -0.6, -0.5, -0.3, 0.0, 0.2, 0.8, 1.0)[nps], 1.0
        elif csat is not None:
            v, w = 2.0 * (float(csat) - 1.0) / 4.0 - 1.0, 0.7  # type: ignore[arg-type]
        elif text is not None:
            v, w = float(text), 0.8 * 0.6  # type: ignore[arg-type]
        else:
            v, w = 0.0, 0.6
        person.append(row[at["person_id"]])
        age.append((now - row[at["occurred_us"]]) / 1e6 / 86400.0)  # type: ignore[operator]
        weight.append(w)
        valence.append(v)
    return {"person_id": person, "age": age, "w": weight, "v": valence}


def time_baselines(columns: dict[str, list[object]]) -> dict[str, float]:
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


def time_columnar(url: str) -> tuple[float, float, int]:
    """Seconds to read the store into DuckDB, seconds to run the recipe, persons profiled."""
    from relcrm.profile.columnar import connect_with, run_recipe

    start = time.perf_counter()
    persons, perceptions = read_rows(url)
    connection = connect_with(persons, perceptions)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    result = run_recipe(connection, NOW)
    ran = time.perf_counter() - start
    connection.close()
    return loaded, ran, len(result.rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--per-person", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="profiling processes (0: auto)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="relcrm-bench-") as scratch:
        folder = Path(scratch)
        data = folder / "bench.jsonl"
        total = args.persons * args.per_person

        start = time.perf_counter()
        write_dataset(data, args.persons, args.per_person, args.seed)
        built = time.perf_counter() - start

        url = f"sqlite:///{folder / 'bench.db'}"
        with Store.open(url) as store:
            start = time.perf_counter()
            report = ingest_interchange(data, store)
            ingested = time.perf_counter() - start
            if not report.ok or report.perceptions_new != total:
                print(f"ingest went wrong: {report.rejections[:3]}", file=sys.stderr)
                return 1

        start = time.perf_counter()
        run = profile_all(url, NOW, workers=args.workers or None)
        profiled = time.perf_counter() - start

        start = time.perf_counter()
        profile_all(url, NOW, engine="duckdb")
        profiled_duckdb = time.perf_counter() - start
        loaded, recipe, profiled_columnar = time_columnar(url)
        baselines = time_baselines(core_columns(read_rows(url)[1]))

    whole = built + ingested + profiled
    print(f"persons                  {args.persons:>12,}")
    print(f"perceptions              {total:>12,}")
    print(f"build JSONL              {built:>10.2f} s")
    print(f"ingest                   {ingested:>10.2f} s  {total / ingested:>10,.0f} perceptions/s")
    print(f"profile                  {profiled:>10.2f} s  {total / profiled:>10,.0f} perceptions/s")
    print(f"whole run                {whole:>10.2f} s")
    print(f"peak memory              {peak_memory_mb():>10.0f} MB")
    print(
        "segments                 " + ", ".join(f"{s.value} {n}" for s, n in run.segments.items())
    )
    print(f"profile --engine duckdb   {profiled_duckdb:>10.2f} s  (read, recipe, models, save)")
    print(f"columnar: store -> DuckDB {loaded:>10.2f} s  (JSON parsed in Python)")
    print(f"columnar: recipe (DuckDB) {recipe:>10.2f} s  {profiled_columnar:,} persons")
    for name, seconds in baselines.items():
        print(f"core quantities, {name:<8} {seconds:>10.3f} s")
    print(f"ratio reference profile / --engine duckdb  {profiled / profiled_duckdb:>8.1f}x")
    print(f"ratio reference profile / columnar recipe  {profiled / recipe:>8.1f}x")
    for name, seconds in baselines.items():
        print(f"ratio reference profile / {name:<8}         {profiled / seconds:>8.1f}x")
        print(f"ratio columnar recipe / {name:<8}           {recipe / seconds:>8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
