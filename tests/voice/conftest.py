"""Fixtures for the feedback page: keys, settings, a store holding one consenting person,
a clock the tests move, and the page's app on them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from relcrm.models import Consent, Person, Preference
from relcrm.store import Store
from relcrm.voice import LinkSigner, VoiceSettings, create_app, issue_link, running_page

KEY_NEW = "n" * 20 + "ew-key-0123456789abcdef"
KEY_OLD = "o" * 20 + "ld-key-0123456789abcdef"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PERSON = "p-jane"


@dataclass
class Clock:
    """The page's clock, moved by the test."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def settings(*keys: str, **values: object) -> VoiceSettings:
    """Settings as the environment would give them (explicit here: no .env leaks in)."""
    return VoiceSettings(
        keys=SecretStr(",".join(keys or (KEY_NEW,))),
        base_url="https://feedback.example.com/",
        _env_file=None,  # type: ignore[call-arg]
        **values,  # type: ignore[arg-type]
    )


def jane() -> Person:
    return Person(
        id=PERSON,
        display_name="Jane",
        emails=("jane@example.com",),
        consent=Consent(granted=True, updated_at=T0 - timedelta(days=30), source="crm"),
    )


def jane_said_email(store: Store) -> None:
    store.add_preferences(
        [
            Preference.model_validate(
                {
                    "person_id": PERSON,
                    "kind": "channel",
                    "value": "email",
                    "stated_at": T0 - timedelta(days=40),
                    "provenance": {"source_system": "crm", "source_record_id": "pref-1"},
                }
            )
        ]
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def jane_store(store: Store) -> Store:
    store.upsert_person(jane())
    jane_said_email(store)
    return store


@pytest.fixture
def client(jane_store: Store, clock: Clock) -> Iterator[httpx.Client]:
    """An HTTP client on the page, served by uvicorn on 127.0.0.1 (real sockets)."""
    app = create_app(jane_store, settings(), clock=clock)
    with running_page(app) as server, httpx.Client(base_url=server.base_url) as http:
        yield http


def new_link(
    store: Store, clock: Clock, *, purpose: str = "feedback", key: str = KEY_NEW, days: float = 14
) -> str:
    """The path of a new link (what follows the base URL)."""
    issued = issue_link(
        store,
        LinkSigner([key], clock=clock),
        PERSON,
        purpose=purpose,  # type: ignore[arg-type]
        ttl=timedelta(days=days),
        base_url="https://feedback.example.com",
        now=clock(),
    )
    return issued.url.removeprefix("https://feedback.example.com")


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)
