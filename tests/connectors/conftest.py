"""Fixtures for connector tests: one HTTPS Salesforce sandbox per module."""

from relcrm.sandbox.pytest_support import sf, sf_sandbox

__all__ = ["sf", "sf_sandbox"]
