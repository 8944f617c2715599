"""What a report covers: its clock, window, segment, how many people in full, CRM links."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from relcrm.errors import ConfigurationError
from relcrm.models import Segment

DEFAULT_SINCE = timedelta(days=90)
DEFAULT_MAX_PEOPLE = 200
"""Person sections at most (needing outreach first, then lowest health): a page for each
of 100,000 persons would make a report nobody opens."""

_SINCE = re.compile(r"^\s*(\d{1,5})\s*([dw])\s*$", re.IGNORECASE)
_TEMPLATE_FIELDS = re.compile(r"\{(\w*)\}")


def parse_since(text: str) -> timedelta:
    """``90d`` or ``12w`` as a duration; raises :class:`ConfigurationError` otherwise."""
    match = _SINCE.match(text)
    if match is None or int(match.group(1)) == 0:
        raise ConfigurationError(
            f"--since must be a number of days or weeks such as 90d or 12w, got {text!r}",
            code="report.invalid_option",
        )
    count = int(match.group(1))
    return timedelta(weeks=count) if match.group(2).lower() == "w" else timedelta(days=count)


def check_link_template(target: str, template: str) -> str:
    """A link template for a target's records: ``https://...{object}...{id}``, nothing else
    (no ``javascript:``, no other placeholder); returns it."""
    names = set(_TEMPLATE_FIELDS.findall(template))
    if not template.startswith(("https://", "http://")) or not names <= {"object", "id"}:
        raise ConfigurationError(
            f"the link template of {target!r} must be an http(s) URL using only {{object}} "
            f"and {{id}}, got {template!r}",
            code="report.invalid_option",
            hint="e.g. --link salesforce-contact="
            "https://example.my.salesforce.com/lightning/r/{object}/{id}/view",
        )
    return template


@dataclass(frozen=True)
class ReportOptions:
    """How to build a report; the defaults make the report of the latest profiling run."""

    as_of: datetime | None = None
    """None: the saved profiles' clock. A time: everyone is profiled again as of then, in
    memory (nothing saved), and only what was known then counts."""
    since: timedelta = DEFAULT_SINCE
    segment: Segment | None = None
    """Only this segment's persons get dots, outreach rows and sections (counts stay whole)."""
    max_people: int = DEFAULT_MAX_PEOPLE
    links: Mapping[str, str] = field(default_factory=dict)
    """Target name -> URL template of its records, with ``{object}`` and ``{id}``."""
    generated_at: datetime | None = None
    """The time printed as generated; None: now."""

    def __post_init__(self) -> None:
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise ConfigurationError(
                "the report's as-of time needs a time zone", code="report.invalid_option"
            )
        if self.since <= timedelta(0):
            raise ConfigurationError("since must be positive", code="report.invalid_option")
        if self.max_people < 0:
            raise ConfigurationError("max_people must be 0 or more", code="report.invalid_option")
        for target, template in self.links.items():
            check_link_template(target, template)

    def link(self, target: str, crm_object: str, record_id: str) -> str | None:
        template = self.links.get(target)
        if template is None:
            return None
        return template.replace("{object}", crm_object).replace("{id}", record_id)
