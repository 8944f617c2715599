"""Dataverse connection settings, from the environment (``RELCRM_DATAVERSE_*``) or a
target's settings table and secrets file.

The client secret is a ``SecretStr``: it prints as ``**********`` in reprs, logs and
errors, and only :class:`relcrm.connectors.dataverse.auth.TokenProvider` reads its value,
to put it in the token request's form body. The other settings are not secret and may sit
in a targets file; none of their names looks like a secret (``authority_url``, not
``token_url``), so the targets file accepts them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"


class DataverseSettings(BaseSettings):
    """Which environment, which app registration, and how hard relcrm may push it."""

    model_config = SettingsConfigDict(
        env_prefix="RELCRM_DATAVERSE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    environment_url: str | None = Field(
        default=None,
        description="the environment (org) URL, https://contoso.crm.dynamics.com (a sandbox in "
        "tests); the Web API is at {environment_url}/api/data/v{api_version}/",
    )
    tenant_id: str | None = Field(
        default=None, description="the Microsoft Entra tenant (directory) id or domain"
    )
    client_id: str | None = Field(
        default=None, description="the app registration's application (client) id"
    )
    client_secret: SecretStr | None = Field(
        default=None, description="the app registration's client secret (its value)"
    )
    authority_url: str = Field(
        default=DEFAULT_AUTHORITY,
        description="where tokens come from: {authority_url}/{tenant_id}/oauth2/v2.0/token "
        "(a sandbox in tests; another cloud's login host)",
    )
    scope: str | None = Field(
        default=None, description="the token's scope [default: {environment_url}/.default]"
    )
    api_version: str = Field(default="9.2", pattern=r"^\d+\.\d+$")
    solution_unique_name: str = Field(
        default="relcrm",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="the unmanaged solution new columns and keys are added to "
        "(MSCRM.SolutionUniqueName); its publisher's prefix must be publisher_prefix",
    )
    publisher_prefix: str = Field(
        default="relcrm",
        pattern=r"^[a-z][a-z0-9]{1,7}$",
        description="the solution publisher's customization prefix every column relcrm "
        "creates starts with (relcrm_health)",
    )
    ca_file: Path | None = Field(
        default=None, description="a CA bundle to trust instead of the system store"
    )
    timeout_s: float = Field(default=60.0, gt=0)
    batch_size: int = Field(
        default=500,
        ge=1,
        le=1000,
        description="records per UpdateMultiple call (and per $batch when a bad record is "
        "isolated, at most 1,000)",
    )
    retry_attempts: int = Field(
        default=5,
        ge=1,
        le=20,
        description="tries per call, the first included, before a transient failure "
        "(503, dropped connection, service protection limit) is given up",
    )
    record_retry_attempts: int = Field(
        default=3,
        ge=1,
        le=20,
        description="tries per record, the first included, when Dataverse fails one record "
        "transiently (a SQL deadlock); then it is reported and dead-lettered",
    )
    retry_budget_s: float = Field(
        default=120.0,
        ge=0,
        description="total seconds one run may spend waiting between retries; once spent, "
        "failing calls and records are reported at once instead of waited for",
    )
    pause_after_s: float = Field(
        default=300.0,
        ge=0,
        description="a service protection limit asking to wait longer than this (or longer "
        "than the run's retry budget has left) pauses the run instead of waiting",
    )
    rate_limit_max: int = Field(
        default=6000, ge=1, description="requests per window relcrm sends (per user)"
    )
    rate_limit_window_s: float = Field(default=300.0, gt=0)
    key_wait_s: float = Field(
        default=900.0,
        ge=0,
        description="how long provisioning waits for a new alternate key to become Active",
    )
    key_poll_s: float = Field(default=5.0, gt=0, description="between two key status reads")

    @field_validator("environment_url", "authority_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = value.strip().rstrip("/")
        if not url.startswith("https://"):
            raise ValueError("must be an https:// URL (TLS is never turned off)")
        return url

    @property
    def api_url(self) -> str:
        """``{environment_url}/api/data/v9.2/``."""
        return f"{self.environment_url}/api/data/v{self.api_version}/"

    @property
    def token_url(self) -> str:
        return f"{self.authority_url}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def token_scope(self) -> str:
        return self.scope or f"{self.environment_url}/.default"
