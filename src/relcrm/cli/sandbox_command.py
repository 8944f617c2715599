"""``relcrm sandbox salesforce|hubspot|dataverse|zoho``: a local CRM emulator in the
foreground, and with ``--write-config DIR`` a ready targets file and env file for it, so
that every command of the docs runs against it as pasted.

The targets file is the ordinary kind (``relcrm.sync.config``): its secrets are not in it
but in a ``secrets_file`` per target holding ``RELCRM_<CONNECTOR>_*`` variables, the same
mechanism a deployment uses. All four sandboxes may write into one folder: each rewrites
its own target and keeps the others', so ``relcrm.toml`` names every sandbox started there.
Each writes one target, its CRM's shipped contact mapping, which falls back to leads
(Salesforce, Dataverse, Zoho), so every person the CRM holds is written.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from relcrm.cli import ExitCode, _fail, app
from relcrm.errors import ConfigurationError, RelcrmError
from relcrm.models import Person
from relcrm.sources.interchange import load_interchange
from relcrm.sync.config import env_name

if TYPE_CHECKING:  # the sandboxes (starlette, uvicorn) load only when one is started
    from relcrm.sandbox.dataverse import DataverseSandbox
    from relcrm.sandbox.hubspot import HubSpotSandbox
    from relcrm.sandbox.salesforce import SalesforceSandbox
    from relcrm.sandbox.zoho import LimitsConfig, ZohoSandbox

sandbox_app = typer.Typer(
    help="Local emulators of CRM APIs (real servers on 127.0.0.1) to test integrations on: "
    "Salesforce, HubSpot, Dataverse (Dynamics 365) and Zoho CRM.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")

TARGETS_FILE = "relcrm.toml"
"""The targets file ``--write-config`` writes, as the docs name it."""

MARKER = "# written by `relcrm sandbox ... --write-config`"
"""The targets file's first line: a file without it is the user's, and never overwritten."""

STORE_FILE = "relcrm.db"


@dataclass(frozen=True)
class SandboxTarget:
    """What one sandbox contributes to the folder: its target, its secrets, its CA."""

    connector: str
    name: str
    mapping: str
    settings: dict[str, str | int | float]
    secrets: dict[str, str]
    ca_file: Path


COMMENTS: Mapping[str, str] = {
    "name": "--target NAME",
    "connector": "the sandbox's CRM",
    "secrets_file": "this sandbox's secrets (dotenv), next to this file",
    "username": "the integration user: `fields apply` grants it the fields",
    "mapping": "a mapping shipped with relcrm (docs/admin.md)",
    "auth_flow": "log in with the session id from the secrets file",
    "instance_url": "this sandbox (a new port at each start)",
    "base_url": "this sandbox (a new port at each start)",
    "ca_file": "the sandbox's own CA: TLS stays verified",
    "rate_limit_max": "requests per window, as the sandbox enforces them",
    "rate_limit_window_ms": "the window, in milliseconds",
    "rate_limit_window_s": "the window, in seconds",
    "environment_url": "this sandbox's Web API host (a new port at each start)",
    "authority_url": "its token endpoint's host, instead of login.microsoftonline.com",
    "tenant_id": "the sandbox's directory (tenant)",
    "client_id": "the app registration; its secret is in the secrets file",
    "accounts_url": "the sandbox's accounts server (tokens; a new port at each start)",
    "api_domain": "the sandbox's API domain (the same server)",
    "edition": "the org's edition, as the sandbox enforces its limits",
    "licences": "user licences: credits per day grow with them",
    "credits_per_day": "API credits per rolling 24 hours, as the sandbox counts them",
}


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def _line(key: str, value: object) -> str:
    text = f"{key} = {_toml_value(value)}"
    comment = COMMENTS.get(key)
    return f"{text:<40} # {comment}" if comment else text


def _render(targets: list[dict[str, Any]]) -> str:
    lines = [
        MARKER,
        "# for the sandboxes started on this folder; rewritten whenever one starts, and",
        "# valid while they run (each start has a new port, CA and session).",
        "# No secrets here: each target's secrets_file holds its RELCRM_<CONNECTOR>_*",
        "# variables. For a real CRM, start from `relcrm init` instead.",
        "",
        "[store]",
        _line("url", STORE_FILE) + "  # a SQLite file next to this one",
    ]
    for target in targets:
        lines += ["", "[[targets]]"]
        for key in ("name", "connector", "mapping", "secrets_file"):
            if key in target:
                lines.append(_line(key, target[key]))
        settings = target.get("settings") or {}
        if settings:
            lines += ["", "[targets.settings]"]
            lines += [_line(key, value) for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def _write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename, with ``mode``."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        if hasattr(os, "fchmod"):  # exactly ``mode``: a leftover file would keep its own
            os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Two sandboxes starting together on one folder take turns at its targets file."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; starting them one by one is enough
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _other_targets(path: Path, connector: str) -> list[dict[str, Any]]:
    """The targets of an earlier sandbox file in ``path`` for other connectors."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    if not text.startswith(MARKER):
        raise ConfigurationError(
            f"{path} exists and was not written by a sandbox: it is left as it is",
            hint="give --write-config another folder, or move that file away",
            code="sandbox.config_exists",
        )
    try:
        targets = tomllib.loads(text).get("targets", [])
    except tomllib.TOMLDecodeError:
        return []  # our own file, damaged: write it afresh
    return [t for t in targets if isinstance(t, dict) and t.get("connector") != connector]


def write_config(folder: Path, target: SandboxTarget) -> list[Path]:
    """Write the sandbox's CA, its secrets file and the targets file into ``folder``;
    the paths written. Other sandboxes' targets in the folder's targets file are kept."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ca_copy = folder / f"{target.connector}-sandbox-ca.pem"
        shutil.copyfile(target.ca_file, ca_copy)
        secrets = folder / f"{target.connector}.env"
        variables = "".join(f"{key}={value}\n" for key, value in target.secrets.items())
        _write_atomic(
            secrets,
            f"# secrets for the {target.connector} sandbox, written by `relcrm sandbox "
            f"{target.connector} --write-config`;\n# relcrm.toml names this file as the "
            "target's secrets_file (dotenv format)\n" + variables,
            mode=0o600,
        )
        entry: dict[str, Any] = {
            "name": target.name,
            "connector": target.connector,
            "mapping": target.mapping,
            "secrets_file": secrets.name,
            "settings": {**target.settings, "ca_file": ca_copy.name},
        }
        targets_file = folder / TARGETS_FILE
        with _folder_lock(folder):
            others = _other_targets(targets_file, target.connector)
            ordered = sorted([*others, entry], key=lambda t: str(t.get("connector")), reverse=True)
            _write_atomic(targets_file, _render(ordered))
    except OSError as error:
        raise ConfigurationError(
            f"cannot write the sandbox's configuration into {folder}: {error.strerror or error}",
            hint="give --write-config a folder you may write to",
            code="sandbox.config_unwritable",
        ) from None
    return [targets_file, secrets, ca_copy]


def salesforce_target(sandbox: SalesforceSandbox) -> SandboxTarget:
    """The Salesforce sandbox as a target: the session-id flow on its instance URL."""
    return SandboxTarget(
        connector="salesforce",
        name="salesforce-contact",
        mapping="salesforce-contact",
        settings={
            "auth_flow": "session_id",
            "instance_url": sandbox.instance_url,
            "username": sandbox.username,
        },
        secrets={env_name("salesforce", "session_id"): sandbox.session_id},
        ca_file=sandbox.ca_file,
    )


def hubspot_target(sandbox: HubSpotSandbox) -> SandboxTarget:
    """The HubSpot sandbox as a target: its URL, its private-app token, its rate limit."""
    limits = sandbox.limiter.limits
    return SandboxTarget(
        connector="hubspot",
        name="hubspot-contact",
        mapping="hubspot-contact",
        settings={
            "base_url": sandbox.base_url,
            "rate_limit_max": limits.max_per_window,
            "rate_limit_window_ms": limits.window_ms,
        },
        secrets={env_name("hubspot", "access_token"): sandbox.token},
        ca_file=sandbox.ca_file,
    )


def dataverse_target(sandbox: DataverseSandbox) -> SandboxTarget:
    """The Dataverse sandbox as a target: its environment and token endpoint (one server),
    its app registration (the secret in the secrets file), its service protection limit."""
    limits = sandbox.protection.limits
    return SandboxTarget(
        connector="dataverse",
        name="dataverse-contact",
        mapping="dataverse-contact",
        settings={
            "environment_url": sandbox.environment_url,
            "authority_url": sandbox.authority_url,
            "tenant_id": sandbox.tenant_id,
            "client_id": sandbox.client_id,
            "rate_limit_max": limits.requests,
            "rate_limit_window_s": limits.window_s,
        },
        secrets={env_name("dataverse", "client_secret"): sandbox.client_secret},
        ca_file=sandbox.ca_file,
    )


def zoho_target(sandbox: ZohoSandbox) -> SandboxTarget:
    """The Zoho sandbox as a target: its accounts server and API domain, its edition's
    limits; the OAuth client and refresh token in the secrets file."""
    limits = sandbox.limits.config
    settings: dict[str, str | int | float] = {
        **sandbox.target_settings(),
        "edition": limits.edition,
        "licences": limits.licences,
    }
    if limits.credits is not None:
        settings["credits_per_day"] = limits.credits
    return SandboxTarget(
        connector="zoho",
        name="zoho-contact",
        mapping="zoho-contact",
        settings=settings,
        secrets=sandbox.target_secrets(),
        ca_file=sandbox.ca_file,
    )


def _persons(contacts: Path) -> list[Person]:
    loaded = load_interchange(contacts)
    if not loaded.persons and loaded.rejections:
        raise ConfigurationError(
            f"{contacts}: no person could be read ({loaded.rejections[0].error.message})",
            hint="give an interchange file, e.g. one written by `relcrm sample`",
            code="sandbox.bad_contacts",
        )
    return [person for person in loaded.persons if person.emails]


def _seed_salesforce(sandbox: SalesforceSandbox, contacts: Path) -> str:
    from relcrm.testing.salesforce import OrgRest, seed_org

    created, _ = seed_org(OrgRest(sandbox), _persons(contacts))
    return (
        f"seeded from {contacts}: {created.get('Contact', 0)} contacts, "
        f"{created.get('Lead', 0)} leads (the records the org already holds)"
    )


def _seed_hubspot(sandbox: HubSpotSandbox, contacts: Path) -> str:
    from relcrm.testing.hubspot import hubspot_connector, seed_portal

    created = seed_portal(hubspot_connector(sandbox).client.sdk, _persons(contacts))
    return f"seeded from {contacts}: {created} contacts (the records the portal already holds)"


def _seed_dataverse(sandbox: DataverseSandbox, contacts: Path) -> str:
    from relcrm.testing.dataverse import seed_environment

    created = seed_environment(sandbox, _persons(contacts))
    return (
        f"seeded from {contacts}: {created.get('contact', 0)} contacts, "
        f"{created.get('lead', 0)} leads (the records the environment already holds)"
    )


def _seed_zoho(sandbox: ZohoSandbox, contacts: Path) -> str:
    from relcrm.testing.zoho import seed_org

    created = seed_org(sandbox, _persons(contacts))
    return (
        f"seeded from {contacts}: {created.get('Contacts', 0)} Contacts, "
        f"{created.get('Leads', 0)} Leads (the records the org already holds)"
    )


def _notes(written: Iterable[Path], seeded: str | None) -> list[str]:
    lines = [seeded] if seeded else []
    paths = list(written)
    if paths:
        lines.append("wrote:           " + ", ".join(str(p) for p in paths))
        lines.append(f"try:             relcrm mapping check --config {paths[0]}")
    return lines


def _check_file(path: Path | None, option: str) -> None:
    if path is not None and not path.is_file():
        raise _fail(
            ConfigurationError(f"{option}: no such file: {path}", code="sandbox.no_such_file")
        )


def _faults_checked(faults: Path | None) -> None:
    _check_file(faults, "--faults")
    if faults is None:
        return
    from relcrm.sandbox._faults import FaultPlan

    try:
        FaultPlan.from_file(faults)
    except (OSError, ValidationError) as error:
        raise _fail(
            ConfigurationError(
                f"--faults {faults}: not a fault plan: {error}",
                hint="see docs/sandboxes.md, Fault plans",
                code="sandbox.bad_fault_plan",
            )
        ) from None


def _serve(start: Any) -> None:
    """Run ``start()`` (a sandbox's serve_forever); configuration errors exit 2."""
    try:
        start()
    except KeyboardInterrupt:  # stopped while starting: as clean as stopping later
        return
    except RelcrmError as error:
        raise _fail(error, ExitCode.CONFIG) from None


PortOption = Annotated[int | None, typer.Option(help="Port [default: a free one].")]
LatencyOption = Annotated[int, typer.Option(min=0, help="Added to every answer.")]
WriteConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--write-config",
        help="Write relcrm.toml (a targets file for this sandbox; other sandboxes' targets "
        "in it are kept), CONNECTOR.env with the secrets it refers to, and the sandbox's CA "
        "into this folder.",
        metavar="DIR",
    ),
]
ContactsOption = Annotated[
    Path | None,
    typer.Option(
        "--contacts",
        help="Create a contact for every person with an email in this interchange file "
        "(e.g. from `relcrm sample`), as the records the CRM already holds.",
        metavar="FILE",
    ),
]


@sandbox_app.command("salesforce")
def sandbox_salesforce(
    port: PortOption = None,
    latency_ms: LatencyOption = 0,
    faults: Annotated[
        Path | None, typer.Option(help="Fault plan (JSON): 503s, lock errors, drops, expiry.")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Keep the org's records in this SQLite file.")
    ] = None,
    write_config_to: WriteConfigOption = None,
    contacts: ContactsOption = None,
) -> None:
    """Run the Salesforce sandbox (HTTPS, with its own CA) until Ctrl-C or SIGTERM.

    Prints the instance URL, the CA file to trust and the credentials to use. Its key
    files are deleted when it stops. Exit code 2 when the port is taken or a file is bad.
    """
    from relcrm.sandbox.salesforce import serve_forever

    _faults_checked(faults)
    _check_file(contacts, "--contacts")

    def ready(sandbox: SalesforceSandbox) -> list[str]:
        seeded = _seed_salesforce(sandbox, contacts) if contacts is not None else None
        written = (
            write_config(write_config_to, salesforce_target(sandbox))
            if write_config_to is not None
            else []
        )
        return _notes(written, seeded)

    _serve(lambda: serve_forever(port, latency_ms, faults, data, ready=ready))


@sandbox_app.command("hubspot")
def sandbox_hubspot(
    port: PortOption = None,
    latency_ms: LatencyOption = 0,
    rate_limit: Annotated[
        str, typer.Option(help="Requests per rolling window per token, e.g. 100/10s or 190/10s.")
    ] = "100/10s",
    faults: Annotated[
        Path | None, typer.Option(help="Fault plan (JSON): 5xx, drops, per-input failures.")
    ] = None,
    write_config_to: WriteConfigOption = None,
    contacts: ContactsOption = None,
) -> None:
    """Run the HubSpot sandbox (HTTPS, with its own CA) until Ctrl-C or SIGTERM.

    Prints the base URL, the CA file to trust and a private-app token. Its key files are
    deleted when it stops. Exit code 2 when the port is taken or a file is bad.
    """
    from relcrm.sandbox.hubspot import serve_forever
    from relcrm.sandbox.hubspot.ratelimit import RateLimits

    try:
        RateLimits.parse(rate_limit)
    except ValueError as error:
        raise _fail(ConfigurationError(str(error), code="sandbox.bad_rate_limit")) from None
    _faults_checked(faults)
    _check_file(contacts, "--contacts")

    def ready(sandbox: HubSpotSandbox) -> list[str]:
        seeded = _seed_hubspot(sandbox, contacts) if contacts is not None else None
        written = (
            write_config(write_config_to, hubspot_target(sandbox))
            if write_config_to is not None
            else []
        )
        return _notes(written, seeded)

    _serve(lambda: serve_forever(port, latency_ms, rate_limit, faults, ready=ready))


def _rate_limit_checked(rate_limit: str) -> None:
    """A Dataverse ``--rate-limit`` that parses, with at least one request per window."""
    from relcrm.sandbox.dataverse import ServiceLimits

    try:
        limits = ServiceLimits.parse(rate_limit)
        if limits.requests < 1 or limits.window_s <= 0:
            raise ValueError(f"rate limit {rate_limit!r}: needs at least 1 request per window")
    except ValueError as error:
        raise _fail(ConfigurationError(str(error), code="sandbox.bad_rate_limit")) from None


@sandbox_app.command("dataverse")
def sandbox_dataverse(
    port: PortOption = None,
    latency_ms: LatencyOption = 0,
    rate_limit: Annotated[
        str,
        typer.Option(
            help="Service protection limit: requests per window per user, e.g. 6000/300s "
            "(Dataverse's) or 100/10s."
        ),
    ] = "6000/300s",
    faults: Annotated[
        Path | None,
        typer.Option(help="Fault plan (JSON): 503s, drops, deadlocks, token expiry."),
    ] = None,
    write_config_to: WriteConfigOption = None,
    contacts: ContactsOption = None,
) -> None:
    """Run the Dataverse (Dynamics 365) sandbox (HTTPS, with its own CA) until Ctrl-C or SIGTERM.

    One server plays the Entra ID token endpoint and the environment's Web API. Prints
    the environment URL, the CA file to trust and an app registration (client id and
    secret). Its key files are deleted when it stops. Exit code 2 when the port is taken
    or a file or the rate limit is bad.
    """
    from relcrm.sandbox.dataverse import serve_forever

    _rate_limit_checked(rate_limit)
    _faults_checked(faults)
    _check_file(contacts, "--contacts")

    def ready(sandbox: DataverseSandbox) -> list[str]:
        seeded = _seed_dataverse(sandbox, contacts) if contacts is not None else None
        written = (
            write_config(write_config_to, dataverse_target(sandbox))
            if write_config_to is not None
            else []
        )
        return _notes(written, seeded)

    _serve(lambda: serve_forever(port, latency_ms, rate_limit, faults, ready=ready))


class ZohoEdition(StrEnum):
    """Zoho CRM's editions: each sets an org's credits per 24 hours and concurrency."""

    FREE = "free"
    STANDARD = "standard"
    PROFESSIONAL = "professional"
    ENTERPRISE = "enterprise"
    ULTIMATE = "ultimate"


def _zoho_limits(
    edition: ZohoEdition, licences: int, credits: int | None, concurrency: int | None
) -> LimitsConfig:
    from relcrm.sandbox.zoho import LimitsConfig

    return LimitsConfig(
        edition=edition.value,
        licences=licences,
        credits=credits,
        concurrency=concurrency,
    )


@sandbox_app.command("zoho")
def sandbox_zoho(
    port: PortOption = None,
    latency_ms: LatencyOption = 0,
    edition: Annotated[
        ZohoEdition,
        typer.Option(help="The org's edition: its credits per 24 hours and concurrency limit."),
    ] = ZohoEdition.ENTERPRISE,
    licences: Annotated[
        int, typer.Option(min=1, help="User licences (credits per day grow with them).")
    ] = 10,
    credits: Annotated[
        int | None,
        typer.Option(min=1, help="API credits per rolling 24 hours [default: the edition's]."),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Calls in progress at once per app [default: the edition's]."),
    ] = None,
    faults: Annotated[
        Path | None,
        typer.Option(help="Fault plan (JSON): 500s, drops, locked records, token expiry."),
    ] = None,
    write_config_to: WriteConfigOption = None,
    contacts: ContactsOption = None,
) -> None:
    """Run the Zoho CRM sandbox (HTTPS, with its own CA) until Ctrl-C or SIGTERM.

    One server plays Zoho Accounts (tokens) and the CRM API (v8). Prints its URL, the CA
    file to trust, an OAuth client and a refresh token. Its key files are deleted when it
    stops. Exit code 2 when the port is taken or a file is bad.
    """
    from relcrm.sandbox.zoho import serve_forever

    limits = _zoho_limits(edition, licences, credits, concurrency)
    _faults_checked(faults)
    _check_file(contacts, "--contacts")

    def ready(sandbox: ZohoSandbox) -> list[str]:
        seeded = _seed_zoho(sandbox, contacts) if contacts is not None else None
        written = (
            write_config(write_config_to, zoho_target(sandbox))
            if write_config_to is not None
            else []
        )
        return _notes(written, seeded)

    _serve(lambda: serve_forever(port, latency_ms, faults, limits, ready=ready))


__all__ = [
    "SandboxTarget",
    "dataverse_target",
    "hubspot_target",
    "salesforce_target",
    "sandbox_dataverse",
    "sandbox_hubspot",
    "sandbox_salesforce",
    "sandbox_zoho",
    "write_config",
    "zoho_target",
]
