"""Sync jobs from a targets file: what ``relcrm sync`` and ``relcrm dead-letters retry``
run, and what a developer's script calls (:func:`run`).

Each target of the file is synced in turn with its own connector and mapping; the store
is the file's ``[store]`` (or ``RELCRM_STORE_URL``, or ``./relcrm.db``) unless one is
passed. A target that cannot connect does not stop the others.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from relcrm.connectors import Connector
from relcrm.errors import ConfigurationError, RelcrmError
from relcrm.settings import RelcrmSettings
from relcrm.store import Store
from relcrm.sync.config import Config, Target, build_connector, load_config
from relcrm.sync.engine import ProgressCallback, SyncEngine, SyncReport
from relcrm.sync.lease import LeasePolicy
from relcrm.sync.workers import run_shared

logger = logging.getLogger(__name__)

ConfigSource = Config | str | os.PathLike[str]


def _config(config: ConfigSource) -> Config:
    return config if isinstance(config, Config) else load_config(config)


def store_url_of(config: Config | None, override: str | None = None) -> str:
    """The store a command uses: ``override`` (``--store``), the targets file's
    ``[store]``, or the settings' default (``RELCRM_STORE_URL``, ``./relcrm.db``); a plain
    path becomes a SQLite URL."""
    value = override or (config.store_url if config is not None else None)
    value = value or RelcrmSettings().store_url
    return value if "://" in value else f"sqlite:///{Path(value).expanduser()}"


@contextmanager
def _opened(config: Config, store: Store | None, store_url: str | None) -> Iterator[Store]:
    if store is not None:
        yield store
        return
    with Store.open(store_url_of(config, store_url)) as opened:
        yield opened


def connector_for(target: Target, connectors: Mapping[str, Connector] | None) -> Connector:
    if connectors is not None and target.name in connectors:
        return connectors[target.name]
    return build_connector(target)


def run(
    config: ConfigSource,
    *,
    target: str | None = None,
    full: bool = False,
    dry_run: bool = False,
    limit: int | None = None,
    store: Store | None = None,
    store_url: str | None = None,
    connectors: Mapping[str, Connector] | None = None,
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
    lease_policy: LeasePolicy | None = None,
    partitions: int | None = None,
) -> list[SyncReport]:
    """Sync every target of ``config`` (or the one named ``target``); one report each.

    ``partitions`` makes this process one worker of a run several share
    (:mod:`relcrm.sync.workers`): start each with the same number. ``connectors``
    replaces the connector built for a target name (a script that already holds one, or
    a test). Raises :class:`relcrm.errors.ConfigurationError` before
    anything is written if the file, a mapping or a target's settings are wrong. A target
    that cannot run (another run holds it, its CRM cannot be reached) gets a report that
    says so, with its exit code, and the other targets go on.
    """
    if partitions is not None and limit is not None:
        raise ConfigurationError(
            "--limit cannot be combined with --partitions: each worker would count its own",
            code="sync.limit_with_partitions",
        )
    loaded = _config(config)
    targets = loaded.select(target)
    built = [(t, connector_for(t, connectors)) for t in targets]
    reports: list[SyncReport] = []
    with _opened(loaded, store, store_url) as opened:
        for chosen, connector in built:
            engine = SyncEngine(
                opened,
                connector,
                chosen.mapping,
                target=chosen.name,
                batch_size=batch_size,
                lease_policy=lease_policy,
            )
            one: Callable[[], SyncReport]
            if partitions is not None and not dry_run:
                one = partial(run_shared, engine, partitions, full=full, progress=progress)
            else:
                one = partial(
                    engine.run, full=full, dry_run=dry_run, limit=limit, progress=progress
                )
            reports.append(guarded(chosen.name, dry_run, one))
    return reports


def guarded(target: str, dry_run: bool, run_one: Callable[[], SyncReport]) -> SyncReport:
    """Run one target; an error that stops it becomes its report, so one target's
    failure never loses the others' reports."""
    try:
        return run_one()
    except RelcrmError as error:
        logger.warning("%s: %s", target, error)
        return SyncReport(
            target=target,
            run_id=None,
            dry_run=dry_run,
            message=error.message,
            error_code=error.code,
            stopped_by=error.exit_code,
        )


def retry_dead_letters(
    config: ConfigSource,
    *,
    target: str | None = None,
    letter_ids: Iterable[int] | None = None,
    store: Store | None = None,
    store_url: str | None = None,
    connectors: Mapping[str, Connector] | None = None,
    progress: ProgressCallback | None = None,
    lease_policy: LeasePolicy | None = None,
) -> list[SyncReport]:
    """Send the open dead letters again (all, or ``letter_ids``), one run per target.

    Values are computed afresh from the current profile and the *current* mapping, so a
    letter rejected for a mapping mistake goes through once the mapping is fixed; a
    letter that fails again stays open with one more attempt counted.
    """
    loaded = _config(config)
    wanted = set(letter_ids) if letter_ids is not None else None
    reports: list[SyncReport] = []
    with _opened(loaded, store, store_url) as opened:
        for chosen in loaded.select(target):
            letters = [
                letter
                for letter in opened.open_dead_letters(chosen.name)
                if wanted is None or letter.id in wanted
            ]
            if not letters:
                continue
            opened.mark_dead_letters_retried(letter.id for letter in letters)
            engine = SyncEngine(
                opened,
                connector_for(chosen, connectors),
                chosen.mapping,
                target=chosen.name,
                lease_policy=lease_policy,
            )
            persons = {letter.person_id for letter in letters}
            reports.append(
                guarded(chosen.name, False, partial(engine.run, only=persons, progress=progress))
            )
    return reports


__all__ = ["connector_for", "guarded", "retry_dead_letters", "run", "store_url_of"]
