"""The demo's sample, told through real-world formats: a survey export, social posts and
support cases, instead of interchange lines only.

:func:`split_sample` takes a synthetic sample and moves some of its perceptions into the
shapes they arrive in from outside: survey answers into a Qualtrics-style CSV export
(with its column mapping), public social posts into a listening tool's JSONL, support
contacts into case stories the demo seeds into the CRM sandboxes. Their texts and scores
are kept; their valence is not: the analyzer reads the words again at ingest, as it would
for a real export. The twins stay in the interchange so their story reads the same.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from relcrm.models import Channel, Perception, Person
from relcrm.sources.interchange import InterchangeRecord

SURVEY_ZONE = "Europe/London"
"""The survey tool's time zone: exports hold naive local times, so the mapping says it."""

SURVEY_COLUMNS = f"""# Column mapping for the demo's Qualtrics-style export (see docs/sources.md).
survey = "relationship-2026"
flavour = "qualtrics"
touchpoint = "relationship survey"

[respondent]
email = "RecipientEmail"

[response]
id = "ResponseId"
time = "RecordedDate"
time_format = "%Y-%m-%d %H:%M:%S"
time_zone = "{SURVEY_ZONE}"

[[questions]]
column = "Q1"
kind = "nps"

[[questions]]
column = "Q2"
kind = "csat"
scale_min = 1
scale_max = 5

[[questions]]
column = "Q3"
kind = "text"
"""

_HEADER = ("StartDate", "EndDate", "RecordedDate", "ResponseId", "RecipientEmail", "Q1", "Q2", "Q3")
_QUESTIONS = (
    "Start Date",
    "End Date",
    "Recorded Date",
    "Response ID",
    "Recipient Email",
    "How likely are you to recommend us to a friend or colleague?",
    "How satisfied are you with us overall?",
    "What is the main reason for your score?",
)
_IMPORT_IDS = (
    '{"ImportId":"startDate","timeZone":"Europe/London"}',
    '{"ImportId":"endDate","timeZone":"Europe/London"}',
    '{"ImportId":"recordedDate","timeZone":"Europe/London"}',
    '{"ImportId":"_recordId"}',
    '{"ImportId":"recipientEmail"}',
    '{"ImportId":"QID1"}',
    '{"ImportId":"QID2"}',
    '{"ImportId":"QID3_TEXT"}',
)


@dataclass(frozen=True)
class CaseStory:
    """A support contact as the CRM's case will hold it: who raised it, when, what."""

    person_id: str
    email: str
    subject: str
    description: str
    perception: Perception


@dataclass
class DemoSources:
    """The sample, split by the format each part arrives in."""

    interchange: list[InterchangeRecord] = field(default_factory=list)
    survey_csv: str = ""
    survey_rows: int = 0
    social_jsonl: str = ""
    social_posts: int = 0
    cases: list[CaseStory] = field(default_factory=list)


def _surveyable(perception: Perception) -> bool:
    csat = perception.csat
    return (
        perception.channel is Channel.SURVEY
        and perception.ces is None
        and (perception.nps is not None or csat is not None)
        and (csat is None or (csat.scale_min, csat.scale_max) == (1, 5))
    )


def _subject(text: str) -> str:
    first = text.split(".")[0].strip()
    return first if len(first) <= 80 else first[:77].rsplit(" ", 1)[0] + "..."


def split_sample(
    records: Iterable[InterchangeRecord],
    persons: Sequence[Person],
    *,
    keep: Iterable[str] = (),
    cases: bool = True,
) -> DemoSources:
    """Move survey answers, public social posts and (with ``cases``) support contacts of
    the persons not in ``keep`` out of the interchange records into their own formats.

    A perception moves only when its format can carry it: a survey answer needs the
    person's email and an NPS or a 1-5 CSAT; a post needs a handle; a case needs an email.
    Everything else stays in the interchange, so nothing of the sample is lost.
    """
    kept = set(keep)
    by_id = {person.id: person for person in persons}
    zone = ZoneInfo(SURVEY_ZONE)
    result = DemoSources()
    survey = io.StringIO()
    writer = csv.writer(survey, lineterminator="\r\n")
    writer.writerows([_HEADER, _QUESTIONS, _IMPORT_IDS])
    posts: list[str] = []
    for record in records:
        person = by_id.get(record.person_id) if isinstance(record, Perception) else None
        if not isinstance(record, Perception) or person is None or person.id in kept:
            result.interchange.append(record)
            continue
        if _surveyable(record) and person.emails:
            local = record.occurred_at.astimezone(zone).replace(tzinfo=None)
            stamp = local.strftime("%Y-%m-%d %H:%M:%S")
            writer.writerow(
                (
                    stamp,
                    stamp,
                    stamp,
                    "R_" + record.id[:15],
                    person.emails[0],
                    "" if record.nps is None else record.nps.value,
                    "" if record.csat is None else f"{record.csat.value:g}",
                    record.verbatim or "",
                )
            )
            result.survey_rows += 1
        elif (
            record.channel is Channel.SOCIAL
            and record.public
            and person.handles
            and record.verbatim
        ):
            handle = person.handles[0]
            post_id = record.id[:16]
            posts.append(
                json.dumps(
                    {
                        "platform": handle.platform,
                        "handle": handle.handle,
                        "text": record.verbatim,
                        "time": record.occurred_at.isoformat(),
                        "url": f"https://{handle.platform}.example/{post_id}",
                        "public": True,
                        "post_id": post_id,
                    },
                    ensure_ascii=False,
                )
            )
        elif cases and record.channel is Channel.SUPPORT and person.emails and record.verbatim:
            result.cases.append(
                CaseStory(
                    person.id,
                    person.emails[0],
                    _subject(record.verbatim),
                    record.verbatim,
                    record,
                )
            )
        else:
            result.interchange.append(record)
    if posts:  # someone the company does not know yet: kept aside, reported, not dropped
        posts.append(
            json.dumps(
                {
                    "platform": "x",
                    "handle": "@not_a_customer_yet",
                    "text": "Thinking of switching to them, anyone tried their support?",
                    "time": "2026-01-05T10:00:00+00:00",
                    "url": "https://x.example/unknown-1",
                    "public": True,
                    "post_id": "unknown-1",
                }
            )
        )
    result.survey_csv = survey.getvalue()
    result.social_posts = len(posts)
    result.social_jsonl = "".join(line + "\n" for line in posts)
    return result


__all__ = ["SURVEY_COLUMNS", "SURVEY_ZONE", "CaseStory", "DemoSources", "split_sample"]
