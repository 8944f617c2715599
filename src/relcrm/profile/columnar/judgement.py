"""The final SELECT: health, band, the grid, the v2 judgement, trend and outreach in SQL.

Mirrors ``relcrm.profile.engine.build_profile`` and ``relcrm.profile.judgement`` rule by
rule, as CASE expressions over the per-person aggregates of ``sql.py``.
"""

from __future__ import annotations

from relcrm.profile.columnar.inputs import EMOTION_KEYS
from relcrm.profile.config import ProfileConfig


def _f(value: float) -> str:
    return f"CAST({float(value)!r} AS DOUBLE)"


def final_select(config: ProfileConfig) -> str:
    """The recipe's last CTEs and its one row a person, ordered by person id."""
    return judgement_ctes(config) + "\n" + final_projection(config) + "\nORDER BY person_id"


def judgement_ctes(config: ProfileConfig) -> str:
    """The CTEs from the per-person aggregates to the segment (``base`` .. ``segmented``)."""
    c = config
    ah, bh = _f(c.attitude_high), _f(c.behaviour_high)
    unhappy = _f(c.attitude_unhappy)
    emotions = ", ".join(
        f"COALESCE(emotion.v_{key}, CAST(0 AS DOUBLE)) AS {key}" for key in EMOTION_KEYS
    )
    return f"""
base AS (
  SELECT persons.id AS person_id,
    COALESCE(agg.e_sum, CAST(0 AS DOUBLE)) AS evidence,
    COALESCE(agg.w_sum, CAST(0 AS DOUBLE))
      / (COALESCE(agg.e_sum, CAST(0 AS DOUBLE)) + {_f(c.shrinkage)}) AS attitude,
    CASE WHEN agg.e_sum > 0 THEN agg.w_sum / agg.e_sum END AS unshrunk,
    CASE WHEN agg.n_public > 0
      THEN agg.w_public / (agg.e_public + {_f(c.shrinkage)}) END AS public_advocacy,
    COALESCE(agg.churn_w, CAST(0 AS DOUBLE)) AS churn_w,
    COALESCE(agg.negpub_w, CAST(0 AS DOUBLE)) AS negpub_w,
    COALESCE(agg.n_escalations, 0) > 0 AS escalation,
    COALESCE(agg.n_trapped, 0) > 0 AS said_trapped,
    COALESCE(agg.n_leaving, 0) > 0 AS said_leaving,
    COALESCE(agg.n_leaving_recent, 0) > 0 AS said_leaving_recently,
    COALESCE(agg.n_complaints, 0) > 0 AS complained,
    COALESCE(agg.n_complaints_recent, 0) > 0 AS complained_recently,
    COALESCE(agg.csat_count, 0) AS csat_count,
    CASE WHEN agg.csat_count > 0 THEN agg.csat_sum / agg.csat_count END AS csat_mean_valence,
    CASE WHEN agg.csat_count > 0
      THEN CAST(agg.csat_top AS DOUBLE) / agg.csat_count END AS csat_top_box_share,
    COALESCE(agg.ces_count, 0) AS ces_count,
    CASE WHEN agg.ces_count > 0 THEN agg.ces_sum / agg.ces_count END AS ces_mean_valence,
    CASE WHEN agg.ces_count > 0
      THEN CAST(agg.ces_easy AS DOUBLE) / agg.ces_count END AS ces_easy_share,
    COALESCE(agg.perceptions_considered, 0) AS perceptions_considered,
    {emotions}, emotion.dominant, emotion.dyad,
    facts.loyalty AS behavioural_loyalty, facts.tenure_days,
    last_nps.last_nps, last_nps.last_nps_us, last_nps.last_nps_age,
    trend_agg.e_before, trend_agg.w_before, trend_agg.e_recent, trend_agg.w_recent
  FROM persons
  LEFT JOIN agg ON agg.person_id = persons.id
  LEFT JOIN emotion ON emotion.person_id = persons.id
  LEFT JOIN facts ON facts.person_id = persons.id
  LEFT JOIN last_nps ON last_nps.person_id = persons.id
  LEFT JOIN trend_agg ON trend_agg.person_id = persons.id
),
scored AS (
  SELECT base.*,
    LEAST(CAST(100 AS DOUBLE), GREATEST(CAST(0 AS DOUBLE),
      CAST(50 AS DOUBLE) + CAST(50 AS DOUBLE) * attitude - {_f(c.churn_penalty)} * churn_w
      - {_f(c.negative_public_penalty)} * negpub_w)) AS health,
    evidence < {_f(c.min_evidence)} AS thin,
    public_advocacy IS NOT NULL AND public_advocacy <= {_f(c.advocacy_negative)} AS vocal,
    COALESCE(e_before, CAST(0 AS DOUBLE)) AS past_e,
    COALESCE(e_recent, CAST(0 AS DOUBLE)) AS recent_e
  FROM base
),
banded AS (
  SELECT scored.*,
    CASE WHEN thin THEN 'unknown' WHEN health >= {_f(c.healthy_from)} THEN 'healthy'
      WHEN health >= {_f(c.watch_from)} THEN 'watch' ELSE 'at_risk' END AS band,
    CASE
      WHEN thin THEN 'insufficient_evidence'
      WHEN behavioural_loyalty IS NULL THEN 'unknown_behavior'
      WHEN attitude >= {ah} AND behavioural_loyalty >= {bh} THEN 'true_loyalty'
      WHEN attitude >= {ah} THEN 'latent_loyalty'
      WHEN behavioural_loyalty >= {bh} THEN 'spurious_loyalty'
      ELSE 'no_loyalty' END AS grid_archetype,
    CASE
      WHEN thin OR behavioural_loyalty IS NULL THEN NULL
      WHEN attitude >= {ah} AND behavioural_loyalty >= {bh} THEN CASE
        WHEN public_advocacy IS NOT NULL AND public_advocacy >= {_f(c.advocacy_positive)}
          THEN 'advocate'
        WHEN attitude >= {_f(c.attitude_delighted)} AND dominant IN ('joy', 'trust')
          THEN 'delighted' END
      WHEN attitude >= {ah} THEN 'fan_not_buying'
      WHEN behavioural_loyalty >= {bh} THEN CASE
        WHEN attitude <= {unhappy} AND vocal THEN 'trapped_detractor'
        WHEN attitude <= {unhappy} THEN 'trapped'
        ELSE 'inert' END
      WHEN vocal THEN 'vocal_defector'
      WHEN attitude <= {unhappy} THEN 'defecting'
      ELSE 'indifferent' END AS grid_detail,
    vocal OR complained AS speaks_out,
    last_nps >= 9 AND last_nps_age <= {_f(c.reason_window_days)} AS promoter,
    CASE WHEN past_e < {_f(c.min_evidence)} OR recent_e < {_f(c.trend_min_recent_evidence)}
      THEN NULL ELSE CASE WHEN past_e <> 0 THEN w_before / past_e ELSE CAST(0 AS DOUBLE) END
      END AS attitude_before,
    CASE WHEN past_e < {_f(c.min_evidence)} OR recent_e < {_f(c.trend_min_recent_evidence)}
      THEN NULL ELSE
        CASE WHEN recent_e <> 0 THEN w_recent / recent_e ELSE CAST(0 AS DOUBLE) END
        - CASE WHEN past_e <> 0 THEN w_before / past_e ELSE CAST(0 AS DOUBLE) END
      END AS trend_delta
  FROM scored
),
judged AS (
  SELECT banded.*,
    CASE
      WHEN said_trapped AND attitude < {ah} THEN 'stated_trapped'
      WHEN said_leaving AND attitude < {ah} THEN 'stated_churn'
      WHEN tenure_days IS NOT NULL AND tenure_days < {_f(c.new_customer_days)} THEN 'too_new'
      WHEN thin THEN 'thin'
      ELSE 'grid' END AS basis,
    CASE WHEN trend_delta IS NULL THEN 'unknown'
      WHEN trend_delta >= {_f(c.trend_threshold)} THEN 'improving'
      WHEN trend_delta <= -{_f(c.trend_threshold)} THEN 'declining'
      ELSE 'stable' END AS trend_direction
  FROM banded
),
decided AS (
  SELECT judged.*,
    CASE basis
      WHEN 'stated_trapped' THEN 'spurious_loyalty'
      WHEN 'too_new' THEN 'unknown_behavior'
      ELSE grid_archetype END AS archetype,
    CASE basis
      WHEN 'stated_trapped' THEN
        CASE WHEN speaks_out THEN 'trapped_detractor' ELSE 'trapped' END
      WHEN 'stated_churn' THEN
        CASE WHEN speaks_out THEN 'vocal_defector' ELSE 'defecting' END
      WHEN 'too_new' THEN NULL
      WHEN 'thin' THEN NULL
      ELSE CASE WHEN grid_archetype = 'true_loyalty' AND grid_detail IS NULL AND promoter
        THEN 'delighted' ELSE grid_detail END END AS archetype_detail
  FROM judged
),
segmented AS (
  SELECT decided.*,
    CASE
      WHEN basis = 'stated_churn' THEN 'at_risk'
      WHEN basis = 'too_new' THEN CASE
        WHEN (unshrunk IS NOT NULL AND unshrunk <= {_f(c.new_customer_unhappy)}) OR escalation
        THEN 'at_risk' ELSE 'unknown' END
      WHEN basis = 'thin' THEN CASE
        WHEN behavioural_loyalty IS NULL THEN 'unknown'
        WHEN behavioural_loyalty >= {bh} THEN CASE
          WHEN unshrunk IS NOT NULL AND unshrunk <= {unhappy} THEN 'trapped' ELSE 'loyal' END
        WHEN unshrunk IS NOT NULL AND unshrunk >= {ah} THEN 'latent'
        WHEN unshrunk IS NOT NULL AND unshrunk <= {unhappy} THEN 'at_risk'
        ELSE 'drifting' END
      WHEN archetype = 'unknown_behavior' THEN
        CASE WHEN band = 'at_risk' THEN 'at_risk' ELSE 'unknown' END
      WHEN archetype = 'true_loyalty' AND archetype_detail IS NULL THEN 'loyal'
      ELSE CASE archetype_detail
        WHEN 'advocate' THEN 'delighted' WHEN 'delighted' THEN 'delighted'
        WHEN 'fan_not_buying' THEN 'latent' WHEN 'trapped' THEN 'trapped'
        WHEN 'trapped_detractor' THEN 'trapped_and_vocal' WHEN 'inert' THEN 'drifting'
        WHEN 'vocal_defector' THEN 'at_risk' WHEN 'defecting' THEN 'at_risk'
        WHEN 'indifferent' THEN 'drifting' END
    END AS segment
  FROM decided
)"""


def final_projection(config: ProfileConfig) -> str:
    """The SELECT over ``segmented`` giving one row of fields a person (no ORDER BY)."""
    c = config
    ah = _f(c.attitude_high)
    return f"""SELECT segmented.*,
  CASE WHEN last_nps IS NULL THEN NULL WHEN last_nps >= 9 THEN 'promoter'
    WHEN last_nps >= 7 THEN 'passive' ELSE 'detractor' END AS last_nps_category,
  churn_w >= {_f(c.churn_risk_min_decay)}
    OR COALESCE(archetype_detail IN ('defecting', 'vocal_defector'), FALSE) AS churn_risk,
  escalation
    OR (said_leaving_recently AND attitude < {ah})
    OR (segment IN ('trapped', 'trapped_and_vocal') AND complained_recently)
    OR COALESCE(trend_direction = 'declining'
      AND trend_delta <= {_f(c.decline_delta)}
      AND attitude_before >= {ah}
      AND attitude_before + trend_delta <= {_f(c.decline_to)}, FALSE) AS needs_outreach
FROM segmented"""
