"""Measure a text analyzer on relcrm's hand-labelled customer-feedback sentences.

Usage: ``python benchmarks/analyzer_eval.py [--analyzer NAME] [--set eval|tune]``

Prints 3-class sentiment accuracy, macro-F1, Plutchik emotion agreement (top-1: the
analyzer's strongest emotion is the first gold one; top-2: its two strongest meet the
gold ones), speed, and accuracy per category, for the analyzer and for plain VADER, so
the gain of relcrm's CX layer is visible. ``eval`` is the held-out set: never tune on it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from relcrm.analyze import Analyzer, analyzer_named
from relcrm.analyze.evaluation import Labelled, Report, evaluate, load_labelled, sentiment_of

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "analyzer"
BASELINE = "vader"
SPEED_ROUNDS = 5


def sentences_per_second(analyzer: Analyzer, items: list[Labelled]) -> float:
    """Best of a few timed passes over the set (the first pass also warms caches)."""
    texts = [item.text for item in items]
    best = float("inf")
    for _ in range(SPEED_ROUNDS):
        start = time.perf_counter()
        for text in texts:
            analyzer.analyze(text)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def show(name: str, report: Report, speed: float) -> None:
    print(f"== {name}")
    print(f"sentiment accuracy   {report.accuracy:.3f}  ({report.correct}/{report.total})")
    print(f"sentiment macro-F1   {report.macro_f1:.3f}")
    print(
        f"emotion top-1        {report.top1_agreement:.3f}  "
        f"({report.top1}/{report.emotion_items} sentences with gold emotions)"
    )
    print(
        f"emotion top-2        {report.top2_agreement:.3f}  ({report.top2}/{report.emotion_items})"
    )
    print(f"speed                {speed:,.0f} sentences/s")
    print("accuracy per category:")
    for category, (hits, count) in sorted(report.by_category.items()):
        print(f"  {category:<16} {hits / count:.3f}  ({hits}/{count})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--analyzer", default="relcrm-cx", help="analyzer name (entry point)")
    parser.add_argument("--set", default="eval", choices=["eval", "tune"], dest="which")
    parser.add_argument("--misses", action="store_true", help="list the misclassified sentences")
    args = parser.parse_args()

    items = load_labelled(DATA / f"{args.which}.jsonl")
    print(f"{args.which} set: {len(items)} sentences ({DATA / f'{args.which}.jsonl'})")
    for name in dict.fromkeys([args.analyzer, BASELINE]):
        analyzer = analyzer_named(name)
        report = evaluate(analyzer, items)
        show(f"{name} {analyzer.version}", report, sentences_per_second(analyzer, items))
        if args.misses:
            for item, analysis in report.misses:
                print(
                    f"  MISS gold={item.sentiment:<8} got={sentiment_of(analysis.valence):<8} "
                    f"v={analysis.valence:+.2f} [{item.category}] {item.text}"
                )
        print()


if __name__ == "__main__":
    main()
