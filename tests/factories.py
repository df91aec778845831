"""Tiny factories: plain functions with sensible defaults, no magic."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from django.utils import timezone

from accounts.models import Certification, User
from spaces.models import (
    Equipment,
    EquipmentCategory,
    Loan,
    OpeningHours,
    Period,
    School,
    Space,
)

_seq = itertools.count(1)


def school(slug: str | None = None, **fields: Any) -> School:
    slug = slug or f"s{next(_seq)}"
    fields.setdefault("name", f"Trường {slug}")
    fields.setdefault("district", "TP. Cao Lãnh")
    obj, _ = School.objects.get_or_create(slug=slug, defaults=fields)
    return obj


def user(username: str | None = None, *, role: str = "student", school: School | None = None,
         password: str = "demo12345", **fields: Any) -> User:
    username = username or f"user{next(_seq)}"
    fields.setdefault("full_name", username.replace(".", " ").title())
    obj = User(username=username, role=role, school=school, **fields)
    obj.set_password(password)
    obj.save()
    return obj


def space(school: School, *, name: str | None = None, hours: bool = True, **fields: Any) -> Space:
    obj = Space.objects.create(school=school, name=name or f"Phòng {next(_seq)}", **fields)
    if hours:
        OpeningHours.objects.bulk_create(
            OpeningHours(space=obj, weekday=day, opens=datetime.time(7, 0),
                         closes=datetime.time(17, 0))
            for day in range(6)
        )
    return obj


def period(school: School, number: int, start: str, end: str, *, weekday: int | None = None,
           session: str = "morning") -> Period:
    return Period.objects.create(
        school=school, number=number, weekday=weekday, session=session,
        start=datetime.time.fromisoformat(start), end=datetime.time.fromisoformat(end))


def category(name: str | None = None, **fields: Any) -> EquipmentCategory:
    obj, _ = EquipmentCategory.objects.get_or_create(name=name or f"Danh mục {next(_seq)}",
                                                     defaults=fields)
    return obj


def asset(space: Space, category: EquipmentCategory, *, name: str = "Máy in 3D",
          asset_tag: str | None = None, **fields: Any) -> Equipment:
    return Equipment.objects.create(space=space, category=category, name=name, kind="asset",
                                    asset_tag=asset_tag or f"TAG-{next(_seq):05d}", quantity=1,
                                    **fields)


def stock(space: Space, category: EquipmentCategory, *, name: str = "Bộ kit",
          quantity: int = 10, **fields: Any) -> Equipment:
    return Equipment.objects.create(space=space, category=category, name=name, kind="stock",
                                    quantity=quantity, **fields)


def loan(equipment: Equipment, borrower: User, lent_by: User, *, quantity: int = 1,
         days: float = 7, checked_out_at: datetime.datetime | None = None,
         **fields: Any) -> Loan:
    """A loan written straight to the database (bypasses the service: for fixtures)."""
    checked_out_at = checked_out_at or timezone.now()
    return Loan.objects.create(equipment=equipment, borrower=borrower, lent_by=lent_by,
                               quantity=quantity, checked_out_at=checked_out_at,
                               due_at=checked_out_at + datetime.timedelta(days=days), **fields)


def certification(user: User, category: EquipmentCategory, by: User, **fields: Any
                  ) -> Certification:
    return Certification.objects.create(user=user, category=category, certified_by=by, **fields)


def next_weekday(weekday: int = 0, *, weeks: int = 0) -> datetime.date:
    """The first `weekday` (0 = Monday) strictly after today, `weeks` later."""
    today = timezone.localdate()
    ahead = (weekday - today.weekday() - 1) % 7 + 1
    return today + datetime.timedelta(days=ahead + 7 * weeks)


def at(day: datetime.date, clock: str) -> datetime.datetime:
    """An aware datetime in Vietnam time."""
    return datetime.datetime.combine(day, datetime.time.fromisoformat(clock),
                                     tzinfo=timezone.get_current_timezone())


def booking(space: Space, organizer: User, *, start: datetime.datetime,
            end: datetime.datetime, status: str = "approved", title: str = "Tiết học STEM",
            **fields: Any) -> Any:
    """A booking written straight to the database (bypasses the rules: for fixtures)."""
    from bookings.models import Booking

    return Booking.objects.create(space=space, school_id=space.school_id, organizer=organizer,
                                  start=start, end=end, status=status, title=title, **fields)
