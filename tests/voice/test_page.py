"""The page over HTTP (uvicorn on 127.0.0.1): opening records nothing, answering needs the
form's token and happens once, refusals are clear 4xx pages, and every answer carries
the security headers."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from relcrm.models import PreferenceKind
from relcrm.store import Store
from relcrm.voice import create_app, running_page
from relcrm.voice.page import CSP, STYLE, STYLE_HASH
from tests.voice.conftest import PERSON, T0, Clock, csrf_of, new_link, settings

FORM = {"score": "3", "comment": "Support was slow.", "channel": "phone", "consent": "yes"}


def _footprint(store: Store) -> tuple[int, int, bool]:
    """(perceptions, preferences, consent) of the person: what an answer changes."""
    perceptions = sum(len(said) for _, said in store.iter_person_perceptions())
    person = store.get_person(PERSON)
    assert person is not None
    return perceptions, len(store.preferences_of(PERSON)), person.consent.granted


def _send(
    client: httpx.Client, path: str, csrf: str | None, **fields: str | list[str]
) -> httpx.Response:
    data: dict[str, str | list[str]] = {"part": "feedback", **fields}
    if csrf is not None:
        data["csrf"] = csrf
    return client.post(path, data=data)


def test_opening_a_link_records_nothing(
    client: httpx.Client, jane_store: Store, clock: Clock
) -> None:
    path = new_link(jane_store, clock)
    before = _footprint(jane_store)
    for _ in range(3):  # a mail scanner, a preview, the person
        page = client.get(path)
        assert page.status_code == 200
        assert client.head(path).status_code == 200
    assert _footprint(jane_store) == before
    (link,) = jane_store.voice_links_of(PERSON)
    assert not link.answered
    html = page.text
    assert '<html lang="en">' in html and 'name="score"' in html
    assert '<option value="email" selected>' in html  # prefilled with what she last said
    assert 'id="consent-yes" name="consent" value="yes" checked' in html
    assert "<script" not in html and "http://" not in html and "https://" not in html


def test_an_answer_is_recorded_once_through_the_ingest(
    client: httpx.Client, jane_store: Store, clock: Clock
) -> None:
    path = new_link(jane_store, clock)
    csrf = csrf_of(client.get(path).text)
    comment = "Support was slow, call me on +44 20 7946 0958 or jane@example.com"
    sent = _send(client, path, csrf, score="3", comment=comment, channel="phone", consent="yes")
    assert sent.status_code == 200, sent.text
    assert 'id="thanks"' in sent.text

    ((_, said),) = list(jane_store.iter_person_perceptions())
    (perception,) = said
    assert perception.channel == "web" and perception.nps is not None
    assert perception.nps.value == 3
    assert perception.provenance.source_system == "relcrm-voice"
    assert perception.provenance.source_record_id == jane_store.voice_links_of(PERSON)[0].id
    assert perception.verbatim is not None
    assert "jane@example.com" not in perception.verbatim and "7946" not in perception.verbatim
    assert perception.valence is None  # no analyzer given to this app: stored unread
    latest = jane_store.preferences_of(PERSON)[-1]
    assert (latest.kind, latest.value, latest.stated_at) == (PreferenceKind.CHANNEL, "phone", T0)
    assert jane_store.voice_links_of(PERSON)[0].answered_at == T0

    again = _send(client, path, csrf, score="10", comment="Actually great")
    assert again.status_code == 409 and "already answered" in again.text
    assert len(next(iter(jane_store.iter_person_perceptions()))[1]) == 1

    reopened = client.get(path)  # preferences can always be changed again
    assert reopened.status_code == 200
    assert 'name="score"' not in reopened.text and "already have your answer" in reopened.text
    assert '<option value="phone" selected>' in reopened.text
    clock.advance(minutes=1)
    changed = client.post(
        path,
        data={"csrf": csrf_of(reopened.text), "part": "preferences", "channel": "sms"},
    )
    assert changed.status_code == 200
    assert jane_store.preferences_of(PERSON)[-1].value == "sms"


def test_a_form_needs_the_token_of_its_own_link(
    client: httpx.Client, jane_store: Store, clock: Clock
) -> None:
    path = new_link(jane_store, clock)
    other = new_link(jane_store, clock)
    before = _footprint(jane_store)
    other_csrf = csrf_of(client.get(other).text)
    for csrf in (None, "", "forged." + "A" * 40, other_csrf):
        refused = _send(client, path, csrf, **FORM)
        assert refused.status_code == 403, csrf
        assert "This form has expired" in refused.text
    csrf = csrf_of(client.get(path).text)
    clock.advance(hours=2, seconds=1)  # RELCRM_VOICE_FORM_TTL: 2h by default
    assert _send(client, path, csrf, **FORM).status_code == 403
    assert _footprint(jane_store) == before
    assert not any(link.answered for link in jane_store.voice_links_of(PERSON))


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/feedback/nonsense", 404, "This link is not valid"),
        ("/feedback/" + "x" * 500, 404, "This link is not valid"),
        ("/elsewhere/abc", 404, "Page not found"),
        ("/", 404, "Page not found"),
    ],
)
def test_bad_links_get_a_clear_page_and_a_4xx(
    client: httpx.Client, path: str, status: int, words: str
) -> None:
    page = client.get(path)
    assert page.status_code == status
    assert words in page.text and "Traceback" not in page.text
    assert page.headers["content-security-policy"] == CSP


def test_an_expired_or_erased_link_is_refused(
    client: httpx.Client, jane_store: Store, clock: Clock
) -> None:
    path = new_link(jane_store, clock, days=1)
    csrf = csrf_of(client.get(path).text)
    clock.advance(days=1)
    assert client.get(path).status_code == 410
    gone = _send(client, path, csrf, **FORM)
    assert gone.status_code == 410 and "This link has expired" in gone.text

    clock.now = T0
    path = new_link(jane_store, clock)
    csrf = csrf_of(client.get(path).text)
    jane_store.erase_person(PERSON)
    assert _send(client, path, csrf, **FORM).status_code == 404
    assert client.get(path).status_code == 404


def test_a_preferences_link_never_takes_a_score(
    client: httpx.Client, jane_store: Store, clock: Clock
) -> None:
    path = new_link(jane_store, clock, purpose="preferences")
    page = client.get(path)
    assert page.status_code == 200 and 'name="score"' not in page.text
    assert "Your preferences" in page.text
    assert _send(client, path, csrf_of(page.text), **FORM).status_code == 409
    for channel in ("post", "email"):
        clock.advance(minutes=1)
        saved = client.post(
            path,
            data={
                "csrf": csrf_of(page.text),
                "part": "preferences",
                "channel": channel,
                "frequency": "changes",
                "language": "de",
                "topics_shown": "1",
                "topics": ["billing", "events"],
            },
        )
        assert saved.status_code == 200
    stated = jane_store.preferences_of(PERSON)
    latest = {p.kind: p.value for p in stated if p.kind is not PreferenceKind.TOPIC}
    assert latest == {
        PreferenceKind.CHANNEL: "email",
        PreferenceKind.FREQUENCY: "only when something changes",
        PreferenceKind.LANGUAGE: "de",
    }
    assert sorted(p.value for p in stated if p.kind is PreferenceKind.TOPIC) == [
        "billing",
        "events",
    ]
    assert len(stated) == 1 + 5 + 1  # her first, then only what changed
    shown = client.get(path).text
    assert 'id="topic-billing" name="topics" value="billing" checked' in shown
    assert '<option value="de" selected>' in shown
    assert not jane_store.voice_links_of(PERSON)[0].answered
    assert next(iter(jane_store.iter_person_perceptions()))[1] == []


def test_consent_withdrawn_on_the_page_is_recorded_with_time_and_source(
    client: httpx.Client, jane_store: Store, clock: Clock
) -> None:
    path = new_link(jane_store, clock, purpose="preferences")
    csrf = csrf_of(client.get(path).text)
    clock.advance(minutes=5)
    saved = client.post(path, data={"csrf": csrf, "part": "preferences", "consent": "no"})
    assert saved.status_code == 200
    person = jane_store.get_person(PERSON)
    assert person is not None
    assert (person.consent.granted, person.consent.source) == (False, "voice")
    assert person.consent.updated_at == T0 + timedelta(minutes=5)
    assert 'id="consent-no" name="consent" value="no" checked' in client.get(path).text


def test_an_invalid_form_is_shown_again_with_its_problems(
    client: httpx.Client, jane_store: Store, clock: Clock
) -> None:
    path = new_link(jane_store, clock)
    csrf = csrf_of(client.get(path).text)
    before = _footprint(jane_store)
    script = "<script>alert(1)</script>"
    shown = _send(client, path, csrf, score="11", comment=script, channel="pigeon")
    assert shown.status_code == 400
    html = shown.text
    assert "Please choose a score." in html and "Please choose one of the options" in html
    assert 'aria-invalid="true" aria-describedby="score-error"' in html
    assert 'href="#score-field"' in html and 'href="#channel-field"' in html
    assert script not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert _footprint(jane_store) == before
    assert not jane_store.voice_links_of(PERSON)[0].answered
    long = _send(client, path, csrf_of(html), score="5", comment="x" * 2001)
    assert long.status_code == 400 and "at most 2000 characters" in long.text
    assert _send(client, path, csrf_of(long.text), score="5").status_code == 200


def test_only_a_small_url_encoded_form_is_read(
    client: httpx.Client, jane_store: Store, clock: Clock
) -> None:
    path = new_link(jane_store, clock)
    csrf = csrf_of(client.get(path).text)
    as_json = client.post(path, json={"csrf": csrf, "score": "3"})
    assert as_json.status_code == 415
    huge = client.post(path, data={"csrf": csrf, "score": "3", "comment": "x" * 40_000})
    assert huge.status_code == 413
    not_utf8 = client.post(
        path,
        content=b"csrf=" + csrf.encode() + b"&comment=%FF%FE",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert not_utf8.status_code == 400 and "cannot be read" in not_utf8.text


def test_every_answer_carries_the_security_headers(
    client: httpx.Client, jane_store: Store, clock: Clock
) -> None:
    path = new_link(jane_store, clock)
    for response in (client.get(path), client.get("/feedback/bad"), client.get("/healthz")):
        headers = response.headers
        assert headers["content-security-policy"] == CSP
        assert "default-src 'none'" in CSP and "script-src" not in CSP
        assert "form-action 'self'" in CSP and "frame-ancestors 'none'" in CSP
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
        assert "server" not in headers
    html = client.get(path).text
    (style,) = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert style == STYLE and f"'sha256-{STYLE_HASH}'" in CSP


@pytest.mark.parametrize(
    ("accept", "query", "lang", "words"),
    [
        ("fr-CA,fr;q=0.9,en;q=0.5", "", "fr", "Comment avons-nous fait ?"),
        ("de-DE", "", "de", "Wie war es mit uns?"),
        ("pt-BR, es;q=0.8", "", "es", "¿Qué tal lo hicimos?"),
        ("ja", "", "en", "How did we do?"),
        ("de", "?lang=es", "es", "¿Qué tal lo hicimos?"),
        ("fr", "?lang=xx", "fr", "Comment avons-nous fait ?"),
    ],
)
def test_the_page_speaks_the_visitors_language(
    client: httpx.Client,
    jane_store: Store,
    clock: Clock,
    accept: str,
    query: str,
    lang: str,
    words: str,
) -> None:
    path = new_link(jane_store, clock)
    page = client.get(path + query, headers={"accept-language": accept})
    assert f'<html lang="{lang}">' in page.text and words in page.text
    expired = client.get("/feedback/bad" + query, headers={"accept-language": accept})
    assert f'<html lang="{lang}">' in expired.text


def test_rate_limits_per_link_and_per_address(jane_store: Store, clock: Clock) -> None:
    app = create_app(jane_store, settings(link_rate=3, address_rate=5), clock=clock)
    with running_page(app) as server, httpx.Client(base_url=server.base_url) as client:
        path = new_link(jane_store, clock)
        assert [client.get(path).status_code for _ in range(4)] == [200, 200, 200, 429]
        limited = client.get(path)
        assert limited.status_code == 429 and "Too many requests" in limited.text
        assert 0 < int(limited.headers["retry-after"]) <= 600
        other = new_link(jane_store, clock)  # another link, the same address
        assert client.get(other).status_code == 429  # 5 counted for the address already
        clock.advance(minutes=10)
        assert client.get(other).status_code == 200
        assert client.get(path).status_code == 200


@pytest.mark.parametrize("trusted", [True, False])
def test_the_address_limit_counts_the_proxys_client_only_when_the_proxy_is_trusted(
    jane_store: Store, clock: Clock, trusted: bool
) -> None:
    app = create_app(jane_store, settings(address_rate=2), clock=clock)
    allowed = "127.0.0.1" if trusted else None
    with (
        running_page(app, forwarded_allow_ips=allowed) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        path = new_link(jane_store, clock)
        first = {"x-forwarded-for": "203.0.113.7"}
        assert [client.get(path, headers=first).status_code for _ in range(3)] == [200, 200, 429]
        second = client.get(path, headers={"x-forwarded-for": "198.51.100.9"})
        # trusted: another visitor behind the proxy; not trusted: the header is ignored,
        # so a visitor cannot escape the limit by naming another address
        assert second.status_code == (200 if trusted else 429)


def test_a_csat_page_asks_one_to_five_and_stores_a_csat(jane_store: Store, clock: Clock) -> None:
    app = create_app(jane_store, settings(score="csat"), clock=clock)
    with running_page(app) as server, httpx.Client(base_url=server.base_url) as client:
        path = new_link(jane_store, clock)
        page = client.get(path, headers={"accept-language": "es"})
        assert "¿Cuál es su grado de satisfacción con nosotros?" in page.text
        assert 'value="1"' in page.text and 'value="5"' in page.text
        assert 'id="score-0"' not in page.text and 'id="score-6"' not in page.text
        assert _send(client, path, csrf_of(page.text), score="6").status_code == 400
        assert _send(client, path, csrf_of(page.text), score="2").status_code == 200
    ((_, (perception,)),) = list(jane_store.iter_person_perceptions())
    assert perception.nps is None and perception.csat is not None
    assert (perception.csat.value, perception.csat.scale_max) == (2, 5)


def test_an_unexpected_error_is_a_500_page_without_a_traceback(
    jane_store: Store, store_url: str, clock: Clock
) -> None:
    path = new_link(jane_store, clock)
    broken = Store.open(store_url)  # the URL with its password (Store.url hides it)
    app = create_app(broken, settings(), clock=clock)
    broken.close()  # every read now fails inside the page
    with running_page(app) as server, httpx.Client(base_url=server.base_url) as client:
        page = client.get(path)
    assert page.status_code == 500
    assert "Something went wrong on our side" in page.text and "Nothing was saved" in page.text
    assert "Traceback" not in page.text and "StoreError" not in page.text
    assert page.headers["content-security-policy"] == CSP
