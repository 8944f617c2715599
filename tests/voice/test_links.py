"""Signed links (issue 13): opaque, expiring, bound to their purpose, verified with every
key of the rotation; and the links table (v9), erased with its person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer

from relcrm.errors import StoreError
from relcrm.store import Store
from relcrm.voice import LinkSigner, VoiceSettingsError, issue_link, parse_duration
from relcrm.voice.errors import VoiceLinkError
from tests.voice.conftest import KEY_NEW, KEY_OLD, PERSON, T0, Clock, new_link, settings


def _token(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def test_a_link_holds_an_opaque_id_and_verifies_until_it_expires(
    jane_store: Store, clock: Clock
) -> None:
    path = new_link(jane_store, clock, days=14)
    purpose, token = path.strip("/").split("/")
    assert purpose == "feedback"
    for personal in (PERSON, "jane", "example.com"):
        assert personal not in path.lower()
    payload = URLSafeSerializer(KEY_NEW, salt="relcrm.voice.link.feedback").loads(token)
    assert set(payload) == {"l", "e"} and len(payload["l"]) == 32  # the id, and the expiry
    (link,) = jane_store.voice_links_of(PERSON)
    assert link.id == payload["l"] and link.person_id == PERSON and not link.answered
    assert link.expires_at == T0 + timedelta(days=14)

    signer = LinkSigner([KEY_NEW], clock=clock)
    clock.advance(days=13, hours=23)
    assert signer.verify(token, "feedback").link_id == link.id
    clock.advance(hours=1)
    with pytest.raises(VoiceLinkError) as expired:
        signer.verify(token, "feedback")
    assert (expired.value.status, expired.value.code) == (410, "voice.expired_link")


def test_a_link_of_one_purpose_is_refused_for_the_other(jane_store: Store, clock: Clock) -> None:
    token = _token(new_link(jane_store, clock, purpose="preferences"))
    signer = LinkSigner([KEY_NEW], clock=clock)
    assert signer.verify(token, "preferences").purpose == "preferences"
    with pytest.raises(VoiceLinkError) as wrong:
        signer.verify(token, "feedback")
    assert (wrong.value.status, wrong.value.code) == (404, "voice.invalid_link")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t[: len(t) // 2],
        lambda t: "x" + t,
        lambda t: "",
        lambda t: t * 10,
    ],
    ids=["signature", "truncated", "prefixed", "empty", "too-long"],
)
def test_a_tampered_token_is_invalid(jane_store: Store, clock: Clock, mangle: object) -> None:
    token = _token(new_link(jane_store, clock))
    with pytest.raises(VoiceLinkError) as bad:
        LinkSigner([KEY_NEW], clock=clock).verify(mangle(token), "feedback")  # type: ignore[operator]
    assert bad.value.status == 404


def test_rotation_signs_with_the_newest_key_and_verifies_with_all(
    jane_store: Store, clock: Clock
) -> None:
    old_token = _token(new_link(jane_store, clock, key=KEY_OLD))
    rotated = LinkSigner([KEY_NEW, KEY_OLD], clock=clock)  # newest first
    assert rotated.verify(old_token, "feedback").link_id
    fresh = rotated.sign("a" * 32, "feedback", T0 + timedelta(days=1))
    assert LinkSigner([KEY_NEW], clock=clock).verify(fresh, "feedback").link_id == "a" * 32
    with pytest.raises(VoiceLinkError):
        LinkSigner([KEY_OLD], clock=clock).verify(fresh, "feedback")
    with pytest.raises(VoiceLinkError):  # the old key retired: its links stop working
        LinkSigner([KEY_NEW], clock=clock).verify(old_token, "feedback")


def test_settings_refuse_missing_or_short_keys_and_hide_them() -> None:
    with pytest.raises(VoiceSettingsError, match="RELCRM_VOICE_KEYS"):
        settings(" , ").signing_keys()
    with pytest.raises(VoiceSettingsError, match="key number 2"):
        settings(KEY_NEW, "short").signing_keys()
    both = settings(KEY_NEW, KEY_OLD)
    assert both.signing_keys() == (KEY_NEW, KEY_OLD)
    for shown in (repr(both), str(both), repr(LinkSigner(both.signing_keys()))):
        assert KEY_NEW not in shown and KEY_OLD not in shown
    assert parse_duration("14d") == timedelta(days=14)
    assert parse_duration("90s") == timedelta(seconds=90)
    for bad in ("14", "0d", "-1h", "1y", "d"):
        with pytest.raises(VoiceSettingsError):
            parse_duration(bad)


def test_a_link_for_an_unknown_person_is_refused(jane_store: Store, clock: Clock) -> None:
    with pytest.raises(StoreError) as unknown:
        issue_link(
            jane_store,
            LinkSigner([KEY_NEW]),
            "p-nobody",
            purpose="feedback",
            ttl=timedelta(days=1),
            base_url="https://x.example",
            now=clock(),
        )
    assert unknown.value.code == "voice.unknown_person"
    assert jane_store.voice_links_of("p-nobody") == []


def test_the_answer_nonce_is_taken_once_and_links_are_erased_with_their_person(
    jane_store: Store, clock: Clock
) -> None:
    new_link(jane_store, clock)
    (link,) = jane_store.voice_links_of(PERSON)
    assert jane_store.take_answer(link.id, T0)
    assert not jane_store.take_answer(link.id, T0 + timedelta(seconds=1))
    jane_store.release_answer(link.id, T0 + timedelta(seconds=1))  # not the taker: no effect
    assert jane_store.voice_link(link.id).answered  # type: ignore[union-attr]
    jane_store.release_answer(link.id, T0)
    assert not jane_store.voice_link(link.id).answered  # type: ignore[union-attr]
    assert jane_store.person_footprint(PERSON)["voice_links"] == 1

    jane_store.erase_person(PERSON)
    assert jane_store.voice_link(link.id) is None
    assert not any(jane_store.person_footprint(PERSON).values())


def test_expired_links_are_purged(jane_store: Store, clock: Clock) -> None:
    new_link(jane_store, clock, days=1)
    new_link(jane_store, clock, days=30)
    assert jane_store.purge_voice_links(T0 + timedelta(days=2)) == 1
    assert [link.expires_at for link in jane_store.voice_links_of(PERSON)] == [
        T0 + timedelta(days=30)
    ]
