"""``relcrm mapping preview``: what the next sync writes for given persons, per field.

Thin over :func:`relcrm.sync.preview.preview_persons`: it reads the targets file and the
store, never a CRM, so an admin can look before a sync (or instead of one).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from relcrm.cli import (
    ConfigOption,
    ExitCode,
    JsonOption,
    StoreOption,
    TargetOption,
    _fail,
    err,
    mapping_app,
    out,
)
from relcrm.errors import RelcrmError
from relcrm.store import Store
from relcrm.sync.config import load_config
from relcrm.sync.jobs import store_url_of
from relcrm.sync.preview import FieldState, PersonPreview, preview_persons

_COLOURS = {
    FieldState.SEND: "green",
    FieldState.UNCHANGED: "dim",
    FieldState.WITHHELD: "red",
    FieldState.CLEAR: "yellow",
    FieldState.NOT_SENT: "yellow",
}


def _shown(value: object) -> str:
    return "(empty)" if value is None else json.dumps(value, ensure_ascii=False)


def _table(preview: PersonPreview) -> Table:
    table = Table(
        title=f"{preview.target}: {preview.person_id} ({preview.action.value})",
        title_justify="left",
    )
    for column in ("field", "source", "value", "state", "last written", "note"):
        table.add_column(column, overflow="fold")
    for item in preview.fields:
        note = "; ".join(part for part in (item.cut, item.reason) if part)
        colour = _COLOURS[item.state]
        table.add_row(
            escape(item.field),
            escape(item.source),
            escape(_shown(item.value)),
            f"[{colour}]{item.state.value}[/]",
            item.last_written.value,
            escape(note),
        )
    return table


@mapping_app.command("preview")
def mapping_preview(
    config: ConfigOption,
    person_ids: Annotated[
        list[str],
        typer.Argument(metavar="PERSON_ID", help="The relcrm ids of the persons to look at."),
    ],
    target: TargetOption = None,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show what the next sync writes for these persons, field by field. Changes nothing.

    Per target and person: each field's value as the CRM would store it
    (after transforms and coercion; a cut text says so), whether it differs
    from what relcrm last wrote, and why a field would not be sent (no
    consent, no profile, a value the field cannot take). Reads the store,
    never a CRM.

    Exit codes: 0 every id previewed, 2 an id is not in the store (the
    others are previewed) or a configuration error.
    """
    try:
        loaded = load_config(config)
        targets = loaded.select(target)
        opened = Store.open(store_url_of(loaded, store))
    except RelcrmError as error:
        raise _fail(error, ExitCode.CONFIG) from None
    worst = ExitCode.OK
    with opened:
        for item in targets:
            result = preview_persons(opened, item.mapping, person_ids, target=item.name)
            for unknown in result.unknown:
                err.print(f"[bold red]error[/] {escape(str(unknown))}", highlight=False)
                worst = ExitCode(max(worst, unknown.exit_code))
            for person in result.persons:
                if json_output:
                    sys.stdout.write(json.dumps(person.to_json(), ensure_ascii=False) + "\n")
                else:
                    out.print(_table(person))
    raise typer.Exit(int(worst))


__all__ = ["mapping_preview"]
