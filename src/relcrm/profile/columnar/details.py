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
    return (
        f"WITH{sql._observations(config)},\n{details_ctes(config)}\n"
        f"{details_projection(config)}\nORDER BY persons.id"
    )


Latest = tuple[str, str, str, tuple[tuple[str, str], ...]]
"""A "latest" fact: its CTE's name, the CTE it reads, the condition, and the values
taken from the latest row that meets it (expression, name)."""


def _latests(config: ProfileConfig) -> list[Latest]:
    """Every "latest" fact the sentences quote."""
    c = config
    recent = f"age_days <= {_f(c.reason_window_days)}"
    escalation = (
        f"age_days <= {_f(c.escalation_days)} AND valence <= {_f(c.escalation_valence)} "
        f"AND arousal IS NOT NULL AND (arousal >= {_f(c.escalation_arousal)} "
        f"OR valence <= {_f(c.escalation_severe_valence)})"
    )
    day = "occurred_day"
    latest: list[Latest] = [
        ("l_nps", "obs", "kind = 'nps'", ((day, "nps_day"), ("occurred_at", "nps_at"))),
        ("l_seen", "aged", "TRUE", ((day, "seen_day"), ("channel", "seen_channel"))),
        ("l_escalation", "obs", escalation, ((day, "esc_day"), ("kind", "esc_kind"))),
        ("l_churn", "obs", "churn_intent", ((day, "churn_day"),)),
        ("l_leaving", "obs", "churn_intent AND NOT trapped", ((day, "leaving_day"),)),
        (
            "l_leaving_recent",
            "obs",
            f"churn_intent AND NOT trapped AND age_days <= {_f(c.outreach_days)}",
            ((day, "leaving_recent_day"),),
        ),
        (
            "l_complaint_recent",
            "obs",
            f"public AND valence <= {_f(c.public_complaint_valence)} "
            f"AND age_days <= {_f(c.outreach_days)}",
            ((day, "complaint_recent_day"),),
        ),
    ]
    for sign, test in SIGNS.items():
        latest.append(
            (
                f"l_csat_{sign}",
                "obs",
                f"kind = 'csat' AND {recent} AND {test}",
                (("score", f"csat_{sign}_score"), (day, f"csat_{sign}_day")),
            )
        )
    return latest


def details_ctes(config: ProfileConfig) -> str:
    """The CTEs over the observations that :func:`details_projection` reads."""
    latest = [
        _latest(name, source, condition, ", ".join(f"{e} AS {alias}" for e, alias in values))
        for name, source, condition, values in _latests(config)
    ]
    count_list = ",\n  ".join(_counts(config))
    return f"""{",".join(latest)},
counted AS (
  SELECT person_id,
  {count_list}
  FROM obs GROUP BY person_id
)"""


_BY_TIME = "{'t': occurred_us, 'i': id}"
"""DuckDB: the order of "latest", (time, perception id), as one comparable value."""


def details_duckdb(config: ProfileConfig) -> tuple[str, str]:
    """DuckDB only: :func:`details_ctes` and :func:`details_projection` as two group-bys
    instead of a window a fact: each "latest" an ``ARG_MAX`` by (time, id) with a
    ``FILTER``, beside the counts. The same rows as the windows: rows tied on (time, id)
    are signals of one perception, and every value taken from them is that perception's
    (its day) or met by one signal of it only (the kind, score and time quoted).
    Returns the CTEs (``details_obs``, ``details_aged``) and the projection."""
    parts: dict[str, list[str]] = {"obs": [], "aged": []}
    for _, source, condition, values in _latests(config):
        where = "" if condition == "TRUE" else f" FILTER (WHERE {condition})"
        parts[source].extend(f"ARG_MAX({e}, {_BY_TIME}){where} AS {alias}" for e, alias in values)
    parts["obs"].extend(_counts(config))
    ctes = ",\n".join(
        f"details_{source} AS (\n  SELECT person_id,\n  "
        + ",\n  ".join(columns)
        + f"\n  FROM {source} GROUP BY person_id\n)"
        for source, columns in parts.items()
    )
    names = [alias for _, _, _, values in _latests(config) for _, alias in values] + [
        part.rsplit(" AS ", 1)[1] for part in _counts(config)
    ]
    projection = f"""SELECT persons.id AS person_id, persons.renewals, persons.purchases_last_365d,
  {", ".join(names)}
FROM persons
  LEFT JOIN details_obs ON details_obs.person_id = persons.id
  LEFT JOIN details_aged ON details_aged.person_id = persons.id"""
    return ctes, projection


def _counts(config: ProfileConfig) -> list[str]:
    """The ``counted`` CTE's aggregates (each ``... AS name``)."""
    recent = f"age_days <= {_f(config.reason_window_days)}"
    counts = []
    for sign, test in SIGNS.items():
        fits = f"{recent} AND {test}"
        counts.append(
            f"SUM(CASE WHEN {fits} AND kind = 'ticket' THEN 1 ELSE 0 END) AS {sign}_support"
        )
        counts.extend(
            f"FSUM(CASE WHEN {fits} AND kind = 'ticket' THEN weight * e_{key} ELSE 0 END)"
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
    return counts


def details_projection(config: ProfileConfig) -> str:
    """One row a person of what the sentences quote (no ORDER BY)."""
    counted = ", ".join(f"counted.{part.rsplit(' AS ', 1)[1]}" for part in _counts(config))
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
    return f"""SELECT persons.id AS person_id, persons.renewals, persons.purchases_last_365d,
  l_nps.nps_day, l_nps.nps_at, l_seen.seen_day, l_seen.seen_channel,
  l_escalation.esc_day, l_escalation.esc_kind, l_churn.churn_day, l_leaving.leaving_day,
  l_leaving_recent.leaving_recent_day, l_complaint_recent.complaint_recent_day,
  l_csat_neg.csat_neg_score, l_csat_neg.csat_neg_day,
  l_csat_pos.csat_pos_score, l_csat_pos.csat_pos_day,
  {counted}
FROM persons
{joins}"""


def peeves_sql(config: ProfileConfig) -> str:
    """Topics carrying the most negative weight, at most ``pet_peeve_count`` a person."""
    return f"""WITH{sql._observations(config)},
{peeve_ctes(config)}
SELECT person_id, topic, negative_weight, mentions FROM ranked
WHERE rn <= {int(config.pet_peeve_count)}
ORDER BY person_id, rn"""


def peeve_ctes(config: ProfileConfig) -> str:
    """``topics`` (negative weight and mentions by person and topic) and ``ranked`` (the
    topics heavy enough to count, ``rn`` 1 the heaviest)."""
    return f"""topics AS (
  SELECT person_id, topic, FSUM(weight * valence) AS negative_weight,
    COUNT(DISTINCT id) AS mentions
  FROM obs WHERE topic IS NOT NULL AND valence < 0
  GROUP BY person_id, topic
),
ranked AS (
  SELECT topics.*, ROW_NUMBER() OVER (
    PARTITION BY person_id ORDER BY negative_weight, topic) AS rn
  FROM topics WHERE negative_weight <= -{_f(config.pet_peeve_min_weight)}
)"""
