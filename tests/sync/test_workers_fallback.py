"""Worker processes are an optimisation: where spawn cannot start them, work goes on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from relcrm.sources.interchange import write_interchange
from tests.helpers import NOW, nps, person

SCRIPT = """
import sys
from datetime import datetime
from relcrm.store import Store
from relcrm.sync import ingest_interchange, profile_all

source, url, clock = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
with Store.open(url) as store:
    report = ingest_interchange(source, store, workers=2, chunk_lines=3)
run = profile_all(url, clock, workers=2)
print(report.persons, report.perceptions_new, report.rejected, run.persons)
"""


def test_a_main_module_spawn_cannot_import_falls_back_to_this_process(tmp_path: Path) -> None:
    records = []
    for index in range(12):  # more persons than profiling splits them into
        pid = f"p{index}"
        records.append(person(pid))
        records.extend(nps(age, 9, person_id=pid) for age in (3, 30))
    source = tmp_path / "in.jsonl"
    write_interchange(records, source)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    # `python -` runs the script from standard input: spawned workers cannot re-import it.
    done = subprocess.run(
        [sys.executable, "-", str(source), url, NOW.isoformat()],
        input=SCRIPT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["12", "24", "0", "12"]
    assert "parsing workers are unavailable" in done.stderr
    assert "profiling workers are unavailable" in done.stderr
