"""`archive serve` through a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium against a live server on 127.0.0.1.

Skipped on a machine without the browser, except in CI (CI=true), where a missing
browser fails: .ci/run installs it, and a browser test that CI skips proves nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DATA
from live_server import live_server

from archive.serve.chart import BAR_COLOR
from archive.serve.queries import CANNED_QUERIES

# Only guards against a hang: a page that never shows what the test waits for.
WAIT_SECONDS = 60


def _browser_or_skip():
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        message = "needs Debian's chromium and chromium-driver (apt-get install them)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: {message}; .ci/run installs them")
        pytest.skip(message)
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
    ):
        options.add_argument(argument)
    # An explicit driver: Selenium Manager would otherwise try to download one.
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(driver))


@pytest.fixture(scope="module")
def archive_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("browser") / "news.db"
    subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(db), "import", "-q", str(DATA)], check=True
    )
    return db


@pytest.fixture(scope="module")
def url(archive_db: Path) -> Iterator[str]:
    with live_server(archive_db) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator:
    driver = _browser_or_skip()
    try:
        yield driver
    finally:
        driver.quit()


def cli(db: Path, *args: str) -> list[dict]:
    """What the `archive` command answers, as JSON."""
    result = subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(db), *args, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def wait_for(browser, css: str) -> list:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT_SECONDS).until(lambda b: b.find_elements(By.CSS_SELECTOR, css))
    return browser.find_elements(By.CSS_SELECTOR, css)


def test_home_page_links_the_questions(browser, url):
    browser.get(url)
    links = wait_for(browser, "a.archive-question")
    assert {link.get_attribute("data-query") for link in links} == {
        q.name for q in CANNED_QUERIES
    } | {"timeline"}
    assert browser.find_element("css selector", "h1").text == "News archive"


def test_providers_for_topic_from_the_home_page_form(browser, url, archive_db):
    """Follow the home page's link, type the topic into the query's form, run it,
    and read the providers from the rendered table."""
    from selenium.webdriver.common.by import By

    expected = [row["name"] for row in cli(archive_db, "providers", "--topic", "AI")]
    assert len(expected) > 1
    browser.get(url)
    wait_for(browser, 'a[data-query="providers_for_topic"]')[0].click()
    field = wait_for(browser, 'form.sql input[name="topic"]')[0]
    field.clear()
    field.send_keys("ai")  # as a user might type it
    browser.find_element(By.CSS_SELECTOR, 'form.sql input[type="submit"]').click()
    wait_for(browser, "table.rows-and-columns td.col-name")
    assert "topic=ai" in browser.current_url
    names = [
        cell.text
        for cell in browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns td.col-name")
    ]
    assert names == expected


def test_full_text_search_from_the_search_box(browser, url, archive_db):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    expected = {row["url"] for row in cli(archive_db, "search", "police", "--limit", "1000")}
    assert expected
    browser.get(url + "news/article")
    box = wait_for(browser, "input#_search")[0]
    box.send_keys("police", Keys.ENTER)
    wait_for(browser, "table.rows-and-columns td.col-url")
    assert "_search=police" in browser.current_url
    found = {
        cell.text
        for cell in browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns td.col-url")
    }
    assert found == expected


def test_timeline_chart_is_drawn(browser, url, archive_db, tmp_path):
    """The chart has a bar per month with the CLI's counts, bars of those months
    that had articles have a height on screen, and a screenshot of it is mostly
    not background: the bars' color covers part of it."""
    from PIL import Image

    expected = cli(archive_db, "timeline", "--topic", "AI", "--by", "month")
    browser.get(url)
    wait_for(browser, 'a[data-query="timeline"]')[0].click()
    bars = wait_for(browser, "svg.archive-chart rect.bar")
    assert [(b.get_attribute("data-label"), int(b.get_attribute("data-value"))) for b in bars] == [
        (row["period"], row["articles"]) for row in expected
    ]
    for bar in bars:
        drawn = bar.rect["height"] > 0  # as laid out on the page, in pixels
        assert drawn == (int(bar.get_attribute("data-value")) > 0)

    chart = browser.find_element("css selector", "svg.archive-chart")
    screenshot = tmp_path / "timeline.png"
    assert chart.screenshot(str(screenshot))
    print(f"timeline screenshot: {screenshot}")
    image = Image.open(screenshot).convert("RGB")
    colors = image.getcolors(maxcolors=image.width * image.height)  # [(count, (r, g, b))]
    assert len(colors) > 2, "the screenshot is blank"
    bar_rgb = tuple(int(BAR_COLOR[i : i + 2], 16) for i in (1, 3, 5))
    bar_pixels = sum(
        count
        for count, color in colors
        if all(abs(a - b) <= 8 for a, b in zip(color, bar_rgb, strict=True))
    )
    months_with_articles = sum(1 for row in expected if row["articles"])
    # Each bar with articles is several pixels wide and tall: far more than this.
    assert bar_pixels > 20 * months_with_articles, (bar_pixels, screenshot)


def test_comparison_chart_from_the_form(browser, url, archive_db, tmp_path):
    """Type two topics into the timeline's form: a bar per month and topic with the
    CLI's --compare counts, each topic in its own color (on screen too), a legend."""
    from PIL import Image
    from selenium.webdriver.common.by import By

    from archive.serve.chart import SERIES_COLORS

    expected = cli(archive_db, "timeline", "--topic", "AI", "--topic", "Privacy", "--compare")
    browser.get(url + "news/-/timeline")
    wait_for(browser, "svg.archive-chart rect.bar")  # the whole archive's chart at first
    for field, value in (("topic", "ai"), ("compare", "privacy")):
        box = browser.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    browser.find_element(By.CSS_SELECTOR, 'form.archive-timeline-form input[type="submit"]').click()
    wait_for(browser, "svg.archive-chart rect.series-1")
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.archive-chart rect.bar")
    found = [(b.get_attribute("data-series"), b.get_attribute("data-label"),
              int(b.get_attribute("data-value"))) for b in bars]  # fmt: skip
    assert found == [
        (topic, row["period"], row[topic]) for row in expected for topic in ("AI", "Privacy")
    ]
    for bar in bars:
        assert (bar.rect["height"] > 0) == (int(bar.get_attribute("data-value")) > 0)
    legend = browser.find_elements(By.CSS_SELECTOR, "svg.archive-chart g.legend-entry")
    assert [entry.get_attribute("data-series") for entry in legend] == ["AI", "Privacy"]

    chart = browser.find_element(By.CSS_SELECTOR, "svg.archive-chart")
    screenshot = tmp_path / "compare.png"
    assert chart.screenshot(str(screenshot))
    image = Image.open(screenshot).convert("RGB")
    colors = image.getcolors(maxcolors=image.width * image.height)
    for number, topic in enumerate(("AI", "Privacy")):
        rgb = tuple(int(SERIES_COLORS[number][i : i + 2], 16) for i in (1, 3, 5))
        pixels = sum(
            c
            for c, color in colors
            if all(abs(a - b) <= 8 for a, b in zip(color, rgb, strict=True))
        )
        months = sum(1 for row in expected if row[topic])
        assert pixels > 10 * months, (topic, pixels, screenshot)
