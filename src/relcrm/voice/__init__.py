"""The customer's feedback and preference page (``relcrm voice``), issue 13.

``relcrm voice link PERSON_ID`` prints a signed, expiring link holding an opaque id;
``relcrm voice serve`` serves the page it opens: a score (NPS or CSAT), a comment, and
the person's preferences and consent, prefilled. Answers go through the same ingest as
every other source (redacted, analysed), and ``relcrm run`` carries them to the CRMs.
See docs/voice.md.
"""

from relcrm.voice.app import create_app
from relcrm.voice.errors import VoiceLinkError, VoiceSettingsError
from relcrm.voice.links import IssuedLink, LinkSigner, issue_link
from relcrm.voice.server import PageServer, running_page, serve
from relcrm.voice.settings import VoiceSettings, parse_duration

__all__ = [
    "IssuedLink",
    "LinkSigner",
    "PageServer",
    "VoiceLinkError",
    "VoiceSettings",
    "VoiceSettingsError",
    "create_app",
    "issue_link",
    "parse_duration",
    "running_page",
    "serve",
]
