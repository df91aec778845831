"""/dashboard/: the Union's view of how the spaces are used, with charts drawn on the server.

The figures come from reports/ (the usage report and the dashboard's extra figures); this
module only checks who may look, reads the form, and lays the charts out as SVG shapes
that the templates draw. No chart library and no JavaScript: the page works as plain HTML.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_safe

from accounts.models import Role, User
from reports.dashboard import DashboardFigures, dashboard_figures
from reports.usage import make_window, usage_report
from spaces.errors import Invalid
from spaces.models import School

# Schools drawn apart in the monthly chart; the rest share one "other schools" colour.
MAX_SERIES = 8
CHART_WIDTH = 400


# Who may look ----------------------------------------------------------------------------

def scope_of(user: Any) -> int | None:
    """None: every school (the Union, admins); a school id: a manager's own. Others: 403."""
    if isinstance(user, User):
        if user.is_union:
            return None
        if user.role == Role.MANAGER and user.school_id:
            return user.school_id
    raise PermissionDenied


# The form --------------------------------------------------------------------------------

def school_year_start(today: datetime.date) -> datetime.date:
    """1 September of the school year that `today` belongs to (it runs September to May)."""
    return datetime.date(today.year if today.month >= 9 else today.year - 1, 9, 1)


class DashboardForm(forms.Form):
    """The window, the schools and the table's grouping: the same names as the API's."""

    GROUPINGS = [("school", gettext_lazy("School")), ("space", gettext_lazy("Space"))]

    def __init__(self, data: Any, *, schools: list[School] | None) -> None:
        super().__init__(data)
        date_widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        formats = ["%Y-%m-%d", "%d/%m/%Y"]
        # "from" is a Python keyword: these fields are named in the dictionary.
        self.fields["from"] = forms.DateField(label=_("From"), widget=date_widget,
                                              input_formats=formats)
        self.fields["to"] = forms.DateField(label=_("To"), widget=date_widget,
                                            input_formats=formats)
        if schools is not None:
            self.fields["school"] = forms.TypedMultipleChoiceField(
                label=_("Schools"), required=False, coerce=int,
                choices=[(school.pk, school.name) for school in schools],
                widget=forms.CheckboxSelectMultiple,
                help_text=_("None ticked: every school."))
        self.fields["group_by"] = forms.ChoiceField(
            label=_("Table rows"), choices=self.GROUPINGS, required=False,
            widget=forms.RadioSelect)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("from") and cleaned.get("to"):
            try:
                make_window(cleaned["from"], cleaned["to"])
            except Invalid as error:
                self.add_error("to", str(error.message))
        cleaned["group_by"] = cleaned.get("group_by") or "school"
        return cleaned


def form_data(request: HttpRequest, today: datetime.date, schools: list[School]) -> Any:
    """The query string, with the defaults for what it leaves out: the school year so far,
    every school."""
    data = request.GET.copy()
    if "school" not in data:  # none asked for is all of them: show them ticked
        data.setlist("school", [str(school.pk) for school in schools])
    if not data.get("from"):
        data["from"] = school_year_start(today).isoformat()
    if not data.get("to"):
        data["to"] = today.isoformat()
    if not data.get("group_by"):
        data["group_by"] = "school"
    return data


# Numbers and dates as people read them -----------------------------------------------------

def number(value: float, decimals: int = 2) -> str:
    """Django's l10n (a decimal comma in Vietnamese), without trailing zeros."""
    rounded = round(float(value), decimals)
    places = 0 if rounded == int(rounded) else decimals
    while places and round(rounded, places - 1) == rounded:
        places -= 1
    return number_format(rounded, places, use_l10n=True)


def percent(ratio: float) -> str:
    return _("%(value)s%%") % {"value": number(ratio * 100, 1)}


def day_text(day: datetime.date) -> str:
    return format_date(day, "d/m/Y")


def month_date(key: str) -> datetime.date:
    year, month = key.split("-")
    return datetime.date(int(year), int(month), 1)


def month_text(key: str) -> str:
    # A translatable date format: "March 2026", "Tháng 3/2026".
    return format_date(month_date(key), pgettext("month and year", "F Y"))


def month_axis_text(key: str) -> str:
    # A translatable date format: "Mar", "T3".
    return format_date(month_date(key), pgettext("month on a chart axis", "M"))


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


# Charts ------------------------------------------------------------------------------------

@dataclass
class Segment:
    """One rectangle: a series' value in one row or column."""

    x: float
    y: float
    width: float
    height: float
    series: int
    value: float
    title: str  # the tooltip, and what a screen reader hears for the shape


@dataclass
class Row:
    label: str
    full_label: str
    sublabel: str
    label_y: float
    sublabel_y: float
    track_y: float
    segments: list[Segment]
    value_text: str
    value_x: float
    value_y: float


@dataclass
class Column:
    label: str
    second_label: str  # the year, under the first month and each January
    label_x: float
    segments: list[Segment]
    total_text: str
    total_y: float


@dataclass
class Tick:
    y: float
    text: str


@dataclass
class Chart:
    key: str
    title: str
    desc: str
    kind: str  # "bars" (horizontal) or "columns" (vertical, stacked)
    width: int = CHART_WIDTH
    height: float = 0
    rows: list[Row] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    plot_left: float = 0
    plot_right: float = 0
    plot_bottom: float = 0
    tick_x: float = 0
    legend: list[tuple[int, str]] = field(default_factory=list)
    table_head: list[str] = field(default_factory=list)
    table_rows: list[list[str]] = field(default_factory=list)
    empty_text: str = ""

    @property
    def empty(self) -> bool:
        return not self.rows and not self.columns


def nice_ceiling(value: float) -> float:
    """The axis' top: a round number at or above the value that splits into four ticks."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 4, 6, 8, 10) if step * power >= value)


@dataclass
class Item:
    """One bar of a horizontal chart: one value per series."""

    label: str
    values: list[float]
    text: str  # written after the bar
    tip: str  # the tooltip
    sublabel: str = ""  # a second, smaller line under the label


def bar_chart(*, key: str, title: str, desc: str, series: list[str], items: list[Item],
              table_head: list[str], table_rows: list[list[str]], empty_text: str) -> Chart:
    """Horizontal bars, each label above its bar (room for long Vietnamese names on a phone)."""
    chart = Chart(key=key, title=title, desc=desc, kind="bars", table_head=table_head,
                  table_rows=table_rows, empty_text=empty_text)
    if not any(sum(item.values) for item in items):
        return chart
    chart.legend = list(enumerate(series)) if len(series) > 1 else []
    value_room, bar_height = 64, 14
    line = 16 if any(item.sublabel for item in items) else 0
    row_height = 42 + line
    span = chart.width - value_room
    chart.plot_right = span
    top = max(sum(item.values) for item in items)
    for index, item in enumerate(items):
        y = 4 + index * row_height
        bar_y = y + 19 + line
        x, segments = 0.0, []
        for series_index, value in enumerate(item.values):
            if value <= 0:
                continue
            width = round(value / top * span, 1)
            segments.append(Segment(x=round(x, 1), y=bar_y, width=width, height=bar_height,
                                    series=series_index, value=value, title=item.tip))
            x += width
        chart.rows.append(Row(label=shorten(item.label, 52), full_label=item.label,
                              sublabel=shorten(item.sublabel, 56), label_y=y + 13,
                              sublabel_y=y + 13 + line, track_y=bar_y, segments=segments,
                              value_text=item.text, value_x=round(x + 5, 1),
                              value_y=bar_y + 11))
    chart.height = 4 + len(items) * row_height
    return chart


def month_chart(*, figures: DashboardFigures, schools: list[dict[str, Any]]) -> Chart:
    """Booked hours per month, stacked by school; the smaller schools share a colour when
    there are too many to tell apart."""
    hours = figures.hours_by_school_month
    totals = {school["id"]: sum(hours.get(school["id"], {}).values()) for school in schools}
    ranked = sorted(schools, key=lambda s: (-totals[s["id"]], s["name"]))
    if len(ranked) > MAX_SERIES:
        shown, others = ranked[:MAX_SERIES - 1], ranked[MAX_SERIES - 1:]
    else:
        shown, others = ranked, []
    names = [school["name"] for school in shown] + ([_("Other schools")] if others else [])
    months = figures.months

    def values(month: str) -> list[float]:
        row = [hours.get(school["id"], {}).get(month, 0.0) for school in shown]
        if others:
            row.append(sum(hours.get(school["id"], {}).get(month, 0.0) for school in others))
        return row

    by_month = {month: values(month) for month in months}
    month_totals = {month: sum(row) for month, row in by_month.items()}
    busiest = max(months, key=lambda m: month_totals[m]) if months else None
    grand = sum(month_totals.values())
    desc = (_("%(hours)s booked hours in all; the busiest month: %(month)s, %(month_hours)s "
              "hours. The table below gives every figure.")
            % {"hours": number(grand), "month": month_text(busiest),
               "month_hours": number(month_totals[busiest])}) if busiest and grand else ""
    chart = Chart(key="hours-by-month", title=_("Booked hours per month, by school"),
                  desc=desc, kind="columns",
                  table_head=[_("Month"), *names, _("Total")],
                  table_rows=[[month_text(m), *(number(v) for v in by_month[m]),
                               number(month_totals[m])] for m in months],
                  empty_text=_("No approved bookings in this window."))
    if not grand:
        return chart
    chart.legend = list(enumerate(names))
    left, right, top_pad, bottom, plot_height = 40.0, 6.0, 14.0, 34.0, 190.0
    chart.plot_left, chart.plot_right = left, chart.width - right
    chart.plot_bottom = top_pad + plot_height
    chart.tick_x = left - 5
    chart.height = top_pad + plot_height + bottom
    ceiling = nice_ceiling(max(month_totals.values()))
    chart.ticks = [Tick(y=round(chart.plot_bottom - plot_height * i / 4, 1),
                        text=number(ceiling * i / 4)) for i in range(5)]
    slot = (chart.plot_right - left) / len(months)
    column_width = min(44.0, slot * 0.7)
    show_totals = slot >= 26
    label_every = max(1, int(24 // slot) + 1) if slot < 24 else 1
    for index, month in enumerate(months):
        x = left + slot * index + (slot - column_width) / 2
        y, segments = chart.plot_bottom, []
        for series, value in enumerate(by_month[month]):
            if value <= 0:
                continue
            height = value / ceiling * plot_height
            y -= height
            segments.append(Segment(
                x=round(x, 1), y=round(y, 1), width=round(column_width, 1),
                height=round(height, 1), series=series, value=value,
                title=_("%(school)s, %(month)s: %(hours)s hours")
                % {"school": names[series], "month": month_text(month),
                   "hours": number(value)}))
        date = month_date(month)
        labelled = index % label_every == 0
        chart.columns.append(Column(
            label=month_axis_text(month) if labelled else "",
            second_label=str(date.year) if labelled and (index == 0 or date.month == 1) else "",
            label_x=round(left + slot * index + slot / 2, 1), segments=segments,
            total_text=number(month_totals[month], 1) if show_totals and month_totals[month] else "",
            total_y=round(y - 3, 1)))
    return chart


def kind_chart(figures: DashboardFigures) -> Chart:
    kinds = figures.bookings_by_kind
    total = sum(kind["bookings"] for kind in kinds)
    most = max(kinds, key=lambda kind: kind["bookings"]) if kinds else None
    return bar_chart(
        key="bookings-by-kind", title=_("Bookings by kind of use"),
        desc=(_("%(total)s approved bookings; the most: %(kind)s (%(count)s).")
              % {"total": number(total), "kind": most["label"],
                 "count": number(most["bookings"])}) if most and total else "",
        series=[_("Bookings")],
        items=[Item(str(kind["label"]), [kind["bookings"]], number(kind["bookings"]),
                    _("%(kind)s: %(count)s bookings, %(hours)s hours")
                    % {"kind": kind["label"], "count": number(kind["bookings"]),
                       "hours": number(kind["hours"])}) for kind in kinds],
        table_head=[_("Kind"), _("Bookings"), _("Booked hours")],
        table_rows=[[str(kind["label"]), number(kind["bookings"]), number(kind["hours"])]
                    for kind in kinds],
        empty_text=_("No approved bookings in this window."))


def equipment_chart(figures: DashboardFigures, *, many_schools: bool) -> Chart:
    items = figures.top_equipment

    def where(item: dict[str, Any]) -> str:
        return (f"{item['space_name']}, {item['school_name']}" if many_schools
                else item["space_name"])

    first = items[0] if items else None
    return bar_chart(
        key="top-equipment", title=_("Top equipment by use"),
        desc=(_("The %(count)s most used items: reservations on approved bookings and loans. "
                "The most used: %(name)s, %(uses)s times.")
              % {"count": len(items), "name": first["name"], "uses": number(first["uses"])}
              ) if first else "",
        series=[_("Reservations"), _("Loans")],
        items=[Item(item["name"], [item["reservations"], item["loans"]], number(item["uses"]),
                    _("%(name)s: %(reservations)s reservations (%(reserved)s units), "
                      "%(loans)s loans (%(lent)s units)")
                    % {"name": item["name"], "reservations": number(item["reservations"]),
                       "reserved": number(item["reserved_units"]),
                       "loans": number(item["loans"]), "lent": number(item["lent_units"])},
                    sublabel=where(item)) for item in items],
        table_head=[_("Equipment"), _("Reservations"), _("Units reserved"), _("Loans"),
                    _("Units lent")],
        table_rows=[[f"{item['name']} ({where(item)})", number(item["reservations"]),
                     number(item["reserved_units"]), number(item["loans"]),
                     number(item["lent_units"])] for item in items],
        empty_text=_("No equipment reserved or lent in this window."))


def project_charts(figures: DashboardFigures) -> list[Chart]:
    statuses = figures.projects_by_status
    categories = figures.projects_by_category
    total = sum(status["projects"] for status in statuses)
    empty = _("No projects yet.")

    def category_name(category: dict[str, Any]) -> str:
        return category["name"] or _("No category")

    return [
        bar_chart(
            key="projects-by-status", title=_("Projects by status"),
            desc=_("%(total)s projects started by the end of the window, by their status "
                   "today.") % {"total": number(total)} if total else "",
            series=[_("Projects")],
            items=[Item(str(s["label"]), [s["projects"]], number(s["projects"]),
                        f"{s['label']}: {number(s['projects'])}") for s in statuses],
            table_head=[_("Project status"), _("Projects")],
            table_rows=[[str(s["label"]), number(s["projects"])] for s in statuses],
            empty_text=empty),
        bar_chart(
            key="projects-by-category", title=_("Projects by category"),
            desc=(_("%(total)s projects in %(count)s categories; the largest: %(name)s "
                    "(%(projects)s).")
                  % {"total": number(total), "count": len(categories),
                     "name": category_name(categories[0]),
                     "projects": number(categories[0]["projects"])}) if categories else "",
            series=[_("Projects")],
            items=[Item(category_name(c), [c["projects"]], number(c["projects"]),
                        f"{category_name(c)}: {number(c['projects'])}") for c in categories],
            table_head=[_("Category"), _("Projects")],
            table_rows=[[category_name(c), number(c["projects"])] for c in categories],
            empty_text=empty),
    ]


# The usage table ---------------------------------------------------------------------------

def usage_table(rows: list[dict[str, Any]], group_by: str) -> dict[str, Any]:
    head = [_("School")] + ([_("Space")] if group_by == "space" else []) + [
        _("Booked hours"), _("Open hours"), _("Utilisation"), _("Bookings"),
        _("Mentor sessions"), _("Students reached"), _("Loans / overdue"),
        _("Active projects"), _("Logbook hours")]

    def figures(row: dict[str, Any]) -> list[str]:
        return [number(row["booked_hours"]), number(row["open_hours"]),
                percent(row["utilisation"]), number(row["bookings"]),
                number(row["mentor_sessions"]), number(row["unique_students"]),
                f"{number(row['loans'])} / {number(row['overdue_loans'])}",
                number(row["active_projects"]), number(row["logbook_hours"])]

    body = [{"names": [row["school_name"]] + ([row["space_name"]] if group_by == "space" else []),
             "figures": figures(row)} for row in rows]
    booked = sum(row["booked_hours"] for row in rows)
    opened = sum(row["open_hours"] for row in rows)
    # People and projects may count in more than one row: no sum for them, except projects
    # by school (a project belongs to one school).
    total = [number(booked), number(opened), percent(booked / opened if opened else 0.0),
             number(sum(row["bookings"] for row in rows)),
             number(sum(row["mentor_sessions"] for row in rows)), "—",
             f"{number(sum(row['loans'] for row in rows))} / "
             f"{number(sum(row['overdue_loans'] for row in rows))}",
             number(sum(row["active_projects"] for row in rows)) if group_by == "school" else "—",
             number(sum(row["logbook_hours"] for row in rows))]
    tiles = [(_("Booked hours"), total[0]), (_("Utilisation"), total[2]),
             (_("Bookings"), total[3]), (_("Mentor sessions"), total[4])]
    return {"head": head, "body": body, "total": total, "name_columns": len(head) - 9,
            "tiles": tiles}


# The page ----------------------------------------------------------------------------------

def download_url(fmt: str, *, date_from: datetime.date, date_to: datetime.date,
                 school_ids: list[int] | None, group_by: str) -> str:
    query = [("from", date_from.isoformat()), ("to", date_to.isoformat())]
    query += [("school", str(pk)) for pk in school_ids or []]
    query += [("group_by", group_by), ("format", fmt)]
    return f"{reverse('api:report-usage')}?{urlencode(query)}"


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    own_school = scope_of(request.user)
    if own_school is None:
        schools = list(School.objects.order_by("name").only("pk", "name"))
    else:
        schools = list(School.objects.filter(pk=own_school).only("pk", "name"))
    form = DashboardForm(form_data(request, timezone.localdate(), schools),
                         schools=schools if own_school is None else None)
    context: dict[str, Any] = {"form": form, "own_school": schools[0] if own_school else None}
    if not form.is_valid():
        return render(request, "web/dashboard.html", context, status=400)

    date_from, date_to = form.cleaned_data["from"], form.cleaned_data["to"]
    group_by = form.cleaned_data["group_by"]
    if own_school is not None:
        school_ids: list[int] | None = [own_school]
    else:
        # Every school ticked, or none: all of them (new schools included, in the links too).
        ticked = set(form.cleaned_data.get("school") or [])
        school_ids = sorted(ticked) if ticked and ticked != {s.pk for s in schools} else None
    chosen = [s for s in schools if school_ids is None or s.pk in school_ids]
    rows = usage_report(date_from=date_from, date_to=date_to, school_ids=school_ids,
                        group_by=group_by)
    figures = dashboard_figures(date_from=date_from, date_to=date_to, school_ids=school_ids)
    links = {"date_from": date_from, "date_to": date_to, "school_ids": school_ids,
             "group_by": group_by}
    context.update({
        "date_from": day_text(date_from),
        "date_to": day_text(date_to),
        "chosen_schools": chosen,
        "all_schools": school_ids is None,
        "table": usage_table(rows, group_by),
        "charts": [
            month_chart(figures=figures, schools=[{"id": s.pk, "name": s.name} for s in chosen]),
            kind_chart(figures),
            equipment_chart(figures, many_schools=len(chosen) > 1),
            *project_charts(figures),
        ],
        "csv_url": download_url("csv", **links),
        "xlsx_url": download_url("xlsx", **links),
    })
    return render(request, "web/dashboard.html", context)
