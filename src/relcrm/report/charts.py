"""The report's charts, each an inline SVG drawn from the report's data."""

from __future__ import annotations

from collections.abc import Collection

from relcrm.models import Segment
from relcrm.report.model import (
    ChannelMix,
    HealthSummary,
    LoyaltyMap,
    PeeveTopic,
    Quadrant,
    ScoreRollups,
    SegmentMovement,
    TrendPoint,
)
from relcrm.report.svg import element, svg, text, title
from relcrm.store.report_reads import EMOTION_KEYS

SEGMENT_COLOURS: dict[str, str] = {
    Segment.DELIGHTED: "#1a9850",
    Segment.LOYAL: "#74c476",
    Segment.LATENT: "#4575b4",
    Segment.TRAPPED: "#d73027",
    Segment.TRAPPED_AND_VOCAL: "#7f0000",
    Segment.AT_RISK: "#f08a3c",
    Segment.DRIFTING: "#8c8c8c",
    Segment.UNKNOWN: "#cfcfcf",
}
INK = "#222"
GRID = "#ddd"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def colour(segment: str) -> str:
    return SEGMENT_COLOURS.get(segment, "#999")


def loyalty_map(data: LoyaltyMap, pages: Collection[str]) -> str:
    """Attitude (x, -1..1) against behavioural loyalty (y, 0..1), a dot per person, the
    quadrants named with their counts; look-alike pairs joined by a dashed line."""
    width, height, left, top, right, bottom = 700, 480, 60, 20, 680, 430

    def px(attitude: float) -> float:
        return left + (attitude + 1.0) / 2.0 * (right - left)

    def py(loyalty: float) -> float:
        return bottom - loyalty * (bottom - top)

    split_x, split_y = px(data.attitude_split), py(data.loyalty_split)
    body = [f"<g {FONT}>"]
    shades = {
        Quadrant.TRAPPED: (left, top, split_x - left, split_y - top, "#fdecea"),
        Quadrant.DELIGHTED: (split_x, top, right - split_x, split_y - top, "#e9f6ec"),
        Quadrant.DRIFTING: (left, split_y, split_x - left, bottom - split_y, "#f2f2f2"),
        Quadrant.LATENT: (split_x, split_y, right - split_x, bottom - split_y, "#eaf0f8"),
    }
    for quadrant, (x, y, w, h, fill) in shades.items():
        body.append(element("rect", x=x, y=y, width=w, height=h, fill=fill, data_quadrant=quadrant))
    if data.sampled:
        body.extend(_density(data.density, left, top, right - left, bottom - top))
    body.append(element("line", x1=split_x, y1=top, x2=split_x, y2=bottom, stroke="#999"))
    body.append(element("line", x1=left, y1=split_y, x2=right, y2=split_y, stroke="#999"))
    labels = {
        Quadrant.TRAPPED: (left + 8, top + 18, "start"),
        Quadrant.DELIGHTED: (right - 8, top + 18, "end"),
        Quadrant.DRIFTING: (left + 8, bottom - 8, "start"),
        Quadrant.LATENT: (right - 8, bottom - 8, "end"),
    }
    for quadrant, (x, y, anchor) in labels.items():
        count = data.quadrants.get(quadrant, 0)
        body.append(
            text(
                x,
                y,
                f"{quadrant.value.capitalize()}: {count}",
                text_anchor=anchor,
                font_weight="bold",
                font_size=14,
                data_quadrant_label=quadrant,
            )
        )
    body.append(
        element(
            "rect", x=left, y=top, width=right - left, height=bottom - top, fill="none", stroke=INK
        )
    )
    for tick in (-1.0, -0.5, 0.0, 0.5, 1.0):
        body.append(text(px(tick), bottom + 16, f"{tick:g}", text_anchor="middle"))
    for tick in (0.0, 0.5, 1.0):
        body.append(text(left - 6, py(tick) + 4, f"{tick:g}", text_anchor="end"))
    body.append(
        text((left + right) / 2, bottom + 40, "attitude: how they feel →", text_anchor="middle")
    )
    body.append(
        text(
            16,
            (top + bottom) / 2,
            "behavioural loyalty: how they buy →",
            text_anchor="middle",
            transform=f"rotate(-90 16 {(top + bottom) / 2})",
        )
    )
    where = {dot.person_id: (px(dot.attitude), py(dot.loyalty)) for dot in data.dots}
    for pair in data.pairs:
        if pair.delighted in where and pair.trapped in where:
            (x1, y1), (x2, y2) = where[pair.delighted], where[pair.trapped]
            body.append(
                element(
                    "line",
                    title(
                        f"same purchase behaviour, opposite feelings: "
                        f"{pair.delighted} and {pair.trapped}"
                    ),
                    x1=x1,
                    y1=y1,
                    x2=x2,
                    y2=y2,
                    stroke=INK,
                    stroke_dasharray="4 3",
                    data_pair=f"{pair.delighted} {pair.trapped}",
                )
            )
    radius = 4.5 if len(data.dots) <= 500 else 2.5
    for dot in data.dots:
        x, y = where[dot.person_id]
        circle = element(
            "circle",
            title(f"{dot.label}: {dot.segment}, health {dot.health:g}, {dot.quadrant.value}"),
            id=f"dot-{dot.person_id}",
            cx=x,
            cy=y,
            r=radius,
            fill=colour(dot.segment),
            stroke="#fff",
            stroke_width=0.8,
            data_quadrant=dot.quadrant,
            data_segment=dot.segment,
        )
        body.append(
            element("a", circle, href=f"#person-{dot.person_id}")
            if dot.person_id in pages
            else circle
        )
    body.append("</g>")
    label = "Loyalty map: " + ", ".join(f"{q.value} {data.quadrants.get(q, 0)}" for q in Quadrant)
    return svg("loyalty-map", width, height, label, body)


def _density(
    grid: list[list[int]], left: float, top: float, width: float, height: float
) -> list[str]:
    peak = max((max(row) for row in grid), default=0)
    if peak == 0:
        return []
    rows, columns = len(grid), len(grid[0])
    cell_w, cell_h = width / columns, height / rows
    return [
        element(
            "rect",
            x=left + c * cell_w,
            y=top + r * cell_h,
            width=cell_w,
            height=cell_h,
            fill="#3b4cc0",
            fill_opacity=0.08 + 0.6 * count / peak,
            data_density=count,
        )
        for r, row in enumerate(grid)
        for c, count in enumerate(row)
        if count
    ]


def health_histogram(data: HealthSummary, healthy_from: float, watch_from: float) -> str:
    """Consenting persons per tenth of health, the band thresholds marked."""
    width, height, left, bottom, top = 460, 240, 40, 200, 20
    bar_w = (width - left - 10) / 10
    peak = max(data.bins) or 1
    body = [f"<g {FONT}>"]
    for index, count in enumerate(data.bins):
        h = (bottom - top) * count / peak
        fill = (
            "#1a9850"
            if index * 10 >= healthy_from
            else ("#f0b43c" if index * 10 >= watch_from else "#d73027")
        )
        body.append(
            element(
                "rect",
                title(f"health {index * 10}-{index * 10 + 10}: {count}"),
                x=left + index * bar_w + 2,
                y=bottom - h,
                width=bar_w - 4,
                height=h,
                fill=fill,
            )
        )
        if count:
            body.append(
                text(left + (index + 0.5) * bar_w, bottom - h - 4, str(count), text_anchor="middle")
            )
        body.append(text(left + index * bar_w, bottom + 16, str(index * 10), text_anchor="middle"))
    body.append(text(left + 10 * bar_w, bottom + 16, "100", text_anchor="middle"))
    for threshold in (watch_from, healthy_from):
        x = left + threshold / 10 * bar_w
        body.append(
            element("line", x1=x, y1=top, x2=x, y2=bottom, stroke=INK, stroke_dasharray="3 3")
        )
    body.append(text(left + 5 * bar_w, bottom + 34, "health (0-100)", text_anchor="middle"))
    body.append("</g>")
    return svg("health", width, height, f"Health of {sum(data.bins)} persons", body)


def segment_bars(data: SegmentMovement) -> str:
    """Persons per segment now, with the change since the previous profiling run."""
    segments = [s.value for s in Segment]
    width, row_h, left = 460, 26, 130
    height = row_h * len(segments) + 20
    peak = max([*data.counts.values(), 1])
    body = [f"<g {FONT}>"]
    for index, segment in enumerate(segments):
        y = 10 + index * row_h
        count = data.counts.get(segment, 0)
        w = (width - left - 90) * count / peak
        body.append(text(left - 8, y + 15, segment.replace("_", " "), text_anchor="end"))
        body.append(
            element(
                "rect",
                title(f"{segment}: {count}"),
                x=left,
                y=y + 3,
                width=w,
                height=row_h - 8,
                fill=colour(segment),
                data_segment=segment,
            )
        )
        change = ""
        if data.baseline is not None:
            delta = count - data.before.get(segment, 0)
            change = f" ({delta:+d})" if delta else " (=)"
        body.append(text(left + w + 6, y + 15, f"{count}{change}"))
    body.append("</g>")
    return svg("segments", width, height, "Persons per segment", body)


def trend_chart(points: list[TrendPoint]) -> str:
    """Per week: the segments' shares as stacked bars, mean health as a line on top."""
    width, height, left, right, top, bottom = 700, 260, 40, 660, 20, 210
    body = [f"<g {FONT}>"]
    body.append(
        element(
            "rect", x=left, y=top, width=right - left, height=bottom - top, fill="none", stroke=GRID
        )
    )
    if not points:
        body.append(
            text(
                (left + right) / 2,
                (top + bottom) / 2,
                "no profiling run in this window yet",
                text_anchor="middle",
            )
        )
    step = (right - left) / max(len(points), 1)
    line: list[str] = []
    for index, point in enumerate(points):
        x = left + index * step
        y = float(bottom)
        for segment in Segment:
            share = point.shares.get(segment.value, 0.0)
            h = share * (bottom - top)
            if h > 0:
                body.append(
                    element(
                        "rect",
                        title(f"{point.week}: {segment.value} {share:.0%}"),
                        x=x + step * 0.15,
                        y=y - h,
                        width=step * 0.7,
                        height=h,
                        fill=colour(segment.value),
                        fill_opacity=0.55,
                    )
                )
            y -= h
        if point.mean_health is not None:
            hy = bottom - point.mean_health / 100 * (bottom - top)
            line.append(f"{x + step / 2:.1f},{hy:.1f}")
            body.append(
                element(
                    "circle",
                    title(f"{point.week}: mean health {point.mean_health}"),
                    cx=x + step / 2,
                    cy=hy,
                    r=4,
                    fill=INK,
                )
            )
        if len(points) <= 16 or index % max(1, len(points) // 12) == 0:
            body.append(
                text(x + step / 2, bottom + 16, point.week.strftime("%d %b"), text_anchor="middle")
            )
    if len(line) > 1:
        body.append(
            element("polyline", points=" ".join(line), fill="none", stroke=INK, stroke_width=2)
        )
    body.append(text(left - 6, top + 4, "100", text_anchor="end"))
    body.append(text(left - 6, bottom, "0", text_anchor="end"))
    body.append(
        text(
            (left + right) / 2,
            bottom + 36,
            "weekly: mean health (line, 0-100) and segment shares (bars)",
            text_anchor="middle",
        )
    )
    body.append("</g>")
    return svg("trend", width, height, f"Trend over {len(points)} weeks", body)


def emotion_grid(overall: dict[str, float], channels: list[ChannelMix]) -> str:
    """Mean intensity of each emotion, overall and per channel, as a shaded grid."""
    rows = [("all channels", sum(c.perceptions for c in channels), overall)]
    rows += [(c.channel, c.perceptions, c.emotions) for c in channels]
    left, top, cell_w, cell_h = 150, 30, 62, 24
    width, height = left + cell_w * len(EMOTION_KEYS) + 10, top + cell_h * len(rows) + 10
    peak = max([v for _, _, values in rows for v in values.values()] + [0.01])
    body = [f"<g {FONT}>"]
    for column, emotion in enumerate(EMOTION_KEYS):
        body.append(text(left + (column + 0.5) * cell_w, top - 10, emotion, text_anchor="middle"))
    for index, (name, count, values) in enumerate(rows):
        y = top + index * cell_h
        body.append(
            text(
                left - 8,
                y + 16,
                f"{name} ({count})",
                text_anchor="end",
                font_weight="bold" if index == 0 else None,
            )
        )
        for column, emotion in enumerate(EMOTION_KEYS):
            value = values.get(emotion, 0.0)
            body.append(
                element(
                    "rect",
                    title(f"{name}, {emotion}: {value:.2f}"),
                    x=left + column * cell_w + 1,
                    y=y + 1,
                    width=cell_w - 2,
                    height=cell_h - 2,
                    fill="#8e44ad",
                    fill_opacity=0.05 + 0.9 * value / peak,
                )
            )
            body.append(
                text(
                    left + (column + 0.5) * cell_w,
                    y + 16,
                    f"{value:.2f}",
                    text_anchor="middle",
                    fill="#fff" if value / peak > 0.5 else INK,
                )
            )
    body.append("</g>")
    return svg("emotions", width, height, "Emotion mix overall and per channel", body)


def peeves_chart(peeves: list[PeeveTopic]) -> str:
    """Topics by negative weight summed over persons, with persons and mentions."""
    width, row_h, left = 620, 24, 160
    height = row_h * max(len(peeves), 1) + 20
    peak = max([abs(p.negative_weight) for p in peeves] + [0.01])
    body = [f"<g {FONT}>"]
    if not peeves:
        body.append(
            text(
                width / 2,
                24,
                "no pet peeves: nobody keeps complaining about a topic",
                text_anchor="middle",
            )
        )
    for index, peeve in enumerate(peeves):
        y = 10 + index * row_h
        w = (width - left - 150) * abs(peeve.negative_weight) / peak
        body.append(text(left - 8, y + 14, peeve.topic, text_anchor="end"))
        body.append(
            element(
                "rect",
                title(f"{peeve.topic}: weight {peeve.negative_weight}"),
                x=left,
                y=y + 2,
                width=w,
                height=row_h - 6,
                fill="#d73027",
            )
        )
        body.append(
            text(left + w + 6, y + 14, f"{peeve.persons} persons, {peeve.mentions} mentions")
        )
    body.append("</g>")
    return svg("pet-peeves", width, height, "Pet peeves by topic", body)


def scores_chart(scores: ScoreRollups) -> str:
    """NPS answers 0-10 coloured by category, with the score; CSAT and CES favourable
    shares per scale."""
    nps = scores.nps
    width, height, left, bottom, top = 700, 200, 30, 150, 30
    bar_w = 24
    peak = max([*nps.histogram, 1])
    headline = (
        "NPS: no answers"
        if nps.score is None
        else f"NPS {nps.score:+.0f} ({nps.answers} answers, 0-10)"
    )
    body = [f"<g {FONT}>", text(left, 16, headline, font_weight="bold")]
    for value, count in enumerate(nps.histogram):
        h = (bottom - top) * count / peak
        fill = "#d73027" if value <= 6 else ("#f0b43c" if value <= 8 else "#1a9850")
        body.append(
            element(
                "rect",
                title(f"NPS {value}: {count}"),
                x=left + value * bar_w,
                y=bottom - h,
                width=bar_w - 3,
                height=h,
                fill=fill,
            )
        )
        body.append(
            text(
                left + value * bar_w + bar_w / 2 - 1, bottom + 14, str(value), text_anchor="middle"
            )
        )
    x0 = left + 11 * bar_w + 30
    y = 30
    for kind, rollups in (("CSAT", scores.csat), ("CES", scores.ces)):
        body.append(text(x0, y, kind, font_weight="bold"))
        y += 18
        if not rollups:
            body.append(text(x0, y, "no answers"))
            y += 22
        for rollup in rollups:
            share = rollup.favourable_share or 0.0
            body.append(element("rect", x=x0, y=y - 11, width=120, height=14, fill=GRID))
            body.append(
                element(
                    "rect",
                    title(f"{kind} {rollup.scale}: {share:.0%} favourable"),
                    x=x0,
                    y=y - 11,
                    width=120 * share,
                    height=14,
                    fill="#1a9850",
                )
            )
            body.append(text(x0 + 126, y, f"{share:.0%} ({rollup.scale}, n={rollup.answers})"))
            y += 22
    body.append(
        text(
            left,
            bottom + 36,
            "detractors 0-6, passives 7-8, promoters 9-10; "
            "CSAT favourable: top two boxes; CES: the easy end",
        )
    )
    body.append("</g>")
    return svg("scores", width, height, "NPS, CSAT and CES", body)
