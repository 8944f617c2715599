"""The people parts of the page: who needs outreach now, and a section per person.

Sections are ``<details>`` elements: they open without JavaScript, and a link to
``#person-ID`` (from a dot on the map or an outreach row) jumps to one.
"""

from __future__ import annotations

from html import escape

from relcrm.report.model import PersonDetail, Snippet


def _when(snippet: Snippet) -> str:
    return snippet.occurred_at.strftime("%Y-%m-%d")


def _snippet_row(snippet: Snippet) -> str:
    emotions = ", ".join(f"{name} {value:.1f}" for name, value in snippet.emotions.items())
    valence = "" if snippet.valence is None else f"{snippet.valence:+.2f}"
    tone = (
        "neg" if (snippet.valence or 0) < -0.2 else ("pos" if (snippet.valence or 0) > 0.2 else "")
    )
    where = escape(snippet.channel) + (" (public)" if snippet.public else "")
    return (
        f'<tr class="{tone}"><td>{_when(snippet)}</td><td>{where}</td>'
        f"<td>{escape(snippet.topic or '')}</td><td>{escape(snippet.score or '')}</td>"
        f"<td>{valence}</td><td>{escape(emotions)}</td>"
        f'<td class="verbatim">{escape(snippet.text or "")}</td></tr>'
    )


SNIPPET_HEAD = (
    "<tr><th>date</th><th>channel</th><th>topic</th><th>score</th><th>valence</th>"
    "<th>emotions</th><th>what they said (redacted)</th></tr>"
)


def _records(person: PersonDetail) -> str:
    links = []
    for record in person.records:
        label = f"{record.target}: {record.object} {record.record_id}"
        links.append(
            f'<a href="{escape(record.url, quote=True)}" rel="noopener">{escape(label)}</a>'
            if record.url
            else escape(label)
        )
    return "; ".join(links) or "not matched in a CRM yet"


def outreach_table(people: list[PersonDetail], total: int) -> str:
    """One row per person to contact now: why, the perceptions behind it, their records."""
    rows = [p for p in people if p.needs_outreach]
    if not rows:
        return "<p>Nobody needs outreach now.</p>"
    body = []
    for person in rows:
        drivers = "".join(
            f"<li>{_when(s)} · {escape(s.channel)}"
            + (f" · {escape(s.score)}" if s.score else "")
            + ("" if s.valence is None else f" · valence {s.valence:+.2f}")
            + (f" · “{escape(s.text)}”" if s.text else "")
            + "</li>"
            for s in person.drivers
        )
        body.append(
            f'<tr><td><a href="#person-{escape(person.person_id, quote=True)}">'
            f"{escape(person.name)}</a><br><small>{escape(person.segment)}, health "
            f"{person.health:g}</small></td><td>{escape(person.outreach_reason or '')}</td>"
            f"<td><ul>{drivers}</ul></td><td>{_records(person)}</td></tr>"
        )
    more = (
        f"<p>{total - len(rows)} more persons need outreach; the list shows the first "
        f"{len(rows)} (raise --people to see more).</p>"
        if total > len(rows)
        else ""
    )
    return (
        '<table class="outreach" data-section="outreach"><tr><th>person</th><th>why now</th>'
        "<th>what drove it</th><th>CRM records</th></tr>" + "".join(body) + "</table>" + more
    )


def person_section(person: PersonDetail) -> str:
    """A person's expandable section: reasons, timeline, and what was written where."""
    reasons = "".join(f"<li>{escape(reason)}</li>" for reason in person.reasons)
    written = "".join(
        f"<li><b>{escape(crm.target)}</b>: "
        + ", ".join(f"{escape(name)} ({at:%Y-%m-%d %H:%M} UTC)" for name, at in crm.fields)
        + "</li>"
        for crm in person.written
    )
    where = "" if person.quadrant is None else f", {person.quadrant.value} on the map"
    loyalty = "unknown" if person.loyalty is None else f"{person.loyalty:.2f}"
    flag = ' <span class="flag">needs outreach</span>' if person.needs_outreach else ""
    return (
        f'<details class="person" id="person-{escape(person.person_id, quote=True)}">'
        f"<summary><b>{escape(person.name)}</b> · {escape(person.segment)} · health "
        f"{person.health:g} ({escape(person.band)}){flag}</summary>"
        f"<p>Attitude {person.attitude:+.2f}, behavioural loyalty {loyalty}{where}. "
        f"CRM records: {_records(person)}.</p>"
        + (
            f"<p><b>Why now:</b> {escape(person.outreach_reason)}</p>"
            if person.needs_outreach and person.outreach_reason
            else ""
        )
        + f"<ul>{reasons}</ul>"
        + f"<table>{SNIPPET_HEAD}{''.join(_snippet_row(s) for s in person.timeline)}</table>"
        + (
            f"<p>Fields last written:</p><ul>{written}</ul>"
            if written
            else "<p>Nothing written to a CRM for this person yet.</p>"
        )
        + "</details>"
    )
