"""The database itself keeps one space from being booked twice.

Real threads and transactions. PostgreSQL (make test-postgres): the exclusion
constraint; SQLite: immediate transactions and the overlap triggers.
"""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from bookings.models import Booking
from tests import factories as f
from tests.api.test_loan_race import race


@pytest.mark.django_db(transaction=True)
def test_twelve_teachers_one_slot():
    school = f.school(slug="ndc")
    space = f.space(school)
    teachers = [f.user(f"teacher{i}", role="teacher", school=school) for i in range(12)]
    day = f.next_weekday(0)

    def attempt(i):
        client = APIClient()
        client.force_authenticate(teachers[i])
        return client.post("/api/v1/bookings/", {
            "space": space.pk, "title": f"Lớp {i}", "start": f"{day}T08:00",
            "end": f"{day}T09:30"}, format="json").status_code

    codes = race(12, attempt)
    assert codes == [201] + [409] * 11, connection.vendor
    assert Booking.objects.filter(space=space).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_of_the_last_units():
    school = f.school(slug="ndc")
    rooms = [f.space(school, name=f"Phòng {i}") for i in range(6)]
    teachers = [f.user(f"teacher{i}", role="teacher", school=school) for i in range(6)]
    kit = f.stock(rooms[0], f.category("Vi điều khiển"), quantity=10)
    day = f.next_weekday(1)

    def attempt(i):
        client = APIClient()
        client.force_authenticate(teachers[i])
        return client.post("/api/v1/bookings/", {
            "space": rooms[i].pk, "title": "CLB", "kind": "club", "start": f"{day}T08:00",
            "end": f"{day}T09:00", "equipment": [{"equipment": kit.pk, "quantity": 4}]},
            format="json").status_code

    codes = race(6, attempt)
    assert codes == [201, 201] + [409] * 4, connection.vendor


def test_raw_overlapping_insert_is_refused_by_the_database(teacher, space):
    day = f.next_weekday(0)
    f.booking(space, teacher, start=f.at(day, "08:00"), end=f.at(day, "09:00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        f.booking(space, teacher, start=f.at(day, "08:30"), end=f.at(day, "09:30"))
    # Cancelled and rejected rows do not hold the slot; other spaces are independent.
    f.booking(space, teacher, start=f.at(day, "08:30"), end=f.at(day, "09:30"),
              status="cancelled")
    f.booking(f.space(space.school, name="Khác"), teacher, start=f.at(day, "08:30"),
              end=f.at(day, "09:30"))
    f.booking(space, teacher, start=f.at(day, "09:00"), end=f.at(day, "10:00"))


def test_raw_update_into_an_overlap_is_refused(teacher, space):
    day = f.next_weekday(0)
    f.booking(space, teacher, start=f.at(day, "08:00"), end=f.at(day, "09:00"))
    later = f.booking(space, teacher, start=f.at(day, "10:00"), end=f.at(day, "11:00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=later.pk).update(start=f.at(day, "08:30"))
    cancelled = f.booking(space, teacher, start=f.at(day, "08:00"), end=f.at(day, "09:00"),
                          status="cancelled")
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=cancelled.pk).update(status="approved")
    assert later.start + datetime.timedelta(hours=1) == later.end
