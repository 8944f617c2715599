"""For a developer's script: push persons and profiles built in memory straight into the
CRMs of a targets file, without writing them to an interchange file first.

The store still remembers what was written (the sync state is what makes the next push
send only what changed, and never twice), so the persons and their profiles are saved
there first: the targets file's store, or the one given.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import partial

from relcrm.connectors import Connector
from relcrm.errors import ConfigurationError
from relcrm.models import Person, RelationshipProfile
from relcrm.store import Store
from relcrm.sync.config import Config, load_config
from relcrm.sync.engine import SyncEngine, SyncReport
from relcrm.sync.jobs import connector_for, guarded, store_url_of
from relcrm.sync.lease import LeasePolicy
from relcrm.sync.profiling import ProfileRun, profile_store


def profile_and_save(store: Store, now: datetime) -> ProfileRun:
    """Profile every person in ``store`` as of ``now``, save the profiles, and say how
    many there were per segment (the eager form of :func:`profile_store`)."""
    run = ProfileRun(as_of=now)
    for _ in profile_store(store, now, run=run):
        pass
    return run


def push_profiles(
    config: Config | str | os.PathLike[str],
    persons: Iterable[Person],
    profiles: Iterable[RelationshipProfile],
    *,
    target: str | None = None,
    store: Store | None = None,
    connectors: Mapping[str, Connector] | None = None,
    lease_policy: LeasePolicy | None = None,
) -> list[SyncReport]:
    """Save ``persons`` and their ``profiles`` and write them (only them) to every target
    of ``config`` (or the one named ``target``); one report per target.

    A profile must belong to one of ``persons``: a profile without its person (whose
    consent gates the write) is refused before anything is saved.
    """
    loaded = config if isinstance(config, Config) else load_config(config)
    people = {person.id: person for person in persons}
    computed = list(profiles)
    stray = sorted({p.person_id for p in computed} - set(people))
    if stray:
        raise ConfigurationError(
            f"profiles without their person: {', '.join(stray[:5])}"
            + (f" and {len(stray) - 5} more" if len(stray) > 5 else ""),
            code="push.profile_without_person",
            hint="pass each profile's Person too: its consent decides whether it is written",
        )
    own = store is None
    opened = store if store is not None else Store.open(store_url_of(loaded))
    try:
        opened.upsert_persons(list(people.values()))
        opened.save_profiles(computed)
        only = {p.person_id for p in computed}
        reports: list[SyncReport] = []
        for chosen in loaded.select(target):
            engine = SyncEngine(
                opened,
                connector_for(chosen, connectors),
                chosen.mapping,
                target=chosen.name,
                lease_policy=lease_policy,
            )
            reports.append(guarded(chosen.name, False, partial(engine.run, only=only)))
        return reports
    finally:
        if own:
            opened.close()


__all__ = ["profile_and_save", "push_profiles"]
