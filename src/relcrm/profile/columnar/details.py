"""What the reason and outreach sentences quote: latest days, counts, group emotions, peeves.

A second query over the same observation CTEs as the recipe (``sql._observations``), one
row a person, plus one over pet peeves (at most ``pet_peeve_count`` rows a person). The
"latest" of anything is the reference's ``max`` by (time, perception id): a ROW_NUMBER
window. Days are the perception's own calendar day in its source's offset.
"""

from __future__ import annotations

from relcrm.profile.columnar import sql
from relcrm.profile.columnar.inputs import EMOTION_KEYS
from relcrm.profile.config import ProfileConfig

_f = sql._f

SIGNS = {"neg": "valence < 0", "pos": "valence > 0"}


def _latest(name: str, source: str, condition: str, columns: str) -> str:
    return f"""
{name} AS (
  SELECT person_id, {columns} FROM (
    SELECT {source}.*, ROW_NUMBER() OVER (
      PARTITION BY person_id ORDER BY occurred_us DESC, id DESC) AS rn
    FROM {source} WHERE {condition}) ranked
  WHERE rn = 1
)"""


def details_sql(config: ProfileConfig) -> str:
    """Per person: the facts the sentences quote (``?`` parameters: the as-of)."""
    c = config
    recent = f"age_days <= {_f(c.reason_window_days)}"
    escalation = (
        f"age_days <= {_f(c.escalation_days)} AND valence <= {_f(c.escalation_valence)} "
        f"AND arousal IS NOT NULL AND (arousal >= {_f(c.escalation_arousal)} "
        f"OR valence <= {_f(c.escalation_severe_valence)})"
    )
    latest = [
        _latest("l_nps", "obs", "kind = 'nps'", "occurred_day AS nps_day, occurred_at AS nps_at"),
        _latest("l_seen", "aged", "TRUE", "occurred_day AS seen_day, channel AS seen_channel"),
        _latest("l_escalation", "obs", escalation, "occurred_day AS esc_day, kind AS esc_kind"),
        _latest("l_churn", "obs", "churn_intent", "occurred_day AS churn_day"),
        _latest("l_leaving", "obs", "churn_intent AND NOT trapped", "occurred_day AS leaving_day"),
        _latest(
            "l_leaving_recent",
            "obs",
            f"churn_intent AND NOT trapped AND age_days <= {_f(c.outreach_days)}",
            "occurred_day AS leaving_recent_day",
        ),
        _latest(
            "l_complaint_recent",
            "obs",
            f"public AND valence <= {_f(c.public_complaint_valence)} "
            f"AND age_days <= {_f(c.outreach_days)}",
            "occurred_day AS complaint_recent_day",
        ),
    ]
    for sign, test in SIGNS.items():
        latest.append(
            _latest(
                f"l_csat_{sign}",
                "obs",
                f"kind = 'csat' AND {recent} AND {test}",
                f"score AS csat_{sign}_score, occurred_day AS csat_{sign}_day",
            )
        )
    counts = []
    for sign, test in SIGNS.items():
        fits = f"{recent} AND {test}"
        counts.append(
            f"SUM(CASE WHEN {fits} AND kind = 'ticket' THEN 1 ELSE 0 END) AS {sign}_support"
        )
        counts.extend(
            f"SUM(CASE WHEN {fits} AND kind = 'ticket' THEN weight * e_{key} ELSE 0 END)"
            f" AS {sign}_support_{key}"
            for key in EMOTION_KEYS
        )
        counts.append(
            f"SUM(CASE WHEN {fits} AND public AND kind IN ('social', 'review', 'verbatim') "
            f"THEN 1 ELSE 0 END) AS {sign}_public"
        )
        counts.append(
            f"SUM(CASE WHEN {fits} AND kind = 'verbatim' AND NOT public THEN 1 ELSE 0 END)"
            f" AS {sign}_comments"
        )
    joins = "\n".join(
        f"  LEFT JOIN {name} ON {name}.person_id = persons.id"
        for name in (
            "l_nps",
            "l_seen",
            "l_escalation",
            "l_churn",
            "l_leaving",
            "l_leaving_recent",
            "l_complaint_recent",
            "l_csat_neg",
            "l_csat_pos",
            "counted",
        )
    )
    count_list = ",\n  ".join(counts)
    counted = ", ".join(f"counted.{part.rsplit(' AS ', 1)[1]}" for part in counts)
    return f"""WITH{sql._observations(config)},
{",".join(latest)},
counted AS (
  SELECT person_id,
  {count_list}
  FROM obs GROUP BY person_id
)
SELECT persons.id AS person_id, persons.renewals, persons.purchases_last_365d,
  l_nps.nps_day, l_nps.nps_at, l_seen.seen_day, l_seen.seen_channel,
  l_escalation.esc_day, l_escalation.esc_kind, l_churn.churn_day, l_leaving.leaving_day,
  l_leaving_recent.leaving_recent_day, l_complaint_recent.complaint_recent_day,
  l_csat_neg.csat_neg_score, l_csat_neg.csat_neg_day,
  l_csat_pos.csat_pos_score, l_csat_pos.csat_pos_day,
  {counted}
FROM persons
{joins}
ORDER BY persons.id"""


def peeves_sql(config: ProfileConfig) -> str:
    """Topics carrying the most negative weight, at most ``pet_peeve_count`` a person."""
    return f"""WITH{sql._observations(config)},
topics AS (
  SELECT person_id, topic, FSUM(weight * valence) AS negative_weight,
    COUNT(DISTINCT id) AS mentions
  FROM obs WHERE topic IS NOT NULL AND valence < 0
  GROUP BY person_id, topic
),
ranked AS (
  SELECT topics.*, ROW_NUMBER() OVER (
    PARTITION BY person_id ORDER BY negative_weight, topic) AS rn
  FROM topics WHERE negative_weight <= -{_f(config.pet_peeve_min_weight)}
)
SELECT person_id, topic, negative_weight, mentions FROM ranked
WHERE rn <= {int(config.pet_peeve_count)}
ORDER BY person_id, rn"""
