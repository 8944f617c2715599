"""A mapping's ``[outreach]`` section: a follow-up task for the record's owner (issue 13).

A profile whose ``needs_outreach`` turns true should reach a person, not only a field.
With ``create_task = true`` the sync creates one task per person and outreach reason on
the person's record, assigned to the record's owner; the subject comes from a template
whose placeholders are limited to what the CRM may hold anyway (the reason in plain
words, the segment, the health band), never a verbatim or other personal data.

Checked when the file loads: an unknown placeholder, a format spec, a template without
``{reason}`` or settings without ``create_task`` are refused with the key named.
"""

from __future__ import annotations

import string
from typing import Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from relcrm.errors import FieldProblem, shorten
from relcrm.models import RelationshipProfile, TaskPriority
from relcrm.models.tasks import MAX_SUBJECT as MAX_SUBJECT_LENGTH

PLACEHOLDERS: Final = frozenset({"reason", "segment", "health_band"})
"""What a subject template may name: the outreach reason, the profile's segment and
health band. Nothing that identifies the person (the CRM record already does)."""

DEFAULT_SUBJECT: Final = "Reach out: {reason}"


class OutreachSettings(BaseModel):
    """``[outreach]``: whether sync creates follow-up tasks, and how they look."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    create_task: bool = Field(
        default=False,
        description="create one task per person and outreach reason for the owner of the "
        "person's record when their profile says a human should reach out now",
    )
    close_when_recovered: bool = Field(
        default=False,
        description="mark the task completed once the person no longer needs outreach "
        "(or needs it for another reason); false: the owner closes it",
    )
    priority: TaskPriority = Field(default="normal", description="high, normal or low")
    due_in_days: int | None = Field(
        default=None, ge=0, le=365, description="the task is due this many days after creation"
    )
    subject: str = Field(
        default=DEFAULT_SUBJECT,
        min_length=1,
        max_length=MAX_SUBJECT_LENGTH,
        description="the task's subject; placeholders: {reason}, {segment}, {health_band}",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = template_problems(self.subject)
        if not self.create_task:
            defaults = OutreachSettings.model_fields
            changed = sorted(
                name
                for name in ("close_when_recovered", "priority", "due_in_days", "subject")
                if getattr(self, name) != defaults[name].default
            )
            problems.extend(
                FieldProblem(
                    name, "only used when relcrm creates tasks: set create_task = true or remove it"
                )
                for name in changed
            )
        if problems:
            detail = "; ".join(str(p) for p in problems)
            # the mapping file's error shape: mapping_problems spreads the problems out
            raise PydanticCustomError(
                "outreach", "{detail}", {"detail": detail, "problems": tuple(problems)}
            )
        return self

    def subject_for(self, profile: RelationshipProfile) -> str:
        """The subject for ``profile``, cut to the CRMs' shortest limit at a word."""
        text = self.subject.format_map(
            {
                "reason": plain(profile.outreach_reason or ""),
                "segment": str(profile.segment.value).replace("_", " "),
                "health_band": str(profile.band.value),
            }
        )
        text = plain(text)
        if len(text) <= MAX_SUBJECT_LENGTH:
            return text
        cut = text[: MAX_SUBJECT_LENGTH - 1].rsplit(" ", 1)[0]
        return cut + "…"


def plain(text: str) -> str:
    """One line of text: newlines and runs of spaces folded to one space."""
    return " ".join(text.split())


def template_problems(template: str) -> list[FieldProblem]:
    """What is wrong with a subject template: unknown placeholders, format specs or
    conversions (``{reason!r}``, ``{reason:>9}``), stray braces, no ``{reason}``."""
    problems: list[FieldProblem] = []
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return [FieldProblem("subject", f"not a valid template: {exc}", shorten(template))]
    named: set[str] = set()
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            problems.append(
                FieldProblem("subject", f"unknown placeholder {{{name}}} (known: {known})")
            )
        elif spec or conversion:
            problems.append(
                FieldProblem("subject", f"placeholder {{{name}}} takes no format or conversion")
            )
        named.add(name)
    if "reason" not in named and not problems:
        problems.append(
            FieldProblem("subject", "must name {reason}: the task says why to reach out")
        )
    return problems


__all__ = ["DEFAULT_SUBJECT", "PLACEHOLDERS", "OutreachSettings", "plain", "template_problems"]
