"""Redaction of verbatims: each kind, the things it must leave alone, and properties."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from relcrm.analyze.redaction import (
    IBAN_LENGTHS,
    CustomPattern,
    RedactionConfig,
    iban_is_valid,
    luhn_is_valid,
    redact,
)

# ------------------------------------------------------------------------- examples


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Hi, please reply to o'brien@example.com, not my work address.",
            "Hi, please reply to [email], not my work address.",
        ),
        ("Merci ! Écrivez-moi : jean.dupont+sav@exemple.fr.", "Merci ! Écrivez-moi : [email]."),
        ('Contact "jane"@example.org or José@correo.es', "Contact [email] or [email]"),
        ("@acme your app is broken, DM jo_b@mail.co.uk", "@acme your app is broken, DM [email]"),
    ],
)
def test_emails_are_redacted(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "Call me back on +33 6 12 34 56 78 please, the agent hung up.",
        "Rufen Sie mich unter 030/1234567 an, danke.",
        "Mi número es +34 612 345 678, llamad por la tarde.",
        "Still waiting! (555) 123-4567 any time after 5pm.",
        "UK office +44 (0)20 7946 0958 never answers.",
        "Appelez le 01.23.45.67.89 après 18h.",
        "My cell is 555-123-4567 and nobody called.",
        "Whatsapp 0049 151 23456789 bitte",
    ],
)
def test_phones_are_redacted(text: str) -> None:
    result = redact(text)
    assert result.counts == {"phone": 1}
    assert "[phone]" in result.text


def test_phone_keeps_surrounding_words() -> None:
    result = redact("Call me back on +33 6 12 34 56 78 please.")
    assert result.text == "Call me back on [phone] please."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Charged twice on 4111 1111 1111 1111 exp 12/27!!",
            "Charged twice on [card] exp 12/27!!",
        ),
        ("Karte 5500-0000-0000-0004 wurde abgelehnt", "Karte [card] wurde abgelehnt"),
        ("amex 3782 822463 10005 refused", "amex [card] refused"),
        ("paid with 4012888888881881.", "paid with [card]."),
    ],
)
def test_luhn_valid_cards_are_redacted(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Refund to IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX please",
            "Refund to IBAN [iban] BIC COBADEFFXXX please",
        ),
        ("Remboursez sur FR1420041010050500013M02606 svp", "Remboursez sur [iban] svp"),
        ("my account: gb82 west 1234 5698 7654 32.", "my account: [iban]."),
    ],
)
def test_valid_ibans_are_redacted(text: str, expected: str) -> None:
    assert redact(text).text == expected


def test_url_tokens_keep_the_url() -> None:
    text = "The link https://x.example/reset?token=abc123XYZ&lang=en expired."
    result = redact(text)
    assert result.text == "The link https://x.example/reset?token=[token]&lang=en expired."
    assert result.counts == {"url_token": 1}


def test_url_tokens_cover_every_named_parameter() -> None:
    names = "token access_token key api_key sig signature password session code auth"
    for name in names.split():
        result = redact(f"see https://app.example/cb?lang=en&{name.upper()}=s3cr3t#top")
        assert result.text == f"see https://app.example/cb?lang=en&{name.upper()}=[token]#top"
    fragment = redact("https://app.example/cb#access_token=eyJabc.def&state=1")
    assert fragment.text == "https://app.example/cb#access_token=[token]&state=1"
    assert redact("https://shop.example/p?id=42&page=2").counts == {}


@pytest.mark.parametrize(
    "text",
    [
        "Delivered on 2026-10-02 at 14:30, way too late.",
        "Le colis est arrivé le 02/10/2026 à 09:15:00.",
        "Paid €1,299.00 for this?! 1 299 000 € in fines next.",
        "USD 125 000 000 is what they lost, 12.5% down.",
        "NPS 9, order 48213, ticket #4821345, 3 stars.",
        "Invoice 1234567812345678 is wrong.",  # 16 digits, fails Luhn
        "Card 4111 1111 1111 1112 does not exist.",  # fails Luhn
        "Since v2.14.1 (build 2.14.1) the app crashes; server 192.168.100.200.",
        "IBAN DE89370400440532013001 is a typo.",  # fails mod-97
        "Rated 1 2 3 4 5 6 7 by the team.",
        "reach me @jane_doe or jane at example dot com",
    ],
)
def test_non_sensitive_numbers_stay(text: str) -> None:
    result = redact(text)
    assert result.text == text
    assert result.counts == {}


def test_bare_tokens_are_optional() -> None:
    text = (
        "my key sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUvWx2 got leaked, "
        "hash d41d8cd98f00b204e9800998ecf8427e"
    )
    assert redact(text).text == text
    result = redact(text, RedactionConfig(bare_tokens=True))
    assert result.text == "my key [token] got leaked, hash [token]"
    assert result.counts == {"bare_token": 2}


def test_kinds_can_be_switched_off_and_template_changed() -> None:
    config = RedactionConfig(phones=False, template="<{label}>")
    result = redact("a@b.example or 0612345678", config)
    assert result.text == "<email> or 0612345678"


def test_custom_patterns_use_their_label() -> None:
    config = RedactionConfig(
        custom_patterns=(CustomPattern(label="member", pattern=r"\bMBR-\d{6}\b"),)
    )
    result = redact("I am member MBR-123456, mail o'brien@example.com", config)
    assert result.text == "I am member [member], mail [email]"
    assert result.counts == {"email": 1, "member": 1}
    # A custom pattern never matches inside a placeholder.
    inside = RedactionConfig(custom_patterns=(CustomPattern(label="word", pattern="mail"),))
    assert redact("[email]", inside).text == "[email]"


def test_config_is_frozen_and_strict() -> None:
    with pytest.raises(ValidationError):
        RedactionConfig(nonsense=True)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        RedactionConfig(template="{label}")
    with pytest.raises(ValidationError):
        CustomPattern(label="email", pattern="x")
    with pytest.raises(ValidationError):
        CustomPattern(label="x", pattern="a*")
    with pytest.raises(ValidationError):
        CustomPattern(label="x", pattern="(")
    with pytest.raises(ValidationError):
        RedactionConfig().emails = False  # type: ignore[misc]


def test_placeholders_are_not_redacted_again() -> None:
    text = "[email] [phone] [card] [iban] https://x.example/r?token=[token]&a=1"
    assert redact(text).text == text


def test_checks() -> None:
    assert luhn_is_valid("4111111111111111")
    assert not luhn_is_valid("4111111111111112")
    assert not luhn_is_valid("")
    assert iban_is_valid("DE89 3704 0044 0532 0130 00")
    assert not iban_is_valid("DE89 3704 0044 0532 0130 0")


@pytest.mark.parametrize(
    "adversarial",
    [
        "a" * 100_000,
        "1 " * 50_000,
        "+1" * 50_000,
        "1-" * 50_000,
        "a." * 50_000 + "@",
        "a@" * 50_000,
        "x@a" + ".a" * 50_000 + "!",
        "DE89" + " 1" * 50_000,
        "?token=" * 15_000,
        "0" * 100_000,
        "(1) " * 25_000,
        "€1 000" * 17_000,
        "1.2.3." * 17_000,
    ],
)
def test_adversarial_input_is_fast(adversarial: str) -> None:
    config = RedactionConfig(bare_tokens=True)
    started = time.perf_counter()
    redact(adversarial, config)
    assert time.perf_counter() - started < 1.0


# ----------------------------------------------------------------------- hypothesis

_VOCABULARY = (
    "the app crashed again merci beaucoup très déçu servicio pésimo danke schön love it "
    "NPS 9 order 48213 on 2026-10-02 at 14:30 €1,299.00 12% v2.14.1 !! ?"
)
WORDS = st.sampled_from(_VOCABULARY.split(" "))


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        if luhn_is_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


@st.composite
def cards(draw: st.DrawFn) -> str:
    length = draw(st.integers(13, 19))
    body = draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    number = _luhn_complete(draw(st.sampled_from("3456")) + body[1:])
    if draw(st.booleans()):
        return number
    separator = draw(st.sampled_from(" -"))
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(sorted(IBAN_LENGTHS)))
    bban = draw(
        st.text(
            "0123456789", min_size=IBAN_LENGTHS[country] - 4, max_size=IBAN_LENGTHS[country] - 4
        )
    )
    numeric = "".join(str(int(char, 36)) for char in bban + country + "00")
    compact = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    assert iban_is_valid(compact)
    if draw(st.booleans()):
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


_ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = draw(st.text(_ATEXT, min_size=1, max_size=10))
    middle = draw(st.text(_ATEXT + ".'+_-", max_size=8))
    tail = draw(st.text(_ATEXT, max_size=4))
    labels = draw(
        st.lists(
            st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8),
            min_size=1,
            max_size=3,
        )
    )
    tld = draw(st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=6))
    return f"{local}{middle}{tail}@{'.'.join(labels)}.{tld}".replace("..", ".")


ITEMS = {"email": emails(), "card": cards(), "iban": ibans()}


@st.composite
def texts_with_items(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    parts: list[str] = []
    inserted: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(0, 6))):
        parts.extend(draw(st.lists(WORDS, max_size=4)))
        kind = draw(st.sampled_from(sorted(ITEMS)))
        item = draw(ITEMS[kind])
        inserted.append((kind, item))
        parts.append(item + draw(st.sampled_from(["", ",", ".", "!", " :)"])))
    parts.extend(draw(st.lists(WORDS, max_size=4)))
    return " ".join(parts), inserted


@settings(max_examples=150, deadline=None)
@given(texts_with_items())
def test_inserted_items_never_survive(sample: tuple[str, list[tuple[str, str]]]) -> None:
    text, inserted = sample
    redacted = redact(text).text
    for _, item in inserted:
        assert item not in redacted


@settings(max_examples=150, deadline=None)
@given(texts_with_items())
def test_counts_match_inserted_items(sample: tuple[str, list[tuple[str, str]]]) -> None:
    text, inserted = sample
    expected: dict[str, int] = {}
    for kind, _ in inserted:
        expected[kind] = expected.get(kind, 0) + 1
    assert redact(text).counts == expected


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        texts_with_items().map(lambda sample: sample[0]),
        st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=80),
        st.text("0123456789 +-./()@:,€%abcXYZ[]", max_size=60),
    )
)
def test_redaction_is_idempotent(text: str) -> None:
    config = RedactionConfig(bare_tokens=True)
    once = redact(text, config).text
    assert redact(once, config).text == once


@settings(max_examples=200, deadline=None)
@given(st.text("abcdefghijklmnopqrstuvwxyzÀéüßABCXYZ .,;:!?'\"()-–…\n", max_size=200))
def test_text_without_items_is_unchanged(text: str) -> None:
    result = redact(text)
    assert result.text == text
    assert result.counts == {}
