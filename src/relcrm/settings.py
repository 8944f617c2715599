"""Settings from the environment (``RELCRM_*``) or a ``.env`` file.

Every secret is a ``SecretStr``: it prints as ``**********`` in reprs, logs and errors,
and only the connector that needs it calls ``get_secret_value()``.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_STORE_URL = "sqlite:///relcrm.db"


class RelcrmSettings(BaseSettings):
    """Process-wide settings; command-line options win over them."""

    model_config = SettingsConfigDict(
        env_prefix="RELCRM_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    store_url: str = Field(
        default=DEFAULT_STORE_URL,
        description="SQLAlchemy URL of the state store; a SQLite file by default",
    )
    log_level: str = Field(default="WARNING")
    log_format: str = Field(
        default="text",
        description="Log lines on standard error: text, or json (one object a line); "
        "checked by relcrm.observability.configure_logging, like log_level",
    )
    lease_ttl_s: float = Field(
        default=90.0,
        gt=0,
        description="Seconds a run's lease on a target (or a worker's on a partition) "
        "outlives its last heartbeat: how soon a killed run's target is free again",
    )
    lease_heartbeat_s: float = Field(
        default=15.0,
        gt=0,
        description="Seconds between a run's heartbeats; well under lease_ttl_s",
    )
