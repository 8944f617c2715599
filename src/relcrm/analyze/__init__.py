"""Analysis of verbatims: how a text sounds (valence, emotions, flags) and redaction of
personal data before anything is stored.

Analyze only reads text and models; it never touches a store or a CRM. Analyzers are
plugins (entry-point group ``relcrm.analyzers``); the default, ``relcrm-linear``, is a
linear model trained offline on customer feedback and shipped in the package; ``relcrm-cx``
(VADER plus relcrm's rules) and ``vader`` remain selectable. All run fully offline.
"""

from relcrm.analyze.base import Analyzer
from relcrm.analyze.cues import TRAPPED_CUES, Cue
from relcrm.analyze.cx import CxAnalyzer
from relcrm.analyze.linear import LinearAnalyzer
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
from relcrm.analyze.redaction_config import load_redaction_config
from relcrm.analyze.registry import (
    DEFAULT_ANALYZER,
    analyzer_named,
    available_analyzers,
    default_analyzer,
)
from relcrm.analyze.vader import VaderAnalyzer

__all__ = [
    "DEFAULT",
    "DEFAULT_ANALYZER",
    "TRAPPED_CUES",
    "Analyzer",
    "Cue",
    "CustomPattern",
    "CxAnalyzer",
    "Kind",
    "LinearAnalyzer",
    "Redacted",
    "RedactionConfig",
    "VaderAnalyzer",
    "analyzer_named",
    "available_analyzers",
    "default_analyzer",
    "iban_is_valid",
    "load_redaction_config",
    "luhn_is_valid",
    "redact",
]
