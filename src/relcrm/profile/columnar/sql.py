"""The profile recipe (v2) as one SQL query over the ``perceptions`` and ``persons`` tables.

Plain SQL: CTEs, CASE, SUM/MAX/COUNT, ROW_NUMBER, POWER, LEAST/GREATEST, so that SQLGlot
can later transpile it to Spark. The only input is the two tables of
``relcrm.profile.columnar.inputs`` (times as microseconds) and the as-of time, bound as a
parameter. Every constant of :class:`ProfileConfig` is written into the query as a typed
literal, and each expression follows the reference engine's arithmetic in the same
order (``relcrm.profile.engine``), so that the results agree to the last bits but for the
order of additions in sums.
"""

from __future__ import annotations

from relcrm.models import PRIMARY_DYADS, WHEEL
from relcrm.profile.columnar.inputs import EMOTION_KEYS
from relcrm.profile.config import ProfileConfig

US_PER_DAY = 86_400_000_000

# Sums of floats use FSUM, DuckDB's compensated (Kahan-Babuska) sum: the reference engine
# sums with math.fsum, and a plain SUM's rounding, which depends on the order of rows,
# moves a health of 12.5 to 12.4999... and changes the printed "13/100". FSUM is
# DuckDB-only: Spark has no such aggregate, so a Spark port needs a UDAF (or accepts
# that rounding) there.


def _f(value: float) -> str:
    """A double literal that reads back as exactly ``value``."""
    return f"CAST({float(value)!r} AS DOUBLE)"


def _s(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _age() -> str:
    # (now - occurred).total_seconds() / 86400: exact microseconds, two roundings.
    return "CAST(? - occurred_us AS DOUBLE) / CAST(1000000 AS DOUBLE) / CAST(86400 AS DOUBLE)"


def _observations(config: ProfileConfig, *, keep_obs: bool = False) -> str:
    """One row a signal: nps, csat, ces, and the text's (``observations_of``).

    ``keep_obs`` (DuckDB's combined query only) has DuckDB materialise ``obs``, which half a
    dozen parts of the query read: left to choose, DuckDB 2.0 materialises ``signals``
    and spends 1.6 s of CPU on a range of 250,000 perceptions instead of 1.1-1.2 s."""
    half = _f(config.half_life_days)
    kept = "MATERIALIZED " if keep_obs else ""
    floor = config.min_decay * 0.5 ** (config.trend_window_days / config.half_life_days)
    nps = " ".join(f"WHEN {i} THEN {_f(v)}" for i, v in enumerate(config.nps_valence))
    by_channel = " ".join(
        f"WHEN {_s(channel.value)} THEN {_s(kind)}"
        for channel, kind in config.text_source_by_channel.items()
    )
    weights = " ".join(f"WHEN {_s(k)} THEN {_f(w)}" for k, w in config.source_weights.items())
    e = [f"e_{key}" for key in EMOTION_KEYS]
    arousal = config.arousal_vector
    total = " + ".join(e)
    mean = "(" + " + ".join(f"{c} * {_f(a)}" for c, a in zip(e, arousal, strict=True)) + ")"
    neutral = _f(config.neutral_arousal)
    text_arousal = (
        f"CASE WHEN {total} <= 0 THEN {neutral} ELSE {neutral} + ({mean} / ({total}) - "
        f"{neutral}) * LEAST(CAST(1 AS DOUBLE), GREATEST({', '.join(e)})) END"
    )
    survey = _f(config.survey_confidence)
    common = (
        "id, person_id, occurred_us, occurred_at, occurred_day, age_days, decay, public, "
        "churn_intent, trapped, topic"
    )
    emotions_null = ", ".join(f"CAST(NULL AS DOUBLE) AS {c}" for c in e)
    sarcasm = _f(config.sarcasm_valence)
    return f"""
aged AS (
  SELECT p.*, {_age()} AS age_days FROM perceptions p
  JOIN persons ON persons.id = p.person_id
  WHERE p.occurred_us <= ?
),
dated AS (
  SELECT aged.*, POWER(CAST(0.5 AS DOUBLE), age_days / {half}) AS decay FROM aged
),
kept AS (SELECT * FROM dated WHERE decay >= {_f(floor)}),
signals AS (
  SELECT {common}, 'nps' AS kind, CASE nps {nps} END AS valence, {survey} AS confidence,
    CAST(nps AS DOUBLE) AS score, CAST(NULL AS DOUBLE) AS arousal, FALSE AS is_text,
    FALSE AS top_box, {emotions_null}
  FROM kept WHERE nps IS NOT NULL
  UNION ALL
  SELECT {common}, 'csat', 2.0 * (csat_value - csat_min) / (csat_max - csat_min) - 1.0,
    {survey}, csat_value, CAST(NULL AS DOUBLE), FALSE, csat_value >= csat_max - 1,
    {emotions_null}
  FROM kept WHERE csat_value IS NOT NULL
  UNION ALL
  SELECT {common}, 'ces',
    CASE WHEN ces_ease
      THEN 2.0 * ((ces_value - ces_min) / (ces_max - ces_min)) - 1.0
      ELSE 1.0 - 2.0 * ((ces_value - ces_min) / (ces_max - ces_min)) END,
    {survey}, ces_value, CAST(NULL AS DOUBLE), FALSE, FALSE, {emotions_null}
  FROM kept WHERE ces_value IS NOT NULL
  UNION ALL
  SELECT {common}, COALESCE(CASE channel {by_channel} END, 'verbatim'),
    CASE WHEN sarcasm AND valence > {sarcasm} THEN {sarcasm} ELSE valence END,
    COALESCE(confidence, {_f(config.default_text_confidence)}), CAST(NULL AS DOUBLE),
    COALESCE(arousal, {text_arousal}), TRUE, FALSE, {", ".join(e)}
  FROM kept WHERE valence IS NOT NULL
),
history AS (
  SELECT signals.*,
    CASE WHEN valence < 0
      THEN COALESCE(CASE kind {weights} END, CAST(0 AS DOUBLE)) * confidence * decay
        * {_f(config.negativity_weight)}
      ELSE COALESCE(CASE kind {weights} END, CAST(0 AS DOUBLE)) * confidence * decay
    END AS weight
  FROM signals
),
obs AS {kept}(SELECT * FROM history WHERE decay >= {_f(config.min_decay)})"""


def _aggregates(config: ProfileConfig) -> str:
    """Per-person sums and flags over the observations that count now."""
    c = config
    sums = ",\n  ".join(
        f"FSUM(CASE WHEN is_text THEN weight * e_{key} END) AS w_{key}" for key in EMOTION_KEYS
    )
    escalation = (
        f"age_days <= {_f(c.escalation_days)} AND valence <= {_f(c.escalation_valence)} "
        f"AND arousal IS NOT NULL AND (arousal >= {_f(c.escalation_arousal)} "
        f"OR valence <= {_f(c.escalation_severe_valence)})"
    )
    complaint = f"public AND valence <= {_f(c.public_complaint_valence)}"
    leaving = "churn_intent AND NOT trapped"
    window = _f(c.trend_window_days)
    then = _f(2.0 ** (c.trend_window_days / c.half_life_days))
    return f"""
agg AS (
  SELECT person_id,
  FSUM(weight) AS e_sum, FSUM(weight * valence) AS w_sum,
  SUM(CASE WHEN public THEN 1 ELSE 0 END) AS n_public,
  FSUM(CASE WHEN public THEN weight END) AS e_public,
  FSUM(CASE WHEN public THEN weight * valence END) AS w_public,
  FSUM(CASE WHEN is_text THEN weight END) AS e_text,
  {sums},
  MAX(CASE WHEN churn_intent THEN decay END) AS churn_w,
  MAX(CASE WHEN public AND valence <= {_f(c.negative_public_valence)} THEN decay END)
    AS negpub_w,
  SUM(CASE WHEN {escalation} THEN 1 ELSE 0 END) AS n_escalations,
  SUM(CASE WHEN trapped AND age_days <= {_f(c.intent_days)} THEN 1 ELSE 0 END) AS n_trapped,
  SUM(CASE WHEN {leaving} AND age_days <= {_f(c.intent_days)} THEN 1 ELSE 0 END) AS n_leaving,
  SUM(CASE WHEN {leaving} AND age_days <= {_f(c.outreach_days)} THEN 1 ELSE 0 END)
    AS n_leaving_recent,
  SUM(CASE WHEN {complaint} AND age_days <= {_f(c.intent_days)} THEN 1 ELSE 0 END)
    AS n_complaints,
  SUM(CASE WHEN {complaint} AND age_days <= {_f(c.outreach_days)} THEN 1 ELSE 0 END)
    AS n_complaints_recent,
  SUM(CASE WHEN kind = 'csat' THEN 1 ELSE 0 END) AS csat_count,
  FSUM(CASE WHEN kind = 'csat' THEN valence END) AS csat_sum,
  SUM(CASE WHEN top_box THEN 1 ELSE 0 END) AS csat_top,
  SUM(CASE WHEN kind = 'ces' THEN 1 ELSE 0 END) AS ces_count,
  FSUM(CASE WHEN kind = 'ces' THEN valence END) AS ces_sum,
  SUM(CASE WHEN kind = 'ces' AND valence > 0 THEN 1 ELSE 0 END) AS ces_easy,
  COUNT(DISTINCT id) AS perceptions_considered
  FROM obs GROUP BY person_id
),
trend_agg AS (
  SELECT person_id,
  FSUM(CASE WHEN age_days >= {window} THEN weight * {then} END) AS e_before,
  FSUM(CASE WHEN age_days >= {window} THEN weight * {then} * valence END) AS w_before,
  FSUM(CASE WHEN age_days < {window} AND decay >= {_f(c.min_decay)} THEN weight END)
    AS e_recent,
  FSUM(CASE WHEN age_days < {window} AND decay >= {_f(c.min_decay)} THEN weight * valence END)
    AS w_recent
  FROM history GROUP BY person_id
),
last_nps AS (
  SELECT person_id, score AS last_nps, occurred_us AS last_nps_us, age_days AS last_nps_age
  FROM (SELECT obs.*, ROW_NUMBER() OVER (
          PARTITION BY person_id ORDER BY occurred_us DESC, id DESC) AS rn
        FROM obs WHERE kind = 'nps') ranked
  WHERE rn = 1
)"""


def _loyalty(config: ProfileConfig) -> str:
    """Behavioural loyalty B from the person's facts (``behavioural_loyalty``)."""
    c = config
    days = "CAST(? - {col} AS DOUBLE) / CAST(1000000 AS DOUBLE) / CAST(86400 AS DOUBLE)"
    tenure = f"GREATEST(CAST(0 AS DOUBLE), {days.format(col='customer_since_us')})"
    since = f"GREATEST(CAST(0 AS DOUBLE), {days.format(col='last_purchase_us')})"
    expected = f"COALESCE(expected_purchases_per_year, {_f(c.expected_purchases_per_year)})"
    half = _f(c.purchase_recency_half_life_days * c.expected_purchases_per_year)
    one = "CAST(1 AS DOUBLE)"
    parts = [
        (
            "last_purchase_us",
            f"POWER(CAST(0.5 AS DOUBLE), {since} * {expected} / {half})",
            one,
        ),
        (
            "purchases_last_365d",
            f"LEAST({one}, CAST(purchases_last_365d AS DOUBLE) / {expected})",
            one,
        ),
        ("renewed_last_term", f"CASE WHEN renewed_last_term THEN {one} ELSE {_f(0)} END", one),
        (
            "renewals",
            f"LEAST({one}, CAST(renewals AS DOUBLE) / {_f(c.renewals_full)})",
            _f(c.renewals_weight),
        ),
    ]
    any_known = " OR ".join(f"{col} IS NOT NULL" for col, _, _ in parts)
    tenure_part = f"CASE WHEN customer_since_us IS NOT NULL THEN {{x}} ELSE {_f(0)} END"
    weighted = " + ".join(
        f"CASE WHEN {col} IS NOT NULL THEN {value} * {weight} ELSE {_f(0)} END"
        for col, value, weight in parts
    )
    weights = " + ".join(
        f"CASE WHEN {col} IS NOT NULL THEN {weight} ELSE {_f(0)} END" for col, _, weight in parts
    )
    tw = _f(c.tenure_weight)
    tenure_value = f"LEAST({one}, {tenure} / {_f(c.full_tenure_days)}) * {tw}"
    return f"""
facts AS (
  SELECT id AS person_id,
    CASE WHEN customer_since_us IS NOT NULL THEN {tenure} END AS tenure_days,
    CASE
      WHEN behavioural_loyalty IS NOT NULL THEN behavioural_loyalty
      WHEN {any_known} THEN
        ({weighted} + {tenure_part.format(x=tenure_value)})
        / ({weights} + {tenure_part.format(x=tw)})
    END AS loyalty
  FROM persons
)"""


def _emotions(config: ProfileConfig) -> str:
    """Mean intensities, the dominant emotion (first on ties) and the dyad."""
    values = [f"v_{key}" for key in EMOTION_KEYS]
    clamp = ",\n    ".join(
        f"CASE WHEN e_text > 0 THEN LEAST(CAST(1 AS DOUBLE), GREATEST(CAST(0 AS DOUBLE), "
        f"w_{key} / e_text)) ELSE CAST(0 AS DOUBLE) END AS v_{key}"
        for key in EMOTION_KEYS
    )
    top = f"GREATEST({', '.join(values)})"
    first = "CASE " + " ".join(f"WHEN {v} = top THEN {i}" for i, v in enumerate(values)) + " END"
    masked = [
        f"CASE WHEN first_i = {i} THEN CAST(-1 AS DOUBLE) ELSE {v} END"
        for i, v in enumerate(values)
    ]
    second_v = f"GREATEST({', '.join(masked)})"
    second = (
        "CASE "
        + " ".join(f"WHEN first_i <> {i} AND {v} = second_v THEN {i}" for i, v in enumerate(values))
        + " END"
    )
    names = " ".join(f"WHEN {i} THEN {_s(e.value)}" for i, e in enumerate(WHEEL))
    dyads = " ".join(
        f"WHEN (first_i = {WHEEL.index(a)} AND second_i = {WHEEL.index(b)}) "
        f"OR (first_i = {WHEEL.index(b)} AND second_i = {WHEEL.index(a)}) THEN {_s(name)}"
        for pair, name in PRIMARY_DYADS.items()
        for a, b in [sorted(pair, key=WHEEL.index)]
    )
    return f"""
emo1 AS (SELECT person_id, {clamp} FROM agg),
emo2 AS (SELECT emo1.*, {top} AS top FROM emo1),
emo3 AS (SELECT emo2.*, {first} AS first_i FROM emo2),
emo4 AS (SELECT emo3.*, {second_v} AS second_v FROM emo3),
emo AS (
  SELECT emo4.*, {second} AS second_i,
    CASE WHEN top >= {_f(config.dominant_min)} THEN CASE first_i {names} END END AS dominant
  FROM emo4
),
emotion AS (
  SELECT emo.*,
    CASE WHEN dominant IS NOT NULL AND second_v > 0
      AND second_v >= {_f(config.dyad_ratio)} * top THEN CASE {dyads} END END AS dyad
  FROM emo
)"""
