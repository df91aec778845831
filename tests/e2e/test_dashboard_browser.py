"""The usage dashboard in a real browser: it loads in Vietnamese, the charts draw, a new
window changes the figures, and the downloads work with the browser's session.

The data is tests/test_dashboard.py's hand-computed fixture (February and March 2026).
"""

from __future__ import annotations

import datetime
import io
import urllib.request

import pytest
from openpyxl import load_workbook
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from tests import factories as f
from tests.e2e.conftest import log_in, screenshot, wait_for
from tests.test_dashboard import dashboard_world

pytestmark = pytest.mark.django_db(transaction=True)

WINDOW = "/dashboard/?from=2026-02-01&to=2026-03-31"
NDC, NQD = "THPT Chuyên Nguyễn Đình Chiểu", "THPT Chuyên Nguyễn Quang Diêu"


@pytest.fixture
def world(db):
    ndc = f.school(slug="ndc", name=NDC)
    nqd = f.school(slug="nqd", name=NQD)
    f.user("union", role="union")
    return {**dashboard_world(ndc, nqd), "ndc": ndc, "nqd": nqd}


def bars(browser, chart: str) -> list[WebElement]:
    return browser.find_elements(By.CSS_SELECTOR, f"#chart-{chart} svg rect.bar")


def tile(browser, index: int) -> str:
    return browser.find_elements(By.CSS_SELECTOR, ".tile-value")[index].text


def fill_date(browser, element: WebElement, day: datetime.date) -> None:
    """Type a date into <input type=date> in the order the browser's locale shows it."""
    order = browser.execute_script(
        "return new Intl.DateTimeFormat(undefined, {year: 'numeric', month: '2-digit', "
        "day: '2-digit'}).formatToParts(new Date(2001, 10, 22))"
        ".filter(p => p.type !== 'literal').map(p => p.type)")
    parts = {"day": f"{day.day:02d}", "month": f"{day.month:02d}", "year": f"{day.year}"}
    element.clear()
    element.send_keys("".join(parts[part] for part in order))


def test_dashboard_loads_in_vietnamese_and_draws_the_charts(browser, live_server, world):
    log_in(browser, live_server.url, "union", WINDOW)

    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Bảng điều khiển sử dụng"
    assert "Từ 01/02/2026 đến 31/03/2026" in browser.find_element(
        By.CSS_SELECTOR, ".window-summary").text

    # Booked hours per month: February ndc 3 h; March ndc 3 h and nqd 1.5 h.
    months = bars(browser, "hours-by-month")
    assert [float(bar.get_attribute("data-value")) for bar in months] == [3.0, 3.0, 1.5]
    drawn = [bar.rect["height"] for bar in months]
    assert all(height > 10 for height in drawn)
    assert drawn[0] == pytest.approx(drawn[1], abs=0.5)
    assert drawn[2] == pytest.approx(drawn[0] / 2, abs=0.5)
    # The stylesheet coloured them, one colour per school.
    fills = [browser.execute_script("return getComputedStyle(arguments[0]).fill", bar)
             for bar in months]
    assert fills[0] == fills[1] == "rgb(0, 114, 178)" and fills[2] != fills[0]
    axis = browser.find_elements(By.CSS_SELECTOR, "#chart-hours-by-month text.axis-label")
    assert [label.text for label in axis if label.text] == ["T2", "2026", "T3"]

    # Top equipment: the kit 2 reservations + 1 loan, the microscope 1 + 1, the printer 1.
    equipment = bars(browser, "top-equipment")
    widths = [bar.rect["width"] for bar in equipment]
    assert [int(bar.get_attribute("data-value")) for bar in equipment] == [2, 1, 1, 1, 1]
    assert widths[0] == pytest.approx(2 * widths[1], abs=1)
    labels = browser.find_elements(By.CSS_SELECTOR, "#chart-top-equipment text.label")
    assert [label.text for label in labels] == ["Bộ kit Arduino", "Kính hiển vi số",
                                                "Máy in 3D Prusa"]
    assert len(bars(browser, "bookings-by-kind")) == 4  # class, club, project work, event
    assert len(bars(browser, "projects-by-status")) == 3
    assert len(bars(browser, "projects-by-category")) == 2
    # Each chart tells a screen reader what it shows.
    for chart in browser.find_elements(By.CSS_SELECTOR, ".chart svg"):
        assert chart.get_attribute("role") == "img"
        assert chart.find_element(By.TAG_NAME, "desc").get_attribute("textContent")

    screenshot(browser, "dashboard-desktop", 1280)
    screenshot(browser, "dashboard-phone", 390)


def test_a_new_window_changes_the_figures(browser, live_server, world):
    log_in(browser, live_server.url, "union", WINDOW)
    assert tile(browser, 0) == "7,5"  # booked hours: 1 + 2 + 3 + 1.5
    assert tile(browser, 2) == "4"  # bookings
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-hours-by-month g.column")) == 2

    fill_date(browser, browser.find_element(By.NAME, "from"), datetime.date(2026, 3, 1))
    fill_date(browser, browser.find_element(By.NAME, "to"), datetime.date(2026, 3, 31))
    browser.find_element(By.CSS_SELECTOR, ".dash-form button[type=submit]").click()
    wait_for(browser, lambda d: "from=2026-03-01" in d.current_url)

    assert "Từ 01/03/2026 đến 31/03/2026" in browser.find_element(
        By.CSS_SELECTOR, ".window-summary").text
    assert tile(browser, 0) == "4,5"
    assert tile(browser, 2) == "2"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-hours-by-month g.column")) == 1
    assert [float(bar.get_attribute("data-value"))
            for bar in bars(browser, "hours-by-month")] == [3.0, 1.5]
    kinds = browser.find_elements(By.CSS_SELECTOR, "#chart-bookings-by-kind g.row")
    values = {row.find_element(By.CSS_SELECTOR, "text.label").text:
              row.find_element(By.CSS_SELECTOR, "text.value").text for row in kinds}
    assert (values["Tiết học"], values["Câu lạc bộ"]) == ("0", "1")
    screenshot(browser, "dashboard-march", 1280)


def download(browser, url: str) -> tuple[str, bytes]:
    """Fetch a link with the browser's session cookie (stdlib only)."""
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    request = urllib.request.Request(url, headers={"Cookie": cookies, "Accept-Language": "vi"})
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.headers["Content-Type"], response.read()


def test_downloads_follow_the_window_and_the_schools(browser, live_server, world):
    log_in(browser, live_server.url, "union", WINDOW)
    # Every school is ticked; untick Quang Diêu and show again.
    boxes = browser.find_elements(By.CSS_SELECTOR, "input[name=school]")
    assert [box.is_selected() for box in boxes] == [True, True]
    for box in boxes:
        if box.get_attribute("value") == str(world["nqd"].pk):
            box.click()
    browser.find_element(By.CSS_SELECTOR, ".dash-form button[type=submit]").click()
    wait_for(browser, lambda d: "school=" in d.current_url)
    assert f"school={world['ndc'].pk}&" in browser.current_url
    assert tile(browser, 0) == "6"

    csv_link = browser.find_element(By.ID, "download-csv").get_attribute("href")
    kind, body = download(browser, csv_link)
    assert kind.startswith("text/csv")
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the Vietnamese letters right
    header, *rows = text.lstrip("\ufeff").splitlines()
    assert header.startswith("Trường,Số giờ đã đặt,")
    assert len(rows) == 1 and rows[0].startswith(f"{NDC},6.0,")

    xlsx_link = browser.find_element(By.ID, "download-xlsx").get_attribute("href")
    kind, body = download(browser, xlsx_link)
    assert kind.startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = load_workbook(io.BytesIO(body))
    sheet = book.worksheets[0]
    assert "01/02/2026" in sheet["A1"].value and NDC in sheet["A1"].value
    assert [sheet["A3"].value, sheet["B3"].value] == [NDC, 6.0]
    assert sheet["A4"].value is None
