"""Equipment import from the spreadsheets schools keep: the importer, the command, the admin page."""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import AuditEntry
from spaces import importer
from spaces.errors import NotAllowed
from spaces.importer import ImportFileError, RowAction, import_equipment
from spaces.models import Equipment, EquipmentCategory
from tests import factories as f

DATA = Path(__file__).parent / "data"
SAMPLES = ["thiet-bi-mau.csv", "thiet-bi-mau.xlsx"]
HEADER = ("STT,Tên thiết bị,Loại,Danh mục,Mã tài sản,Số seri,Số lượng,Đơn vị tính,Ngày mua,"
          "Đơn giá (VNĐ),Nguồn kinh phí,Tình trạng,Vị trí,Ghi chú")
ASSET_TAGS = {"NDC-3D-001", "NDC-3D-002", "NDC-LZ-001", "NDC-KHV-001", "NDC-LT-001",
              "NDC-LT-002", "NDC-MC-001", "NDC-KH-001"}


@pytest.fixture
def ndc_spaces(school):
    names = ("Phòng chế tạo", "Phòng STEM", "Phòng thí nghiệm", "Phòng khởi nghiệp")
    return {name: f.space(school, name=name, hours=False) for name in names}


def sample(name: str) -> io.BytesIO:
    data = io.BytesIO((DATA / name).read_bytes())
    data.name = name
    return data


def csv_file(*rows: str, header: str = HEADER, name: str = "list.csv") -> io.BytesIO:
    data = io.BytesIO("\n".join((header, *rows)).encode("utf-8"))
    data.name = name
    return data


def run(file: io.BytesIO, school, **options):
    options.setdefault("actor", None)
    return import_equipment(file, school=school, **options)


# --- The sample files -------------------------------------------------------------

@pytest.mark.parametrize("name", SAMPLES)
def test_sample_file_imports_all_18_items(name, school, ndc_spaces):
    report = run(sample(name), school)

    assert report.errors == []
    assert len(report.created) == 18
    assert Equipment.objects.for_school(school.pk).count() == 18
    assert set(Equipment.objects.filter(kind="asset").values_list("asset_tag", flat=True)) \
        == ASSET_TAGS
    assert Equipment.objects.filter(kind="stock").count() == 10
    assert set(Equipment.objects.filter(is_consumable=True).values_list("name", flat=True)) \
        == {"Nhựa in 3D PLA 1.75mm (cuộn 1kg)", "Tấm gỗ MDF 3mm khổ A3"}
    assert EquipmentCategory.objects.count() == 14


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_file_values_are_mapped(name, school, ndc_spaces):
    run(sample(name), school)

    laser = Equipment.objects.get(asset_tag="NDC-LZ-001")
    assert (laser.name, laser.kind, laser.quantity, laser.unit, laser.serial_number) \
        == ("Máy cắt khắc laser CO2 60W", "asset", 1, "cái", "LC6040-0931")
    assert (laser.cost_vnd, laser.purchase_date, laser.funding_source, laser.status) \
        == (52_000_000, datetime.date(2025, 4, 5), "union", "available")
    assert laser.space == ndc_spaces["Phòng chế tạo"]
    assert laser.category.name == "Máy cắt laser"
    assert laser.notes == "Chỉ dùng khi có giáo viên; cần chứng nhận"
    assert Equipment.objects.get(asset_tag="NDC-3D-002").status == "maintenance"
    assert Equipment.objects.get(asset_tag="NDC-KH-001").status == "broken"
    assert Equipment.objects.get(asset_tag="NDC-KHV-001").funding_source == "department"
    kits = Equipment.objects.get(name__startswith="Bộ kit Arduino")
    assert (kits.kind, kits.quantity, kits.unit, kits.cost_vnd, kits.funding_source,
            kits.is_consumable, kits.asset_tag) == ("stock", 30, "bộ", 650_000, "school",
                                                    False, None)
    assert kits.space == ndc_spaces["Phòng STEM"]
    assert Equipment.objects.get(name__startswith="Robot").funding_source == "donation"
    filament = Equipment.objects.get(name__startswith="Nhựa in 3D")
    assert (filament.quantity, filament.purchase_date, filament.cost_vnd) \
        == (24, datetime.date(2026, 1, 3), 290_000)


@pytest.mark.parametrize(("name", "first", "last", "header"),
                         [("thiet-bi-mau.csv", 2, 19, 1), ("thiet-bi-mau.xlsx", 4, 21, 3)])
def test_rows_are_numbered_as_in_the_spreadsheet(name, first, last, header, school,
                                                 ndc_spaces):
    report = run(sample(name), school)

    assert report.header_row == header
    assert [row.row for row in report.rows] == list(range(first, last + 1))
    assert report.rows[0].name == "Máy in 3D Creality Ender-3 V3"


def test_totals_row_and_blank_rows_are_not_reported(school, ndc_spaces):
    report = run(sample("thiet-bi-mau.xlsx"), school)

    assert "Tổng cộng" not in [row.name for row in report.rows]
    assert len(report.rows) == 18


def test_dry_run_writes_nothing_but_reports_what_would_happen(school, ndc_spaces, manager):
    report = run(sample("thiet-bi-mau.xlsx"), school, dry_run=True, actor=manager)

    assert report.dry_run
    assert len(report.created) == 18
    assert Equipment.objects.count() == 0
    assert EquipmentCategory.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_import_goes_through_services_with_the_actor(school, ndc_spaces, manager):
    run(sample("thiet-bi-mau.csv"), school, actor=manager)

    entries = AuditEntry.objects.filter(action="equipment.created")
    assert entries.count() == 18
    assert set(entries.values_list("actor", flat=True)) == {manager.pk}
    assert set(entries.values_list("school_id", flat=True)) == {school.pk}


def test_system_import_has_no_actor(school, ndc_spaces):
    run(sample("thiet-bi-mau.csv"), school)

    assert set(AuditEntry.objects.values_list("actor", flat=True)) == {None}


# --- Importing again --------------------------------------------------------------------

def test_reimport_updates_instead_of_duplicating(school, ndc_spaces):
    run(sample("thiet-bi-mau.csv"), school)
    report = run(sample("thiet-bi-mau.xlsx"), school)

    assert len(report.unchanged) == 18
    assert report.created == report.updated == report.errors == []
    assert Equipment.objects.count() == 18


def test_reimport_with_changes_updates_the_items(school, ndc_spaces, manager):
    run(sample("thiet-bi-mau.csv"), school)
    report = run(csv_file(
        "1,Máy in 3D Creality Ender-3 V3,Tài sản,Máy in 3D,NDC-3D-002,,1,cái,,,,Tốt,"
        "Phòng chế tạo,Đã thay đầu phun",
        "2,bộ kit arduino uno r3 (kèm cảm biến cơ bản),Vật tư,Vi điều khiển,,,35,bộ,,,,,"
        "Phòng STEM,"), school, actor=manager)

    assert [(row.row, row.action) for row in report.rows] \
        == [(2, RowAction.UPDATED), (3, RowAction.UPDATED)]
    printer = Equipment.objects.get(asset_tag="NDC-3D-002")
    assert (printer.status, printer.notes) == ("available", "Đã thay đầu phun")
    kits = Equipment.objects.get(name__startswith="Bộ kit Arduino")
    assert kits.quantity == 35
    assert kits.name == "Bộ kit Arduino Uno R3 (kèm cảm biến cơ bản)"  # stored spelling kept
    change = AuditEntry.objects.get(action="equipment.changed", object_id=str(kits.pk))
    assert change.data == {"quantity": [30, 35]}
    assert change.actor == manager
    assert Equipment.objects.count() == 18


def test_empty_cells_leave_stored_values_alone(school, ndc_spaces):
    run(sample("thiet-bi-mau.csv"), school)
    report = run(csv_file(",Máy cắt khắc laser CO2 60W,,Máy cắt laser,NDC-LZ-001,,,,,,,,"
                          "Phòng chế tạo,"), school)

    assert report.rows[0].action == RowAction.UNCHANGED
    laser = Equipment.objects.get(asset_tag="NDC-LZ-001")
    assert (laser.cost_vnd, laser.serial_number, laser.status) \
        == (52_000_000, "LC6040-0931", "available")


def test_reimport_cannot_take_stock_below_units_on_loan(school, ndc_spaces, manager, student):
    run(sample("thiet-bi-mau.csv"), school)
    kits = Equipment.objects.get(name__startswith="Bộ kit Arduino")
    f.loan(kits, student, manager, quantity=20)

    report = run(csv_file(",Bộ kit Arduino Uno R3 (kèm cảm biến cơ bản),Vật tư,Vi điều khiển,"
                          ",,10,,,,,,Phòng STEM,"), school)

    assert report.errors[0].fields == ("quantity",)
    kits.refresh_from_db()
    assert kits.quantity == 30


# --- Rows with problems -------------------------------------------------------------------

def test_bad_rows_are_reported_with_their_row_number_and_others_imported(school, ndc_spaces):
    with translation.override("en"):
        report = run(csv_file(
            "1,Máy in 3D,Tài sản,Máy in 3D,T-1,,1,cái,12/03/2025,8.490.000,Trường,Tốt,"
            "Phòng chế tạo,",
            "2,Máy hàn,Tài sản,Dụng cụ,T-2,,1,cái,12/03/2025,,,Tốt,Phòng hóa học,",
            "3,Máy khoan,Tài sản,Dụng cụ,T-3,,1,cái,31/02/2025,,,Tốt,Phòng chế tạo,",
            "4,Máy tính,Tài sản,Máy tính,T-4,,3,cái,,,,Tốt,Phòng khởi nghiệp,",
            "5,Kính bảo hộ,Vật tư,Bảo hộ,,,40,cái,,45.000,,Tốt,Phòng chế tạo,"), school)

    assert [(row.row, row.action) for row in report.rows] == [
        (2, RowAction.CREATED), (3, RowAction.SKIPPED), (4, RowAction.SKIPPED),
        (5, RowAction.SKIPPED), (6, RowAction.CREATED)]
    errors = {row.row: row for row in report.errors}
    assert errors[3].fields == ("space",)
    assert errors[3].reason == "There is no space “Phòng hóa học” at this school."
    assert errors[4].fields == ("purchase_date",)
    assert errors[4].reason == "“31/02/2025” is not a date (dd/mm/yyyy)."
    assert errors[5].fields == ("quantity",)
    assert errors[5].reason == "An asset is one item: its quantity is 1."
    assert set(Equipment.objects.values_list("name", flat=True)) == {"Máy in 3D", "Kính bảo hộ"}


def test_a_refused_row_leaves_no_new_category_behind(school, ndc_spaces):
    report = run(csv_file(",Máy tính,Tài sản,Danh mục mới,T-4,,3,cái,,,,Tốt,Phòng STEM,"),
                 school)

    assert len(report.errors) == 1
    assert not EquipmentCategory.objects.filter(name="Danh mục mới").exists()


def test_every_problem_of_a_row_is_reported(school, ndc_spaces):
    with translation.override("en"):
        report = run(csv_file(",,Máy,Dụng cụ,,,nhiều,,hôm qua,rẻ,Bộ GD,Mới,Phòng STEM,"),
                     school)

    assert report.errors[0].fields == ("name", "kind", "status", "funding_source", "quantity",
                                       "cost_vnd", "purchase_date")
    assert "“Tên thiết bị” is empty." in report.errors[0].reason


@pytest.mark.parametrize(("cells", "field"), [
    ("x" * 201 + ",Vật tư,Dụng cụ,,,5,,,", "name"),
    ("Kìm,Vật tư," + "x" * 121 + ",,,5,,,", "category"),
    ("Kìm,Vật tư,Dụng cụ,,,2.000.000,,,", "quantity"),
    ("Kìm,Vật tư,Dụng cụ,,,5,,,99.000.000.000.000", "cost_vnd"),
    ("Kìm,Vật tư,Dụng cụ,,,5,,,-5", "cost_vnd"),
    ("Kìm,Vật tư,Dụng cụ,,,1.5,,,", "quantity"),
])
def test_values_the_database_cannot_hold_are_row_errors(cells, field, school, ndc_spaces):
    report = run(csv_file(f",{cells},,,Phòng STEM,"), school)

    assert report.errors[0].fields == (field,)
    assert not Equipment.objects.exists()


def test_space_is_matched_ignoring_case_accents_and_spaces(school, ndc_spaces):
    report = run(csv_file(",Kìm,Vật tư,Dụng cụ,,,5,cái,,,,,  phong  CHE tao ,"), school)

    assert report.errors == []
    assert Equipment.objects.get(name="Kìm").space == ndc_spaces["Phòng chế tạo"]


def test_another_school_space_is_unknown(school, ndc_spaces, other_space):
    report = run(csv_file(",Kìm,Vật tư,Dụng cụ,,,5,cái,,,,,Phòng chế tạo,"), other_space.school)

    assert report.errors[0].fields == ("space",)


def test_category_is_matched_case_insensitively(school, ndc_spaces):
    existing = f.category("máy in 3d")

    run(sample("thiet-bi-mau.csv"), school)

    printers = Equipment.objects.filter(asset_tag__startswith="NDC-3D")
    assert {printer.category for printer in printers} == {existing}
    assert not EquipmentCategory.objects.filter(name="Máy in 3D").exists()


def test_same_item_twice_in_a_file_is_reported(school, ndc_spaces):
    with translation.override("en"):
        report = run(csv_file(
            ",Máy in,Tài sản,Máy in 3D,T-1,,1,,,,,,Phòng STEM,",
            ",Máy in khác,Tài sản,Máy in 3D,T-1,,1,,,,,,Phòng STEM,",
            ",Kìm,Vật tư,Dụng cụ,,,5,,,,,,Phòng STEM,",
            ",KÌM,Vật tư,Dụng cụ,,,6,,,,,,Phòng STEM,"), school)

    assert [row.reason for row in report.errors] == ["Same item as row 2.", "Same item as row 4."]
    assert Equipment.objects.count() == 2


def test_asset_tag_of_another_school_is_not_taken_over(school, ndc_spaces, other_space,
                                                       category):
    f.asset(other_space, category, asset_tag="NQD-01")

    report = run(csv_file(",Máy in,Tài sản,Máy in 3D,NQD-01,,1,,,,,,Phòng STEM,"), school)

    assert report.errors[0].fields == ("asset_tag",)
    assert Equipment.objects.get(asset_tag="NQD-01").space == other_space


def test_stock_with_an_asset_tag_is_refused_by_the_service(school, ndc_spaces):
    report = run(csv_file(",Kìm,Vật tư,Dụng cụ,K-1,,5,,,,,,Phòng STEM,"), school)

    assert report.errors[0].fields == ("asset_tag",)


def test_kind_is_inferred_from_the_asset_tag_without_a_kind_column(school, ndc_spaces):
    report = run(csv_file("Kìm,Dụng cụ,,5,Phòng STEM", "Máy in,Máy in 3D,T-9,,Phòng STEM",
                          header="Tên thiết bị,Danh mục,Mã tài sản,Số lượng,Vị trí"), school)

    assert report.errors == []
    assert Equipment.objects.get(name="Kìm").kind == "stock"
    assert Equipment.objects.get(name="Máy in").kind == "asset"


# --- File formats -----------------------------------------------------------------------

def test_english_headers_and_semicolons(school, ndc_spaces):
    report = run(csv_file(
        "Laser cutter;asset;Laser;L-1;1;2025-04-05;52.000.000;available;union;Phòng chế tạo",
        "PLA filament;consumable;Supplies;;24;03/01/2026;290000;available;department;Phòng STEM",
        header="name;kind;category;asset_tag;quantity;purchase_date;cost_vnd;status;"
               "funding_source;space"), school)

    assert report.errors == []
    laser = Equipment.objects.get(asset_tag="L-1")
    assert (laser.cost_vnd, laser.purchase_date) == (52_000_000, datetime.date(2025, 4, 5))
    filament = Equipment.objects.get(name="PLA filament")
    assert (filament.kind, filament.is_consumable, filament.quantity) == ("stock", True, 24)


def test_xlsx_with_real_date_and_number_cells(school, ndc_spaces):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["DANH MỤC THIẾT BỊ"])
    sheet.append([])
    sheet.append(HEADER.split(","))
    sheet.append([1, "Máy in 3D", "Tài sản", "Máy in 3D", "T-1", 12345, 1, "cái",
                  datetime.datetime(2025, 3, 12), 8490000, "Sở KH&CN", "Tốt", "Phòng STEM"])
    sheet.append([2, "Kìm", "Vật tư", "Dụng cụ", None, None, 15.0, "cái",
                  datetime.date(2024, 8, 20), 185000.0, "Trường", "Tốt", "Phòng STEM"])
    data = io.BytesIO()
    workbook.save(data)
    data.name = "list.xlsx"

    report = run(data, school)

    assert report.errors == []
    assert [row.row for row in report.rows] == [4, 5]
    printer = Equipment.objects.get(asset_tag="T-1")
    assert (printer.purchase_date, printer.cost_vnd, printer.serial_number) \
        == (datetime.date(2025, 3, 12), 8_490_000, "12345")
    pliers = Equipment.objects.get(name="Kìm")
    assert (pliers.quantity, pliers.cost_vnd) == (15, 185_000)


@pytest.mark.parametrize("content", [
    b"",
    b"%PDF-1.7\n\x00\x01\x02binary",
    b"just some words\nand no header row at all\n",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel",
    b"PK\x03\x04not really a zip",
], ids=["empty", "pdf", "no-header", "xls", "damaged-xlsx"])
def test_unreadable_file_is_an_error_and_imports_nothing(content, school, ndc_spaces):
    file = io.BytesIO(content)
    file.name = "list.xlsx" if content.startswith(b"PK") else "list.csv"

    with pytest.raises(ImportFileError):
        run(file, school)
    assert Equipment.objects.count() == 0


def test_header_without_a_space_column_is_an_error(school, ndc_spaces):
    with translation.override("en"), pytest.raises(ImportFileError) as error:
        run(csv_file("Máy in,Máy in 3D,1", header="Tên thiết bị,Danh mục,Số lượng"), school)

    assert "Vị trí (space)" in str(error.value)


def test_too_large_file_is_refused(school, ndc_spaces, monkeypatch):
    monkeypatch.setattr(importer, "MAX_FILE_SIZE", 1000)

    with pytest.raises(ImportFileError):
        run(sample("thiet-bi-mau.csv"), school)


def bloated(sample_name: str, padding: int, members: int = 1) -> io.BytesIO:
    """The sample workbook with extra parts of zeros: tiny compressed, `padding` bytes each
    unpacked (what a zip bomb does on a grander scale)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO((DATA / sample_name).read_bytes())) as original, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for member in original.infolist():
            copy.writestr(member, original.read(member))
        for number in range(members):
            copy.writestr(f"xl/media/padding{number}.bin", b"\0" * padding)
    out.seek(0)
    out.name = "list.xlsx"
    return out


@pytest.mark.parametrize("padding, members", [(2 * 1024 * 1024, 1), (10, 60)],
                         ids=["unpacks-too-large", "too-many-parts"])
def test_an_xlsx_that_unpacks_too_far_is_refused_before_it_is_read(
        school, ndc_spaces, monkeypatch, padding, members):
    monkeypatch.setattr(importer, "MAX_UNPACKED_SIZE", 1024 * 1024)
    monkeypatch.setattr(importer, "MAX_ARCHIVE_MEMBERS", 50)
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *args, **kw: opened.append(1))
    bomb = bloated("thiet-bi-mau.xlsx", padding, members)
    assert len(bomb.getvalue()) < 64 * 1024  # small on the wire

    with translation.override("en"), pytest.raises(ImportFileError) as error:
        run(bomb, school)

    assert "unpacks to more than 1 MB" in str(error.value)
    assert opened == [] and Equipment.objects.count() == 0


def test_the_sample_workbook_is_well_inside_the_archive_limits(school, ndc_spaces):
    assert len(run(bloated("thiet-bi-mau.xlsx", 1024 * 1024, 3), school).rows) == 18


def test_too_many_rows_are_refused(school, ndc_spaces, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 10)

    with pytest.raises(ImportFileError):
        run(sample("thiet-bi-mau.csv"), school)
    assert Equipment.objects.count() == 0


def test_manager_cannot_import_into_another_school(other_school, other_manager, manager):
    with pytest.raises(NotAllowed):
        run(sample("thiet-bi-mau.csv"), other_school, actor=manager)


# --- The management command ----------------------------------------------------------

def test_command_imports_and_prints_a_summary(school, ndc_spaces):
    out = io.StringIO()

    call_command("import_equipment", str(DATA / "thiet-bi-mau.xlsx"), "--school", "ndc",
                 stdout=out, stderr=io.StringIO())

    assert "18" in out.getvalue()
    assert Equipment.objects.count() == 18


def test_command_dry_run_saves_nothing(school, ndc_spaces):
    out = io.StringIO()

    call_command("import_equipment", str(DATA / "thiet-bi-mau.csv"), "--school", "ndc",
                 "--dry-run", stdout=out)

    assert Equipment.objects.count() == 0


def test_command_prints_row_errors(school, ndc_spaces, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(csv_file(",Kìm,Vật tư,Dụng cụ,,,5,,,,,,Phòng hóa học,").getvalue())
    err = io.StringIO()

    with translation.override("en"):
        call_command("import_equipment", str(path), "--school", "ndc", stdout=io.StringIO(),
                     stderr=err)

    assert "Row 2: There is no space “Phòng hóa học” at this school." in err.getvalue()


def test_command_records_the_manager_given_with_as(school, ndc_spaces, manager):
    call_command("import_equipment", str(DATA / "thiet-bi-mau.csv"), "--school", "ndc",
                 "--as", "manager.ndc", stdout=io.StringIO())

    assert set(AuditEntry.objects.values_list("actor", flat=True)) == {manager.pk}


@pytest.mark.parametrize("arguments", [
    ["README-missing.csv", "--school", "ndc"],
    [str(Path(__file__)), "--school", "ndc"],
    [str(DATA / "thiet-bi-mau.csv"), "--school", "nowhere"],
    [str(DATA / "thiet-bi-mau.csv"), "--school", "ndc", "--as", "nobody"],
], ids=["missing-file", "not-a-sheet", "unknown-school", "unknown-user"])
def test_command_fails_with_a_non_zero_exit(arguments, school, ndc_spaces):
    with pytest.raises(CommandError) as error:
        call_command("import_equipment", *arguments, stdout=io.StringIO())

    assert error.value.returncode != 0
    assert Equipment.objects.count() == 0


def test_command_refuses_a_manager_of_another_school(school, ndc_spaces, other_manager):
    with pytest.raises(CommandError):
        call_command("import_equipment", str(DATA / "thiet-bi-mau.csv"), "--school", "ndc",
                     "--as", "manager.nqd", stdout=io.StringIO())


# --- The admin upload page ---------------------------------------------------------------

IMPORT_URL = "admin:spaces_equipment_import"


@pytest.fixture
def browser():
    def login(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return login


def upload(name: str = "thiet-bi-mau.xlsx", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None
                              else (DATA / name).read_bytes())


def test_equipment_list_links_to_the_import_page(browser, manager):
    response = browser(manager).get(reverse("admin:spaces_equipment_changelist"))

    assert reverse(IMPORT_URL).encode() in response.content


def test_manager_sees_the_upload_form_with_only_their_school(browser, manager, other_school):
    response = browser(manager).get(reverse(IMPORT_URL))

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields["school"].queryset) == [manager.school]
    assert form.fields["school"].initial == manager.school


def test_upload_dry_run_shows_the_report_and_saves_nothing(browser, manager, school,
                                                           ndc_spaces):
    response = browser(manager).post(reverse(IMPORT_URL), {
        "file": upload(), "school": school.pk, "dry_run": "on"})

    assert response.status_code == 200
    report = response.context["report"]
    assert report.dry_run and len(report.created) == 18
    assert b"Dry run: nothing was saved" in response.content
    assert "Máy cắt khắc laser CO2 60W" in response.content.decode()
    assert Equipment.objects.count() == 0


def test_upload_imports_and_lists_skipped_rows(browser, manager, school, ndc_spaces):
    content = csv_file(",Kìm,Vật tư,Dụng cụ,,,5,,,,,,Phòng STEM,",
                       ",Búa,Vật tư,Dụng cụ,,,5,,,,,,Kho,").getvalue()

    response = browser(manager).post(reverse(IMPORT_URL), {
        "file": upload("list.csv", content), "school": school.pk})

    assert response.status_code == 200
    assert Equipment.objects.get(name="Kìm").space == ndc_spaces["Phòng STEM"]
    assert "There is no space “Kho” at this school." in response.content.decode()
    assert AuditEntry.objects.get(action="equipment.created").actor == manager


def test_manager_cannot_upload_into_another_school(browser, manager, other_school,
                                                   other_space):
    response = browser(manager).post(reverse(IMPORT_URL), {
        "file": upload(), "school": other_school.pk})

    assert response.status_code == 200
    assert "school" in response.context["form"].errors
    assert Equipment.objects.count() == 0


def test_unreadable_upload_is_a_form_error(browser, manager, school):
    response = browser(manager).post(reverse(IMPORT_URL), {
        "file": upload("list.csv", b"nothing to see here\n"), "school": school.pk})

    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert response.context["report"] is None


def test_superuser_may_import_into_any_school(browser, admin_user, other_school):
    f.space(other_school, name="Phòng STEM", hours=False)
    content = csv_file(",Kìm,Vật tư,Dụng cụ,,,5,,,,,,Phòng STEM,").getvalue()

    browser(admin_user).post(reverse(IMPORT_URL), {
        "file": upload("list.csv", content), "school": other_school.pk})

    assert Equipment.objects.get(name="Kìm").space.school == other_school


def test_teacher_cannot_open_the_import_page(browser, teacher):
    response = browser(teacher).get(reverse(IMPORT_URL))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_add_permission_cannot_import(browser, union):
    union.is_staff = True
    union.save()

    response = browser(union).get(reverse(IMPORT_URL))

    assert response.status_code == 403


def test_formulas_in_cells_are_refused_and_the_file_name_is_never_a_path(
        browser, manager, school, ndc_spaces, settings, tmp_path):
    # A spreadsheet whose cells start like formulas, uploaded under a name that climbs out of
    # the storage folder: the formula rows are refused with their column, the rest imported,
    # nothing is written anywhere (the upload is read in memory).
    settings.MEDIA_ROOT = tmp_path / "media"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["", "=cmd|' /C calc'!A0", "Vật tư", "Dụng cụ", "", "", 1, "", "", "", "", "",
                  "Phòng STEM", ""])
    sheet.append(["", "Kìm", "Vật tư", "Dụng cụ", "", "@SUM(1+1)", 5, "", "", "", "", "",
                  "Phòng STEM", ""])
    sheet.append(["", "Búa", "Vật tư", "Dụng cụ", "", "-", 5, "", "", "", "", "",
                  "Phòng STEM", "+HYPERLINK(\"http://x\")"])
    sheet.append(["", "Kéo", "Vật tư", "Dụng cụ", "", "-", 5, "", "", "", "", "",
                  "Phòng STEM", "- cắt giấy"])
    sheet.append(["", "Thước", "Vật tư", "Dụng cụ", "", "-", 5, "", "", "", "", "",
                  "Phòng STEM", ""])
    content = io.BytesIO()
    book.save(content)

    response = browser(manager).post(reverse(IMPORT_URL), {
        "file": upload("../../../etc/cron.d/list.xlsx", content.getvalue()), "school": school.pk})

    assert response.status_code == 200
    report = response.context["report"]
    assert sorted(row.fields for row in report.errors) == [("name",), ("notes",), ("notes",),
                                                           ("serial_number",)]
    assert "formulas are not imported" in response.content.decode()
    assert list(Equipment.objects.values_list("name", flat=True)) == ["Thước"]
    assert not (tmp_path / "media").exists()
    assert not Path("/etc/cron.d/list.xlsx").exists()
