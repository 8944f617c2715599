"""Reading one survey cell: a score, a yes/no, a local time.

Each reader returns the value or raises ``ValueError`` with a sentence for the row's
error; the caller names the row and the column.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

_NUMBER = r"[+-]?\d+(?:[.,]\d+)?"
_PLAIN_NUMBER: Final = re.compile(rf"({_NUMBER})")
# "10 - Extremely likely", "Extremely likely - 10", "5: Very satisfied": tools that export
# the answer's label keep its number at one end.
_LABELLED_FIRST: Final = re.compile(rf"({_NUMBER})\s*[-–:]\s*\S.*")
_LABELLED_LAST: Final = re.compile(rf"\S.*?\s*[-–:]\s*({_NUMBER})")

YES: Final = frozenset({"yes", "y", "true", "t", "1", "agree", "agreed", "granted", "opt-in"})
NO: Final = frozenset({"no", "n", "false", "f", "0", "disagree", "declined", "opt-out"})


def score_number(text: str) -> float | int:
    """The number in a score cell: ``9``, ``4,5`` (decimal comma), ``10 - Extremely likely``."""
    value = text.strip()
    match = (
        _PLAIN_NUMBER.fullmatch(value)
        or _LABELLED_FIRST.fullmatch(value)
        or _LABELLED_LAST.fullmatch(value)
    )
    if match is None:
        raise ValueError("not a number")
    number = float(match.group(1).replace(",", "."))
    return int(number) if number.is_integer() else number


def yes_or_no(text: str) -> bool:
    """A consent answer: yes/no, true/false, 1/0 (any case)."""
    value = text.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise ValueError("not a yes/no answer (use yes/no, true/false or 1/0)")


def local_time(text: str, time_format: str, zone: ZoneInfo) -> datetime:
    """A response time: naive times are read in ``zone``; a time with an offset keeps it."""
    value = text.strip()
    try:
        if time_format == "iso":
            moment = datetime.fromisoformat(value)
        else:
            moment = datetime.strptime(value, time_format)
    except ValueError:
        shown = "ISO 8601 (2026-11-02 14:05:00)" if time_format == "iso" else repr(time_format)
        raise ValueError(f"not a time in the format {shown}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=zone)
    return moment
