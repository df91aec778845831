"""The managers' pages under /manage/: approvals, closures, equipment, the loans desk.

Who may look (a manager of the school, superusers; others 403, anonymous to the login page),
that every write goes through its service (audit trail, rules), that domain errors come back
as messages or form errors and never as a 500, and a fixed number of queries.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from bookings.models import Booking, BookingEquipment, Closure
from spaces.models import Loan
from tests import factories as f

PAGES = ["/manage/approvals/", "/manage/closures/", "/manage/equipment/", "/manage/loans/"]


def pending(space, who, day, start="08:00", end="09:00", **fields):
    return f.booking(space, who, start=f.at(day, start), end=f.at(day, end), status="pending",
                     kind="project_work", **fields)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# Who may look --------------------------------------------------------------------------------

@pytest.mark.parametrize("url", PAGES)
def test_anonymous_is_sent_to_log_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("role", ["teacher", "student", "union", "mentor"])
def test_others_may_not_manage(client, school, url, role):
    client.force_login(f.user(f"someone.{role}", role=role,
                              school=school if role in ("teacher", "student") else None))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", PAGES)
def test_manager_and_superuser_see_the_pages(client, manager, admin_user, space, url):
    client.force_login(manager)
    assert client.get(url).status_code == 200
    client.force_login(admin_user)
    response = client.get(url, {"school": space.school_id})
    assert response.status_code == 200
    assert response.context["school"] == space.school


def test_manage_link_in_the_menu_for_managers_only(client, manager, teacher):
    client.force_login(manager)
    assert 'href="/manage/approvals/"' in client.get("/").content.decode()
    client.force_login(teacher)
    assert 'href="/manage/approvals/"' not in client.get("/").content.decode()


# 1. Approvals --------------------------------------------------------------------------------

@pytest.fixture
def queue(space, student, kit, other_space, other_student):
    day = f.next_weekday(1)
    later = pending(space, student, f.next_weekday(3), title="Làm robot")
    sooner = pending(space, student, day, attendees=4, title="Đo nhiệt độ")
    BookingEquipment.objects.create(booking=sooner, equipment=kit, quantity=3)
    pending(other_space, other_student, day, title="Trường khác")
    f.booking(space, student, start=f.at(day, "10:00"), end=f.at(day, "11:00"),
              title="Đã duyệt")
    return sooner, later


def test_queue_lists_pending_bookings_of_the_school_soonest_first(client, manager, queue):
    sooner, later = queue
    client.force_login(manager)
    response = client.get("/manage/approvals/")
    assert [b.pk for b in response.context["bookings"]] == [sooner.pk, later.pk]
    body = text(response)
    assert "Trường khác" not in body and "Đã duyệt" not in body
    start = timezone.localtime(sooner.start)
    assert f"{start:%d/%m/%Y} 08:00–09:00" in body
    assert "Bộ kit Arduino × 3" in body
    assert "Student Ndc" in body


def test_approve_one_with_a_reason_goes_through_the_service(client, manager, queue):
    sooner, later = queue
    client.force_login(manager)
    response = client.post("/manage/approvals/", {"approve_one": sooner.pk,
                                                  f"reason-{sooner.pk}": "Nhớ dọn dẹp",
                                                  f"reason-{later.pk}": "không dùng"})
    assert response.status_code == 302 and response["Location"] == "/manage/approvals/"
    sooner.refresh_from_db()
    later.refresh_from_db()
    assert (sooner.status, sooner.decision_reason, sooner.decided_by) == (
        "approved", "Nhớ dọn dẹp", manager)
    assert later.status == "pending"
    assert AuditEntry.objects.filter(action="booking.approved").count() == 1


def test_reject_in_bulk(client, manager, queue):
    sooner, later = queue
    client.force_login(manager)
    response = client.post("/manage/approvals/", {"booking": [sooner.pk, later.pk],
                                                  "action": "reject", "reason": "Phòng bận"},
                           follow=True)
    assert {b.status for b in Booking.objects.filter(pk__in=[sooner.pk, later.pk])} == {
        "rejected"}
    assert set(Booking.objects.filter(pk__in=[sooner.pk, later.pk])
               .values_list("decision_reason", flat=True)) == {"Phòng bận"}
    assert response.context["bookings"] == []
    assert [m.level_tag for m in response.context["messages"]] == ["success"]


def test_bulk_errors_are_messages_per_booking_not_a_500(client, manager, queue, space, student):
    sooner, later = queue
    decided = f.booking(space, student, start=f.at(f.next_weekday(4), "08:00"),
                        end=f.at(f.next_weekday(4), "09:00"), status="cancelled",
                        title="Đã huỷ")
    other = Booking.objects.get(title="Trường khác")
    client.force_login(manager)
    response = client.post("/manage/approvals/", {
        "booking": [sooner.pk, decided.pk, other.pk, "x"], "action": "approve"}, follow=True)
    assert response.status_code == 200
    sooner.refresh_from_db()
    other.refresh_from_db()
    assert sooner.status == "approved" and other.status == "pending"
    levels = [m.level_tag for m in response.context["messages"]]
    assert sorted(levels) == ["error", "error", "success"]
    body = text(response)
    assert "Đã huỷ" in body  # the refused booking is named in its message
    assert f"#{other.pk}" in body


def test_nothing_ticked_or_no_decision_is_explained(client, manager, queue):
    client.force_login(manager)
    for data in ({"action": "approve"}, {"booking": [queue[0].pk]}):
        response = client.post("/manage/approvals/", data, follow=True)
        assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert Booking.objects.get(pk=queue[0].pk).status == "pending"


def test_other_manager_cannot_decide_this_school(client, other_manager, queue):
    client.force_login(other_manager)
    client.post("/manage/approvals/", {"approve_one": queue[0].pk})
    assert Booking.objects.get(pk=queue[0].pk).status == "pending"


def test_superuser_decides_for_the_school_picked(client, admin_user, queue, school):
    client.force_login(admin_user)
    response = client.post(f"/manage/approvals/?school={school.pk}",
                           {"approve_one": queue[0].pk})
    assert response["Location"] == f"/manage/approvals/?school={school.pk}"
    assert Booking.objects.get(pk=queue[0].pk).status == "approved"


def test_queue_makes_a_fixed_number_of_queries(client, manager, space, student, kit,
                                               django_assert_num_queries):
    def fill(count: int) -> None:
        for n in range(Booking.objects.count(), Booking.objects.count() + count):
            booking = pending(space, student, f.next_weekday(n % 5, weeks=1 + n // 5))
            BookingEquipment.objects.create(booking=booking, equipment=kit, quantity=1)

    client.force_login(manager)
    # session, user, school, bookings, their equipment
    fill(2)
    with django_assert_num_queries(5):
        assert len(client.get("/manage/approvals/").context["bookings"]) == 2
    fill(15)
    with django_assert_num_queries(5):
        assert len(client.get("/manage/approvals/").context["bookings"]) == 17


# 2. Closures ---------------------------------------------------------------------------------

def test_add_a_closure_of_one_space_and_see_the_bookings_it_falls_on(client, manager, space,
                                                                     teacher):
    day = f.next_weekday(2)
    on_it = f.booking(space, teacher, start=f.at(day, "08:00"), end=f.at(day, "09:00"),
                      title="Tiết Vật lý")
    client.force_login(manager)
    response = client.post("/manage/closures/", {
        "space": space.pk, "start_date": day.isoformat(), "end_date": day.strftime("%d/%m/%Y"),
        "reason": "Sửa điện"})
    assert response.status_code == 200
    closure = Closure.objects.get()
    assert (closure.space, closure.start_date, closure.end_date, closure.created_by) == (
        space, day, day, manager)
    assert response.context["affected"] == [on_it]
    assert "Tiết Vật lý" in text(response)
    assert Booking.objects.get(pk=on_it.pk).status == "approved"  # kept: not asked to cancel
    assert [c.pk for c in response.context["upcoming"]] == [closure.pk]


def test_closing_the_school_can_cancel_its_bookings(client, manager, space, teacher):
    day = f.next_weekday(2)
    on_it = f.booking(space, teacher, start=f.at(day, "08:00"), end=f.at(day, "09:00"))
    client.force_login(manager)
    response = client.post("/manage/closures/", {
        "space": "", "start_date": day.isoformat(), "end_date": day.isoformat(),
        "reason": "Bão", "cancel_bookings": "on"})
    assert Closure.objects.get().space is None
    assert response.context["cancelled"] is True
    assert Booking.objects.get(pk=on_it.pk).status == "cancelled"


def test_closure_errors_are_tied_to_their_fields(client, manager, space):
    day = f.next_weekday(2)
    client.force_login(manager)
    response = client.post("/manage/closures/", {
        "start_date": day.isoformat(), "end_date": (day - datetime.timedelta(days=1)).isoformat(),
        "reason": "Ngược"})
    assert response.status_code == 200
    assert Closure.objects.count() == 0
    assert response.context["form"].errors["end_date"]
    body = text(response)
    assert 'aria-describedby="id_end_date_errors"' in body
    assert 'id="id_end_date_errors"' in body
    response = client.post("/manage/closures/", {"reason": ""})
    assert set(response.context["form"].errors) == {"start_date", "end_date", "reason"}


def test_closure_of_another_schools_space_is_refused(client, manager, other_space):
    client.force_login(manager)
    day = f.next_weekday(2).isoformat()
    response = client.post("/manage/closures/", {"space": other_space.pk, "start_date": day,
                                                 "end_date": day, "reason": "x"})
    assert response.context["form"].errors["space"]
    assert Closure.objects.count() == 0


def test_closures_listed_upcoming_first_and_deleted_through_the_service(client, manager, school,
                                                                        other_school):
    today = timezone.localdate()

    def closure(school, start, days, reason):
        return Closure.objects.create(school=school, start_date=today + datetime.timedelta(start),
                                      end_date=today + datetime.timedelta(start + days),
                                      reason=reason)

    later = closure(school, 30, 2, "Tết")
    soon = closure(school, 3, 0, "Hội trại")
    past = closure(school, -10, 1, "Cũ")
    closure(other_school, 3, 0, "Trường khác")
    client.force_login(manager)
    response = client.get("/manage/closures/")
    assert response.context["upcoming"] == [soon, later]
    assert response.context["past"] == [past]
    assert "Trường khác" not in text(response)

    response = client.post(f"/manage/closures/{soon.pk}/delete/")
    assert response.status_code == 302
    assert not Closure.objects.filter(pk=soon.pk).exists()
    assert AuditEntry.objects.filter(action="closure.deleted").count() == 1
    assert client.get(f"/manage/closures/{soon.pk}/delete/").status_code == 405


def test_other_manager_cannot_delete_this_schools_closure(client, other_manager, school):
    day = f.next_weekday(2)
    closure = Closure.objects.create(school=school, start_date=day, end_date=day, reason="x")
    client.force_login(other_manager)
    assert client.post(f"/manage/closures/{closure.pk}/delete/").status_code == 404
    assert Closure.objects.filter(pk=closure.pk).exists()


# 3. Equipment --------------------------------------------------------------------------------

def test_equipment_list_with_availability_low_stock_and_links(client, manager, space, kit, laser,
                                                             student, category, other_space):
    f.loan(kit, student, manager, quantity=4)
    glue = f.stock(space, category, name="Keo nến", quantity=3, low_stock_threshold=5)
    f.stock(space, category, name="Cũ", quantity=1, status="retired")
    f.stock(other_space, category, name="Trường khác")
    client.force_login(manager)
    response = client.get("/manage/equipment/")
    items = {item.name: item for item in response.context["items"]}
    assert set(items) == {"Bộ kit Arduino", "Máy cắt laser CO2", "Keo nến"}
    assert (items["Bộ kit Arduino"].on_loan_quantity, items["Bộ kit Arduino"].available) == (4, 6)
    assert response.context["low_count"] == 1
    body = text(response)
    assert f'<tr id="item-{glue.pk}" class="low-stock">' in body
    assert f'href="/equipment/{kit.pk}/"' in body
    assert f'href="/spaces/{space.pk}/labels/"' in body
    assert f'href="/spaces/{other_space.pk}/labels/"' not in body
    assert f'href="/manage/loans/?equipment={kit.pk}"' in body


def test_equipment_available_in_a_chosen_window_counts_bookings(client, manager, space, kit,
                                                                teacher):
    day = f.next_weekday(1)
    booking = f.booking(space, teacher, start=f.at(day, "08:00"), end=f.at(day, "10:00"))
    BookingEquipment.objects.create(booking=booking, equipment=kit, quantity=7)
    client.force_login(manager)
    response = client.get("/manage/equipment/", {"day": day.isoformat(), "start": "09:00",
                                                 "end": "11:00"})
    (item,) = response.context["items"]
    assert (item.available, item.available_then) == (10, 3)
    response = client.get("/manage/equipment/", {"day": day.isoformat(), "start": "10:00",
                                                 "end": "11:00"})
    assert response.context["items"][0].available_then == 10
    response = client.get("/manage/equipment/", {"day": day.isoformat(), "start": "11:00",
                                                 "end": "10:00"})
    assert response.context["window"] is None
    assert response.context["form"].errors["end"]


def test_equipment_list_makes_a_fixed_number_of_queries(client, manager, space, category,
                                                        student, django_assert_num_queries):
    client.force_login(manager)
    day = f.next_weekday(1)
    window = {"day": day.isoformat(), "start": "08:00", "end": "10:00"}
    for count in (2, 12):
        for n in range(count - Loan.objects.count()):
            item = f.stock(space, category, name=f"Đồ {count}-{n}", quantity=5)
            f.loan(item, student, manager)
        # session, user, school, items, spaces; the window adds loans and reservations
        with django_assert_num_queries(5):
            assert len(client.get("/manage/equipment/").context["items"]) == count
        with django_assert_num_queries(7):
            client.get("/manage/equipment/", window)


# 4. Loans ------------------------------------------------------------------------------------

def lend(client, item, borrower, **fields):
    due = timezone.localdate() + datetime.timedelta(days=3)
    data = {"equipment": item.pk, "borrower": borrower.pk, "quantity": 1,
            "due_date": due.isoformat(), "due_time": "16:30", "notes": ""}
    data.update(fields)
    return client.post("/manage/loans/", data)


def test_lend_through_the_service(client, manager, kit, student):
    client.force_login(manager)
    response = lend(client, kit, student, quantity=3, notes="CLB Robot")
    assert response.status_code == 302
    loan = Loan.objects.get()
    assert (loan.equipment, loan.borrower, loan.quantity, loan.lent_by, loan.notes) == (
        kit, student, 3, manager, "CLB Robot")
    due = timezone.localtime(loan.due_at)
    assert (due.date(), due.strftime("%H:%M")) == (
        timezone.localdate() + datetime.timedelta(days=3), "16:30")
    assert AuditEntry.objects.filter(action="loan.created").count() == 1


def test_the_item_scanned_is_chosen_and_its_loans_shown(client, manager, kit, laser, student):
    f.loan(kit, student, manager)
    f.loan(laser, student, manager)
    client.force_login(manager)
    response = client.get("/manage/loans/", {"equipment": kit.pk})
    assert response.context["form"]["equipment"].value() == kit.pk
    assert [loan.equipment for loan in response.context["open_loans"]] == [kit]
    assert f'<option value="{kit.pk}" selected>' in response.content.decode()


def test_lending_without_certification_is_a_borrower_error(client, manager, laser, student):
    client.force_login(manager)
    response = lend(client, laser, student)
    assert response.status_code == 200
    assert response.context["form"].errors["borrower"]
    assert 'aria-describedby="id_borrower_helptext id_borrower_errors"' in text(response)
    assert Loan.objects.count() == 0


def test_lending_more_than_available_is_a_quantity_error(client, manager, kit, student):
    f.loan(kit, student, manager, quantity=8)
    client.force_login(manager)
    response = lend(client, kit, student, quantity=3)
    assert response.context["form"].errors["quantity"]
    assert Loan.objects.count() == 1


def test_lending_with_a_past_due_time_is_a_due_date_error(client, manager, kit, student):
    client.force_login(manager)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = lend(client, kit, student, due_date=yesterday.strftime("%d/%m/%Y"))
    assert response.context["form"].errors["due_date"]


def test_only_people_and_items_of_the_school_are_offered(client, manager, kit, student,
                                                         other_student, other_space, category):
    foreign = f.stock(other_space, category, name="Trường khác")
    client.force_login(manager)
    response = lend(client, foreign, other_student)
    assert set(response.context["form"].errors) == {"equipment", "borrower"}
    assert Loan.objects.count() == 0


def test_open_and_overdue_loans_and_return(client, manager, kit, student, teacher):
    late = f.loan(kit, student, manager, checked_out_at=timezone.now() - datetime.timedelta(
        days=10), days=3)
    current = f.loan(kit, teacher, manager, quantity=2)
    client.force_login(manager)
    response = client.get("/manage/loans/")
    assert response.context["open_loans"] == [late, current]
    assert response.context["overdue"] == [late]
    assert f'<tr id="loan-{late.pk}" class="overdue">' in text(response)

    response = client.post(f"/manage/loans/{late.pk}/return/", {"condition": "Tốt"}, follow=True)
    assert response.context["open_loans"] == [current]
    late.refresh_from_db()
    assert (late.return_condition, late.returned_to) == ("Tốt", manager)
    assert late.returned_at is not None
    # A second return is refused with a message, not a 500.
    response = client.post(f"/manage/loans/{late.pk}/return/", {"condition": "x"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_other_manager_cannot_return_this_schools_loan(client, other_manager, kit, student,
                                                       manager):
    loan = f.loan(kit, student, manager)
    client.force_login(other_manager)
    assert client.post(f"/manage/loans/{loan.pk}/return/").status_code == 404
    assert Loan.objects.get(pk=loan.pk).returned_at is None


def test_loans_desk_makes_a_fixed_number_of_queries(client, manager, space, category, student,
                                                    django_assert_num_queries):
    client.force_login(manager)
    for count in (2, 12):
        for n in range(count - Loan.objects.count()):
            item = f.stock(space, category, name=f"Đồ {count}-{n}", quantity=5)
            f.loan(item, student, manager)
        # session, user, school, items, people, open loans
        with django_assert_num_queries(6):
            assert len(client.get("/manage/loans/").context["open_loans"]) == count


# 5. The item page reached by its QR code -------------------------------------------------------

def test_item_page_offers_lend_and_return_to_its_managers(client, manager, other_manager, kit,
                                                          student):
    client.force_login(manager)
    body = client.get(f"/equipment/{kit.pk}/").content.decode()
    assert f'href="/manage/loans/?equipment={kit.pk}"' in body
    assert "#open-loans" not in body  # nothing on loan: nothing to take back
    f.loan(kit, student, manager)
    body = client.get(f"/equipment/{kit.pk}/").content.decode()
    assert f'href="/manage/loans/?equipment={kit.pk}#open-loans"' in body
    client.force_login(other_manager)
    assert "/manage/loans/" not in client.get(f"/equipment/{kit.pk}/").content.decode()


def test_odd_ids_in_the_queue_and_the_loans_desk_are_ignored_not_500(client, manager, school):
    client.force_login(manager)
    for odd in ("²", "9" * 40, "abc"):
        assert client.get("/manage/loans/", {"equipment": odd}).status_code == 200
        response = client.post("/manage/approvals/", {"booking": [odd], "decision": "approve"})
        assert response.status_code in (200, 302)
