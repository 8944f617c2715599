"""Batching shared by connectors: both CRMs refuse the same record twice in one call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class HasRecordId(Protocol):
    @property
    def record_id(self) -> str: ...


ItemT = TypeVar("ItemT", bound=HasRecordId)


def unique_batches(items: Sequence[ItemT], size: int) -> list[list[ItemT]]:
    """Batches of at most ``size``, in order, with no record id twice in one batch.

    A second write to the same record goes to a later batch instead of failing the call
    (Salesforce collections and HubSpot batch endpoints both refuse duplicates).
    """
    batches: list[list[ItemT]] = []
    ids: list[set[str]] = []
    for item in items:
        for batch, seen in zip(batches, ids, strict=True):
            if len(batch) < size and item.record_id not in seen:
                batch.append(item)
                seen.add(item.record_id)
                break
        else:
            batches.append([item])
            ids.append({item.record_id})
    return batches
