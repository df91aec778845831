"""manage.py check_integrity (config/integrity.py): data written by the services passes; each
invariant, broken on purpose behind the services' back, fails its check naming the row.

Some invariants the database itself guards (check constraints, the overlap trigger or exclusion
constraint, partial unique indexes). To show the check would still see a broken row (say, one
written before the constraint existed), such a test lifts the guard inside its own transaction:
DDL is transactional on PostgreSQL and SQLite, so the test's rollback puts it back.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import Booking, BookingEquipment, Series
from bookings.sqlite_triggers import drop_triggers
from config.integrity import CHECKS, run_checks
from projects import services as project_services
from projects.models import Membership, MentorSession
from projects.sessions import register, session_create
from spaces import services as space_services
from spaces.models import Equipment, Loan
from tests import factories as f
from tests import project_factories as pf


def failures() -> dict[str, list[object]]:
    return {result.check.name: result.ids for result in run_checks() if not result.ok}


def assert_fails(name: str, pk: object) -> None:
    """The command fails, names the check and the row; no other check fails."""
    out = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("check_integrity", stdout=out)
    assert name in str(error.value)
    line = next(line for line in out.getvalue().splitlines() if line.startswith(f"FAIL  {name}:"))
    assert str(pk) in line.split("ids", 1)[1].replace(",", " ").split(), line
    assert set(failures()) == {name}


def drop_postgresql_constraint(table: str, name: str) -> None:
    with connection.cursor() as cursor:
        # Foreign keys are checked at commit: ALTER TABLE wants none of those pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')


@contextmanager
def without_constraint(table: str, name: str) -> Iterator[None]:
    """Lift a check constraint for this test's transaction (rolled back after the test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            drop_postgresql_constraint(table, name)
        else:
            cursor.execute("PRAGMA ignore_check_constraints = ON")
        try:
            yield
        finally:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA ignore_check_constraints = OFF")


def tomorrow(clock: str) -> datetime.datetime:
    return f.at(f.next_weekday(1), clock)


@pytest.fixture
def booked(manager, space):
    return booking_services.booking_create(actor=manager, space=space, title="Tiết 3",
                                           start=tomorrow("09:00"), end=tomorrow("10:00"))


@pytest.fixture
def audited_kit(manager, space, category):
    return space_services.equipment_create(actor=manager, space=space, category=category,
                                           name="Bộ kit", kind="stock", quantity=5)


@pytest.fixture
def lent(manager, student, audited_kit):
    return space_services.loan_create(actor=manager, equipment=audited_kit, borrower=student,
                                      quantity=2,
                                      due_at=timezone.now() + datetime.timedelta(days=10))


@pytest.fixture
def session(union, mentor, space):
    pf.mentor_profile(mentor)
    return session_create(actor=union, space=space, start=tomorrow("14:00"),
                          end=tomorrow("15:30"), topic="IoT", mentor=mentor.mentor_profile,
                          capacity=2)


@pytest.fixture
def team_project(school, student, teacher):
    second = f.user("student2.ndc", role="student", school=school)
    return project_services.project_create(
        actor=student, title="Cảm biến mặn", school=school, max_members=3,
        members=[project_services.TeamMember(student, "leader"),
                 project_services.TeamMember(second, "member")])


# --- passes --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_demo_data_passes_every_check():
    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("check_integrity", stdout=out)
    assert f"All {len(CHECKS)} integrity checks passed." in out.getvalue()
    assert out.getvalue().count("\nok    ") == len(CHECKS) - 1


def test_data_written_by_the_services_passes(booked, lent, session, team_project, student):
    register(actor=student, session=session)
    booking_services.series_create(actor=booked.organizer, space=booked.space, title="CLB",
                                   rrule="FREQ=WEEKLY;COUNT=3", start=tomorrow("13:00"),
                                   end=tomorrow("14:00"))
    space_services.loan_return(actor=lent.lent_by, loan=lent)
    booking_services.booking_cancel(actor=booked.organizer, booking=booked)
    assert failures() == {}


def test_only_runs_the_named_checks(booked):
    out = io.StringIO()
    call_command("check_integrity", "--only", "bookings_overlap", stdout=out)
    assert out.getvalue().splitlines()[0].startswith("ok    bookings_overlap:")
    assert "All 1 integrity checks passed." in out.getvalue()


# --- bookings ------------------------------------------------------------------------------

def test_overlapping_bookings(booked, manager):
    # The database refuses the overlap itself; with its guard lifted, the check sees it.
    other = booking_services.booking_create(actor=manager, space=booked.space, title="Tiết 4",
                                            start=tomorrow("10:00"), end=tomorrow("11:00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=other.pk).update(start=tomorrow("09:30"))
    if connection.vendor == "postgresql":
        drop_postgresql_constraint("bookings_booking", "booking_no_overlap")
    else:
        drop_triggers(connection)
    Booking.objects.filter(pk=other.pk).update(start=tomorrow("09:30"))
    assert failures()["bookings_overlap"] == [booked.pk, other.pk]
    assert_fails("bookings_overlap", other.pk)


def test_cancelled_bookings_may_overlap(booked, manager):
    booking_services.booking_cancel(actor=manager, booking=booked)
    booking_services.booking_create(actor=manager, space=booked.space, title="Thay",
                                    start=tomorrow("09:00"), end=tomorrow("10:00"))
    assert failures() == {}


def test_booking_ending_before_it_starts(booked):
    if connection.vendor == "postgresql":  # the overlap constraint's range would be invalid too
        drop_postgresql_constraint("bookings_booking", "booking_no_overlap")
    with without_constraint("bookings_booking", "booking_starts_before_end"):
        Booking.objects.filter(pk=booked.pk).update(end=tomorrow("08:00"))
    assert_fails("booking_start_before_end", booked.pk)


def test_booking_of_another_school(booked, other_school):
    Booking.objects.filter(pk=booked.pk).update(school=other_school)
    assert_fails("booking_school_is_space_school", booked.pk)


def test_series_of_another_school_and_occurrence_elsewhere(manager, space, school, other_school):
    result = booking_services.series_create(actor=manager, space=space, title="CLB",
                                            rrule="FREQ=WEEKLY;COUNT=2", start=tomorrow("13:00"),
                                            end=tomorrow("14:00"))
    moved = result.created[0]
    Booking.objects.filter(pk=moved.pk).update(space=f.space(school, name="Phòng khác"))
    assert_fails("occurrence_in_series_space", moved.pk)
    Booking.objects.filter(pk=moved.pk).update(space=space)
    Series.objects.filter(pk=result.series.pk).update(school=other_school)
    found = failures()
    assert found["series_school_is_space_school"] == [result.series.pk]
    assert set(found["occurrence_in_series_space"]) == {b.pk for b in result.created}


def test_equipment_reserved_from_another_school(booked, other_manager, other_space, category):
    elsewhere = space_services.equipment_create(actor=other_manager, space=other_space,
                                                category=category, name="Bộ kit", kind="stock",
                                                quantity=3)
    reservation = BookingEquipment.objects.create(booking=booked, equipment=elsewhere, quantity=1)
    assert_fails("reservation_same_school", reservation.pk)


def test_booking_without_audit_entry(space, teacher):
    written = f.booking(space, teacher, start=tomorrow("15:00"), end=tomorrow("16:00"))
    assert_fails("booking_audited", written.pk)


def test_deleted_booking(booked):
    pk = booked.pk
    Booking.objects.filter(pk=pk).delete()
    found = failures()
    assert set(found) == {"nothing_deleted"}
    assert len(found["nothing_deleted"]) == 1


# --- equipment and loans -------------------------------------------------------------------

def test_asset_counted_twice_and_negative_stock(manager, space, category, audited_kit):
    tagged = space_services.equipment_create(actor=manager, space=space, category=category,
                                             name="Máy in", kind="asset", asset_tag="NDC-1")
    with without_constraint("spaces_equipment", "equipment_asset_is_one_item"):
        Equipment.objects.filter(pk=tagged.pk).update(quantity=2)
    assert_fails("equipment_quantity", tagged.pk)
    if connection.vendor == "sqlite":  # PositiveIntegerField: PostgreSQL's check is unnamed here
        with without_constraint("spaces_equipment", "quantity"):
            Equipment.objects.filter(pk=audited_kit.pk).update(quantity=-1)
        assert audited_kit.pk in failures()["equipment_quantity"]


def test_loan_of_nothing(lent):
    with without_constraint("spaces_loan", "loan_quantity_positive"):
        Loan.objects.filter(pk=lent.pk).update(quantity=0)
    assert_fails("loan_quantity_positive", lent.pk)


def test_loan_returned_before_it_went_out(lent):
    Loan.objects.filter(pk=lent.pk).update(
        returned_at=lent.checked_out_at - datetime.timedelta(hours=1))
    assert_fails("loan_returned_after_lent", lent.pk)


def test_more_lent_than_owned(lent, audited_kit):
    Loan.objects.filter(pk=lent.pk).update(quantity=audited_kit.quantity + 1)
    found = failures()
    assert found["equipment_not_over_lent"] == [audited_kit.pk]


def test_more_reserved_than_owned(manager, space, audited_kit, lent):
    booking = booking_services.booking_create(
        actor=manager, space=space, title="Lắp mạch", start=tomorrow("09:00"),
        end=tomorrow("10:00"),
        equipment=[booking_services.EquipmentRequest(audited_kit, 3)])
    assert failures() == {}  # 3 reserved + 2 lent = the 5 owned
    reservation = BookingEquipment.objects.get(booking=booking)
    BookingEquipment.objects.filter(pk=reservation.pk).update(quantity=4)
    assert_fails("equipment_not_over_reserved", reservation.pk)


def test_overlapping_reservations_add_up(manager, space, audited_kit):
    first = booking_services.booking_create(
        actor=manager, space=space, title="A", start=tomorrow("09:00"), end=tomorrow("10:00"),
        equipment=[booking_services.EquipmentRequest(audited_kit, 3)])
    second = booking_services.booking_create(
        actor=manager, space=f.space(space.school, name="Phòng B"), title="B",
        start=tomorrow("09:30"), end=tomorrow("10:30"),
        equipment=[booking_services.EquipmentRequest(audited_kit, 2)])
    assert failures() == {}
    BookingEquipment.objects.filter(booking=second).update(quantity=3)
    found = failures()
    assert found == {"equipment_not_over_reserved":
                     [BookingEquipment.objects.get(booking=second).pk]}
    assert first.pk  # the first booking's start sees only its own 3 units


def test_loan_and_equipment_without_audit_entry(space, category, manager, student):
    item = f.stock(space, category, quantity=4)
    assert_fails("equipment_audited", item.pk)
    Equipment.objects.filter(pk=item.pk).delete()
    written = f.loan(f.stock(space, category, quantity=4), student, manager)
    found = failures()
    assert written.pk in found["loan_audited"]


# --- sessions and projects -----------------------------------------------------------------

def test_session_with_more_registrations_than_places(session, student, school):
    register(actor=student, session=session)
    register(actor=f.user("student3.ndc", role="student", school=school), session=session)
    MentorSession.objects.filter(pk=session.pk).update(capacity=1)
    assert_fails("session_capacity", session.pk)


def test_session_booking_of_another_kind(session):
    Booking.objects.filter(pk=session.booking_id).update(kind="class")
    assert_fails("session_booking", session.pk)


def test_registered_twice(session, student):
    first = register(actor=student, session=session)
    with connection.cursor() as cursor:  # a partial unique index on both databases
        cursor.execute("DROP INDEX registration_one_active_per_student")
    twin = type(first).objects.create(session=session, student=student)
    found = failures()
    assert found == {"registration_once": [first.pk, twin.pk]}


def test_team_larger_than_allowed(team_project):
    type(team_project).objects.filter(pk=team_project.pk).update(max_members=1)
    assert_fails("project_team_size", team_project.pk)


def test_team_without_leader(team_project):
    Membership.objects.filter(project=team_project).update(role="member")
    assert_fails("project_has_leader", team_project.pk)
    Membership.objects.filter(project=team_project).update(left_on=timezone.localdate())
    assert failures() == {}  # no team left: nobody to lead


# --- what the checks found -----------------------------------------------------------------

def test_stock_cannot_drop_below_what_bookings_reserve(client_for, manager, space, audited_kit,
                                                      lent):
    """Lowering a stock's quantity checked the units on loan only: bookings that had reserved
    units from now on were left holding more than the space owned (equipment_not_over_reserved)."""
    booking_services.booking_create(
        actor=manager, space=space, title="Lắp mạch", start=tomorrow("09:00"),
        end=tomorrow("10:00"), equipment=[booking_services.EquipmentRequest(audited_kit, 3)])
    url = f"/api/v1/equipment/{audited_kit.pk}/"
    response = client_for(manager).patch(url, {"quantity": 4}, format="json",
                                         HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert response.json()["quantity"] == [
        "5 are reserved or on loan at the same time: the quantity cannot be lower."]
    audited_kit.refresh_from_db()
    assert audited_kit.quantity == 5
    assert failures() == {}
    # Raising it, or lowering it to what is still free, is fine.
    assert client_for(manager).patch(url, {"quantity": 6}, format="json").status_code == 200
    assert client_for(manager).patch(url, {"quantity": 5}, format="json").status_code == 200
