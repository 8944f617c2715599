"""Analysis of verbatims: redaction of personal data before anything is stored.

Analyze only reads text and models; it never touches a store or a CRM.
"""

from relcrm.analyze.redaction import (
    DEFAULT,
    CustomPattern,
    Kind,
    Redacted,
    RedactionConfig,
    iban_is_valid,
    luhn_is_valid,
    redact,
)

__all__ = [
    "DEFAULT",
    "CustomPattern",
    "Kind",
    "Redacted",
    "RedactionConfig",
    "iban_is_valid",
    "luhn_is_valid",
    "redact",
]
