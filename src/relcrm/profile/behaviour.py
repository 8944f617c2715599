"""Behavioural loyalty B in 0..1, from what the person does rather than what they say."""

from __future__ import annotations

from datetime import datetime
from math import fsum

from relcrm.models import BehaviourFacts
from relcrm.profile.config import ProfileConfig


def behavioural_loyalty(
    facts: BehaviourFacts, now: datetime, config: ProfileConfig
) -> float | None:
    """An external B if the source gave one; else the mean of the components we have.

    Components: purchase recency (half-life 180 days), purchase frequency against what
    the segment expects, tenure (full at two years), and whether they renewed last time.
    None when no fact is known: loyalty cannot be judged from feelings alone.
    """
    if facts.behavioural_loyalty is not None:
        return facts.behavioural_loyalty
    components: list[float] = []
    since_purchase = facts.days_since_last_purchase(now)
    if since_purchase is not None:
        components.append(0.5 ** (since_purchase / config.purchase_recency_half_life_days))
    if facts.purchases_last_365d is not None:
        expected = facts.expected_purchases_per_year or config.expected_purchases_per_year
        components.append(min(1.0, facts.purchases_last_365d / expected))
    tenure = facts.tenure_days(now)
    if tenure is not None:
        components.append(min(1.0, tenure / config.full_tenure_days))
    if facts.renewed_last_term is not None:
        components.append(1.0 if facts.renewed_last_term else 0.0)
    if not components:
        return None
    return fsum(components) / len(components)
