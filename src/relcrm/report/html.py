"""The report as one self-contained HTML page: inline CSS and SVG, no script, no link to
anything outside the file, so it opens offline, attaches to an email, and prints."""

from __future__ import annotations

from html import escape

from relcrm.profile import DEFAULT_CONFIG
from relcrm.report import charts
from relcrm.report.model import Quadrant, RelationshipReport, TargetHealth
from relcrm.report.people import outreach_table, person_section

CSS = """
body{font:14px/1.45 system-ui,sans-serif;color:#222;margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#555}.grid{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
.chart{max-width:100%;height:auto}table{border-collapse:collapse;margin:8px 0;width:100%}
td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f6f6}tr.neg td{background:#fff4f2}tr.pos td{background:#f3faf4}
.verbatim{font-style:italic}.flag{background:#d73027;color:#fff;border-radius:3px;padding:0 4px}
details.person{border:1px solid #ddd;border-radius:4px;margin:6px 0;padding:4px 8px}
details.person summary{cursor:pointer}ul{margin:4px 0 4px 18px;padding:0}
.legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:10px;
height:10px;border-radius:5px;margin-right:4px}small{color:#666}
"""


def _legend() -> str:
    items = "".join(
        f'<span><i style="background:{colour}"></i>{escape(segment.replace("_", " "))}</span>'
        for segment, colour in charts.SEGMENT_COLOURS.items()
    )
    return f'<p class="legend">{items}</p>'


def _meta(report: RelationshipReport) -> str:
    meta = report.meta
    parts = [
        f"As of {meta.as_of:%Y-%m-%d %H:%M} UTC"
        + (" (profiled again for this report)" if meta.recomputed else ""),
        f"window: the last {meta.since_days} days",
        f"{meta.persons} persons, {meta.consenting} consenting, {meta.profiled} profiled",
        f"generated {meta.generated_at:%Y-%m-%d %H:%M} UTC",
    ]
    if meta.segment_filter:
        parts.append(f"people shown: segment {meta.segment_filter}")
    return f'<p class="meta">{escape(" · ".join(parts))}</p>'


def _map_section(report: RelationshipReport) -> str:
    data = report.loyalty_map
    pages = {person.person_id for person in report.people}
    sample = (
        f" Drawn: a sample of {len(data.dots)} of the {data.placed_consenting} consenting "
        "persons on the map, over a shaded density of all of them."
        if data.sampled
        else ""
    )
    pairs = "".join(
        f'<li data-pair="{escape(p.delighted, quote=True)} {escape(p.trapped, quote=True)}">'
        f'<a href="#person-{escape(p.delighted, quote=True)}">{escape(p.delighted)}</a> '
        f'(delighted) and <a href="#person-{escape(p.trapped, quote=True)}">'
        f"{escape(p.trapped)}</a> (trapped): the same behavioural loyalty "
        f"{p.loyalty:.2f}, attitudes {p.attitude_gap:.2f} apart</li>"
        for p in data.pairs
    )
    counts = ", ".join(f"{q.value} {data.quadrants.get(q, 0)}" for q in Quadrant)
    return (
        '<h2 id="loyalty-map">The loyalty map</h2>'
        "<p>How they feel (attitude, left to right) against how they buy (behavioural "
        "loyalty, bottom to top). Same purchases, opposite feelings: the top left is "
        "<b>trapped</b>, the top right <b>delighted</b>. "
        f"Per quadrant, everyone: {escape(counts)}; {data.off_map} persons cannot be placed "
        f"yet (too little evidence, or no purchase behaviour known).{sample} Click a dot for "
        "the person.</p>"
        + charts.loyalty_map(data, pages)
        + _legend()
        + (f"<p>Same purchase behaviour, opposite feelings:</p><ul>{pairs}</ul>" if pairs else "")
    )


def _segments_section(report: RelationshipReport) -> str:
    movement = report.segments
    if movement.baseline is None:
        since = (
            "<p>No earlier report to compare with: movement shows from the second "
            "profiling run on (profile history is kept for RELCRM_PROFILE_HISTORY_DAYS).</p>"
        )
    else:
        moves = "".join(
            f"<li>{n} from {escape(a.replace('_', ' '))} to {escape(b.replace('_', ' '))}</li>"
            for a, b, n in movement.moves[:12]
        )
        since = (
            f"<p>Since the previous profiling run ({movement.baseline:%Y-%m-%d %H:%M} UTC): "
            + (f"</p><ul>{moves}</ul>" if moves else "nobody changed segment.</p>")
        )
    health = report.health
    bands = ", ".join(f"{escape(k.replace('_', ' '))} {v}" for k, v in sorted(health.bands.items()))
    mean = "n/a" if health.mean is None else f"{health.mean:g}"
    median = "n/a" if health.median is None else f"{health.median:g}"
    return (
        '<h2 id="health">Health and segments</h2><div class="grid"><div>'
        + charts.health_histogram(health, DEFAULT_CONFIG.healthy_from, DEFAULT_CONFIG.watch_from)
        + f"<p>Mean {mean}, median {median} (consenting persons). Bands, everyone: {bands}. "
        f"Dashed lines: watch from {DEFAULT_CONFIG.watch_from:g}, healthy from "
        f"{DEFAULT_CONFIG.healthy_from:g}.</p></div><div>"
        + charts.segment_bars(movement)
        + since
        + "</div></div>"
    )


def _sync_table(rows: list[TargetHealth]) -> str:
    if not rows:
        return "<p>No sync has run against this store yet.</p>"
    body = "".join(
        f"<tr><td>{escape(r.target)}</td><td>"
        + ("never" if r.last_run is None else f"{r.last_run:%Y-%m-%d %H:%M} UTC")
        + f"</td><td>{escape(r.status or '')}</td><td>{r.written}</td><td>{r.unchanged}</td>"
        f"<td>{r.rejected}</td><td>{r.open_dead_letters}</td><td>{r.api_calls}</td>"
        + ("" if r.duration_s is None else f"<td>{r.duration_s:g} s</td>")
        + "</tr>"
        for r in rows
    )
    return (
        '<table data-section="sync"><tr><th>target</th><th>last run</th><th>status</th>'
        "<th>written</th><th>unchanged</th><th>rejected</th><th>open dead letters</th>"
        f"<th>API calls</th><th>took</th></tr>{body}</table>"
    )


def render_html(report: RelationshipReport) -> str:
    """The whole page for ``report``."""
    shown = len(report.people)
    people_note = (
        f"<p>The {shown} shown of {report.people_total} consenting persons: those needing "
        "outreach first, then the lowest health.</p>"
        if report.people_total > shown
        else ""
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        "<title>relcrm: relationship report</title>"
        f"<style>{CSS}</style></head><body>"
        "<h1>How your customers feel</h1>"
        + _meta(report)
        + _map_section(report)
        + _segments_section(report)
        + '<h2 id="trend">Trend</h2>'
        + charts.trend_chart(report.trend)
        + '<h2 id="emotions">Emotions and pet peeves</h2>'
        + f"<p>Perceptions of consenting persons in the last {report.meta.since_days} days.</p>"
        + charts.emotion_grid(report.emotions_overall, report.channels)
        + charts.peeves_chart(report.pet_peeves)
        + '<h2 id="scores">NPS, CSAT and CES</h2>'
        + charts.scores_chart(report.scores)
        + f'<h2 id="outreach">Who needs outreach now ({report.outreach_total})</h2>'
        + outreach_table(report.people, report.outreach_total)
        + '<h2 id="people">People</h2>'
        + people_note
        + "".join(person_section(person) for person in report.people)
        + '<h2 id="sync">Sync health</h2>'
        + _sync_table(report.sync)
        + "<p><small>Persons without consent count only in headcounts; every verbatim "
        "is redacted. Made by relcrm.</small></p></body></html>"
    )
