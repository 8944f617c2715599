"""The one error the fixtures raise of their own: a sandbox call of theirs (seeding,
reading back) failed. Shared by every CRM's fixtures without loading any CRM's SDK."""

from __future__ import annotations

from relcrm.errors import ConnectorError


class DemoOrgError(ConnectorError):
    """The fixtures' own calls to a sandbox (seeding, read-back) failed. The code keeps
    its name from the demo, which raises it most (a code is a promise: docs/errors.md)."""

    code = "demo.org"
    default_hint = "run the demo again; if it persists, report it with the output above"


__all__ = ["DemoOrgError"]
