"""A real headless Chromium (Debian's chromium and chromium-driver), driven by Selenium.

No browser is downloaded: the driver's path is given, so Selenium Manager never runs (and
SE_OFFLINE forbids it anyway). Without the browser these tests fail, they do not skip:
install it with `apt-get install chromium chromium-driver` (.ci/run does).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).parent / "screenshots"
PASSWORD = "demo12345"  # tests.factories.user's default


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """One browser per test module; each test logs in afresh (the database is emptied
    after every transactional test)."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: apt-get install -y chromium chromium-driver")
    os.environ["SE_OFFLINE"] = "true"
    profile = tempfile.mkdtemp(prefix="stemspace-chromium-")
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run",
                     "--hide-scrollbars", f"--user-data-dir={profile}",
                     "--window-size=1280,900", "--lang=vi"):
        options.add_argument(argument)
    # A Vietnamese reader's browser: it asks for Vietnamese first.
    options.add_experimental_option("prefs", {"intl.accept_languages": "vi,en"})
    options.binary_location = str(CHROMIUM)
    # The console (CSP violations, script errors) is read by test_csp.py.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    SCREENSHOTS.mkdir(exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver: webdriver.Chrome, condition: Callable[[Any], Any], timeout: float = 10
             ) -> Any:
    return WebDriverWait(driver, timeout).until(condition)


def log_in(driver: webdriver.Chrome, base_url: str, username: str, next_path: str) -> None:
    """Through the real login page, as a person would."""
    driver.delete_all_cookies()
    driver.get(f"{base_url}/accounts/login/?next={quote(next_path)}")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]").click()
    wait_for(driver, lambda d: "/accounts/login/" not in d.current_url)


def screenshot(driver: webdriver.Chrome, name: str, width: int) -> Path:
    """The whole page at this width."""
    driver.set_window_size(width, 900)
    height, frame = driver.execute_script(
        "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]")
    driver.set_window_size(width, height + frame)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 900)
    return path
