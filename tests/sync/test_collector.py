"""The collector is held back during batch work, runs between batches, and comes back."""

from __future__ import annotations

import gc
import weakref

import pytest

from relcrm.sync.collector import collections_between_batches


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_collections_wait_for_the_batch_end_and_the_collector_comes_back() -> None:
    assert gc.isenabled()
    with collections_between_batches() as collect:
        assert not gc.isenabled()
        node = _Node()
        alive = weakref.ref(node)
        del node
        garbage = [[[]] for _ in range(50_000)]  # far past the automatic threshold
        del garbage
        assert alive() is not None, "collected during the batch"
        collect()
        assert alive() is None, "not collected between batches"
    assert gc.isenabled()


def test_the_collector_comes_back_after_an_error() -> None:
    with pytest.raises(RuntimeError), collections_between_batches():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with collections_between_batches():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
