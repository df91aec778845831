"""Demo bookings for the three schools (called by seed_demo). Safe to run again."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from bookings import services
from bookings.models import Booking, Series
from spaces.errors import DomainError
from spaces.models import Equipment, School, Space


def next_weekday(weekday: int, weeks: int = 0) -> datetime.date:
    today = timezone.localdate()
    return today + datetime.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1 + 7 * weeks)


def at(day: datetime.date, clock: str) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(clock),
                                     tzinfo=timezone.get_current_timezone())


class Command(BaseCommand):
    help = "Create the demo bookings: a weekly club series, classes and a student's request."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        made = 0
        for school in School.objects.filter(slug__in=["ndc", "nqd", "tm"]):
            if Booking.objects.filter(school=school).exists():
                continue
            made += self.seed(school)
        self.stdout.write(f"Demo bookings: {made} created, {Booking.objects.count()} in all, "
                          f"{Series.objects.count()} series.")

    def seed(self, school: School) -> int:
        teacher = User.objects.get(username=f"teacher.{school.slug}")
        student = User.objects.get(username=f"student.{school.slug}")
        spaces = list(Space.objects.filter(school=school).order_by("id"))
        lab, workshop = spaces[0], spaces[1]
        kits = Equipment.objects.filter(space__school=school, kind="stock",
                                        category__name="Vi điều khiển").first()
        first_tuesday = next_weekday(1)
        until = (first_tuesday + datetime.timedelta(weeks=10)).strftime("%Y%m%dT235959Z")
        made = 0
        result = services.series_create(
            actor=teacher, space=workshop, title="Câu lạc bộ Robotics", kind="club",
            rrule=f"FREQ=WEEKLY;BYDAY=TU;UNTIL={until}", start=at(first_tuesday, "14:00"),
            end=at(first_tuesday, "16:00"), attendees=20, skip_conflicts=True,
            equipment=[services.EquipmentRequest(kits, 5)] if kits else [])
        made += len(result.created)
        plans = [
            (teacher, lab, next_weekday(0), "07:30", "09:10", "Lớp 11A1 — Thực hành cảm biến",
             "class"),
            (teacher, lab, next_weekday(2), "13:30", "15:10", "Lớp 10A2 — Lập trình Arduino",
             "class"),
            (student, workshop, next_weekday(3), "14:00", "16:00",
             "Nhóm dự án lọc nước — chế tạo mẫu", "project_work"),
            (teacher, workshop, next_weekday(4, weeks=1), "08:00", "11:00",
             "Ngày hội STEM của trường", "event"),
        ]
        for organizer, space, day, start, end, title, kind in plans:
            try:
                services.booking_create(actor=organizer, space=space, title=title, kind=kind,
                                        start=at(day, start), end=at(day, end), attendees=15)
            except DomainError as error:  # a holiday or closure that week: skip it
                self.stdout.write(f"  skipped {title}: {error.message}")
                continue
            made += 1
        return made
