"""The orchestration examples run against the same sandboxes as the admin commands."""

from tests.admin.conftest import hs_sandbox, sandboxes, sf_sandbox

__all__ = ["hs_sandbox", "sandboxes", "sf_sandbox"]
