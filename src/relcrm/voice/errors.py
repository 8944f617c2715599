"""What goes wrong on the feedback page, as relcrm errors with catalogued codes.

A :class:`VoiceLinkError` never reaches the customer as a traceback: the app turns it
into a short page in their language with the HTTP status it carries (4xx), and the code
into its log line.
"""

from __future__ import annotations

from relcrm.errors import ConfigurationError, InputError


class VoiceSettingsError(ConfigurationError):
    """The page cannot run with these settings (no signing key, a bad base URL or TTL)."""

    code = "voice.invalid_settings"


class VoiceLinkError(InputError):
    """A request the page refuses: a bad or expired link, a stale form, too many requests.

    ``status`` is the HTTP status of the page the customer sees; ``reason`` picks its
    words from the catalogue (``relcrm.voice.i18n``).
    """

    code = "voice.invalid_link"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        reason: str,
        code: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


def invalid_link(message: str) -> VoiceLinkError:
    return VoiceLinkError(message, status=404, reason="invalid_link", code="voice.invalid_link")


def expired_link(message: str) -> VoiceLinkError:
    return VoiceLinkError(message, status=410, reason="expired_link", code="voice.expired_link")


def bad_form(message: str) -> VoiceLinkError:
    return VoiceLinkError(message, status=403, reason="stale_form", code="voice.stale_form")


def already_answered(message: str) -> VoiceLinkError:
    return VoiceLinkError(message, status=409, reason="answered", code="voice.already_answered")


def rate_limited(message: str, retry_after: int) -> VoiceLinkError:
    return VoiceLinkError(
        message,
        status=429,
        reason="rate_limited",
        code="voice.rate_limited",
        retry_after=retry_after,
    )


def bad_request(message: str, *, status: int = 400) -> VoiceLinkError:
    return VoiceLinkError(message, status=status, reason="bad_request", code="voice.bad_request")


__all__ = [
    "VoiceLinkError",
    "VoiceSettingsError",
    "already_answered",
    "bad_form",
    "bad_request",
    "expired_link",
    "invalid_link",
    "rate_limited",
]
