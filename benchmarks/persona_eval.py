"""Does the profile agree with a customer-success manager? Personas with their verdicts.

Usage: ``python benchmarks/persona_eval.py [--set main|holdout|all] [--analyzer NAME] [--misses]``

Each persona (``data/personas/*.jsonl``, format in ``data/personas/SPEC.md``) is a person
with behaviour facts and what they said or scored, and the segment, band and outreach a
seasoned customer-success manager gave them. Verbatims are read by the analyzer (the
default unless ``--analyzer``), the profile is built as of a fixed day, and the figures
say how often the profile agrees: segment, band, and outreach (recall: every case a human
should contact now is flagged; precision: no one else is).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from relcrm.analyze import DEFAULT_ANALYZER, Analyzer, analyzer_named
from relcrm.models import Perception, PerceptionFlags, Person, RelationshipProfile
from relcrm.profile import build_profile

DATA = Path(__file__).resolve().parent.parent / "data" / "personas"
AS_OF = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
FACT_DAYS = {
    "customer_since_days_ago": "customer_since",
    "last_purchase_days_ago": "last_purchase_at",
}


@dataclass(frozen=True)
class Persona:
    id: str
    industry: str
    story: str
    person: Person
    perceptions: list[Perception]
    segment: str
    band: str
    needs_outreach: bool


def _ago(days: int) -> str:
    return (AS_OF - timedelta(days=days)).isoformat()


def _person(persona_id: str, raw: dict[str, Any]) -> Person:
    facts: dict[str, Any] = {}
    for key, value in raw.get("facts", {}).items():
        facts[FACT_DAYS.get(key, key)] = _ago(value) if key in FACT_DAYS else value
    return Person.model_validate(
        {"id": persona_id, "consent": {"granted": bool(raw.get("consent"))}, "facts": facts}
    )


def _perception(persona_id: str, index: int, raw: dict[str, Any], analyzer: Analyzer) -> Perception:
    fields = {k: v for k, v in raw.items() if k != "days_ago"}
    fields.update(
        person_id=persona_id,
        occurred_at=_ago(raw["days_ago"]),
        provenance={"source_system": "persona", "source_record_id": f"{persona_id}-{index}"},
    )
    perception = Perception.model_validate(fields)
    if perception.verbatim and perception.valence is None:
        analysis = analyzer.analyze(perception.verbatim)
        perception = perception.model_copy(
            update={
                "valence": analysis.valence,
                "arousal": analysis.arousal,
                "emotions": analysis.emotions,
                "flags": PerceptionFlags(**analysis.flags.model_dump()),
                "confidence": analysis.confidence,
            }
        )
    return perception


def load_personas(paths: list[Path], analyzer: Analyzer) -> list[Persona]:
    """Personas from JSONL files, their verbatims analysed by ``analyzer``."""
    personas: list[Persona] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            raw = json.loads(line)
            expected = raw["expected"]
            personas.append(
                Persona(
                    id=raw["id"],
                    industry=raw["industry"],
                    story=raw["story"],
                    person=_person(raw["id"], raw["person"]),
                    perceptions=[
                        _perception(raw["id"], i, p, analyzer)
                        for i, p in enumerate(raw["perceptions"])
                    ],
                    segment=expected["segment"],
                    band=expected["band"],
                    needs_outreach=bool(expected["needs_outreach"]),
                )
            )
    return personas


@dataclass
class PersonaReport:
    total: int = 0
    segment: int = 0
    band: int = 0
    outreach_tp: int = 0
    outreach_fp: int = 0
    outreach_fn: int = 0
    confusion: Counter[tuple[str, str]] | None = None

    @property
    def outreach_recall(self) -> float:
        positives = self.outreach_tp + self.outreach_fn
        return self.outreach_tp / positives if positives else 0.0

    @property
    def outreach_precision(self) -> float:
        flagged = self.outreach_tp + self.outreach_fp
        return self.outreach_tp / flagged if flagged else 0.0


def evaluate_personas(
    personas: list[Persona],
) -> tuple[PersonaReport, list[tuple[Persona, RelationshipProfile]]]:
    """Profile every persona and count agreements; also return each persona's profile."""
    report = PersonaReport(confusion=Counter())
    results: list[tuple[Persona, RelationshipProfile]] = []
    for persona in personas:
        profile = build_profile(persona.person, persona.perceptions, AS_OF)
        results.append((persona, profile))
        report.total += 1
        report.segment += profile.segment.value == persona.segment
        report.band += profile.band.value == persona.band
        if report.confusion is not None:
            report.confusion[(persona.segment, profile.segment.value)] += 1
        if persona.needs_outreach:
            report.outreach_tp += profile.needs_outreach
            report.outreach_fn += not profile.needs_outreach
        else:
            report.outreach_fp += profile.needs_outreach
    return report, results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--set", default="all", choices=["main", "holdout", "all"])
    parser.add_argument("--analyzer", default=DEFAULT_ANALYZER)
    parser.add_argument("--misses", action="store_true", help="show every disagreement")
    args = parser.parse_args()
    names = ["main", "holdout"] if args.set == "all" else [args.set]
    analyzer = analyzer_named(args.analyzer)
    for name in names:
        personas = load_personas([DATA / f"{name}.jsonl"], analyzer)
        report, results = evaluate_personas(personas)
        outreach = report.outreach_tp + report.outreach_fn
        print(f"== personas: {name} ({report.total}), analyzer {analyzer.name} {analyzer.version}")
        total = report.total
        print(f"segment agreement    {report.segment / total:.3f}  ({report.segment}/{total})")
        print(
            f"band agreement       {report.band / report.total:.3f}  ({report.band}/{report.total})"
        )
        print(
            f"outreach recall      {report.outreach_recall:.3f}  ({report.outreach_tp}/{outreach} "
            f"flagged), precision {report.outreach_precision:.3f} "
            f"({report.outreach_fp} flagged without need)"
        )
        if args.misses:
            for persona, profile in results:
                wrong = []
                if profile.segment.value != persona.segment:
                    wrong.append(f"segment {profile.segment.value} (want {persona.segment})")
                if profile.band.value != persona.band:
                    wrong.append(f"band {profile.band.value} (want {persona.band})")
                if profile.needs_outreach != persona.needs_outreach:
                    wrong.append(
                        f"outreach {profile.needs_outreach} (want {persona.needs_outreach})"
                    )
                if wrong:
                    print(f"  {persona.id}: " + "; ".join(wrong))
                    loyalty = profile.behavioural_loyalty
                    numbers = f"A={profile.attitude:+.2f} E={profile.evidence:.2f} B={loyalty}"
                    print(f"      {numbers} | " + " | ".join(profile.reasons))
        print()


if __name__ == "__main__":
    main()
