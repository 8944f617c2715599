"""Measure text analyzers on relcrm's labelled customer feedback and on GoEmotions.

Usage::

    python benchmarks/analyzer_eval.py                    # test split + GoEmotions test
    python benchmarks/analyzer_eval.py --set dev --misses # while working: never tune on test
    python benchmarks/analyzer_eval.py --analyzers relcrm-linear,relcrm-cx,vader

Sets:

- ``test``: the corpus writers listed under ``test`` in ``data/analyzer/splits.toml``, who
  never saw the rules or the model and whose texts nothing was trained or tuned on;
- ``dev``: the writers used to choose thresholds (figures there are optimistic);
- ``legacy``: the 170-sentence held-out set relcrm-cx 1.0 was measured on;
- ``goemotions``: GoEmotions' test split (5,427 Reddit comments), mapped to three classes
  (ambiguous comments left out) and to Plutchik's eight.

For each analyzer: 3-class sentiment accuracy and macro-F1 (and F1 per class), emotion
top-1 / top-2 agreement and how many texts with a gold emotion got none, churn-intent,
trapped and sarcasm F1 with precision and recall, the mean confidence on right and on wrong
answers, accuracy per failure class and per language, and speed on one core.
"""

from __future__ import annotations

import argparse
import time
import tomllib
from pathlib import Path

from relcrm.analyze import DEFAULT_ANALYZER, Analyzer, analyzer_named
from relcrm.analyze.evaluation import (
    FLAG_NAMES,
    SENTIMENTS,
    Labelled,
    Report,
    evaluate,
    load_labelled,
    sentiment_of,
)
from relcrm.analyze.goemotions import read as read_goemotions

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "analyzer" / "corpus"
SPLITS = ROOT / "data" / "analyzer" / "splits.toml"
LEGACY = ROOT / "tests" / "data" / "analyzer" / "eval.jsonl"
GOEMOTIONS = ROOT / "data" / "goemotions"
BASELINES = ("relcrm-cx", "vader")
SPEED_TEXTS = 2000


def corpus_split(name: str) -> list[Labelled]:
    with SPLITS.open("rb") as handle:
        writers = tomllib.load(handle)[name]["writers"]
    return load_labelled(*(CORPUS / f"{writer}.jsonl" for writer in writers))


def goemotions_test() -> list[Labelled]:
    return [
        Labelled(
            text=item.text,
            sentiment=item.sentiment,  # type: ignore[arg-type]
            emotions=item.emotions,
            category="goemotions",
            language="en",
            ranked=False,
        )
        for item in read_goemotions(GOEMOTIONS, "test")
        if item.sentiment is not None
    ]


def texts_per_second(analyzer: Analyzer, items: list[Labelled]) -> float:
    """Best of three passes over up to SPEED_TEXTS texts, in this one process (one core)."""
    texts = [item.text for item in items][:SPEED_TEXTS]
    for text in texts[:50]:
        analyzer.analyze(text)  # warm caches and lazy loads
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for text in texts:
            analyzer.analyze(text)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def show(name: str, report: Report, speed: float, *, detail: bool) -> None:
    print(f"-- {name}")
    print(
        f"   sentiment  accuracy {report.accuracy:.3f}  macro-F1 {report.macro_f1:.3f}  ("
        + ", ".join(f"{label} {report.class_f1(label):.3f}" for label in SENTIMENTS)
        + f")  n={report.total}"
    )
    if report.emotion_items:
        print(
            f"   emotions   top-1 {report.top1_agreement:.3f}  top-2 {report.top2_agreement:.3f}"
            f"  none given for {report.no_emotion} of {report.emotion_items}"
        )
    for flag in FLAG_NAMES:
        counts = report.flags.get(flag)
        if counts is not None:
            print(
                f"   {flag:<13} F1 {counts.f1:.3f}  precision {counts.precision:.3f}  "
                f"recall {counts.recall:.3f}  ({counts.tp + counts.fn} gold)"
            )
    print(
        f"   confidence right {report.mean(report.confidence_right):.2f}  "
        f"wrong {report.mean(report.confidence_wrong):.2f}    speed {speed:,.0f} texts/s"
    )
    if detail:
        for title, table in (
            ("failure class", report.by_category),
            ("language", report.by_language),
        ):
            if len(table) > 1:
                cells = [
                    f"{key} {hits / count:.2f} ({hits}/{count})"
                    for key, (hits, count) in sorted(table.items())
                ]
                print(f"   by {title}: " + "; ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--set",
        default="test,goemotions",
        help="comma-separated: test, dev, legacy, goemotions (default test,goemotions)",
    )
    parser.add_argument(
        "--analyzers",
        default=",".join([DEFAULT_ANALYZER, *BASELINES]),
        help="comma-separated analyzer names (default: the default one and the baselines)",
    )
    parser.add_argument("--misses", action="store_true", help="list the first analyzer's misses")
    args = parser.parse_args()
    loaders = {
        "test": lambda: corpus_split("test"),
        "dev": lambda: corpus_split("dev"),
        "legacy": lambda: load_labelled(LEGACY),
        "goemotions": goemotions_test,
    }
    names = list(dict.fromkeys(args.analyzers.split(",")))
    for which in args.set.split(","):
        items = loaders[which]()
        print(f"== {which}: {len(items):,} texts")
        for position, name in enumerate(names):
            analyzer = analyzer_named(name)
            report = evaluate(analyzer, items)
            speed = texts_per_second(analyzer, items)
            show(f"{name} {analyzer.version}", report, speed, detail=which != "goemotions")
            if args.misses and position == 0:
                for item, analysis in report.misses:
                    print(
                        f"   MISS gold={item.sentiment:<8} got={sentiment_of(analysis.valence):<8}"
                        f" v={analysis.valence:+.2f} [{item.category}/{item.language}] "
                        + item.text.replace("\n", " ")[:160]
                    )
        print()


if __name__ == "__main__":
    main()
