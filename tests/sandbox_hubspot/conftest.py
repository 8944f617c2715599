"""Fixtures for the HubSpot sandbox tests: one HTTPS sandbox per module."""

from relcrm.sandbox.hubspot.pytest_support import hs_client, hs_sandbox

__all__ = ["hs_client", "hs_sandbox"]
