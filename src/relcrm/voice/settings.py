"""The page's settings, from the environment (``RELCRM_VOICE_*``) or a ``.env`` file.

The signing keys are secrets: one ``SecretStr`` holding a comma-separated list, newest
first. The newest signs new links and forms; every key verifies, so a key can be rotated
in (put first) and out (removed once the links it signed have expired) without breaking
a link already in someone's inbox. Nothing here prints a key: ``repr`` shows stars.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from relcrm.voice.errors import VoiceSettingsError

ScoreType = Literal["nps", "csat"]

MIN_KEY_LENGTH = 32
"""Characters a signing key needs at least: ``python -c "import secrets;
print(secrets.token_urlsafe(32))"`` gives 43."""

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """``"14d"``, ``"12h"``, ``"30m"``, ``"2w"`` or ``"90s"`` as a positive timedelta."""
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) <= 0:
        raise VoiceSettingsError(
            f"not a duration: {text!r}",
            hint='write a whole number and a unit: "14d", "12h", "30m", "2w" or "90s"',
        )
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


class VoiceSettings(BaseSettings):
    """What ``relcrm voice`` needs besides the store: keys, where it is reached, what it asks."""

    model_config = SettingsConfigDict(
        env_prefix="RELCRM_VOICE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    keys: SecretStr = Field(
        default=SecretStr(""),
        description="signing keys, comma-separated, newest first (each 32 characters or more)",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8040",
        description="the page's public address as customers reach it (behind the proxy)",
    )
    score: ScoreType = Field(default="nps", description="what the page asks: nps or csat")
    link_ttl: str = Field(default="14d", description="how long a new link lives by default")
    form_ttl: str = Field(default="2h", description="how long an opened form may be sent")
    link_rate: int = Field(default=30, gt=0, description="requests per link per window")
    address_rate: int = Field(default=120, gt=0, description="requests per address per window")
    rate_window: str = Field(default="10m", description="the rate limits' window")
    analyzer: str | None = Field(
        default=None,
        description='the analyzer that reads comments, or "none" (default: the default)',
    )

    @field_validator("base_url")
    @classmethod
    def _absolute_http(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError(f"base_url must be an absolute http(s) address, got {value!r}")
        return value.rstrip("/")

    def signing_keys(self) -> tuple[str, ...]:
        """The keys, newest first; raises :class:`VoiceSettingsError` when there is none or
        one is too short to be a secret."""
        found = tuple(k.strip() for k in self.keys.get_secret_value().split(",") if k.strip())
        if not found:
            raise VoiceSettingsError(
                "no signing key: RELCRM_VOICE_KEYS is not set",
                hint="set RELCRM_VOICE_KEYS to a random key of 32+ characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(32))')",
            )
        short = [i for i, key in enumerate(found) if len(key) < MIN_KEY_LENGTH]
        if short:
            raise VoiceSettingsError(
                f"RELCRM_VOICE_KEYS: key number {short[0] + 1} is shorter than "
                f"{MIN_KEY_LENGTH} characters",
                hint="use random keys of 32+ characters (secrets.token_urlsafe(32))",
            )
        return found

    def link_lifetime(self) -> timedelta:
        return parse_duration(self.link_ttl)

    def form_lifetime(self) -> timedelta:
        return parse_duration(self.form_ttl)

    def window(self) -> timedelta:
        return parse_duration(self.rate_window)


__all__ = ["MIN_KEY_LENGTH", "ScoreType", "VoiceSettings", "parse_duration"]
