"""Server-side HTML: the form, the thank-you page and the error pages.

No JavaScript, no external asset: one inline stylesheet whose hash the Content Security
Policy names (:data:`CSP`), so nothing else may style, script or load anything. Every
value is escaped where it is written (:func:`h`). Accessibility: the page's language in
``<html lang>``, a label for every control, radio groups in fieldsets with legends,
errors in a summary linking to each field and on the field itself (``aria-invalid``,
``aria-describedby``), visible focus, and colours with a contrast of 7:1 or more.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Final

from relcrm.voice.form import (
    CHANNELS,
    FREQUENCIES,
    LANGUAGE_CHOICES,
    MAX_COMMENT_CHARS,
    TOPICS,
    FormErrors,
    FormPart,
    StatedPreferences,
    score_range,
)
from relcrm.voice.i18n import AUTONYMS, LANGUAGES, Translator
from relcrm.voice.settings import ScoreType

STYLE: Final = """
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:#f4f4f2;color:#1a1a1a;font:1.0625rem/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,sans-serif}
main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem 3rem;background:#ffffff;min-height:100vh}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 1rem}
p{margin:.5rem 0 1rem}
fieldset{border:1px solid #6b6b6b;border-radius:.5rem;margin:0 0 1.25rem;padding:.75rem 1rem}
legend{font-weight:600;padding:0 .25rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
.hint{color:#3d3d3d;font-size:.95rem;margin:.25rem 0 .5rem}
.scale{display:flex;flex-wrap:wrap;gap:.375rem;margin:.5rem 0}
.scale label,.choice label{display:inline-block;font-weight:400;margin:0}
.scale label{min-width:2.75rem;text-align:center;padding:.5rem .25rem;border:2px solid #1a1a1a;
border-radius:.375rem;cursor:pointer}
.scale input{position:absolute;opacity:0;width:1px;height:1px}
.scale input:checked+label{background:#0b3d91;color:#ffffff;border-color:#0b3d91}
.scale input:focus-visible+label{outline:3px solid #b35900;outline-offset:2px}
.choice{display:flex;align-items:flex-start;gap:.5rem;margin:.375rem 0}
.choice input{width:1.25rem;height:1.25rem;margin:.2rem 0 0}
select,textarea{width:100%;font:inherit;color:inherit;padding:.5rem;border:2px solid #1a1a1a;
border-radius:.375rem;background:#ffffff}
textarea{min-height:7rem}
:focus-visible{outline:3px solid #b35900;outline-offset:2px}
button{font:inherit;font-weight:600;color:#ffffff;background:#0b3d91;border:0;border-radius:.375rem;
padding:.75rem 1.5rem;cursor:pointer;margin-top:.5rem}
button:hover{background:#072a66}
.errors{border:3px solid #a30000;border-radius:.5rem;padding:.5rem 1rem;margin:0 0 1.25rem}
.errors h2{font-size:1.1rem;margin:.25rem 0}
.error{color:#a30000;font-weight:600;margin:.25rem 0}
.note{border-left:4px solid #0b3d91;padding:.25rem .75rem;background:#eef2fa}
nav{margin-top:2rem;font-size:.95rem}
nav ul{list-style:none;padding:0;display:flex;gap:1rem;flex-wrap:wrap}
a{color:#0b3d91}
"""

STYLE_HASH: Final = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP: Final = (
    "default-src 'none'; "
    f"style-src 'sha256-{STYLE_HASH}'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""Nothing loads, runs or frames the page; only its own stylesheet applies; forms post to
the page itself."""

SECURITY_HEADERS: Final = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}
"""On every answer: the link's token is in the address, so it must never leak through a
Referer, a cache or a frame."""


def h(value: object) -> str:
    """``value`` escaped for HTML text and attribute values."""
    return escape(str(value), quote=True)


def layout(t: Translator, title: str, body: str, *, switcher: bool = False) -> str:
    """A whole page; ``switcher`` adds links to the page in each language. Links and form
    actions are relative (``?lang=fr``, the token), so the page works under any path
    prefix a reverse proxy gives it."""
    languages = ""
    if switcher:
        items = "".join(
            f'<li><a href="?lang={code}" lang="{code}" hreflang="{code}"'
            + (' aria-current="page"' if code == t.language else "")
            + f">{h(AUTONYMS[code])}</a></li>"
            for code in LANGUAGES
        )
        languages = f'<nav aria-label="{h(t.t("page_language"))}"><ul>{items}</ul></nav>'
    return (
        f'<!doctype html><html lang="{t.language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{h(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}{languages}</main></body></html>"
    )


def message_page(t: Translator, reason: str, **values: object) -> str:
    """An error (or notice) page: a heading and one sentence, from the catalogue."""
    title = t.t(f"{reason}_title")
    return layout(t, title, f"<h1>{h(title)}</h1><p>{h(t.t(f'{reason}_body', **values))}</p>")


def thanks_page(t: Translator, part: FormPart) -> str:
    title = t.t("thanks_title")
    body = f'<h1 id="thanks">{h(title)}</h1><p>{h(t.t(f"thanks_{part}"))}</p>'
    return layout(t, title, body, switcher=True)


@dataclass(frozen=True)
class FormView:
    """What the form shows: its part, the values to prefill and the problems to name."""

    part: FormPart
    score_type: ScoreType
    csrf: str
    action: str
    """Relative: the link's token (and ``?lang=``), so a path prefix is kept."""
    preferences: StatedPreferences
    consent: bool | None
    score: int | None = None
    comment: str = ""
    answered_note: bool = False
    errors: FormErrors | None = None


def _error(view: FormView, t: Translator, name: str) -> tuple[str, str]:
    """(the field's aria attributes, the message element) for field ``name``."""
    if view.errors is None or name not in view.errors.problems:
        return "", ""
    key, values = view.errors.problems[name]
    return (
        f' aria-invalid="true" aria-describedby="{name}-error"',
        f'<p class="error" id="{name}-error">{h(t.t(key, **values))}</p>',
    )


def _summary(view: FormView, t: Translator) -> str:
    if not view.errors:
        return ""
    items = "".join(
        f'<li><a href="#{name}-field">{h(t.t(key, **values))}</a></li>'
        for name, (key, values) in view.errors.problems.items()
    )
    return (
        '<div class="errors" role="alert" tabindex="-1" id="errors">'
        f"<h2>{h(t.t('error_summary'))}</h2><ul>{items}</ul></div>"
    )


def _select(
    t: Translator,
    view: FormView,
    name: str,
    label: str,
    options: Iterable[tuple[str, str]],
    chosen: str | None,
) -> str:
    aria, message = _error(view, t, name)
    rendered = f'<option value="">{h(t.t("no_preference"))}</option>' + "".join(
        f'<option value="{h(value)}"'
        + (" selected" if value == chosen else "")
        + f">{h(text)}</option>"
        for value, text in options
    )
    return (
        f'<div id="{name}-field"><label for="{name}">{h(label)}</label>{message}'
        f'<select id="{name}" name="{name}"{aria}>{rendered}</select></div>'
    )


def _score(view: FormView, t: Translator) -> str:
    kind = view.score_type
    aria, message = _error(view, t, "score")
    radios = "".join(
        f'<input type="radio" id="score-{n}" name="score" value="{n}" required'
        + (" checked" if view.score == n else "")
        + f'><label for="score-{n}">{n}</label>'
        for n in score_range(kind)
    )
    return (
        f'<fieldset id="score-field" aria-describedby="score-hint"{aria}>'
        f"<legend>{h(t.t(f'score_legend_{kind}'))}</legend>{message}"
        f'<p class="hint" id="score-hint">{h(t.t(f"score_low_{kind}"))}; '
        f'{h(t.t(f"score_high_{kind}"))}</p><div class="scale">{radios}</div></fieldset>'
    )


def _comment(view: FormView, t: Translator) -> str:
    aria, message = _error(view, t, "comment")
    described = aria or ' aria-describedby="comment-hint"'
    return (
        f'<div id="comment-field"><label for="comment">{h(t.t("comment_label"))}</label>'
        f'<p class="hint" id="comment-hint">{h(t.t("comment_hint"))}</p>{message}'
        f'<textarea id="comment" name="comment" rows="5" maxlength="{MAX_COMMENT_CHARS}"'
        f"{described}>{h(view.comment)}</textarea></div>"
    )


def _preferences(view: FormView, t: Translator) -> str:
    stated = view.preferences
    channel = _select(
        t, view, "channel", t.t("channel_label"),
        ((c, t.t(f"channel_{c}")) for c in CHANNELS), stated.channel,
    )  # fmt: skip
    frequency = _select(
        t, view, "frequency", t.t("frequency_label"),
        ((f, t.t(f"frequency_{f}")) for f in FREQUENCIES), stated.frequency,
    )  # fmt: skip
    language = _select(
        t, view, "language", t.t("language_label"),
        ((code, AUTONYMS[code]) for code in LANGUAGE_CHOICES), stated.language,
    )  # fmt: skip
    ticked = set(stated.topics or ())
    boxes = "".join(
        f'<div class="choice"><input type="checkbox" id="topic-{key}" name="topics" '
        f'value="{key}"' + (" checked" if key in ticked else "") + ">"
        f'<label for="topic-{key}">{h(t.t(f"topic_{key}"))}</label></div>'
        for key in TOPICS
    )
    aria, message = _error(view, t, "topics")
    topics = (
        f'<fieldset id="topics-field"{aria}><legend>{h(t.t("topics_legend"))}</legend>'
        f'{message}<input type="hidden" name="topics_shown" value="1">{boxes}</fieldset>'
    )
    return (
        f"<fieldset><legend>{h(t.t('prefs_legend'))}</legend>"
        f"{channel}{frequency}{language}{topics}</fieldset>"
    )


def _consent(view: FormView, t: Translator) -> str:
    aria, message = _error(view, t, "consent")
    radios = "".join(
        f'<div class="choice"><input type="radio" id="consent-{value}" name="consent" '
        f'value="{value}"' + (" checked" if view.consent is granted else "") + ">"
        f'<label for="consent-{value}">{h(t.t(f"consent_{value}"))}</label></div>'
        for value, granted in (("yes", True), ("no", False))
    )
    return (
        f'<fieldset id="consent-field"{aria}><legend>{h(t.t("consent_legend"))}</legend>'
        f"{message}{radios}</fieldset>"
    )


def form_page(t: Translator, view: FormView) -> str:
    """The feedback form (score, comment, preferences, consent) or the preferences form."""
    feedback = view.part == "feedback"
    title = t.t("title_feedback" if feedback else "title_preferences")
    intro = t.t("intro_feedback" if feedback else "intro_preferences")
    note = f'<p class="note">{h(t.t("answered_note"))}</p>' if view.answered_note else ""
    fields = (_score(view, t) + _comment(view, t)) if feedback else ""
    body = (
        f"<h1>{h(title)}</h1>{note}<p>{h(intro)}</p>{_summary(view, t)}"
        f'<form method="post" action="{h(view.action)}" accept-charset="utf-8">'
        f'<input type="hidden" name="csrf" value="{h(view.csrf)}">'
        f'<input type="hidden" name="part" value="{view.part}">'
        f"{fields}{_preferences(view, t)}{_consent(view, t)}"
        f'<button type="submit" id="send">{h(t.t(f"submit_{view.part}"))}</button></form>'
    )
    return layout(t, title, body, switcher=True)


__all__ = [
    "CSP",
    "SECURITY_HEADERS",
    "STYLE",
    "FormView",
    "form_page",
    "h",
    "layout",
    "message_page",
    "thanks_page",
]
