"""The demo's report in headless Debian Chromium: no console error, every chart drawn,
nothing loaded from anywhere, the twins in opposite quadrants, and a screenshot."""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.common.by import By

from tests.report.browser import chromium, full_page_screenshot
from tests.report.conftest import DemoReport
from tests.report.pngcheck import looks_blank, png_pixels

CHARTS = ("loyalty-map", "health", "segments", "trend", "emotions", "pet-peeves", "scores")


def test_the_demo_report_shows_in_chromium(demo_report: DemoReport, tmp_path: Path) -> None:
    delighted, trapped = demo_report.demo.twins
    with chromium() as browser:
        browser.get(demo_report.html.as_uri())
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []
        for name in CHARTS:
            chart = browser.find_element(By.CSS_SELECTOR, f'svg[data-chart="{name}"]')
            assert chart.is_displayed(), name
            assert chart.size["width"] > 100 and chart.size["height"] > 50, name
        # Self-contained: no script, nothing fetched (the page itself is the only resource).
        assert browser.find_elements(By.TAG_NAME, "script") == []
        fetched = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert fetched == []
        dots = {twin: browser.find_element(By.ID, f"dot-{twin}") for twin in (delighted, trapped)}
        assert dots[delighted].get_attribute("data-quadrant") == "delighted"
        assert dots[trapped].get_attribute("data-quadrant") == "trapped"
        # Same purchases (height), opposite feelings (left and right of the attitude line).
        happy, unhappy = dots[delighted].rect, dots[trapped].rect
        assert abs(happy["y"] - unhappy["y"]) < 2
        assert happy["x"] > unhappy["x"] + 200
        pair = browser.find_element(By.CSS_SELECTOR, f'li[data-pair="{delighted} {trapped}"]')
        assert pair.is_displayed()
        # A dot opens its person's section (no JavaScript: an anchor and <details>).
        section = browser.find_element(By.ID, f"person-{trapped}")
        assert section.tag_name == "details"
        shot = tmp_path / "report.png"
        full_page_screenshot(browser, shot)
    width, height, _ = png_pixels(shot)
    assert width >= 1000 and height > 2000
    assert not looks_blank(shot)


def test_a_blank_page_is_seen_as_blank(tmp_path: Path) -> None:
    page = tmp_path / "blank.html"
    page.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    with chromium(800, 600) as browser:
        browser.get(page.as_uri())
        browser.save_screenshot(str(tmp_path / "blank.png"))
    assert looks_blank(tmp_path / "blank.png")
