"""HubSpot connection settings, from the environment (``RELCRM_HUBSPOT_*``).

The access token (a private-app token or an OAuth access token; both travel as a bearer
token) is a ``SecretStr``: it prints as ``**********`` in reprs, logs and errors, and only
:func:`relcrm.connectors.hubspot.client.build_sdk` reads its value.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BASE_URL = "https://api.hubapi.com"


class HubSpotSettings(BaseSettings):
    """Where the portal is, how to authenticate, and how fast relcrm may call it."""

    model_config = SettingsConfigDict(
        env_prefix="RELCRM_HUBSPOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    access_token: SecretStr | None = Field(
        default=None, description="private-app token (pat-...) or OAuth access token"
    )
    base_url: str = Field(default=DEFAULT_BASE_URL, description="API host (a sandbox in tests)")
    ca_file: Path | None = Field(
        default=None, description="a CA bundle to trust instead of the system store"
    )
    object_type: str = Field(default="contacts", pattern=r"^[a-z0-9_]+$")
    timeout_s: float = Field(default=60.0, gt=0)
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
    rate_limit_max: int = Field(
        default=100, ge=1, description="requests per window (100 Free/Starter, 190 Pro/Ent)"
    )
    rate_limit_window_ms: int = Field(default=10_000, ge=1)
