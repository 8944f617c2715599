"""Salesforce connection settings, from the environment (``RELCRM_SALESFORCE_*``).

Every secret is a ``SecretStr``: it prints as ``**********`` in reprs, logs and errors,
and only :mod:`relcrm.connectors.salesforce.auth` reads its value, at login.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_VERSION = "59.0"


class AuthFlow(StrEnum):
    """The four ways relcrm logs in to Salesforce."""

    SESSION_ID = "session_id"
    """An access token obtained elsewhere; cannot be refreshed."""
    PASSWORD = "password"
    """SOAP partner login with username, password and security token."""
    CLIENT_CREDENTIALS = "client_credentials"
    """OAuth client credentials of a connected app (needs a My Domain)."""
    JWT_BEARER = "jwt_bearer"
    """OAuth JWT bearer: a connected app's consumer key and a signing key, for a username."""


class SalesforceSettings(BaseSettings):
    """Where the org is and how to log in to it. ``auth_flow`` is chosen from what is set
    unless given explicitly (see :meth:`resolved_flow`)."""

    model_config = SettingsConfigDict(
        env_prefix="RELCRM_SALESFORCE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    auth_flow: AuthFlow | None = None
    instance_url: str | None = Field(
        default=None, description="https://mycompany.my.salesforce.com (session-id flow)"
    )
    domain: str = Field(
        default="login", description="login, test, or a My Domain prefix such as acme.my"
    )
    api_version: str = Field(default=DEFAULT_API_VERSION, pattern=r"^\d+\.\d$")
    retry_attempts: int = Field(
        default=5,
        ge=1,
        le=20,
        description="tries per call, the first included, before a transient failure "
        "(503, dropped connection, rate limit) is given up",
    )
    record_retry_attempts: int = Field(
        default=3,
        ge=1,
        le=20,
        description="tries per record, the first included, when the CRM fails one record "
        "transiently (a row lock); then it is reported and dead-lettered",
    )
    retry_budget_s: float = Field(
        default=120.0,
        ge=0,
        description="total seconds one run may spend waiting between retries; once spent, "
        "failing calls and records are reported at once instead of waited for",
    )
    username: str | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    consumer_key: str | None = None
    consumer_secret: SecretStr | None = None
    private_key_file: Path | None = None
    session_id: SecretStr | None = None
    user_id: str | None = Field(
        default=None, description="the integration user's Id, if it cannot be found at login"
    )
    ca_file: Path | None = Field(
        default=None, description="a CA bundle to trust instead of the system store"
    )
    timeout_s: float = Field(default=120.0, gt=0)

    def resolved_flow(self) -> AuthFlow | None:
        """The flow to use: the explicit one, or the first whose settings are complete."""
        if self.auth_flow is not None:
            return self.auth_flow
        if self.session_id is not None and self.instance_url:
            return AuthFlow.SESSION_ID
        if self.username and self.consumer_key and self.private_key_file:
            return AuthFlow.JWT_BEARER
        if self.username and self.password is not None:
            return AuthFlow.PASSWORD
        if self.consumer_key and self.consumer_secret is not None:
            return AuthFlow.CLIENT_CREDENTIALS
        return None
