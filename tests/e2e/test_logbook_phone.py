"""A student writes a logbook entry from a phone (375×812) in a real headless Chromium:
project page → "add an entry" → a few taps → the entry is on the project's page. Saves
screenshots of the showcase, a project page, the phone form and the calendars page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By

from projects.models import Award, LogAttachment, LogEntry, Milestone
from projects.sessions import mentor_profile_save, session_create
from tests import factories as f
from tests import project_factories as pf
from tests.e2e.conftest import log_in, screenshot, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = (375, 812)


@pytest.fixture
def world(db, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    school = f.school(slug="ndc", name="THPT Chuyên Nguyễn Đình Chiểu")
    f.school(slug="nqd", name="THPT Chuyên Nguyễn Quang Diêu")
    space = f.space(school, name="Phòng chế tạo", kind="makerspace")
    kit = f.stock(space, f.category("Vi điều khiển"), name="Bộ kit Arduino", quantity=10)
    printer = f.asset(space, f.category("In 3D"), name="Máy in 3D Prusa")
    student = f.user("an.ndc", role="student", school=school, full_name="Nguyễn Văn An")
    teammate = f.user("thu.ndc", role="student", school=school, full_name="Trần Minh Thư")
    teacher = f.user("gv.ndc", role="teacher", school=school, full_name="Cô Lê Thị Mai")
    project = pf.project(school, leader=student, members=[teammate], advisor=teacher,
                         title="Hệ thống tưới cây tự động bằng cảm biến độ ẩm",
                         summary="Đo độ ẩm đất và tưới đúng lúc, tiết kiệm nước cho vườn.",
                         kind="engineering", status="prototype", visibility="public",
                         category=pf.category("Embedded systems", name_vi="Hệ thống nhúng"))
    pf.project(school, leader=teammate, title="Trà hoa sen sấy lạnh", kind="startup",
               visibility="public", status="active",
               summary="Giữ hương sen bằng sấy lạnh, bán qua hợp tác xã.")
    Milestone.objects.create(project=project, title="Hoàn thiện mạch đo",
                             due_on=datetime.date(2026, 12, 15))
    Award.objects.create(project=project, competition="Cuộc thi KHKT cấp tỉnh",
                         level="province", year=2025, result="Giải Ba")
    earlier = pf.entry(project, teammate, date=timezone.localdate() - datetime.timedelta(days=3),
                       hours="2", body="Hàn cảm biến độ ẩm vào bo mạch.")
    earlier.equipment.set([kit])
    pf.comment(earlier, teacher, "Nhớ ghi lại giá trị hiệu chuẩn.")
    photo = tmp_path / "mach-do.png"
    photo.write_bytes(pf.PNG)
    return {"project": project, "student": student, "kit": kit, "printer": printer,
            "photo": photo}


def test_student_writes_a_logbook_entry_on_a_phone(browser, live_server, world):
    project = world["project"]
    base = live_server.url

    # The public showcase, as anyone sees it: no students' names.
    browser.delete_all_cookies()
    browser.get(f"{base}/projects/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    showcase = browser.find_element(By.TAG_NAME, "main").text
    assert project.title in showcase and "Nguyễn Văn An" not in showcase
    screenshot(browser, "projects-showcase-desktop", 1280)
    screenshot(browser, "projects-showcase-phone", PHONE[0])

    log_in(browser, base, "an.ndc", f"/projects/{project.pk}/")
    browser.set_window_size(*PHONE)
    width = browser.execute_script("return window.innerWidth")
    assert width <= 400
    assert browser.find_element(By.TAG_NAME, "h1").text == project.title
    screenshot(browser, "project-page-phone", PHONE[0])
    browser.set_window_size(*PHONE)

    # One tap to the form.
    add = browser.find_element(By.CSS_SELECTOR, f'a[href="/projects/{project.pk}/log/new/"]')
    assert add.size["height"] >= 44
    add.click()
    wait_for(browser, lambda d: "/log/new/" in d.current_url)
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")
    date_input = browser.find_element(By.ID, "id_date")
    assert date_input.get_attribute("value") == timezone.localdate().isoformat()

    hours = browser.find_element(By.ID, "id_hours")
    hours.send_keys("1.5")
    browser.find_element(By.ID, "id_body").send_keys(
        "Thử tưới tự động với ngưỡng độ ẩm 40 %, cây nhận đủ nước.")
    kit_box = browser.find_element(By.CSS_SELECTOR,
                                   f'input[name="equipment"][value="{world["kit"].pk}"]')
    label = browser.find_element(By.CSS_SELECTOR, f'label[for="{kit_box.get_attribute("id")}"]')
    assert label.size["height"] >= 44  # a thumb can hit it
    label.click()
    assert kit_box.is_selected()
    browser.find_element(By.ID, "id_photo").send_keys(str(world["photo"]))
    screenshot(browser, "logbook-form-phone", PHONE[0])
    browser.set_window_size(*PHONE)

    submit = browser.find_element(By.CSS_SELECTOR, "form.touch button[type=submit]")
    assert submit.size["height"] >= 44 and submit.size["width"] >= 250
    submit.click()
    wait_for(browser, lambda d: f"/projects/{project.pk}/" in d.current_url
             and "/log/new/" not in d.current_url)

    entry = LogEntry.objects.get(author=world["student"])
    assert entry.hours == Decimal("1.5")
    assert list(entry.equipment.all()) == [world["kit"]]
    attachment = LogAttachment.objects.get(entry=entry)
    assert attachment.original_name == "mach-do.png"

    shown = browser.find_element(By.ID, f"entry-{entry.pk}").text
    assert "Thử tưới tự động" in shown and "Bộ kit Arduino" in shown and "mach-do.png" in shown
    assert timezone.localdate().strftime("%d/%m/%Y") in shown
    screenshot(browser, "project-page-desktop", 1280)


def test_calendars_page(browser, live_server, world):
    log_in(browser, live_server.url, "an.ndc", "/calendars/")
    assert browser.find_element(By.TAG_NAME, "h1").text
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a.webcal")]
    assert links and all(link.startswith("webcal://") for link in links)
    token = world["student"].feed_token
    assert f"webcal://{live_server.url.split('://', 1)[1]}/ical/users/{token}.ics" in links
    screenshot(browser, "calendars-desktop", 1280)
    screenshot(browser, "calendars-phone", PHONE[0])


def test_student_registers_for_a_session(browser, live_server, world):
    mentor = f.user("chuyengia", role="mentor", full_name="ThS. Phạm Quốc Bảo")
    profile = mentor_profile_save(actor=None, user=mentor, expertise=["IoT"])
    space = world["project"].school.spaces.get()
    day = f.next_weekday(2)
    session = session_create(actor=mentor, space=space, start=f.at(day, "08:00"),
                             end=f.at(day, "10:00"), topic="Lập trình cảm biến với Arduino",
                             kind="training", capacity=20, mentor=profile)

    log_in(browser, live_server.url, "an.ndc", "/sessions/")
    browser.find_element(By.LINK_TEXT, session.topic).click()
    wait_for(browser, lambda d: f"/sessions/{session.pk}/" in d.current_url)
    assert day.strftime("%d/%m/%Y") in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.CSS_SELECTOR, f'form[action="/sessions/{session.pk}/register/"] '
                                          "button").click()
    wait_for(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, f'form[action="/sessions/{session.pk}/unregister/"]'))
    assert session.registrations.filter(student=world["student"],
                                        cancelled_at__isnull=True).exists()
    screenshot(browser, "session-detail-phone", PHONE[0])
    browser.get(f"{live_server.url}/sessions/")
    screenshot(browser, "sessions-desktop", 1280)
