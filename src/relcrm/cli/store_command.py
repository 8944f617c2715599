"""``relcrm store``: where the store keeps its perceptions (docs/scale.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relcrm.cli import JsonOption, StoreOption, _fail, _store_url, app, out, require_store
from relcrm.errors import RelcrmError
from relcrm.store import Store

store_app = typer.Typer(
    help="The store's perception layout: a table (default) or Parquet segments.",
    no_args_is_help=True,
)
app.add_typer(store_app, name="store")


@store_app.command("info")
def info(store: StoreOption = None, json_output: JsonOption = False) -> None:
    """Say where the store keeps its perceptions, and how many."""
    require_store(None, store)
    try:
        with Store.open(_store_url(store)) as opened:
            segments = opened.perception_segments
            figures = {
                "store": opened.url,
                "perception_layout": opened.perception_layout,
                "segments_folder": None if segments is None else str(segments.folder),
                "segments": None if segments is None else len(segments.manifest().segments),
                "perceptions": opened.count_perceptions(),
                "persons": opened.count_persons(),
            }
    except RelcrmError as error:
        raise _fail(error) from error
    if json_output:
        out.print(json.dumps(figures), markup=False, highlight=False)
        return
    for key, value in figures.items():
        if value is not None:
            out.print(f"{key.replace('_', ' ')}: {value}", markup=False, highlight=False)


@store_app.command("segments")
def use_segments(
    store: StoreOption = None,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--folder",
            help="Where the segments go [default: beside a SQLite file, DB.perceptions]; "
            "required for PostgreSQL: a folder every machine running relcrm can reach.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Keep the store's perceptions in Parquet segments from now on (moves those stored).

    Ingest then writes a million perceptions in seconds and `relcrm profile --engine
    duckdb` reads them as columns. Needs the extra: pip install 'relcrm[columnar]'.
    Safe to run again after an interruption; `relcrm store table` moves them back.
    Run it while nothing else writes to the store.
    """
    try:
        with Store.open(_store_url(store)) as opened:
            if opened.perception_layout == "segments":
                segments = opened.perception_segments
                assert segments is not None
                out.print(f"already in segments: {segments.folder}", markup=False)
                return
            moved = opened.use_perception_segments(folder)
            segments = opened.perception_segments
            assert segments is not None
            out.print(
                f"perceptions now kept in {segments.folder} ({moved} moved from the table)",
                markup=False,
                highlight=False,
            )
    except RelcrmError as error:
        raise _fail(error) from error


@store_app.command("table")
def use_table(store: StoreOption = None) -> None:
    """Keep the store's perceptions in its database table again (moves them out of the
    segments, then deletes the segment files).

    For a store going back to a machine without DuckDB, or one small enough that the
    table suits it better. Run it while nothing else writes to the store.
    """
    require_store(None, store)
    try:
        with Store.open(_store_url(store)) as opened:
            if opened.perception_layout == "table":
                out.print("already in the table", markup=False)
                return
            moved = opened.use_perception_table()
    except RelcrmError as error:
        raise _fail(error) from error
    out.print(
        f"perceptions now kept in the store's table ({moved} moved from the segments)",
        markup=False,
        highlight=False,
    )
