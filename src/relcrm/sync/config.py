"""The targets file: which CRMs relcrm writes to, with which mapping, and where its state is.

One TOML file (read by the standard library's ``tomllib``) serves the admin's commands
(``relcrm mapping check``, ``relcrm fields plan|apply``) and the ops team's
``relcrm sync --config FILE``, so the CRM a mapping was checked against is the CRM the
job writes to. It holds no secrets: it is meant to be committed and reviewed, so a key
that looks like a secret, or names a secret setting of the connector (a ``SecretStr``
field), is refused and the error names the environment variable to use instead.
Secrets come from the environment (``RELCRM_<CONNECTOR>_*``: ``RELCRM_SALESFORCE_*``,
``RELCRM_HUBSPOT_*``...) or from a target's ``secrets_file`` (dotenv format, kept out of
version control).

Nothing here knows a connector: every one, relcrm's own and third parties', is found
through the registry (:func:`relcrm.connectors.connector_class`); its ``settings_class``
says which settings the file may give (the non-secret ones) and validates them, and
``from_settings`` builds it (:func:`build_connector`). What a connector declares it can
do (``declared_capabilities``) is checked against each target's mapping when the file
is loaded, before any run.
"""

from __future__ import annotations

import glob
import os
import re
import tomllib
from collections.abc import Mapping as AbstractMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretBytes,
    SecretStr,
    StringConstraints,
    ValidationError,
)
from pydantic_settings import BaseSettings

from relcrm.connectors import Connector, connector_class
from relcrm.errors import ConfigurationError, FieldProblem, shorten
from relcrm.mapping import InvalidMappingError, Mapping, load_mapping, load_shipped, unsupported
from relcrm.mapping import shipped_mappings as _shipped
from relcrm.mapping.model import mapping_problems

SECRET_KEY: Final = re.compile(
    r"password|passwd|token|secret|private_key|session_id|api_key|apikey|credential",
    re.IGNORECASE,
)
"""Key names that hold (or point at) credentials; they belong in the environment."""

ALLOWED_SECRET_LOOKALIKES: Final = frozenset({"secrets_file"})
"""Keys that match :data:`SECRET_KEY` but only name where secrets are, not a secret."""


def env_prefix(connector: str) -> str:
    """The prefix of a connector's environment variables: ``RELCRM_<NAME>_``, from the
    name it is registered under, whatever its settings class says."""
    return f"RELCRM_{connector.upper()}_"


def env_name(connector: str, key: str) -> str:
    """The environment variable a connector's setting is read from."""
    return f"{env_prefix(connector)}{key.upper()}"


def _holds_secret(annotation: Any) -> bool:
    """Whether a field's type is (or contains: ``SecretStr | None``) a pydantic secret."""
    if isinstance(annotation, type) and issubclass(annotation, SecretStr | SecretBytes):
        return True
    return any(_holds_secret(arg) for arg in get_args(annotation))


def is_secret_setting(settings: type[BaseSettings], key: str) -> bool:
    """A setting that only the environment or a secrets file may give: a ``SecretStr``
    field, or one whose name says it holds (or points at) a credential."""
    field = settings.model_fields.get(key)
    if field is not None and _holds_secret(field.annotation):
        return True
    return SECRET_KEY.search(key) is not None


def allowed_settings(connector: str) -> list[str]:
    """The settings a targets file may give the installed connector ``connector`` (any
    registered one): every setting of its ``settings_class`` but the secret ones."""
    cls = connector_class(connector).settings_class
    return [k for k in cls.model_fields if not is_secret_setting(cls, k)]


def secret_settings(connector: str) -> list[str]:
    """The settings of ``connector`` that come from the environment or a secrets file."""
    cls = connector_class(connector).settings_class
    return [k for k in cls.model_fields if is_secret_setting(cls, k)]


# --------------------------------------------------------------------------- the file

Scalar = str | int | float | bool


class _Strict(BaseModel):
    """Frozen and closed to unknown keys, so a misspelt key is an error, not ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class StoreConfig(_Strict):
    """Where the sync state lives."""

    url: str = Field(
        min_length=1,
        description="a SQLAlchemy URL, or a SQLite file path (relative to this file)",
    )


class TargetConfig(_Strict):
    """One CRM object written through one mapping."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")] = Field(
        description="the target's name (--target NAME; keys its sync state)"
    )
    connector: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")] = Field(
        description='"salesforce", "hubspot", or another installed connector\'s name'
    )
    mapping: str = Field(
        min_length=1,
        description="a shipped mapping's name, or a mapping file relative to this file",
    )
    secrets_file: Path | None = Field(
        default=None,
        description="a dotenv file with this connector's secrets (relative to this file)",
    )
    settings: dict[str, Scalar] = Field(
        default_factory=dict, description="the connector's non-secret settings"
    )


SourceFormat = Literal["interchange", "survey", "social", "cases"]


class SourceConfig(_Strict):
    """Where ``relcrm run`` reads feedback from before it profiles and syncs."""

    name: str | None = Field(
        default=None, max_length=80, description="a label for the run's report"
    )
    format: SourceFormat = Field(
        description="interchange (JSONL), survey (CSV export), social (JSONL posts), or "
        "cases (support cases read from the targets' CRMs)"
    )
    path: str | None = Field(
        default=None,
        min_length=1,
        description="a file or a glob, relative to this file (every format but cases)",
    )
    columns: str | None = Field(
        default=None, min_length=1, description="survey only: the column mapping file"
    )
    handles: str | None = Field(
        default=None, min_length=1, description="social only: a handle -> email CSV"
    )
    target: str | None = Field(
        default=None, description="cases only: read the CRM of this target (default: all)"
    )
    since_days: int | None = Field(
        default=None, gt=0, description="cases only: cases changed in the last N days"
    )
    analyzer: str | None = Field(
        default=None, description='an installed analyzer, or "none" (default: the default)'
    )


class ConfigFile(_Strict):
    """The whole targets file."""

    version: Literal[1] = 1
    store: StoreConfig | None = None
    targets: tuple[TargetConfig, ...] = Field(description="the CRM objects relcrm writes")
    sources: tuple[SourceConfig, ...] = Field(
        default=(), description="what `relcrm run` ingests before profiling and syncing"
    )


# --------------------------------------------------------------------------- resolved


@dataclass(frozen=True)
class Target:
    """A target with its mapping loaded and its paths resolved against the file."""

    name: str
    connector: str
    mapping: Mapping
    mapping_origin: str
    """The mapping file, or ``name.toml (shipped)``: what messages name."""
    settings: dict[str, Scalar]
    secrets_file: Path | None = None


@dataclass(frozen=True)
class Source:
    """A source with its paths resolved against the targets file."""

    label: str
    format: str
    files: tuple[Path, ...] = ()
    columns: Path | None = None
    handles: Path | None = None
    target: str | None = None
    since_days: int | None = None
    analyzer: str | None = None


@dataclass(frozen=True)
class Config:
    """A loaded targets file."""

    path: Path
    targets: tuple[Target, ...]
    store_url: str | None = None
    sources: tuple[SourceConfig, ...] = ()

    def resolved_sources(self) -> list[Source]:
        """The file's ``[[sources]]`` with globs expanded now (files appear between runs),
        in file order; a pattern that matches nothing is an empty source, not an error."""
        found: list[Source] = []
        base = self.path.parent
        for index, item in enumerate(self.sources):
            files: tuple[Path, ...] = ()
            if item.path is not None:
                pattern = str((base / item.path).expanduser())
                files = tuple(sorted(Path(p) for p in glob.glob(pattern)))
            found.append(
                Source(
                    label=item.name or f"sources[{index}] ({item.format})",
                    format=item.format,
                    files=files,
                    columns=(base / item.columns).expanduser() if item.columns else None,
                    handles=(base / item.handles).expanduser() if item.handles else None,
                    target=item.target,
                    since_days=item.since_days,
                    analyzer=item.analyzer,
                )
            )
        return found

    def target_names(self) -> list[str]:
        return [t.name for t in self.targets]

    def select(self, name: str | None) -> list[Target]:
        """The target called ``name``, or every target when ``name`` is None."""
        if name is None:
            return list(self.targets)
        for target in self.targets:
            if target.name == name:
                return [target]
        raise ConfigurationError(
            f"{self.path}: no target named {name!r} (targets: {', '.join(self.target_names())})",
            hint="pass one of the names after --target, or leave --target out for all",
            code="config.unknown_target",
        )


def _bad(path: Path, problems: list[FieldProblem], hint: str | None = None) -> ConfigurationError:
    detail = "; ".join(str(p) for p in problems)
    return ConfigurationError(
        f"{path}: {detail}",
        hint=hint or "fix the targets file and run again",
        code="config.invalid_targets",
    )


def _secret_keys(data: Any, where: str = "") -> list[str]:
    """Every key path in the parsed file whose name looks like a secret."""
    found: list[str] = []
    if isinstance(data, AbstractMapping):
        for key, value in data.items():
            path = f"{where}.{key}" if where else str(key)
            if SECRET_KEY.search(str(key)) and str(key) not in ALLOWED_SECRET_LOOKALIKES:
                found.append(path)
            found.extend(_secret_keys(value, path))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found.extend(_secret_keys(item, f"{where}[{index}]"))
    return found


def _refuse_secrets(path: Path, data: dict[str, Any]) -> None:
    keys = _secret_keys(data)
    if not keys:
        return
    problems = []
    for key in keys:
        connector = _connector_at(data, key)
        last = key.rsplit(".", 1)[-1]
        where = env_name(connector, last) if connector else f"RELCRM_<CONNECTOR>_{last.upper()}"
        problems.append(
            FieldProblem(
                key,
                f"secrets never go in the targets file; set {where} in the "
                "environment (or in the target's secrets_file)",
            )
        )
    raise _bad(path, problems, hint="remove the secret from the file and use the environment")


def _connector_at(data: dict[str, Any], key: str) -> str | None:
    match = re.match(r"^targets\[(\d+)\]", key)
    targets = data.get("targets")
    if match and isinstance(targets, list):
        item = targets[int(match.group(1))]
        if isinstance(item, AbstractMapping) and isinstance(item.get("connector"), str):
            return str(item["connector"])
    return None


def _resolve_mapping(path: Path, index: int, target: TargetConfig) -> tuple[Mapping, str]:
    key = f"targets[{index}].mapping"
    reference = target.mapping
    candidate = (path.parent / reference).expanduser()
    looks_like_path = reference.endswith(".toml") or "/" in reference or os.sep in reference
    try:
        if not looks_like_path and reference in _shipped():
            return load_shipped(reference), f"{reference}.toml (shipped)"
        if candidate.is_file():
            return load_mapping(candidate), str(candidate)
    except InvalidMappingError as exc:
        raise _bad(
            path,
            [FieldProblem(key, f"the mapping does not load: {exc.message}")],
            hint="fix the mapping file; `relcrm mapping schema` gives its JSON Schema",
        ) from None
    shipped = ", ".join(_shipped())
    raise _bad(
        path,
        [
            FieldProblem(
                key,
                f"neither a shipped mapping ({shipped}) nor a file ({candidate} does not exist)",
                shorten(reference),
            )
        ],
        hint="give a shipped mapping's name or a path relative to the targets file",
    )


def _check_settings(index: int, target: TargetConfig) -> list[FieldProblem]:
    """The target's connector is installed and implements the contract, and the file's
    settings are its non-secret settings with valid values."""
    try:
        cls = connector_class(target.connector).settings_class
    except ConfigurationError as exc:
        return [FieldProblem(f"targets[{index}].connector", exc.message)]
    problems: list[FieldProblem] = []
    allowed = [k for k in cls.model_fields if not is_secret_setting(cls, k)]
    for key in target.settings:
        if key not in cls.model_fields:
            problems.append(
                FieldProblem(
                    f"targets[{index}].settings.{key}",
                    f"not a {target.connector} setting (known: {', '.join(allowed)})",
                )
            )
        elif is_secret_setting(cls, key):
            problems.append(
                FieldProblem(
                    f"targets[{index}].settings.{key}",
                    f"secrets never go in the targets file; set {env_name(target.connector, key)}"
                    " in the environment (or in the target's secrets_file)",
                )
            )
    if problems:
        return problems
    try:
        # Validate the file's values only: init values win over the environment, and the
        # env file is skipped so a bad .env is reported where it is used, not here.
        values: dict[str, Any] = dict(target.settings)
        cls(_env_file=None, _env_prefix=env_prefix(target.connector), **values)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = error["loc"]
            if loc and loc[0] in target.settings:
                problems.append(
                    FieldProblem(
                        f"targets[{index}].settings.{loc[0]}",
                        error["msg"],
                        shorten(target.settings[str(loc[0])]),
                    )
                )
    return problems


def _with_paths(file: Path, settings: dict[str, Scalar]) -> dict[str, Scalar]:
    """Settings with file paths (``ca_file``) taken relative to the targets file, so the
    file means the same whatever directory the command runs in."""
    return {
        key: str((file.parent / value).expanduser())
        if key.endswith("_file") and isinstance(value, str)
        else value
        for key, value in settings.items()
    }


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and check the targets file at ``path``, loading each target's mapping.

    Raises :class:`ConfigurationError` naming the file and each bad key: a secret in the
    file, an unknown connector or setting, a mapping that is missing or does not load, a
    mapping written for another connector or asking for what its connector cannot do
    (``match.fallback`` where the connector declares no fallback matching...), two
    targets with one name.
    """
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(
            f"{file}: cannot be read: {exc.__class__.__name__}: {exc}",
            hint="check the path given to --config",
            code="config.invalid_targets",
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _bad(file, [FieldProblem("(file)", f"not valid TOML: {exc}")]) from None
    _refuse_secrets(file, data)
    try:
        parsed = ConfigFile.model_validate(data)
    except ValidationError as exc:
        raise _bad(file, mapping_problems(exc)) from None

    problems: list[FieldProblem] = []
    if not parsed.targets:
        problems.append(FieldProblem("targets", "give at least one [[targets]] table"))
    problems.extend(_source_problems(file, parsed))
    seen: set[str] = set()
    for index, item in enumerate(parsed.targets):
        if item.name in seen:
            problems.append(FieldProblem(f"targets[{index}].name", "used twice", item.name))
        seen.add(item.name)
        problems.extend(_check_settings(index, item))
    if problems:
        raise _bad(file, problems)

    targets: list[Target] = []
    for index, item in enumerate(parsed.targets):
        mapping, origin = _resolve_mapping(file, index, item)
        if mapping.connector != item.connector:
            raise _bad(
                file,
                [
                    FieldProblem(
                        f"targets[{index}].mapping",
                        f"{origin} is written for connector {mapping.connector!r}, "
                        f"but the target uses {item.connector!r}",
                    )
                ],
            )
        capabilities = connector_class(item.connector).declared_capabilities
        beyond = unsupported(mapping, capabilities)
        if beyond:
            raise _bad(
                file,
                [
                    FieldProblem(
                        f"targets[{index}].mapping",
                        f"target {item.name!r}: {origin}: {problem}",
                    )
                    for problem in beyond
                ],
                hint="change the mapping as the message says (connector "
                f"{item.connector!r} declares what it can do in its capabilities)",
            )
        secrets = item.secrets_file
        if secrets is not None:
            secrets = (file.parent / secrets).expanduser()
            if not secrets.is_file():
                raise _bad(
                    file,
                    [FieldProblem(f"targets[{index}].secrets_file", f"{secrets} does not exist")],
                )
        targets.append(
            Target(
                name=item.name,
                connector=item.connector,
                mapping=mapping,
                mapping_origin=origin,
                settings=_with_paths(file, item.settings),
                secrets_file=secrets,
            )
        )
    store = None
    if parsed.store is not None:
        url = parsed.store.url
        store = url if "://" in url else f"sqlite:///{(file.parent / url).expanduser()}"
    return Config(path=file, targets=tuple(targets), store_url=store, sources=parsed.sources)


def _source_problems(file: Path, parsed: ConfigFile) -> list[FieldProblem]:
    """Each source has what its format needs, and nothing another format needs."""
    problems: list[FieldProblem] = []
    names = {target.name for target in parsed.targets}
    for index, item in enumerate(parsed.sources):
        where = f"sources[{index}]"
        if item.format == "cases":
            if item.path is not None:
                problems.append(FieldProblem(f"{where}.path", "cases are read from the CRMs"))
            if item.target is not None and item.target not in names:
                problems.append(FieldProblem(f"{where}.target", "no such target", item.target))
        elif item.path is None:
            problems.append(FieldProblem(f"{where}.path", f"a {item.format} source needs a path"))
        if item.format == "survey" and item.columns is None:
            problems.append(FieldProblem(f"{where}.columns", "a survey needs its column mapping"))
        if item.columns is not None and item.format != "survey":
            problems.append(FieldProblem(f"{where}.columns", "only survey sources have columns"))
        if item.handles is not None and item.format != "social":
            problems.append(FieldProblem(f"{where}.handles", "only social sources have handles"))
        for key in ("columns", "handles"):
            value = getattr(item, key)
            if value is not None and not (file.parent / value).expanduser().is_file():
                problems.append(FieldProblem(f"{where}.{key}", "file not found", value))
    return problems


# --------------------------------------------------------------------------- connectors


def build_connector(target: Target) -> Connector:
    """The connector for ``target``, built as every connector is, relcrm's own and third
    parties': its ``settings_class`` from the file's settings plus the environment
    (``RELCRM_<CONNECTOR>_*``) or the target's secrets file, then ``from_settings``.
    """
    cls = connector_class(target.connector)
    env_file: Any = target.secrets_file if target.secrets_file is not None else ".env"
    values: dict[str, Any] = dict(target.settings)
    try:
        settings = cls.settings_class(
            _env_file=env_file, _env_prefix=env_prefix(target.connector), **values
        )
    except ValidationError as exc:
        problems = [
            FieldProblem(".".join(str(p) for p in e["loc"]), e["msg"])
            for e in exc.errors(include_url=False)
        ]
        raise ConfigurationError(
            f"target {target.name}: settings from the file and the environment do not "
            "validate: " + "; ".join(str(p) for p in problems),
            hint=f"check the {env_prefix(target.connector)}* environment variables",
            code="config.invalid_settings",
        ) from None
    connector = cls.from_settings(settings)
    if not isinstance(connector, Connector):
        raise ConfigurationError(
            f"target {target.name}: {target.connector}.from_settings did not return a "
            "connector (an object implementing relcrm.connectors.Connector)",
            code="config.unsupported_connector",
            hint="ask the connector's authors for a version that implements "
            "relcrm.connectors.Connector",
        )
    return connector


__all__ = [
    "Config",
    "ConfigFile",
    "Source",
    "SourceConfig",
    "StoreConfig",
    "Target",
    "TargetConfig",
    "allowed_settings",
    "build_connector",
    "env_name",
    "env_prefix",
    "is_secret_setting",
    "load_config",
    "secret_settings",
]
