"""Write the screenshot docs/report.md shows: the demo's report in headless Chromium.

python -m tests.report.make_screenshot docs/report.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from relcrm.demo import run_demo
from relcrm.report import ReportOptions, write_report
from relcrm.store import Store
from tests.report.browser import chromium
from tests.report.conftest import NOW


def main(target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="relcrm-shot-") as tmp:
        demo = run_demo(Path(tmp), persons=60, seed=7, now=NOW)
        html = Path(tmp) / "report.html"
        with Store.open(demo.store_url) as store:
            write_report(store, html, ReportOptions(generated_at=NOW))
        with chromium(1100, 1500) as browser:
            browser.get(html.as_uri())
            browser.save_screenshot(str(target))
    print(f"wrote {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/report.png"))
