"""Headless Debian Chromium for the report tests, through selenium and Debian's
chromedriver: never a downloaded browser (selenium-manager is not asked)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser")
DRIVER_NAMES = ("chromedriver",)


def _which(names: tuple[str, ...]) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


def binaries() -> tuple[str, str] | None:
    """Debian's chromium and chromedriver, or None when either is missing."""
    browser, driver = _which(CHROMIUM_NAMES), _which(DRIVER_NAMES)
    return None if browser is None or driver is None else (browser, driver)


def require_chromium() -> tuple[str, str]:
    """The binaries; without them skip, except in CI (``CI`` set), where it is a failure."""
    found = binaries()
    if found is None:
        message = "Debian's chromium and chromium-driver are not installed (apt-get install)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must install them")
        pytest.skip(message)
    return found


@contextmanager
def chromium(width: int = 1200, height: int = 900) -> Iterator[Any]:
    """A headless Chromium whose browser log (console messages) selenium can read."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    try:
        yield session
    finally:
        session.quit()


def full_page_screenshot(session: Any, path: Path, width: int = 1200) -> None:
    """A PNG of the whole page: the window is made as tall as the document first."""
    height = int(session.execute_script("return document.documentElement.scrollHeight"))
    session.set_window_size(width, min(max(height, 600), 16_000))
    session.save_screenshot(str(path))
