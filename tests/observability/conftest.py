"""Logging is process-wide: every test here leaves it as it found it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from relcrm.observability import PROGRESS_LOGGER


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    progress = logging.getLogger(PROGRESS_LOGGER)
    handlers, level, progress_level = list(root.handlers), root.level, progress.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    progress.setLevel(progress_level)
