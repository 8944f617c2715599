"""Zoho CRM connection settings, from the environment (``RELCRM_ZOHO_*``) or a targets file.

The OAuth client id and secret and the refresh token are ``SecretStr``: they print as
``**********`` in reprs, logs and errors, and only :mod:`relcrm.connectors.zoho.auth`
reads their values, to ask the accounts server for an access token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from relcrm.connectors.zoho.datacentres import DataCentre

Edition = Literal["free", "standard", "professional", "enterprise", "ultimate"]


def _https(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().rstrip("/")
    if not text.startswith("https://"):
        raise ValueError("must be an https:// URL (relcrm never sends tokens in clear)")
    return text


class ZohoSettings(BaseSettings):
    """Where the org is, how to get tokens for it, and the limits its edition sets."""

    model_config = SettingsConfigDict(
        env_prefix="RELCRM_ZOHO_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_centre: DataCentre = Field(
        default="us", description="the org's data centre: us, eu, in, au, jp, cn, ca or sa"
    )
    accounts_url: str | None = Field(
        default=None,
        description="the accounts server (default: the data centre's; a sandbox's URL in tests)",
    )
    api_domain: str | None = Field(
        default=None,
        description="the API host; default: the api_domain the token answer names",
    )
    client_id: SecretStr | None = Field(default=None, description="the OAuth client's id")
    client_secret: SecretStr | None = Field(default=None, description="the OAuth client's secret")
    refresh_token: SecretStr | None = Field(
        default=None,
        description="a refresh token with scopes ZohoCRM.modules.ALL and "
        "ZohoCRM.settings.fields.ALL",
    )
    ca_file: Path | None = Field(
        default=None, description="a CA bundle to trust instead of the system store"
    )
    timeout_s: float = Field(default=60.0, gt=0)
    retry_attempts: int = Field(
        default=5,
        ge=1,
        le=20,
        description="tries per call, the first included, before a transient failure "
        "(500, dropped connection, concurrency limit) is given up",
    )
    record_retry_attempts: int = Field(
        default=3,
        ge=1,
        le=20,
        description="tries per record, the first included, when Zoho fails one record "
        "transiently (a locked record); then it is reported and dead-lettered",
    )
    retry_budget_s: float = Field(
        default=120.0,
        ge=0,
        description="total seconds one run may spend waiting between retries; once spent, "
        "failing calls and records are reported at once instead of waited for",
    )
    edition: Edition = Field(
        default="enterprise", description="the org's edition: sets credits and concurrency"
    )
    licences: int = Field(default=1, ge=1, description="user licences (add credits per day)")
    credits_per_day: int | None = Field(
        default=None, ge=1, description="API credits per rolling 24 hours, if not the edition's"
    )
    max_concurrency: int | None = Field(
        default=None,
        ge=1,
        description="calls relcrm keeps in flight at once; default: the edition's concurrency "
        "limit less what other integrations of the app may use (see connector docs)",
    )
    trigger_workflows: bool = Field(
        default=True,
        description="let Zoho run workflow rules, approvals and blueprints on relcrm's writes",
    )

    _check_accounts = field_validator("accounts_url", "api_domain")(_https)
