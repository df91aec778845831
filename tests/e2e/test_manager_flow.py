"""A space manager at work in a real browser: a student's request approved from the queue, an
item reached by its QR code lent and taken back at the loans desk. Screenshots of both pages,
on a desktop and on a phone.
"""

from __future__ import annotations

import datetime
import time

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from bookings.models import Booking, BookingEquipment
from bookings.services import EquipmentRequest, booking_create
from spaces.models import Loan
from tests import factories as f
from tests.e2e.conftest import log_in, screenshot, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(db):
    school = f.school(slug="ndc", name="THPT Chuyên Nguyễn Đình Chiểu")
    space = f.space(school, name="Phòng chế tạo", kind="makerspace")
    kit = f.stock(space, f.category("Vi điều khiển"), name="Bộ kit Arduino", quantity=10)
    f.asset(space, f.category("Máy cắt laser", requires_certification=True),
            name="Máy cắt laser CO2", asset_tag="NDC-LZ-001")
    manager = f.user("manager.ndc", role="manager", school=school, full_name="Trần Thị Quản")
    student = f.user("student.ndc", role="student", school=school, full_name="Nguyễn Văn An")
    teacher = f.user("teacher.ndc", role="teacher", school=school, full_name="Lê Minh Thầy")
    # Someone is late bringing a kit back: the desk shows it in red.
    f.loan(kit, teacher, manager, quantity=2,
           checked_out_at=timezone.now() - datetime.timedelta(days=9), days=2)
    return {"school": school, "space": space, "kit": kit, "manager": manager,
            "student": student, "teacher": teacher}


def test_a_student_request_is_approved_from_the_queue(browser, live_server, world):
    day = f.next_weekday(2)
    # The student asks through the same service as the booking form: it waits for approval.
    request = booking_create(actor=world["student"], space=world["space"],
                             title="Lắp robot dò line", kind="project_work", attendees=4,
                             start=f.at(day, "14:00"), end=f.at(day, "16:00"),
                             equipment=[EquipmentRequest(world["kit"], 3)])
    second = booking_create(actor=world["student"], space=world["space"], title="Thử cảm biến",
                            kind="project_work", start=f.at(day, "08:00"),
                            end=f.at(day, "09:00"))
    assert request.status == second.status == "pending"

    log_in(browser, live_server.url, "manager.ndc", "/")
    # The menu leads there.
    browser.find_element(By.CSS_SELECTOR, ".site-nav a[href='/manage/approvals/']").click()
    wait_for(browser, lambda d: d.current_url.endswith("/manage/approvals/"))
    rows = browser.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")
    # Soonest first: the morning test, then the afternoon build.
    assert [row.get_attribute("id") for row in rows] == [f"booking-{second.pk}",
                                                         f"booking-{request.pk}"]
    row = browser.find_element(By.ID, f"booking-{request.pk}")
    assert f"{day:%d/%m/%Y} 14:00–16:00" in row.text
    assert "Nguyễn Văn An" in row.text and "Bộ kit Arduino × 3" in row.text
    screenshot(browser, "manage-approvals-desktop", 1280)
    screenshot(browser, "manage-approvals-phone", 390)

    # Keyboard only: type the reason (Enter there decides nothing, not even the first row),
    # then press Enter on the row's Approve button.
    reason = browser.find_element(By.ID, f"reason-{request.pk}")
    reason.send_keys("Nhớ dọn bàn sau khi dùng", Keys.ENTER)
    time.sleep(0.5)  # a submission would have reloaded the page by now
    assert reason.get_attribute("value") == "Nhớ dọn bàn sau khi dùng"  # same page, not stale
    assert Booking.objects.filter(status="pending").count() == 2
    approve = row.find_element(By.CSS_SELECTOR, f"button[name=approve_one][value='{request.pk}']")
    approve.send_keys(Keys.ENTER)
    wait_for(browser, lambda d: not d.find_elements(By.ID, f"booking-{request.pk}"))

    assert browser.find_elements(By.CSS_SELECTOR, ".messages .message.success")
    request.refresh_from_db()
    assert (request.status, request.decision_reason, request.decided_by) == (
        "approved", "Nhớ dọn bàn sau khi dùng", world["manager"])
    assert Booking.objects.get(pk=second.pk).status == "pending"
    assert BookingEquipment.objects.get(booking=request).quantity == 3


def test_a_manager_lends_an_item_scanned_and_takes_it_back(browser, live_server, world):
    kit, student = world["kit"], world["student"]
    log_in(browser, live_server.url, "manager.ndc", f"/equipment/{kit.pk}/")
    # The page the QR label opens: the manager gets a Lend button.
    browser.find_element(By.CSS_SELECTOR, f".item-actions a[href='/manage/loans/?equipment="
                                          f"{kit.pk}']").click()
    wait_for(browser, lambda d: "/manage/loans/" in d.current_url)
    item = Select(browser.find_element(By.ID, "id_equipment"))
    assert item.first_selected_option.get_attribute("value") == str(kit.pk)
    assert "8" in item.first_selected_option.text  # 10 owned, 2 out

    # Too many first: the form says so on the quantity field, nothing is lent.
    Select(browser.find_element(By.ID, "id_borrower")).select_by_value(str(student.pk))
    quantity = browser.find_element(By.ID, "id_quantity")
    quantity.clear()
    quantity.send_keys("9")
    browser.find_element(By.CSS_SELECTOR, "#lend-form button[type=submit]").click()
    error = wait_for(browser, lambda d: d.find_elements(By.ID, "id_quantity_errors"))[0]
    assert "8" in error.text
    assert browser.find_element(By.ID, "id_quantity").get_attribute("aria-describedby") == (
        "id_quantity_errors")
    assert Loan.objects.filter(borrower=student).count() == 0

    quantity = browser.find_element(By.ID, "id_quantity")
    quantity.clear()
    quantity.send_keys("2")
    browser.find_element(By.CSS_SELECTOR, "#lend-form button[type=submit]").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".messages .message.success"))
    loan = Loan.objects.get(borrower=student)
    assert (loan.quantity, loan.lent_by) == (2, world["manager"])
    row = browser.find_element(By.ID, f"loan-{loan.pk}")
    assert "Nguyễn Văn An" in row.text
    assert "overdue" not in (row.get_attribute("class") or "")
    late = Loan.objects.get(borrower=world["teacher"])
    assert "overdue" in browser.find_element(By.ID, f"loan-{late.pk}").get_attribute("class")
    assert browser.find_elements(By.CSS_SELECTOR, ".overdue-list li")
    screenshot(browser, "manage-loans-desktop", 1280)
    screenshot(browser, "manage-loans-phone", 390)

    # Back from the item page again: Return leads to its open loans.
    browser.get(f"{live_server.url}/equipment/{kit.pk}/")
    browser.find_element(By.CSS_SELECTOR, ".item-actions a[href$='#open-loans']").click()
    wait_for(browser, lambda d: "/manage/loans/" in d.current_url)
    condition = browser.find_element(By.ID, f"condition-{loan.pk}")
    condition.send_keys("Đủ, tốt")
    browser.find_element(By.CSS_SELECTOR, f"#loan-{loan.pk} .return-form button").click()
    wait_for(browser, lambda d: not d.find_elements(By.ID, f"loan-{loan.pk}"))
    loan.refresh_from_db()
    assert (loan.return_condition, loan.returned_to) == ("Đủ, tốt", world["manager"])
    assert loan.returned_at is not None


def test_equipment_and_closures_pages_render(browser, live_server, world):
    log_in(browser, live_server.url, "manager.ndc", "/manage/equipment/")
    assert browser.find_element(By.ID, f"item-{world['kit'].pk}")
    assert browser.find_element(By.CSS_SELECTOR,
                                f"a[href='/spaces/{world['space'].pk}/labels/']")
    screenshot(browser, "manage-equipment-desktop", 1280)
    browser.get(f"{live_server.url}/manage/closures/")
    browser.find_element(By.CSS_SELECTOR, ".manage-tabs a[aria-current=page]")
    screenshot(browser, "manage-closures-phone", 390)
