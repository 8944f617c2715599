"""What a sync run counts, as a typed record.

Each count is a field, so ``counts.written += 1`` is checked by mypy and a misspelt
count fails at once instead of quietly counting into a new key. ``counts["written"]``
works too (the key is a :data:`CountKey`, so mypy checks it as well): the summary table,
the JSON report and the metrics walk the counts in :data:`COUNT_KEYS` order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Final, Literal, get_args

CountKey = Literal[
    "considered",
    "selected",
    "written",
    "cleared",
    "unchanged",
    "rejected",
    "failed",
    "skipped_no_consent",
    "no_profile",
    "unmatched",
    "ambiguous",
    "fields_sent",
    "fields_withheld",
    "fields_truncated",
    "recovered",
    "consent_granted",
    "consent_withdrawn",
    "tasks_created",
    "tasks_closed",
    "tasks_rejected",
]

COUNT_KEYS: Final[tuple[CountKey, ...]] = get_args(CountKey)
"""Every count a run reports, in the order a summary shows them."""

CARRIED_ON_RESUME: Final[frozenset[CountKey]] = frozenset(
    {
        "written",
        "cleared",
        "rejected",
        "failed",
        "unmatched",
        "ambiguous",
        "fields_sent",
        "recovered",
        "consent_granted",
        "consent_withdrawn",
    }
)
"""The counts of a killed run a resumed run keeps: those of the persons it checkpointed."""


@dataclass(slots=True)
class RunCounts:
    """The counts of one run (or one worker's partitions of a shared run)."""

    considered: int = 0
    """Persons read from the store for this target."""
    selected: int = 0
    """Persons with something to write (or clear)."""
    written: int = 0
    """Persons whose values the CRM confirmed."""
    cleared: int = 0
    """Persons who withdrew consent and whose mapped fields were emptied."""
    unchanged: int = 0
    """Persons whose mapped values are as last written: nothing sent."""
    rejected: int = 0
    """Persons the CRM refused (dead letters, with the CRM's reason)."""
    failed: int = 0
    """Persons whose write kept failing after its retries (dead letters too)."""
    skipped_no_consent: int = 0
    """Persons without consent: never written."""
    no_profile: int = 0
    """Persons without a profile yet: nothing to write."""
    unmatched: int = 0
    """Persons no CRM record matched (``relcrm unmatched`` lists them)."""
    ambiguous: int = 0
    """Persons who matched several CRM records: not written (merge them in the CRM)."""
    fields_sent: int = 0
    """Field values sent."""
    fields_withheld: int = 0
    """Field values not sent because they do not fit the CRM field (each logged)."""
    fields_truncated: int = 0
    """Field values shortened to fit the CRM field."""
    recovered: int = 0
    """Writes of a killed run found in the CRM on resume: counted, not sent again."""
    consent_granted: int = 0
    """Persons whose consent the CRM's consent field granted at the run's start."""
    consent_withdrawn: int = 0
    """Persons whose consent the CRM's consent field withdrew at the run's start."""
    tasks_created: int = 0
    """Follow-up tasks created for record owners (``[outreach]``; a dry run: would be)."""
    tasks_closed: int = 0
    """Follow-up tasks closed because the person recovered (``close_when_recovered``)."""
    tasks_rejected: int = 0
    """Follow-up tasks the CRM refused to create or close (logged with its reason)."""

    def __getitem__(self, key: CountKey) -> int:
        _check(key)
        return int(getattr(self, key))

    def __setitem__(self, key: CountKey, value: int) -> None:
        _check(key)
        setattr(self, key, value)

    def add(self, other: RunCounts | Mapping[str, int], only: Iterable[str] | None = None) -> None:
        """Add ``other``'s counts (those named in ``only``, when given). Keys that are not
        counts raise ``KeyError``, so a misspelt count is never added quietly."""
        wanted = None if only is None else set(only)
        items = other.as_dict() if isinstance(other, RunCounts) else dict(other)
        for key, value in items.items():
            _check(key)
            if wanted is None or key in wanted:
                setattr(self, key, getattr(self, key) + int(value))

    def as_dict(self, *, nonzero: bool = False) -> dict[str, int]:
        """Every count by name in :data:`COUNT_KEYS` order (only those above 0 with
        ``nonzero``: how runs are stored)."""
        values: dict[str, int] = {key: int(getattr(self, key)) for key in COUNT_KEYS}
        return {k: n for k, n in values.items() if n} if nonzero else values

    @classmethod
    def from_stored(cls, stored: Mapping[str, int]) -> RunCounts:
        """Counts as the store kept them; a name this version does not count (written by
        an older relcrm) is left out."""
        counts = cls()
        counts.add({k: n for k, n in stored.items() if k in _NAMES})
        return counts


_NAMES: Final = frozenset(f.name for f in fields(RunCounts))
if set(COUNT_KEYS) != _NAMES:  # pragma: no cover - a mistake in this module
    raise RuntimeError("RunCounts and CountKey must name the same counts")


def _check(key: str) -> None:
    if key not in _NAMES:
        raise KeyError(f"{key!r} is not a run count; the counts are {', '.join(COUNT_KEYS)}")


__all__ = ["CARRIED_ON_RESUME", "COUNT_KEYS", "CountKey", "RunCounts"]
