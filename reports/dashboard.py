"""The dashboard's extra figures, beside the usage report (reports/usage.py).

Each figure is one aggregate query, whatever the size of the data, and the database does
the counting: no Python loop over bookings, loans or projects (only over the few groups
that come back). Every query runs inside `reporting()`, so a replica answers when there
is one. `school_ids=None` means every school.

What counts:
- booked hours per school per month: approved bookings, the part inside the window,
  in the month the booking starts (or the window's first month, for one that began
  before the window);
- bookings by kind: approved bookings overlapping the window, their number and the hours
  inside it (as in the usage report);
- top equipment: reservations on approved bookings overlapping the window, and loans
  checked out in the window; each counted once (uses) and by units; ranked by uses, then
  units;
- projects by status and by category: the projects of the schools started by the end of
  the window, as they stand now (a project's status has no history).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least, TruncMonth
from django.utils import timezone
from django.utils.translation import get_language

from bookings.models import Booking, BookingEquipment, BookingKind, BookingStatus
from projects.models import Project, ProjectStatus
from reports.routers import reporting
from reports.usage import Window, make_window, month_key
from spaces.models import Equipment, Loan

TOP_EQUIPMENT = 10
# Per equipment item: reservations and their units, loans and their units, both together.
EQUIPMENT_FIGURES = ("reservations", "reserved_units", "loans", "lent_units", "uses", "units")


@dataclass
class DashboardFigures:
    months: list[str]  # "YYYY-MM", every month the window touches, in order
    hours_by_school_month: dict[int, dict[str, float]]  # school id → month → hours
    bookings_by_kind: list[dict[str, Any]]  # kind, bookings, hours; every kind, in order
    top_equipment: list[dict[str, Any]]
    projects_by_status: list[dict[str, Any]]  # status, projects; every status, in order
    projects_by_category: list[dict[str, Any]] = field(default_factory=list)  # most first


def dashboard_figures(*, date_from: datetime.date, date_to: datetime.date,
                      school_ids: list[int] | None = None, top: int = TOP_EQUIPMENT
                      ) -> DashboardFigures:
    """Four queries: hours by school and month, bookings by kind, top equipment, projects."""
    window = make_window(date_from, date_to)
    with reporting():
        by_status, by_category = projects_by_status_and_category(window, school_ids)
        return DashboardFigures(
            months=window_months(window),
            hours_by_school_month=hours_by_school_month(window, school_ids),
            bookings_by_kind=bookings_by_kind(window, school_ids),
            top_equipment=top_equipment(window, school_ids, top=top),
            projects_by_status=by_status,
            projects_by_category=by_category,
        )


def window_months(window: Window) -> list[str]:
    months = []
    year, month = window.date_from.year, window.date_from.month
    while (year, month) <= (window.date_to.year, window.date_to.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _approved_in(window: Window, school_ids: list[int] | None) -> QuerySet[Booking]:
    bookings = Booking.objects.filter(status=BookingStatus.APPROVED, start__lt=window.end,
                                      end__gt=window.start)
    if school_ids is not None:
        bookings = bookings.filter(school_id__in=school_ids)
    return bookings


def _window_start(window: Window) -> Value:
    return Value(window.start, output_field=DateTimeField())


def _hours_inside(window: Window) -> ExpressionWrapper:
    """The duration of a booking's part inside the window."""
    return ExpressionWrapper(
        Least(F("end"), Value(window.end, output_field=DateTimeField()))
        - Greatest(F("start"), _window_start(window)),
        output_field=DurationField())


def _hours(duration: datetime.timedelta | None) -> float:
    return round(duration.total_seconds() / 3600, 2) if duration else 0.0


def hours_by_school_month(window: Window, school_ids: list[int] | None
                          ) -> dict[int, dict[str, float]]:
    # A booking that began before the window counts in the window's first month.
    month = TruncMonth(Greatest(F("start"), _window_start(window)),
                       tzinfo=timezone.get_current_timezone())
    hours: dict[int, dict[str, float]] = {}
    for found in (_approved_in(window, school_ids).annotate(month=month)
                  .values("school_id", "month").annotate(duration=Sum(_hours_inside(window)))
                  .order_by()):
        by_month = hours.setdefault(found["school_id"], {})
        key = month_key(found["month"])
        by_month[key] = by_month.get(key, 0.0) + _hours(found["duration"])
    return hours


def bookings_by_kind(window: Window, school_ids: list[int] | None) -> list[dict[str, Any]]:
    found = {row["kind"]: row for row in
             _approved_in(window, school_ids).values("kind")
             .annotate(count=Count("id"), duration=Sum(_hours_inside(window))).order_by()}
    return [{"kind": kind, "label": label,
             "bookings": found[kind]["count"] if kind in found else 0,
             "hours": _hours(found[kind]["duration"]) if kind in found else 0.0}
            for kind, label in BookingKind.choices]


def _per_equipment(queryset: QuerySet[Any], value: Any) -> Coalesce:
    """A correlated subquery: one figure of `queryset` for the outer equipment item."""
    grouped = (queryset.filter(equipment=OuterRef("pk")).order_by().values("equipment")
               .annotate(figure=value).values("figure"))
    return Coalesce(Subquery(grouped, output_field=IntegerField()), 0)


def top_equipment(window: Window, school_ids: list[int] | None, *, top: int = TOP_EQUIPMENT
                  ) -> list[dict[str, Any]]:
    reservations = BookingEquipment.objects.filter(
        booking__status=BookingStatus.APPROVED, booking__start__lt=window.end,
        booking__end__gt=window.start)
    loans = Loan.objects.filter(checked_out_at__gte=window.start, checked_out_at__lt=window.end)
    equipment = Equipment.objects.all()
    if school_ids is not None:
        equipment = equipment.filter(space__school_id__in=school_ids)
    # Annotation names differ from the model's own relations (reservations, loans).
    ranked = (equipment
              .annotate(n_reservations=_per_equipment(reservations, Count("id")),
                        n_reserved_units=_per_equipment(reservations, Sum("quantity")),
                        n_loans=_per_equipment(loans, Count("id")),
                        n_lent_units=_per_equipment(loans, Sum("quantity")))
              .annotate(n_uses=F("n_reservations") + F("n_loans"),
                        n_units=F("n_reserved_units") + F("n_lent_units"))
              .filter(Q(n_reservations__gt=0) | Q(n_loans__gt=0))
              .order_by("-n_uses", "-n_units", "name", "pk")
              .values("pk", "name", "space__name", "space__school_id", "space__school__name",
                      *(f"n_{key}" for key in EQUIPMENT_FIGURES)))
    return [{"equipment": row["pk"], "name": row["name"], "space_name": row["space__name"],
             "school": row["space__school_id"], "school_name": row["space__school__name"],
             **{key: row[f"n_{key}"] for key in EQUIPMENT_FIGURES}}
            for row in ranked[:top]]


def projects_by_status_and_category(window: Window, school_ids: list[int] | None
                                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One query grouped by (status, category); both figures are folded from its few rows."""
    projects = Project.objects.filter(started_on__lte=window.date_to)
    if school_ids is not None:
        projects = projects.filter(school_id__in=school_ids)
    by_status = dict.fromkeys(ProjectStatus.values, 0)
    categories: dict[int | None, dict[str, Any]] = {}
    english = (get_language() or "vi").startswith("en")
    for row in (projects.values("status", "category_id", "category__name_vi",
                                "category__name_en")
                .annotate(count=Count("id")).order_by()):
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["count"]
        name = row["category__name_en"] if english else row["category__name_vi"]
        category = categories.setdefault(row["category_id"], {
            "category": row["category_id"], "name": name, "projects": 0})
        category["projects"] += row["count"]
    labels = dict(ProjectStatus.choices)
    statuses = [{"status": status, "label": labels.get(status, status), "projects": count}
                for status, count in by_status.items()]
    # Most projects first; "no category" (None) last among equals.
    ordered = sorted(categories.values(),
                     key=lambda c: (-c["projects"], c["category"] is None, c["name"] or ""))
    return statuses, ordered
