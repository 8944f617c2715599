"""Profiles built by the real engine, and a helper to write mapping files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from relcrm.models import RelationshipProfile
from relcrm.profile import build_profile
from tests.helpers import NOW, nps, person, text

HEADER = 'target = "test"\nconnector = "salesforce"\nobject = "Contact"\n'


@pytest.fixture(scope="session")
def unhappy() -> RelationshipProfile:
    """A detractor with anger, an escalation and a pet peeve (billing)."""
    history = [
        nps(5, 2),
        text(3, -0.8, {"anger": 0.8}, topic="billing"),
        text(9, -0.6, {"disgust": 0.5}, topic="billing"),
        text(12, -0.5, topic="delivery"),
        nps(20, 7),
    ]
    return build_profile(person(loyalty=0.9), history, NOW)


@pytest.fixture(scope="session")
def happy() -> RelationshipProfile:
    """A loyal promoter: healthy band, no flags."""
    history = [nps(age, 10, person_id="p2") for age in (2, 30, 60)]
    history.append(text(4, 0.9, {"joy": 0.9}, person_id="p2"))
    return build_profile(person("p2", loyalty=0.9), history, NOW)


@pytest.fixture
def write_mapping(tmp_path: Path) -> Callable[[str], Path]:
    """Write a mapping file (header + ``fields``) and return its path."""

    def write(fields: str, header: str = HEADER) -> Path:
        path = tmp_path / "mapping.toml"
        path.write_text(header + fields, encoding="utf-8")
        return path

    return write
