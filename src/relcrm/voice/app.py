"""The page as a Starlette application: ``create_app(store, settings)``.

Routes: ``GET|POST /feedback/{token}``, ``GET|POST /preferences/{token}``, ``GET /healthz``.
A GET only reads (mail scanners that follow links create no answers); a POST needs the
form token the GET served for the same link (:mod:`relcrm.voice.csrf`), and a feedback
answer takes the link's one nonce (:meth:`relcrm.store.Store.take_answer`) before it is
recorded, giving it back if recording fails. Every refusal is a short page in the
visitor's language with a 4xx status; an unexpected error is a 500 page, never a
traceback. Every answer carries :data:`relcrm.voice.page.SECURITY_HEADERS`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from dataclasses import dataclass, replace
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from relcrm.analyze import DEFAULT as DEFAULT_REDACTION
from relcrm.analyze import RedactionConfig
from relcrm.store import Store
from relcrm.store.voice_links import LINK_PURPOSES, LinkPurpose, VoiceLink
from relcrm.sync.analysis import Analyzer
from relcrm.voice.csrf import FormTokens
from relcrm.voice.errors import (
    VoiceLinkError,
    already_answered,
    bad_request,
    expired_link,
    invalid_link,
    rate_limited,
)
from relcrm.voice.form import (
    CHANNELS,
    FREQUENCIES,
    LANGUAGE_CHOICES,
    MAX_BODY_BYTES,
    TOPICS,
    Answer,
    FormInvalid,
    FormPart,
    StatedPreferences,
    decode_form,
    parse_answer,
)
from relcrm.voice.i18n import CATALOGUE, Translator, choose_language
from relcrm.voice.links import Clock, LinkSigner, utc_now
from relcrm.voice.page import SECURITY_HEADERS, FormView, form_page, message_page, thanks_page
from relcrm.voice.ratelimit import SlidingWindowLimiter
from relcrm.voice.recording import record_answer, stated_preferences
from relcrm.voice.settings import VoiceSettings

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FORM_TYPE = "application/x-www-form-urlencoded"


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP answer (error pages included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._headers = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k for k, _ in self._headers}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + self._headers
            await send(message)

        await self.app(scope, receive, with_headers)


@dataclass
class _Outcome:
    status: int
    html: str
    headers: dict[str, str] | None = None


class VoicePage:
    """The page's state: store, signer, form tokens, limits and the analyzer."""

    def __init__(
        self,
        store: Store,
        settings: VoiceSettings,
        *,
        clock: Clock = utc_now,
        analyzer: Analyzer | None = None,
        redaction: RedactionConfig = DEFAULT_REDACTION,
    ) -> None:
        keys = settings.signing_keys()
        self.store = store
        self.score = settings.score
        self.clock = clock
        self.analyzer = analyzer
        self.redaction = redaction
        self.signer = LinkSigner(keys, clock=clock)
        self.forms = FormTokens(keys, max_age=settings.form_lifetime(), clock=clock)
        window = settings.window()
        self.per_link = SlidingWindowLimiter(settings.link_rate, window, clock=clock)
        self.per_address = SlidingWindowLimiter(settings.address_rate, window, clock=clock)

    def __repr__(self) -> str:
        return f"VoicePage(store={self.store!r}, score={self.score!r})"

    # -- requests ------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        purpose = str(request.path_params["purpose"])
        token = str(request.path_params["token"])
        t = _language(request)
        try:
            if purpose not in LINK_PURPOSES:
                raise HTTPException(404)
            self._limit("address:" + _client(request))
            if request.method == "POST":
                raw = await self._read_form(request)
                outcome = await run_in_threadpool(self._post, purpose, token, raw, t, request)
            else:
                outcome = await run_in_threadpool(self._get, purpose, token, t, request)
        except VoiceLinkError as error:
            logger.info("voice: %s %s refused: %s", request.method, purpose, error.code)
            outcome = _refusal(t, error)
        return HTMLResponse(outcome.html, status_code=outcome.status, headers=outcome.headers)

    def _limit(self, key: str) -> None:
        wait = (self.per_address if key.startswith("address:") else self.per_link).hit(key)
        if wait is not None:
            raise rate_limited(f"rate limit of {key.split(':', 1)[0]}", wait)

    def _link(self, purpose: LinkPurpose, token: str) -> VoiceLink:
        claim = self.signer.verify(token, purpose)
        self._limit("link:" + claim.link_id)
        link = self.store.voice_link(claim.link_id)
        if link is None or link.purpose != purpose:
            raise invalid_link("no such link in the store (never issued, or erased)")
        if link.expired(self.clock()):
            raise expired_link("link expired")
        return link

    def _get(self, purpose: LinkPurpose, token: str, t: Translator, request: Request) -> _Outcome:
        link = self._link(purpose, token)
        part: FormPart = (
            "feedback" if purpose == "feedback" and not link.answered else "preferences"
        )
        view = self._view(
            link, part, request, answered_note=purpose == "feedback" and link.answered
        )
        return _Outcome(200, form_page(t, view))

    def _post(
        self,
        purpose: LinkPurpose,
        token: str,
        raw: dict[str, list[str]],
        t: Translator,
        request: Request,
    ) -> _Outcome:
        link = self._link(purpose, token)
        self.forms.check(_first(raw, "csrf"), link.id)
        part: FormPart = "feedback" if _first(raw, "part") == "feedback" else "preferences"
        if part == "feedback" and (purpose != "feedback" or link.answered):
            raise already_answered("the link's answer was already given")
        try:
            answer = parse_answer(raw, part=part, score=self.score)
        except FormInvalid as invalid:
            view = self._view(link, part, request, answered_note=False, raw=invalid.raw)
            view = replace(view, errors=invalid.errors)
            return _Outcome(400, form_page(t, view))
        self._record(link, answer)
        return _Outcome(200, thanks_page(t, part))

    def _record(self, link: VoiceLink, answer: Answer) -> None:
        now = self.clock()
        taken = answer.part == "feedback"
        if taken and not self.store.take_answer(link.id, now):
            raise already_answered("the link's answer was already given")
        try:
            record_answer(
                self.store,
                link,
                answer,
                now=now,
                score=self.score,
                analyzer=self.analyzer,
                redaction=self.redaction,
            )
        except BaseException:
            if taken:
                self.store.release_answer(link.id, now)
            raise
        logger.info("voice: %s answer recorded for link %s", answer.part, link.id[:8])

    def _view(
        self,
        link: VoiceLink,
        part: FormPart,
        request: Request,
        *,
        answered_note: bool,
        raw: dict[str, list[str]] | None = None,
    ) -> FormView:
        person = self.store.get_person(link.person_id)
        if person is None:
            raise invalid_link("the link's person is no longer in the store")
        stated = stated_preferences(self.store, link.person_id)
        consent: bool | None = person.consent.granted if person.consent.updated_at else None
        score: int | None = None
        comment = ""
        if raw is not None:  # shown again after a problem: what the person chose stays
            stated = _sent_preferences(raw, stated)
            sent_consent = _first(raw, "consent")
            consent = {"yes": True, "no": False}.get(sent_consent or "", consent)
            score_text = _first(raw, "score") or ""
            score = int(score_text) if score_text.isdigit() and len(score_text) < 3 else None
            comment = _first(raw, "comment") or ""
        lang = request.query_params.get("lang")
        token = str(request.path_params["token"])
        action = token + (f"?lang={lang}" if lang in CATALOGUE else "")
        return FormView(
            part=part,
            score_type=self.score,
            csrf=self.forms.issue(link.id),
            action=action,
            preferences=stated,
            consent=consent,
            score=score,
            comment=comment,
            answered_note=answered_note,
        )

    async def _read_form(self, request: Request) -> dict[str, list[str]]:
        kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != FORM_TYPE:
            raise bad_request(f"unexpected content type {kind!r}", status=415)
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            raise bad_request("form too large", status=413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise bad_request("form too large", status=413)
        try:
            return decode_form(bytes(body))
        except ValueError:
            raise bad_request("form that is not UTF-8 url-encoded text") from None


def _first(raw: dict[str, list[str]], name: str) -> str | None:
    values = raw.get(name)
    return values[0] if values else None


def _sent_preferences(raw: dict[str, list[str]], stated: StatedPreferences) -> StatedPreferences:
    """The preferences a refused form chose (valid choices only), to show them again."""

    def pick(name: str, allowed: Collection[str]) -> str | None:
        value = _first(raw, name)
        return value if value is not None and value in allowed else None

    topics = tuple(t for t in TOPICS if t in raw.get("topics", []))
    return StatedPreferences(
        channel=pick("channel", CHANNELS),
        frequency=pick("frequency", FREQUENCIES),
        language=pick("language", LANGUAGE_CHOICES),
        topics=topics if "topics_shown" in raw else stated.topics,
    )


def _client(request: Request) -> str:
    """The client's address: the proxy's ``X-Forwarded-For`` once uvicorn trusts it
    (``--forwarded-allow-ips``), else the socket's peer."""
    return request.client.host if request.client is not None else "unknown"


def _refusal(t: Translator, error: VoiceLinkError) -> _Outcome:
    headers = {"retry-after": str(error.retry_after)} if error.retry_after else None
    values: dict[str, object] = {"seconds": error.retry_after} if error.retry_after else {}
    return _Outcome(error.status, message_page(t, error.reason, **values), headers)


def _language(request: Request) -> Translator:
    return Translator(
        choose_language(request.headers.get("accept-language"), request.query_params.get("lang"))
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    reason = "not_found" if status == 404 else "bad_request"
    return HTMLResponse(message_page(_language(request), reason), status_code=status)


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.error("voice: unexpected %s on %s", type(exc).__name__, request.method, exc_info=exc)
    return HTMLResponse(message_page(_language(request), "server_error"), status_code=500)


async def _health(request: Request) -> Response:
    return PlainTextResponse("ok")


def create_app(
    store: Store,
    settings: VoiceSettings,
    *,
    clock: Clock = utc_now,
    analyzer: Analyzer | None = None,
    redaction: RedactionConfig = DEFAULT_REDACTION,
) -> ASGIApp:
    """The page's ASGI application on ``store`` (which it does not close).

    Raises :class:`relcrm.voice.errors.VoiceSettingsError` when the settings cannot work
    (no key, a short key, a bad duration), before anything listens.
    """
    page = VoicePage(store, settings, clock=clock, analyzer=analyzer, redaction=redaction)
    app = Starlette(
        routes=[
            Route("/healthz", _health, methods=["GET"]),
            Route("/{purpose}/{token}", page.handle, methods=["GET", "POST"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.voice = page
    return SecurityHeaders(app)


PURPOSES: tuple[LinkPurpose, ...] = LINK_PURPOSES

__all__ = ["PURPOSES", "SecurityHeaders", "VoicePage", "create_app"]
