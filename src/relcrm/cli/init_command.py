"""``relcrm init``: write a commented targets file to start from.

The file is assembled from the templates in ``relcrm/cli/templates/`` (shipped in the
package): the store, then one target per CRM asked for. Every key carries a comment
saying what it does, and the file loads as it is (a test holds both true).
"""

from __future__ import annotations

from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer

from relcrm.cli import ExitCode, _fail, app, err
from relcrm.errors import ConfigurationError

TEMPLATES = "relcrm.cli.templates"


class Crm(StrEnum):
    """The CRMs ``relcrm init`` has a target template for."""

    SALESFORCE = "salesforce"
    HUBSPOT = "hubspot"


def targets_template(crms: list[Crm] | None = None) -> str:
    """The commented targets file for ``crms`` (default: every one, Salesforce first)."""
    chosen = list(dict.fromkeys(crms or list(Crm)))
    folder = files(TEMPLATES)
    parts = [folder.joinpath("targets-head.toml").read_text(encoding="utf-8")]
    parts += [
        folder.joinpath(f"target-{crm.value}.toml").read_text(encoding="utf-8") for crm in chosen
    ]
    return "".join(parts)


@app.command("init")
def init_command(
    output: Annotated[Path, typer.Option("--out", "-o", help="The targets file to write.")] = Path(
        "relcrm.toml"
    ),
    crm: Annotated[
        list[Crm] | None,
        typer.Option(
            "--crm",
            help="A CRM to write a target for (repeatable) [default: salesforce and hubspot].",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the file if it exists.")
    ] = False,
) -> None:
    """Write a commented targets file (relcrm.toml) to start from.

    Every key says what it does. Fill in your CRM's settings, put the secrets in the
    environment or a secrets file (never in this file), then run `relcrm mapping check
    --config relcrm.toml`. An existing file is kept unless --force (exit code 2).
    """
    if output.exists() and not force:
        raise _fail(
            ConfigurationError(
                f"{output} exists: it is left as it is",
                hint="pass --force to overwrite it, or --out another file",
                code="init.file_exists",
            ),
            ExitCode.CONFIG,
        )
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(targets_template(crm), encoding="utf-8")
    except OSError as error:
        raise _fail(
            ConfigurationError(
                f"cannot write {output}: {error.strerror or error}",
                code="init.cannot_write",
            )
        ) from None
    err.print(
        f"wrote {output}: fill in your CRM's settings, then "
        f"`relcrm mapping check --config {output}`",
        highlight=False,
    )


__all__ = ["Crm", "init_command", "targets_template"]
