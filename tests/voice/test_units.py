"""The page's parts without a server: rate limits on a moved clock, the language
catalogue, and the colour contrast its stylesheet promises."""

from __future__ import annotations

import re
import string
from datetime import timedelta

import pytest

from relcrm.voice.i18n import CATALOGUE, EN, LANGUAGES, Translator, choose_language
from relcrm.voice.page import STYLE
from relcrm.voice.ratelimit import SlidingWindowLimiter
from tests.voice.conftest import Clock


def test_a_sliding_window_refuses_past_its_limit_and_forgets_quiet_keys() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(3, timedelta(minutes=10), clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    assert limiter.hit("a") == 600
    clock.advance(minutes=4)
    assert limiter.hit("a") == 360  # refused requests do not count
    assert limiter.hit("b") is None  # another key has its own window
    clock.advance(minutes=6)
    assert limiter.hit("a") is None
    clock.advance(minutes=30)
    limiter.hit("c")
    assert len(limiter) == 1  # "a" and "b" went quiet and were swept
    with pytest.raises(ValueError):
        SlidingWindowLimiter(0, timedelta(minutes=1))


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_key_with_the_same_placeholders(language: str) -> None:
    words = CATALOGUE[language]
    assert set(words) == set(EN)
    for key, text in words.items():
        assert text.strip(), key
        assert _fields(text) == _fields(EN[key]), key
    if language != "en":
        same = [k for k in words if words[k] == EN[k] and len(EN[k]) > 12]
        assert not same, f"untranslated in {language}: {same}"


def test_the_language_is_chosen_by_override_then_accept_language() -> None:
    assert choose_language(None) == "en"
    assert choose_language("") == "en"
    assert choose_language("de-CH, fr;q=0.9") == "de"
    assert choose_language("fr;q=0.2, es;q=0.8") == "es"
    assert choose_language("it, fr;q=0") == "en"  # q=0: not acceptable
    assert choose_language("en;q=garbage, es") == "es"
    assert choose_language("es", "FR") == "fr"
    assert choose_language("es", "it") == "es"
    assert Translator("xx").language == "en"
    assert Translator("de").t("rate_limited_body", seconds=5) == (
        "Bitte warten Sie 5 Sekunden und versuchen Sie es erneut."
    )


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    ("text", "background", "where"),
    [
        ("#1a1a1a", "#ffffff", "body text"),
        ("#3d3d3d", "#ffffff", "hints"),
        ("#a30000", "#ffffff", "errors"),
        ("#0b3d91", "#ffffff", "links"),
        ("#ffffff", "#0b3d91", "button and chosen score"),
        ("#ffffff", "#072a66", "button on hover"),
        ("#1a1a1a", "#eef2fa", "the answered note"),
    ],
)
def test_colours_meet_wcag_aaa_contrast(text: str, background: str, where: str) -> None:
    assert text in STYLE and background in STYLE
    assert _contrast(text, background) >= 7.0, where


def test_the_stylesheet_loads_nothing() -> None:
    assert not re.search(r"url\(|@import|https?:", STYLE)
