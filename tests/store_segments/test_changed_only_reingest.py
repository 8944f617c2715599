"""Re-ingesting a file that changes nothing leaves a changed-only profile run nothing to do:
an unchanged person line rewrites neither the person nor its ``updated_at``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from relcrm.models import Person
from relcrm.store import Store
from relcrm.store._tables import persons as persons_table
from relcrm.sync import ingest_interchange
from relcrm.sync.profiling_columnar import run_columnar_profile
from relcrm.testing.synthetic import generate_sample

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _interchange(path: Path) -> list[Person]:
    sample = generate_sample(persons=40, seed=11, now=NOW)
    with path.open("w", encoding="utf-8") as out:
        for person in sample.persons:
            out.write(person.model_dump_json(exclude_defaults=True)[:-1] + ',"type":"person"}\n')
        for perception in sample.perceptions:
            out.write(
                perception.model_dump_json(exclude_defaults=True)[:-1] + ',"type":"perception"}\n'
            )
    return sample.persons


def test_an_unchanged_file_ingested_again_leaves_nothing_to_profile(tmp_path: Path) -> None:
    data = tmp_path / "people.jsonl"
    persons = _interchange(data)
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.use_perception_segments()
        assert ingest_interchange(data, store).ok
        with store._write() as connection:  # written a day ago (see WRITE_LOOKBACK)
            connection.execute(
                update(persons_table).values(updated_at=datetime.now(UTC) - timedelta(days=1))
            )
        assert run_columnar_profile(store, NOW)[0] == 40
        assert ingest_interchange(data, store).ok
        assert run_columnar_profile(store, NOW, changed_only=True)[0] == 0
        # A person whose facts change is profiled again, and only they.
        changed = persons[0].model_copy(update={"display_name": "Someone Else"})
        store.upsert_persons([changed])
        assert run_columnar_profile(store, NOW, changed_only=True)[0] == 1
