"""``relcrm voice link`` and ``relcrm voice serve``: the customer's feedback and preference
page, thin over :mod:`relcrm.voice` (docs/voice.md)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from relcrm.analyze import DEFAULT_ANALYZER
from relcrm.cli import StoreOption, _fail, app, err, out, require_store
from relcrm.errors import RelcrmError
from relcrm.store import Store
from relcrm.sync.analysis import analyzer_for, check_analyzer
from relcrm.sync.config import load_config
from relcrm.sync.engine import ExitCode
from relcrm.sync.jobs import store_url_of
from relcrm.voice import LinkSigner, VoiceSettings, create_app, issue_link, parse_duration, serve

voice_app = typer.Typer(
    help="The customer's feedback and preference page: issue signed links, serve the page.",
    no_args_is_help=True,
)
app.add_typer(voice_app, name="voice")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="The targets file, for its [store] (or give --store; default ./relcrm.db).",
    ),
]


class Purpose(StrEnum):
    feedback = "feedback"
    preferences = "preferences"


def _store_url(config: Path | None, store: str | None) -> str:
    loaded = load_config(config) if config is not None else None
    return store_url_of(loaded, store)


@voice_app.command("link")
def link_command(
    person_id: Annotated[
        str,
        typer.Argument(metavar="PERSON_ID", help="relcrm's id of the person.", show_default=False),
    ],
    ttl: Annotated[
        str | None,
        typer.Option(
            "--ttl",
            help="How long the link works: 14d, 48h, 2w [default: $RELCRM_VOICE_LINK_TTL or 14d].",
        ),
    ] = None,
    purpose: Annotated[
        Purpose,
        typer.Option(
            "--purpose",
            help="feedback (a score, a comment and preferences; answered once) or "
            "preferences (the preferences alone, changed as often as wanted).",
        ),
    ] = Purpose.feedback,
    config: ConfigOption = None,
    store: StoreOption = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="One JSON object, for machines.")
    ] = False,
) -> None:
    """Print a signed, expiring link to the page for PERSON_ID. The link holds an opaque
    id, never an address; who it is for stays in the store."""
    require_store(config, store)
    try:
        settings = VoiceSettings()
        lifetime = parse_duration(ttl) if ttl is not None else settings.link_lifetime()
        signer = LinkSigner(settings.signing_keys())
        with Store.open(_store_url(config, store)) as opened:
            issued = issue_link(
                opened,
                signer,
                person_id,
                purpose=purpose.value,
                ttl=lifetime,
                base_url=settings.base_url,
                now=datetime.now(UTC),
            )
    except RelcrmError as error:
        raise _fail(error, ExitCode.CONFIG) from None
    if json_output:
        record = {
            "url": issued.url,
            "purpose": issued.link.purpose,
            "expires_at": issued.link.expires_at.isoformat().replace("+00:00", "Z"),
        }
        sys.stdout.write(json.dumps(record) + "\n")
        return
    out.print(issued.url, markup=False, highlight=False, soft_wrap=True)
    err.print(
        f"{purpose.value} link, valid until {issued.link.expires_at:%Y-%m-%d %H:%M} UTC",
        markup=False,
        highlight=False,
    )


@voice_app.command("serve")
def serve_command(
    config: ConfigOption = None,
    store: StoreOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")
    ] = 8040,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            help="The reverse proxy's addresses (comma-separated): only their "
            "X-Forwarded-For/-Proto are believed. Leave out when nothing proxies.",
        ),
    ] = None,
) -> None:
    """Serve the page (plain HTTP, meant to sit behind a reverse proxy that terminates TLS;
    docs/voice.md). Ctrl-C or SIGTERM stops it."""
    require_store(config, store)
    try:
        settings = VoiceSettings()
        name = settings.analyzer or DEFAULT_ANALYZER
        if name != "none":
            check_analyzer(name)
        analyzer = None if name == "none" else analyzer_for(name)
        opened = Store.open(_store_url(config, store))
    except RelcrmError as error:
        raise _fail(error, ExitCode.CONFIG) from None
    try:
        page = create_app(opened, settings, analyzer=analyzer)
        err.print(
            f"relcrm voice: serving on http://{host}:{port} for {settings.base_url} "
            "(Ctrl-C stops it)",
            markup=False,
            highlight=False,
        )
        serve(page, host=host, port=port, forwarded_allow_ips=forwarded_allow_ips)
    except RelcrmError as error:
        raise _fail(error, ExitCode.CONFIG) from None
    finally:
        opened.close()
