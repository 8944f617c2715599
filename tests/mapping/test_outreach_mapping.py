"""A mapping's ``[outreach]`` section (issue 13): checked when the file loads, refused
on a connector without follow-up tasks, and the shipped mappings' commented example is a
section that loads once uncommented."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from relcrm import Perception, Person, build_profile
from relcrm.errors import ConfigurationError
from relcrm.mapping import (
    InvalidMappingError,
    OutreachSettings,
    load_shipped,
    mapping_json_schema,
    parse_mapping,
    require_supported,
    unsupported,
)
from relcrm.models import ConnectorCapabilities, FieldType

SHIPPED = Path(__file__).resolve().parents[2] / "src/relcrm/mapping/mappings"
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
VERBATIM = "I am furious, call me on 555 0100"


def _with(section: str, name: str = "hubspot-contact") -> str:
    return (SHIPPED / f"{name}.toml").read_text(encoding="utf-8") + "\n" + section


def _problems(section: str) -> str:
    with pytest.raises(InvalidMappingError) as caught:
        parse_mapping(_with(section), origin="m.toml")
    assert caught.value.code == "config.invalid_mapping"
    return str(caught.value)


def test_outreach_is_off_by_default_and_loads_with_every_key() -> None:
    assert load_shipped("hubspot-contact").outreach == OutreachSettings()
    assert not OutreachSettings().create_task
    loaded = parse_mapping(
        _with(
            '[outreach]\ncreate_task = true\nclose_when_recovered = true\npriority = "low"\n'
            'due_in_days = 3\nsubject = "Call now ({health_band}, {segment}): {reason}"\n'
        )
    )
    assert loaded.outreach == OutreachSettings(
        create_task=True,
        close_when_recovered=True,
        priority="low",
        due_in_days=3,
        subject="Call now ({health_band}, {segment}): {reason}",
    )
    assert "outreach" in mapping_json_schema()["properties"]


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('subject = "Call {first_name}: {reason}"', r"outreach.subject: unknown placeholder"),
        ('subject = "Call {reason!r}"', "takes no format or conversion"),
        ('subject = "Call {reason:>40}"', "takes no format or conversion"),
        ('subject = "Call them"', "must name {reason}"),
        ('subject = "Call {reason"', "not a valid template"),
        ('priority = "urgent"', "outreach.priority"),
        ("due_in_days = -1", "outreach.due_in_days"),
        ("colour = 'red'", "outreach.colour"),
    ],
)
def test_bad_outreach_keys_are_named_when_the_file_loads(section: str, expected: str) -> None:
    message = _problems(f"[outreach]\ncreate_task = true\n{section}\n")
    assert expected in message and "m.toml" in message


def test_settings_without_create_task_are_refused_rather_than_ignored() -> None:
    message = _problems("[outreach]\nclose_when_recovered = true\ndue_in_days = 2\n")
    assert "outreach.close_when_recovered: only used when relcrm creates tasks" in message
    assert "outreach.due_in_days" in message


def test_a_connector_without_follow_up_tasks_refuses_the_mapping() -> None:
    mapping = parse_mapping(_with("[outreach]\ncreate_task = true\n"))
    without = ConnectorCapabilities(
        name="acme",
        max_batch_size=10,
        field_types=frozenset(FieldType),
        max_field_name_length=40,
        max_text_length=255,
        max_long_text_length=1000,
        objects=("contacts",),
    )
    [problem] = unsupported(mapping, without)
    assert problem.field == "outreach.create_task" and "follow_up_tasks" in problem.problem
    with pytest.raises(ConfigurationError) as caught:
        require_supported(mapping, without)
    assert caught.value.code == "config.unsupported_mapping"
    assert unsupported(mapping, without.model_copy(update={"follow_up_tasks": True})) == []


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.toml")), ids=lambda p: p.stem)
def test_the_shipped_commented_example_loads_when_uncommented(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    start = text.index("# [outreach]")
    example = "\n".join(line.removeprefix("# ") for line in text[start:].splitlines())
    loaded = parse_mapping(text[:start] + example, origin=path.name)
    assert loaded.outreach.create_task and loaded.outreach.priority == "high"


def test_the_subject_says_why_in_plain_words_and_never_quotes_a_verbatim() -> None:
    person = Person(id="p1", emails=["a@example.com"], consent={"granted": True})
    heated = Perception.model_validate(
        {
            "person_id": "p1",
            "occurred_at": "2026-10-31T09:00:00Z",
            "channel": "call",
            "valence": -0.9,
            "arousal": 0.9,
            "verbatim": VERBATIM,
            "provenance": {"source_system": "t", "source_record_id": "r1"},
        }
    )
    profile = build_profile(person, [heated], now=NOW)
    assert profile.needs_outreach and profile.outreach_reason
    settings = OutreachSettings(create_task=True, subject="{health_band} | {reason}")
    subject = settings.subject_for(profile)
    assert subject == f"{profile.band.value} | {profile.outreach_reason}"
    assert "furious" not in subject and "555" not in subject
    long = OutreachSettings(create_task=True, subject="{reason} " * 20)
    cut = long.subject_for(profile)
    assert len(cut) <= 255 and cut.endswith("…")
