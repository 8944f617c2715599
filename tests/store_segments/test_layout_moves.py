"""Moving a store's perceptions into segments and back: nothing lost, nothing twice, and
no copy left behind that an erasure would miss, even when a move is killed midway."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relcrm.cli import app
from relcrm.errors import StoreError
from relcrm.store import Store
from relcrm.store.segments.files import PerceptionSegments
from relcrm.testing.synthetic import generate_sample

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _filled(url: str) -> list[str]:
    """A table store with a sample in it; the sample's person ids."""
    sample = generate_sample(persons=30, seed=3, now=NOW)
    with Store.open(url) as store:
        store.upsert_persons(sample.persons)
        store.add_perceptions(sample.perceptions)
    return [person.id for person in sample.persons]


def _perceptions(url: str) -> list[str]:
    with Store.open(url) as store:
        return sorted(store.persons_and_perceptions_json()[1])


def _files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("seg-*"))


def _killed(url: str, code: str) -> None:
    """Run ``code`` (with ``url`` and ``Store`` defined) in a process that dies by
    ``os._exit`` where the code says so: a kill, not an exception anything could catch."""
    script = textwrap.dedent(
        f"""
        import os
        from relcrm.store import Store
        from relcrm.store import perception_layout
        from relcrm.store.segments.files import PerceptionSegments
        url = {url!r}
        """
    ) + textwrap.dedent(code)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 9, done.stderr


def test_there_and_back_keeps_every_perception_and_leaves_no_file(
    database_url: str, tmp_path: Path
) -> None:
    url = database_url
    _filled(url)
    before = _perceptions(url)
    folder = tmp_path / "segments"
    with Store.open(url) as store:
        assert store.use_perception_segments(folder) == len(before)
    assert _perceptions(url) == before and _files(folder)
    with Store.open(url) as store:
        assert store.use_perception_table() == len(before)
        assert store.perception_layout == "table"
        assert store.use_perception_table() == 0
    assert _files(folder) == []
    assert _perceptions(url) == before
    with Store.open(url) as store:
        assert store.perception_layout == "table"  # the choice is the store's
        assert store.use_perception_segments(folder) == len(before)  # and forth again
    assert _perceptions(url) == before


def test_a_move_back_killed_after_its_transaction_is_finished_at_the_next_opening(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'relcrm.db'}"
    _filled(url)
    before = _perceptions(url)
    folder = tmp_path / "relcrm.db.perceptions"
    with Store.open(url) as store:
        store.use_perception_segments()
    _killed(
        url,
        """
        PerceptionSegments.clear = lambda self: os._exit(9)
        with Store.open(url) as store:
            store.use_perception_table()
        """,
    )
    assert _files(folder)  # the process died before deleting them
    with Store.open(url) as store:
        assert store.perception_layout == "table"
    assert _files(folder) == []
    assert _perceptions(url) == before


def test_an_erasure_after_an_interrupted_move_clears_its_copy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'relcrm.db'}"
    people = _filled(url)
    folder = tmp_path / "relcrm.db.perceptions"
    _killed(
        url,
        """
        perception_layout.MOVE_CHUNK = 40
        appended = PerceptionSegments.append_rows
        def append_then_die(self, rows):
            appended(self, rows)
            if self.count() >= 80:
                os._exit(9)
        PerceptionSegments.append_rows = append_then_die
        with Store.open(url) as store:
            store.use_perception_segments()
        """,
    )
    assert _files(folder)  # a partial copy, the store still on its table
    gone = people[0]
    with Store.open(url) as store:
        assert store.perception_layout == "table"
        store.erase_person(gone)
    assert _files(folder) == []  # the copy held the person's perceptions too
    with Store.open(url) as store:
        store.use_perception_segments()  # run again: from the start
        segments = store.perception_segments
        assert segments is not None and segments.rows_of(gone) == 0
    assert len(_perceptions(url)) == segments.count()


def test_a_move_run_again_after_an_interruption_copies_each_perception_once(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'relcrm.db'}"
    _filled(url)
    before = _perceptions(url)
    _killed(
        url,
        """
        perception_layout.MOVE_CHUNK = 40
        appended = PerceptionSegments.append_rows
        def append_then_die(self, rows):
            appended(self, rows)
            os._exit(9)
        PerceptionSegments.append_rows = append_then_die
        with Store.open(url) as store:
            store.use_perception_segments()
        """,
    )
    with Store.open(url) as store:
        assert store.use_perception_segments() == len(before)
        assert store.count_perceptions() == len(before)
    assert _perceptions(url) == before


def test_a_folder_holding_another_stores_segments_is_refused(tmp_path: Path) -> None:
    first, second = (f"sqlite:///{tmp_path / name}" for name in ("one.db", "two.db"))
    _filled(first)
    _filled(second)
    shared = tmp_path / "shared"
    with Store.open(first) as store:
        store.use_perception_segments(shared)
    held = PerceptionSegments(shared).count()
    with Store.open(second) as store, pytest.raises(StoreError) as refused:
        store.use_perception_segments(shared)
    assert refused.value.code == "store.segments_folder_in_use"
    assert str(shared) in str(refused.value)
    assert PerceptionSegments(shared).count() == held


def test_the_store_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    store = str(tmp_path / "relcrm.db")
    _filled(f"sqlite:///{store}")
    moved = runner.invoke(app, ["store", "segments", "--store", store])
    assert moved.exit_code == 0, moved.output
    assert "moved from the table" in moved.output
    back = runner.invoke(app, ["store", "table", "--store", store])
    assert back.exit_code == 0, back.output
    assert "moved from the segments" in back.output
    info = runner.invoke(app, ["store", "info", "--store", store])
    assert "perception layout: table" in info.output
    again = runner.invoke(app, ["store", "table", "--store", store])
    assert again.exit_code == 0 and "already in the table" in again.output
