"""reports/usage/: JSON, CSV and XLSX; the Union sees all, a manager their own school."""

import csv
import io

import openpyxl
import pytest

from tests import factories as f
from tests.reports.test_usage import FROM, TO, world  # noqa: F401  (the hand-computed fixture)

URL = "/api/v1/reports/usage/"
WINDOW = {"from": FROM.isoformat(), "to": TO.isoformat()}


def test_union_sees_every_school(client_for, union, world, school, other_school):  # noqa: F811
    body = client_for(union).get(URL, WINDOW).json()
    assert {row["school"] for row in body["results"]} == {school.pk, other_school.pk}
    ndc = next(row for row in body["results"] if row["school"] == school.pk)
    assert (ndc["booked_hours"], ndc["utilisation"], ndc["bookings"]) == (9.0, 0.1, 5)
    assert body["group_by"] == "school"


def test_manager_sees_own_school_only(client_for, manager, world, school, other_school):  # noqa: F811
    body = client_for(manager).get(URL, WINDOW).json()
    assert [row["school"] for row in body["results"]] == [school.pk]
    response = client_for(manager).get(URL, WINDOW | {"school": other_school.pk})
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["teacher", "student", "mentor", "other_student"])
def test_others_get_403(client_for, request, db, who):
    assert client_for(request.getfixturevalue(who)).get(URL, WINDOW).status_code == 403


def test_anonymous_gets_401(anon, db):
    assert anon.get(URL, WINDOW).status_code == 401


def test_union_picks_schools_and_grouping(client_for, union, world, other_school):  # noqa: F811
    body = client_for(union).get(URL, WINDOW | {"school": other_school.pk,
                                                "group_by": "space"}).json()
    assert [row["space_name"] for row in body["results"]] == ["C"]


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-03-08", "to": "2026-03-01"}, "to"),
    ({"from": "tomorrow", "to": "2026-03-01"}, "from"),
    ({"from": ""}, "from"),
    ({"group_by": "week"}, "group_by"),
    ({"school": "ndc"}, "school"),
])
def test_bad_query_is_400(client_for, union, db, params, field):
    response = client_for(union).get(URL, WINDOW | params)
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_csv_download(client_for, union, world, school):  # noqa: F811
    response = client_for(union).get(URL, WINDOW | {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark for Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Trường", "Số giờ đã đặt", "Số giờ mở cửa", "Tỷ lệ sử dụng"]
    ndc = next(row for row in rows[1:] if row[0] == school.name)
    assert ndc[1:4] == ["9.0", "90.0", "0.1"]


def test_csv_neutralises_formulas(client_for, union, db):
    f.school(slug="evil", name="=HYPERLINK(\"http://x\")")
    rows = list(csv.reader(io.StringIO(
        client_for(union).get(URL, WINDOW | {"format": "csv"}).content.decode("utf-8-sig"))))
    assert rows[1][0].startswith("'=")


def test_xlsx_neutralises_formulas(client_for, union, db):
    f.school(slug="evil", name="=cmd()")
    response = client_for(union).get(URL, WINDOW | {"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    names = [row[0].value for row in sheet.iter_rows(min_row=3)]
    assert "'=cmd()" in names
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_xlsx_download(client_for, union, world, school):  # noqa: F811
    response = client_for(union).get(URL, WINDOW | {"format": "xlsx", "group_by": "space"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Theo không gian", "Theo trường", "Theo tháng"]
    sheet = book["Theo không gian"]
    assert "02/03/2026" in sheet["A1"].value and "08/03/2026" in sheet["A1"].value
    assert sheet["A2"].value == "Trường" and sheet["B2"].value == "Không gian"
    values = {(row[1].value): row for row in sheet.iter_rows(min_row=3)}
    assert values["A"][2].value == 5.0
    assert values["A"][4].number_format == "0.0%"
    assert values["A"][4].value == 0.1
    assert book["Theo trường"]["B3"].number_format == "#,##0.00"


def test_english_headers(client_for, union, world):  # noqa: F811
    response = client_for(union, language="en").get(URL, WINDOW | {"format": "csv"})
    assert response.content.decode("utf-8-sig").splitlines()[0].startswith(
        "School,Booked hours,Open hours,Utilisation")
