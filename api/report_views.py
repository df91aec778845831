"""reports/usage/: the Union's usage report as JSON, CSV (Excel-friendly) or XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from api.views import caller
from bookings.models import BookingKind
from reports.usage import GROUPINGS, usage_report
from spaces.models import School

FIGURES: list[tuple[str, Any]] = [
    ("booked_hours", gettext_lazy("Booked hours")),
    ("open_hours", gettext_lazy("Open hours")),
    ("utilisation", gettext_lazy("Utilisation")),
    ("bookings", gettext_lazy("Bookings")),
    *[(f"bookings_by_kind.{value}", label) for value, label in BookingKind.choices],
    ("mentor_sessions", gettext_lazy("Mentor sessions")),
    ("session_registrations", gettext_lazy("Session registrations")),
    ("session_attendance", gettext_lazy("Session attendance")),
    ("unique_organizers", gettext_lazy("Unique organisers")),
    ("unique_students", gettext_lazy("Students reached")),
    ("loans", gettext_lazy("Equipment loans")),
    ("overdue_loans", gettext_lazy("Overdue loans")),
    ("active_projects", gettext_lazy("Active projects")),
    ("logbook_hours", gettext_lazy("Logbook hours")),
]
GROUP_COLUMNS: dict[str, list[tuple[str, Any]]] = {
    "school": [("school_name", gettext_lazy("School"))],
    "space": [("school_name", gettext_lazy("School")), ("space_name", gettext_lazy("Space"))],
    "month": [("month", gettext_lazy("Month"))],
}
SHEET_TITLES = {"school": gettext_lazy("By school"), "space": gettext_lazy("By space"),
                "month": gettext_lazy("By month")}


def cell(value: Any) -> Any:
    """Neutralise text that a spreadsheet would run as a formula (= + - @)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def lookup(row: dict[str, Any], key: str) -> Any:
    if "." in key:
        outer, inner = key.split(".", 1)
        return row[outer][inner]
    return row[key]


def table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    columns = GROUP_COLUMNS[report["group_by"]] + FIGURES
    header = [str(label) for _key, label in columns]
    rows = [[cell(lookup(row, key)) for key, _label in columns] for row in report["results"]]
    return header, rows


def title(report: dict[str, Any]) -> str:
    return _("STEM Space usage, %(start)s – %(end)s, %(schools)s") % {
        "start": report["from"].strftime("%d/%m/%Y"), "end": report["to"].strftime("%d/%m/%Y"),
        "schools": ", ".join(report["school_names"])}


class UsageCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> bytes:
        if not isinstance(data, dict) or "results" not in data:  # an error
            return JSONRenderer().render(data)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        header, rows = table(data)
        writer.writerow(header)
        writer.writerows(rows)
        # The byte-order mark makes Excel read the file as UTF-8 (Vietnamese letters).
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")


class UsageXLSXRenderer(BaseRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> bytes:
        if not isinstance(data, dict) or "sheets" not in data:  # an error
            return JSONRenderer().render(data)
        book = Workbook()
        for sheet in list(book.worksheets):  # start with no sheet: one per grouping follows
            book.remove(sheet)
        for report in data["sheets"]:
            sheet = book.create_sheet(str(SHEET_TITLES[report["group_by"]]))
            header, rows = table(report)
            sheet.append([title(report)])
            sheet["A1"].font = Font(bold=True, size=13)
            sheet.append(header)
            for column in range(1, len(header) + 1):
                sheet.cell(row=2, column=column).font = Font(bold=True)
            for values in rows:
                sheet.append(values)
            keys = [key for key, _label in GROUP_COLUMNS[report["group_by"]] + FIGURES]
            for index, key in enumerate(keys, start=1):
                number_format = ("0.0%" if key == "utilisation" else
                                 "#,##0.00" if key.endswith("hours") else None)
                letter = get_column_letter(index)
                sheet.column_dimensions[letter].width = max(12, min(40, len(header[index - 1]) + 4))
                if number_format:
                    for row_number in range(3, len(rows) + 3):
                        sheet[f"{letter}{row_number}"].number_format = number_format
            sheet.freeze_panes = "A3"
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()


class UsageQuery(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    group_by = serializers.ChoiceField(choices=GROUPINGS, default="school")
    school = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)

    def to_internal_value(self, data: Any) -> Any:
        values = {"date_from": data.get("from"), "date_to": data.get("to"),
                  "group_by": data.get("group_by") or "school"}
        schools = [item for raw in data.getlist("school") for item in raw.split(",") if item]
        if schools:
            values["school"] = schools
        try:
            return super().to_internal_value(values)
        except serializers.ValidationError as error:
            renamed = {{"date_from": "from", "date_to": "to"}.get(k, k): v
                       for k, v in error.detail.items()}  # type: ignore[union-attr]
            raise serializers.ValidationError(renamed) from error


class UsageReportView(APIView):
    """Usage of the spaces: the Union sees every school, a manager their own."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, UsageCSVRenderer, UsageXLSXRenderer]

    @extend_schema(parameters=[
        OpenApiParameter("from", OpenApiTypes.DATE, required=True),
        OpenApiParameter("to", OpenApiTypes.DATE, required=True),
        OpenApiParameter("school", OpenApiTypes.INT, many=True),
        OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(GROUPINGS)),
        OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "xlsx"])],
        responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        user = caller(request)
        query = UsageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        school_ids = allowed_schools(user, query.validated_data.get("school"))
        data = query.validated_data
        fmt = getattr(request.accepted_renderer, "format", "json")
        groupings = [data["group_by"]] + ([g for g in GROUPINGS if g != data["group_by"]]
                                          if fmt == "xlsx" else [])
        names = list(School.objects.filter(pk__in=school_ids).order_by("name")
                     .values_list("name", flat=True)) if school_ids is not None else [_("all schools")]
        reports = [{"from": data["date_from"], "to": data["date_to"], "group_by": group,
                    "schools": school_ids, "school_names": names,
                    "results": usage_report(date_from=data["date_from"], date_to=data["date_to"],
                                            school_ids=school_ids, group_by=group)}
                   for group in groupings]
        if fmt == "xlsx":
            body: dict[str, Any] = {"sheets": reports}
        else:
            body = reports[0]
        response = Response(body)
        if fmt in ("csv", "xlsx"):
            stamp = f"{data['date_from']:%Y%m%d}-{data['date_to']:%Y%m%d}"
            response["Content-Disposition"] = (
                f'attachment; filename="stemspace-usage-{data["group_by"]}-{stamp}.{fmt}"')
        return response


def allowed_schools(user: Any, asked: list[int] | None) -> list[int] | None:
    """The Union: what it asks (None = all); a manager: their own school only."""
    if user.is_superuser or user.role == Role.UNION:
        return asked
    if user.role == Role.MANAGER and user.school_id:
        if asked and set(asked) != {user.school_id}:
            raise PermissionDenied(_("A manager sees the report of their own school only."))
        return [user.school_id]
    raise PermissionDenied(_("Only the Union and managers see usage reports."))

