"""Behavioural loyalty B in 0..1, from what the person does rather than what they say."""

from __future__ import annotations

from datetime import datetime

from relcrm.models import BehaviourFacts
from relcrm.profile.config import ProfileConfig


def behavioural_loyalty(
    facts: BehaviourFacts, now: datetime, config: ProfileConfig
) -> float | None:
    """An external B if the source gave one; else a weighted mean of what we know.

    Components: purchase recency (half-life: two of the person's expected intervals
    between purchases, 180 days at the default four a year, so a monthly buyer silent for
    three months has lapsed while a yearly one has not), purchase frequency against what
    the segment expects, whether they renewed last time, how many times they renewed
    (full at ``renewals_full``), and tenure. Tenure and the renewal count weigh half:
    they support patronage but are not patronage, so a long-tenured customer who rarely
    buys is not loyal by tenure alone. None when nothing about buying is known (tenure
    alone says how long ago they started, not whether they still buy).
    """
    if facts.behavioural_loyalty is not None:
        return facts.behavioural_loyalty
    components: list[tuple[float, float]] = []
    expected = facts.expected_purchases_per_year or config.expected_purchases_per_year
    since_purchase = facts.days_since_last_purchase(now)
    if since_purchase is not None:
        half_life = config.purchase_recency_half_life_days * config.expected_purchases_per_year
        components.append((0.5 ** (since_purchase * expected / half_life), 1.0))
    if facts.purchases_last_365d is not None:
        components.append((min(1.0, facts.purchases_last_365d / expected), 1.0))
    if facts.renewed_last_term is not None:
        components.append((1.0 if facts.renewed_last_term else 0.0, 1.0))
    if facts.renewals is not None:
        components.append((min(1.0, facts.renewals / config.renewals_full), config.renewals_weight))
    if not components:
        return None
    tenure = facts.tenure_days(now)
    if tenure is not None:
        components.append((min(1.0, tenure / config.full_tenure_days), config.tenure_weight))
    # Added left to right, in the order the columnar recipe's SQL adds them: the same
    # bits in both engines, so a loyalty that lands on a threshold falls the same side
    # (math.fsum here once made 0.5 where the SQL made 0.49999999999999994).
    weighted = total = 0.0
    for value, weight in components:
        weighted += value * weight
        total += weight
    return weighted / total
