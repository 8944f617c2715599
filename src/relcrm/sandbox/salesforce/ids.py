"""Realistic Salesforce record ids: key prefix, pod, counter, and the 3-character suffix.

Clients and users rely on the shape: 18 characters, the object's 3-character key prefix
(003 Contact, 00Q Lead...), and a case-insensitive-safe checksum suffix, so that
15-character ids can be converted and compared the way real code does.
"""

from __future__ import annotations

import itertools
import string
import threading

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX_ALPHABET = string.ascii_uppercase + "012345"


def checksum_suffix(id15: str) -> str:
    """The 3 characters Salesforce appends to a 15-character id to make it case-safe."""
    out = []
    for chunk in range(3):
        bits = 0
        for pos, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if char.isupper():
                bits |= 1 << pos
        out.append(_SUFFIX_ALPHABET[bits])
    return "".join(out)


def to18(record_id: str) -> str:
    """Normalise a 15- or 18-character id to 18 characters; other strings come back as-is."""
    if len(record_id) == 15 and record_id.isalnum():
        return record_id + checksum_suffix(record_id)
    return record_id


def looks_like_id(value: str) -> bool:
    """Whether ``value`` has the shape of a 15/18-character id with a valid suffix."""
    if len(value) not in (15, 18) or not value.isalnum():
        return False
    return len(value) == 15 or checksum_suffix(value[:15]) == value[15:]


def _base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
    return "".join(reversed(chars))


class IdFactory:
    """Hands out unique ids per key prefix: ``<prefix>5g00000<counter>`` plus the suffix."""

    POD = "5g0000"

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        with self._lock:
            n = next(self._counter)
        id15 = f"{prefix}{self.POD}{_base62(n, 15 - len(prefix) - len(self.POD))}"
        return id15 + checksum_suffix(id15)

    def bump(self, at_least: int) -> None:
        """Make sure future ids do not collide with ids loaded from a snapshot."""
        with self._lock:
            current = next(self._counter)
            self._counter = itertools.count(max(current, at_least))


def counter_of(record_id: str) -> int:
    """The counter embedded in an id made by :class:`IdFactory` (0 if it is foreign)."""
    body = record_id[3 + len(IdFactory.POD) : 15]
    n = 0
    for char in body:
        if char not in _BASE62:
            return 0
        n = n * 62 + _BASE62.index(char)
    return n
