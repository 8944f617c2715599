"""The profile engine: pure functions from perceptions and facts to a RelationshipProfile."""

from relcrm.profile.behaviour import behavioural_loyalty
from relcrm.profile.config import MODEL_VERSION, ProfileConfig
from relcrm.profile.engine import DEFAULT_CONFIG, build_profile
from relcrm.profile.observations import Observation, ces_valence, csat_valence, observations_of

__all__ = [
    "DEFAULT_CONFIG",
    "MODEL_VERSION",
    "Observation",
    "ProfileConfig",
    "behavioural_loyalty",
    "build_profile",
    "ces_valence",
    "csat_valence",
    "observations_of",
]
