"""The page in a real browser (headless Chromium, no JavaScript needed): filled in with
the mouse and with the keyboard alone, sent, and the answer found in the store; and a
screenshot that shows a drawn page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait
from starlette.responses import PlainTextResponse

from relcrm.analyze import DEFAULT_ANALYZER
from relcrm.models import PreferenceKind
from relcrm.store import Store
from relcrm.sync.analysis import analyzer_for
from relcrm.voice import PageServer, create_app, running_page
from tests.voice.browser import chromium, png_pixels
from tests.voice.conftest import PERSON, Clock, jane, jane_said_email, new_link, settings

__all__ = ["chromium"]


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as store:
        store.upsert_person(jane())
        jane_said_email(store)
        yield store


@pytest.fixture
def page(sqlite_store: Store, clock: Clock) -> Iterator[PageServer]:
    app = create_app(sqlite_store, settings(), clock=clock, analyzer=analyzer_for(DEFAULT_ANALYZER))
    with running_page(app) as server:
        yield server


def _thanks(browser: webdriver.Chrome) -> str:
    WebDriverWait(browser, 15).until(lambda b: b.find_elements(By.ID, "thanks"))
    return browser.find_element(By.ID, "thanks").text


def test_a_customer_answers_in_chromium(
    chromium: webdriver.Chrome, page: PageServer, sqlite_store: Store, clock: Clock, tmp_path: Path
) -> None:
    chromium.get(page.base_url + new_link(sqlite_store, clock))
    assert chromium.title == "How did we do?"
    assert chromium.execute_script("return document.documentElement.lang") == "en"
    chromium.find_element(By.CSS_SELECTOR, "label[for='score-2']").click()
    comment = chromium.find_element(By.ID, "comment")
    comment.send_keys("The outage cost us a day and nobody called back. Very disappointed.")
    Select(chromium.find_element(By.ID, "channel")).select_by_visible_text("Phone")
    chromium.find_element(By.ID, "topic-billing").click()

    shot = tmp_path / "voice-form.png"
    assert chromium.save_screenshot(str(shot))
    width, height, pixels = png_pixels(shot)
    assert (width, height) >= (600, 600) and shot.stat().st_size > 10_000
    colours = set(pixels[i : i + 3] for i in range(1, min(len(pixels), 3_000_000), 7 * 3))
    assert len(colours) > 50, "the screenshot looks blank"

    chromium.find_element(By.ID, "send").click()
    assert _thanks(chromium) == "Thank you"

    ((_, said),) = list(sqlite_store.iter_person_perceptions())
    (perception,) = said
    assert perception.channel == "web" and perception.nps is not None
    assert perception.nps.value == 2
    assert perception.valence is not None and perception.valence < 0  # read by the analyzer
    assert perception.provenance.analyzer == DEFAULT_ANALYZER
    stated = {p.kind: p.value for p in sqlite_store.preferences_of(PERSON)}
    assert stated[PreferenceKind.CHANNEL] == "phone"
    assert stated[PreferenceKind.TOPIC] == "billing"
    assert sqlite_store.voice_links_of(PERSON)[0].answered

    chromium.back()  # the form again: sending it twice answers once
    chromium.refresh()
    assert "already have your answer" in chromium.page_source
    assert not chromium.find_elements(By.NAME, "score")


def test_the_form_works_with_the_keyboard_alone_in_french(
    chromium: webdriver.Chrome, page: PageServer, sqlite_store: Store, clock: Clock
) -> None:
    chromium.get(page.base_url + new_link(sqlite_store, clock) + "?lang=fr")
    assert chromium.title == "Comment avons-nous fait ?"
    body = chromium.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)  # the first control: the score's radio group
    active = chromium.switch_to.active_element
    assert active.get_attribute("id") == "score-0"
    active.send_keys(Keys.ARROW_RIGHT * 8)  # arrows move the choice within the group
    assert chromium.switch_to.active_element.get_attribute("id") == "score-8"
    chromium.switch_to.active_element.send_keys(Keys.TAB)
    assert chromium.switch_to.active_element.get_attribute("id") == "comment"
    chromium.switch_to.active_element.send_keys("Très bien, merci.", Keys.TAB)
    assert chromium.switch_to.active_element.get_attribute("id") == "channel"
    Select(chromium.switch_to.active_element).select_by_value("sms")
    chromium.find_element(By.ID, "send").send_keys(Keys.ENTER)
    assert _thanks(chromium) == "Merci"

    ((_, said),) = list(sqlite_store.iter_person_perceptions())
    assert [p.nps.value for p in said if p.nps] == [8]
    stated = {p.kind: p.value for p in sqlite_store.preferences_of(PERSON)}
    assert stated == {PreferenceKind.CHANNEL: "sms"}  # no topic ticked, none ever said


class _StripPrefix:
    """What a reverse proxy with ``location /voice/ { proxy_pass http://page/; }`` does:
    the page sees its paths without the public prefix."""

    def __init__(self, app: Any, prefix: str) -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix + "/"):
            await PlainTextResponse("not the page", status_code=404)(scope, receive, send)
            return
        scope = {**scope, "path": scope["path"][len(self.prefix) :], "raw_path": None}
        await self.app(scope, receive, send)


def test_the_page_works_under_a_proxys_path_prefix(
    chromium: webdriver.Chrome, sqlite_store: Store, clock: Clock
) -> None:
    app = _StripPrefix(create_app(sqlite_store, settings(), clock=clock), "/voice")
    with running_page(app) as server:
        chromium.get(server.base_url + "/voice" + new_link(sqlite_store, clock))
        chromium.find_element(By.LINK_TEXT, "Deutsch").click()
        assert chromium.current_url.startswith(server.base_url + "/voice/feedback/")
        assert chromium.title == "Wie war es mit uns?"
        chromium.find_element(By.CSS_SELECTOR, "label[for='score-9']").click()
        chromium.find_element(By.ID, "send").click()
        assert _thanks(chromium) == "Vielen Dank"
        assert chromium.current_url.startswith(server.base_url + "/voice/feedback/")
    ((_, said),) = list(sqlite_store.iter_person_perceptions())
    assert [p.nps.value for p in said if p.nps] == [9]
