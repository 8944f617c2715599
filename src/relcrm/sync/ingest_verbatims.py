"""Redaction and analysis of staged perceptions, once per distinct verbatim.

:func:`relcrm.sources.interchange_columnar.stage_perceptions` stages perception lines as
typed rows with their verbatims as the lines give them. Before they are stored, every
verbatim is redacted and, where the perception carries no valence, read by the analyzer,
exactly as :func:`relcrm.sync.ingest_chunks.parse_chunk` does line by line. Feedback
repeats itself (templates, copied answers, "Thanks!"), so each distinct text is redacted
and analysed once and the result is joined back onto every row that holds it.

Call :func:`redact_staged` first, then :func:`analyse_staged`: the analyzer reads the
redacted text, as on the per-line path.
"""

from __future__ import annotations

from typing import Any, Final

from relcrm.analyze import DEFAULT as DEFAULT_REDACTION
from relcrm.analyze import RedactionConfig, redact
from relcrm.models.emotions import WHEEL
from relcrm.sources.interchange_columnar import Connection
from relcrm.sync.analysis import analyzer_for

_EMOTIONS: Final = tuple(emotion.value for emotion in WHEEL)
_FLAGS: Final = ("churn_intent", "sarcasm", "trapped")
_HAS_TEXT: Final = "verbatim IS NOT NULL AND verbatim <> ''"


def redact_staged(
    connection: Connection, table: str, redaction: RedactionConfig = DEFAULT_REDACTION
) -> dict[str, int]:
    """Redact the verbatims of ``table`` in place; return how many items of each kind
    were cut out, counted per perception (as the per-line path counts them), not per
    distinct text."""
    found = connection.execute(
        f"SELECT verbatim, count(*) FROM {table} WHERE {_HAS_TEXT} GROUP BY verbatim"
    ).fetchall()
    counts: dict[str, int] = {}
    originals: list[str] = []
    redacted: list[str] = []
    for text, rows in found:
        result = redact(text, redaction)
        if not result.total:
            continue  # the per-line path keeps such a perception as it is
        for kind, count in result.counts.items():
            counts[kind] = counts.get(kind, 0) + count * rows
        originals.append(text)
        redacted.append(result.text)
    if originals:
        mapping = f"{table}__redacted"
        connection.execute(
            f"CREATE OR REPLACE TEMP TABLE {mapping} AS "
            "SELECT unnest(?) AS original, unnest(?) AS redacted",
            [originals, redacted],
        )
        try:
            connection.execute(
                f"UPDATE {table} SET verbatim = m.redacted FROM {mapping} AS m "
                f"WHERE {table}.verbatim = m.original"
            )
        finally:
            connection.execute(f"DROP TABLE IF EXISTS {mapping}")
    return counts


def analyse_staged(connection: Connection, table: str, analyzer_name: str) -> list[int]:
    """Let the analyzer installed as ``analyzer_name`` read, once per distinct text, the
    verbatims of the rows without a valence (``text_to_analyze``), and merge its reading
    into them as ``with_analysis`` does. Returns the lines analysed, in order."""
    wanted = f"valence IS NULL AND {_HAS_TEXT}"
    lines = [
        line
        for (line,) in connection.execute(
            f"SELECT line FROM {table} WHERE {wanted} ORDER BY line"
        ).fetchall()
    ]
    if not lines:
        return lines
    analyze = analyzer_for(analyzer_name)
    texts = [
        text
        for (text,) in connection.execute(
            f"SELECT DISTINCT verbatim FROM {table} WHERE {wanted}"
        ).fetchall()
    ]
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "verbatim",
            "valence",
            "arousal",
            *(f"e_{key}" for key in _EMOTIONS),
            *_FLAGS,
            "confidence",
            "analyzer",
            "analyzer_version",
        )
    }
    for text in texts:
        reading = analyze(text)
        columns["verbatim"].append(text)
        columns["valence"].append(reading.valence)
        columns["arousal"].append(reading.arousal)
        for key in _EMOTIONS:
            columns[f"e_{key}"].append(getattr(reading.emotions, key))
        for key in _FLAGS:
            columns[key].append(getattr(reading.flags, key))
        columns["confidence"].append(reading.confidence)
        columns["analyzer"].append(reading.analyzer)
        columns["analyzer_version"].append(reading.analyzer_version)
    readings = f"{table}__readings"
    kinds = {"verbatim": "VARCHAR", "analyzer": "VARCHAR", "analyzer_version": "VARCHAR"}
    kinds.update({key: "BOOLEAN" for key in _FLAGS})
    selected = ", ".join(
        f"CAST(unnest(?) AS {kinds.get(name, 'DOUBLE')}) AS {name}" for name in columns
    )
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE {readings} AS SELECT {selected}", list(columns.values())
    )
    # As with_analysis: the source's arousal stays where it is stronger, a flag it set
    # stays set; the rest is the analyzer's reading, with its name and version.
    assignments = [
        "valence = r.valence",
        f"arousal = CASE WHEN {table}.arousal > r.arousal THEN {table}.arousal ELSE r.arousal END",
        *(f"e_{key} = r.e_{key}" for key in _EMOTIONS),
        *(f"{key} = {table}.{key} OR r.{key}" for key in _FLAGS),
        "confidence = r.confidence",
        "analyzer = r.analyzer",
        "analyzer_version = r.analyzer_version",
    ]
    try:
        connection.execute(
            f"UPDATE {table} SET {', '.join(assignments)} FROM {readings} AS r "
            f"WHERE {table}.verbatim = r.verbatim AND {table}.valence IS NULL"
        )
    finally:
        connection.execute(f"DROP TABLE IF EXISTS {readings}")
    return lines
