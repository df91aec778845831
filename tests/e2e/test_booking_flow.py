"""Booking in a real browser: a teacher clicks a free period on the week calendar, books
periods 2–3 with Arduino kits (the form recounts the free kits when the time changes),
sees the booking on the calendar and cancels it; a student's request shows as pending.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from bookings.models import Booking, BookingEquipment
from tests import factories as f
from tests.e2e.conftest import log_in, screenshot, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(db):
    school = f.school(slug="ndc", name="THPT Chuyên Nguyễn Đình Chiểu")
    teacher = f.user("teacher.ndc", role="teacher", school=school, full_name="Nguyễn Thị Lan")
    student = f.user("student.ndc", role="student", school=school, full_name="Trần Văn Minh")
    space = f.space(school, name="Phòng chế tạo", kind="makerspace")
    lab = f.space(school, name="Phòng thí nghiệm")
    for number, start, end in ((1, "07:00", "07:45"), (2, "07:50", "08:35"),
                               (3, "08:40", "09:25"), (4, "09:40", "10:25"),
                               (5, "10:30", "11:15")):
        f.period(school, number, start, end)
    for number, start, end in ((6, "13:30", "14:15"), (7, "14:20", "15:05")):
        f.period(school, number, start, end, session="afternoon")
    kit = f.stock(space, f.category("Vi điều khiển"), name="Bộ kit Arduino", quantity=10)
    tuesday = f.next_weekday(1)
    # Three kits are out for period 3 in the lab: the form must count them.
    chemistry = f.booking(lab, teacher, start=f.at(tuesday, "08:40"), end=f.at(tuesday, "09:25"),
                          title="Hoá 10B")
    BookingEquipment.objects.create(booking=chemistry, equipment=kit, quantity=3)
    f.booking(space, teacher, start=f.at(tuesday, "09:40"), end=f.at(tuesday, "11:15"),
              title="Câu lạc bộ Robot", kind="club")
    return {"space": space, "kit": kit, "tuesday": tuesday, "teacher": teacher,
            "student": student}


def click(browser, element) -> None:
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def free_count(browser, kit) -> str:
    # Read in one script: htmx may swap the cell between a find and a read.
    return browser.execute_script(
        "const cell = document.querySelector(`td.free-count[data-item='${arguments[0]}']`);"
        "return cell && cell.dataset.free;", kit.pk)


def test_teacher_books_periods_with_equipment_sees_it_and_cancels_it(browser, live_server, world):
    space, kit, tuesday = world["space"], world["kit"], world["tuesday"]
    log_in(browser, live_server.url, "teacher.ndc", f"/spaces/{space.pk}/?date={tuesday}")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"

    # Period 2 on Tuesday is free: its slot opens the form, prefilled.
    click(browser, browser.find_element(
        By.CSS_SELECTOR, f'a.slot[href*="date={tuesday}"][href*="period_from=2"]'))
    wait_for(browser, lambda d: f"/spaces/{space.pk}/book/" in d.current_url)
    assert browser.find_element(By.ID, "id_date").get_attribute("value") == tuesday.isoformat()
    assert browser.find_element(By.CSS_SELECTOR, 'input[name=mode][value=periods]').is_selected()
    assert Select(browser.find_element(By.ID, "id_period_from")
                  ).first_selected_option.get_attribute("value") == "2"
    assert not browser.find_element(By.ID, "id_start").is_displayed()  # by time: hidden
    assert free_count(browser, kit) == "10"

    # Up to period 3: htmx asks the server again, and three kits are out then.
    Select(browser.find_element(By.ID, "id_period_to")).select_by_value("3")
    wait_for(browser, lambda d: free_count(d, kit) == "7")
    assert Select(browser.find_element(By.ID, "id_period_to")
                  ).first_selected_option.get_attribute("value") == "3"

    browser.find_element(By.ID, "id_title").send_keys("Vật lý 11A: mạch cảm biến")
    quantity = browser.find_element(By.ID, f"id_equipment_{kit.pk}")
    quantity.clear()
    quantity.send_keys("4")
    browser.find_element(By.ID, "id_attendees").clear()
    browser.find_element(By.ID, "id_attendees").send_keys("28")
    screenshot(browser, "booking-form-desktop", 1280)
    screenshot(browser, "booking-form-phone", 390)
    click(browser, browser.find_element(By.CSS_SELECTOR, ".booking-form button[type=submit]"))

    # Back on the calendar's week, with a message and the block.
    wait_for(browser, lambda d: f"/spaces/{space.pk}/?week=" in d.current_url)
    booking = Booking.objects.get(title="Vật lý 11A: mạch cảm biến")
    assert [(row.equipment_id, row.quantity) for row in booking.equipment_items.all()] == [
        (kit.pk, 4)]
    assert f"{tuesday:%d/%m/%Y} 07:50–09:25" in browser.find_element(By.CSS_SELECTOR,
                                                                      ".messages").text
    block = browser.find_element(By.CSS_SELECTOR, f'td.booking[data-booking="{booking.pk}"]')
    assert "07:50–09:25" in block.text and "Nguyễn Thị Lan" in block.text
    assert "approved" in block.get_attribute("class")
    screenshot(browser, "space-week-desktop", 1280)
    screenshot(browser, "space-week-phone", 390)
    # The school's week: every space side by side.
    click(browser, browser.find_element(By.CSS_SELECTOR, 'a[href^="/schools/ndc/week/"]'))
    wait_for(browser, lambda d: "/schools/ndc/week/" in d.current_url)
    assert "Vật lý 11A: mạch cảm biến" in browser.find_element(By.CSS_SELECTOR,
                                                                "table.school-week").text
    screenshot(browser, "school-week-desktop", 1280)

    # My bookings: cancel it, after a confirmation page.
    browser.get(f"{live_server.url}/bookings/mine/")
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-booking="{booking.pk}"]')
    click(browser, row.find_element(By.CSS_SELECTOR, "a.cancel-link"))
    wait_for(browser, lambda d: "/cancel/" in d.current_url)
    click(browser, browser.find_element(By.CSS_SELECTOR, ".cancel-form button[type=submit]"))
    wait_for(browser, lambda d: d.current_url.endswith("/bookings/mine/"))
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-booking="{booking.pk}"]')

    browser.get(f"{live_server.url}/spaces/{space.pk}/?date={tuesday}")
    assert not browser.find_elements(By.CSS_SELECTOR, f'td.booking[data-booking="{booking.pk}"]')
    assert browser.find_elements(By.CSS_SELECTOR,
                                 f'a.slot[href*="date={tuesday}"][href*="period_from=2"]')


def test_a_students_request_shows_as_pending(browser, live_server, world):
    space, tuesday = world["space"], world["tuesday"]
    log_in(browser, live_server.url, "student.ndc", f"/spaces/{space.pk}/?date={tuesday}")

    # The afternoon after the periods: a half hour by clock time.
    click(browser, browser.find_element(
        By.CSS_SELECTOR, f'a.slot[href*="date={tuesday}"][href*="start=15:30"]'))
    wait_for(browser, lambda d: "/book/" in d.current_url)
    assert browser.find_element(By.CSS_SELECTOR, 'input[name=mode][value=time]').is_selected()
    assert not browser.find_element(By.ID, "id_period_from").is_displayed()
    assert Select(browser.find_element(By.ID, "id_kind")
                  ).first_selected_option.get_attribute("value") == "project_work"
    browser.find_element(By.ID, "id_title").send_keys("Dự án máy lọc nước")
    click(browser, browser.find_element(By.CSS_SELECTOR, ".booking-form button[type=submit]"))

    wait_for(browser, lambda d: "/book/" not in d.current_url)
    request = Booking.objects.get(title="Dự án máy lọc nước")
    assert request.status == "pending"
    block = browser.find_element(By.CSS_SELECTOR, f'td.booking[data-booking="{request.pk}"]')
    assert "pending" in block.get_attribute("class")
    assert "15:30–16:00" in block.text and "Trần Văn Minh" in block.text
    # The teacher's club keeps its organiser's name hidden from a student.
    assert "Nguyễn Thị Lan" not in browser.find_element(By.CSS_SELECTOR, "table.week").text
    screenshot(browser, "space-week-pending", 1280)

    browser.get(f"{live_server.url}/")
    assert "Dự án máy lọc nước" in browser.find_element(By.CSS_SELECTOR,
                                                         ".pending-requests").text
