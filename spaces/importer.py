"""Equipment import from the spreadsheets schools already keep (CSV or Excel .xlsx).

A school's list looks like /work/shared/data/thiet-bi-mau.*: a title and a blank
row above the header, Vietnamese column names, dd/mm/yyyy dates, prices written
"8.490.000", assets (one tagged item per row) mixed with counted stock and
consumables, a totals row at the bottom. The header is found by its content, so
the rows above it may hold anything.

Choices made here, and why:

- A row that cannot be imported (unknown space, bad date, a rule the services
  refuse...) is reported with its spreadsheet row number and skipped; the other
  rows are imported. A school fixes the few rows and imports the file again,
  which updates what is already there instead of duplicating it.
- A file that cannot be read at all (not CSV/XLSX, no header row, too large)
  raises ImportFileError and imports nothing.
- Existing items are found by asset tag (assets) or by name within the space
  (stock). On update, an empty cell leaves the stored value alone: a sparse
  sheet never erases data.
- Every row goes through equipment_create / equipment_update, so the rules and
  the audit trail are those of every other entry point. The whole import is one
  transaction; a dry run does all the work and then rolls it back, so its report
  is exactly what a real import would do.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from spaces.errors import DomainError, Invalid
from spaces.models import (
    Equipment,
    EquipmentCategory,
    EquipmentKind,
    EquipmentStatus,
    FundingSource,
    School,
    Space,
)
from spaces.services import ensure_manager, equipment_create, equipment_update

MAX_FILE_SIZE = 5 * 1024 * 1024
# An .xlsx is a zip: what its parts unpack to is bounded too, so that a few compressed
# megabytes cannot become gigabytes in memory (openpyxl reads the shared strings whole).
MAX_UNPACKED_SIZE = 100 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 500
MAX_ROWS = 5000
# How far down the header may be, how wide a sheet is read, and how many blank
# rows in a row end the data (Excel often "uses" a million formatted, empty rows).
HEADER_SEARCH_ROWS = 20
MAX_COLUMNS = 40
MAX_BLANK_RUN = 1000
# Far above any real item, well inside the database columns.
MAX_QUANTITY = 1_000_000
MAX_COST_VND = 10**13


class ImportFileError(Invalid):
    """The file cannot be read at all: nothing was imported."""


class RowAction(models.TextChoices):
    CREATED = "created", gettext_lazy("Created")
    UPDATED = "updated", gettext_lazy("Updated")
    UNCHANGED = "unchanged", gettext_lazy("Unchanged")
    SKIPPED = "skipped", gettext_lazy("Skipped")


@dataclass(frozen=True)
class RowResult:
    row: int  # as the spreadsheet numbers it
    action: RowAction
    name: str = ""
    asset_tag: str = ""
    reason: str = ""
    fields: tuple[str, ...] = ()
    equipment_id: int | None = None


@dataclass
class ImportReport:
    school: School
    dry_run: bool
    file_format: str
    header_row: int
    rows: list[RowResult] = field(default_factory=list)

    def _with(self, action: RowAction) -> list[RowResult]:
        return [result for result in self.rows if result.action == action]

    @property
    def created(self) -> list[RowResult]:
        return self._with(RowAction.CREATED)

    @property
    def updated(self) -> list[RowResult]:
        return self._with(RowAction.UPDATED)

    @property
    def unchanged(self) -> list[RowResult]:
        return self._with(RowAction.UNCHANGED)

    @property
    def errors(self) -> list[RowResult]:
        """Rows that were skipped, each with its reason."""
        return self._with(RowAction.SKIPPED)

    def summary(self) -> str:
        return _(
            "%(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
            "%(skipped)d skipped"
        ) % {"created": len(self.created), "updated": len(self.updated),
             "unchanged": len(self.unchanged), "skipped": len(self.errors)}


# --- Reading the file ------------------------------------------------------

def fold(text: str) -> str:
    """Lower case, no accents, single spaces: ' Phòng  Chế tạo' → 'phong che tao'."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.casefold().split())


def _key(text: str) -> str:
    """fold() without punctuation, for matching words: 'Sở KH&CN' → 'so kh cn'."""
    return " ".join(re.sub(r"[\W_]+", " ", fold(text)).split())


# Column → the header names it goes by (compared through _key()).
COLUMNS: dict[str, tuple[str, ...]] = {
    "row_number": ("STT", "TT", "No"),
    "name": ("Tên thiết bị", "Tên tài sản", "Tên", "name"),
    "kind": ("Loại", "kind"),
    "category": ("Danh mục", "Nhóm", "category"),
    "asset_tag": ("Mã tài sản", "Mã TS", "asset_tag", "asset tag"),
    "serial_number": ("Số seri", "Số serial", "Số sê-ri", "serial_number", "serial"),
    "quantity": ("Số lượng", "SL", "quantity"),
    "unit": ("Đơn vị tính", "Đơn vị", "ĐVT", "unit"),
    "purchase_date": ("Ngày mua", "Ngày nhập", "purchase_date"),
    "cost_vnd": ("Đơn giá (VNĐ)", "Đơn giá", "cost_vnd", "cost"),
    "funding_source": ("Nguồn kinh phí", "Nguồn vốn", "funding_source"),
    "status": ("Tình trạng", "Trạng thái", "status"),
    "space": ("Vị trí", "Phòng", "space", "location"),
    "notes": ("Ghi chú", "notes"),
}
_COLUMN_BY_KEY = {_key(alias): column for column, aliases in COLUMNS.items() for alias in aliases}
REQUIRED_COLUMNS = ("name", "category", "space")

KINDS: dict[str, tuple[str, bool]] = {  # → (kind, is_consumable)
    "tai san": (EquipmentKind.ASSET, False),
    "vat tu": (EquipmentKind.STOCK, False),
    "vat tu tieu hao": (EquipmentKind.STOCK, True),
    "asset": (EquipmentKind.ASSET, False),
    "stock": (EquipmentKind.STOCK, False),
    "consumable": (EquipmentKind.STOCK, True),
}
STATUSES: dict[str, str] = {
    "tot": EquipmentStatus.AVAILABLE,
    "binh thuong": EquipmentStatus.AVAILABLE,
    "dang sua chua": EquipmentStatus.MAINTENANCE,
    "dang bao tri": EquipmentStatus.MAINTENANCE,
    "hong": EquipmentStatus.BROKEN,
    "hu hong": EquipmentStatus.BROKEN,
    "thanh ly": EquipmentStatus.RETIRED,
    "da thanh ly": EquipmentStatus.RETIRED,
    **{status.value: status.value for status in EquipmentStatus},
}
FUNDING_SOURCES: dict[str, str] = {
    "so kh cn": FundingSource.DEPARTMENT,
    "so khcn": FundingSource.DEPARTMENT,
    "so khoa hoc va cong nghe": FundingSource.DEPARTMENT,
    "tinh doan": FundingSource.UNION,
    "truong": FundingSource.SCHOOL,
    "tai tro": FundingSource.DONATION,
    **{source.value: source.value for source in FundingSource},
}
_TOTALS = {"tong", "cong", "tong cong", "tong so", "total", "totals", "grand total"}

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class Table:
    """The rows under the header, as read from the file, with the file's row numbers."""

    file_format: str
    header_row: int
    columns: dict[int, str]  # cell index → column
    labels: dict[str, str]  # column → its header as written in the file
    rows: list[tuple[int, dict[str, Any]]]


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def _match_header(values: Iterable[Any]) -> dict[int, str] | None:
    columns: dict[int, str] = {}
    for index, value in enumerate(values):
        column = _COLUMN_BY_KEY.get(_key(_cell_text(value)))
        if column and column not in columns.values():
            columns[index] = column
    if "name" in columns.values() and len(columns) >= 3:
        return columns
    return None


def _find_header(rows: Iterator[tuple[int, list[Any]]]
                 ) -> tuple[int, list[Any], dict[int, str]] | None:
    for number, values in rows:
        if number > HEADER_SEARCH_ROWS:
            return None
        columns = _match_header(values)
        if columns:
            return number, values, columns
    return None


def _is_blank(row: dict[str, Any]) -> bool:
    # A numbered but otherwise empty line of a template counts as blank.
    return all(_cell_text(value) == "" for column, value in row.items() if column != "row_number")


def _build_table(file_format: str, rows: Iterator[tuple[int, list[Any]]]) -> Table | None:
    found = _find_header(rows)
    if found is None:
        return None
    header_row, header, columns = found
    labels = {column: _cell_text(header[index]) for index, column in columns.items()}
    missing = [column for column in REQUIRED_COLUMNS if column not in labels]
    if missing:
        raise ImportFileError(
            _("The header (row %(row)d) has no column for: %(columns)s.")
            % {"row": header_row,
               "columns": ", ".join(f"{COLUMNS[column][0]} ({column})" for column in missing)})
    data: list[tuple[int, dict[str, Any]]] = []
    blank_run = 0
    for number, values in rows:
        row = {column: values[index] if index < len(values) else None
               for index, column in columns.items()}
        if _is_blank(row):
            blank_run += 1
            if blank_run >= MAX_BLANK_RUN:
                break
            continue
        blank_run = 0
        if len(data) >= MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(max)d rows; split it into smaller files.")
                % {"max": MAX_ROWS})
        data.append((number, row))
    return Table(file_format, header_row, columns, labels, data)


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16")
    elif b"\x00" in data:
        raise ImportFileError(_("This is not a CSV or Excel (.xlsx) file."))
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                # Older Vietnamese Windows exports.
                text = data.decode("cp1258")
            except UnicodeDecodeError:
                raise ImportFileError(
                    _("This is not a CSV or Excel (.xlsx) file.")) from None
    return unicodedata.normalize("NFC", text)


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for number, values in enumerate(reader, start=1):
        yield number, values[:MAX_COLUMNS]


def _read_csv(data: bytes) -> Table:
    text = _decode(data)
    # The delimiter is the one whose header makes sense (Excel writes ";" in
    # locales whose decimal separator is a comma).
    best: tuple[int, str] | None = None
    try:
        for delimiter in (",", ";", "\t"):
            found = _find_header(_csv_rows(text, delimiter))
            if found and (best is None or len(found[2]) > best[0]):
                best = (len(found[2]), delimiter)
        table = _build_table("csv", _csv_rows(text, best[1])) if best else None
    except csv.Error as exc:
        raise ImportFileError(_("This CSV file cannot be read: %(error)s") % {"error": exc}) from exc
    if table is None:
        raise ImportFileError(_no_header_message())
    return table


def _check_archive(data: bytes) -> None:
    """Refuse a zip bomb before openpyxl unpacks it. The sizes the archive declares are the
    ones that count: Python's zipfile stops reading a member at its declared size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # openpyxl will say it cannot read the file
    if (len(members) > MAX_ARCHIVE_MEMBERS
            or sum(member.file_size for member in members) > MAX_UNPACKED_SIZE):
        raise ImportFileError(
            _("This Excel file unpacks to more than %(size)d MB: it is not an equipment list.")
            % {"size": MAX_UNPACKED_SIZE // (1024 * 1024)})


def _read_xlsx(data: bytes) -> Table:
    import openpyxl

    _check_archive(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors on damaged files
        raise ImportFileError(
            _("This Excel file cannot be read; is it a damaged or password-protected .xlsx?")
        ) from exc
    try:
        for sheet in workbook.worksheets:
            # The stored dimensions may be wrong; read until the data ends.
            sheet.reset_dimensions()
            rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
            table = _build_table(
                "xlsx", ((number, list(values)) for number, values in enumerate(rows, start=1)))
            if table is not None:
                return table
    finally:
        workbook.close()
    raise ImportFileError(_no_header_message())


def _no_header_message() -> str:
    return _("No header row found: the file needs columns such as “Tên thiết bị”, "
             "“Danh mục” and “Vị trí” (or name, category and space).")


def read_table(file: IO[bytes]) -> Table:
    """Read a CSV or XLSX file into its rows; ImportFileError if it cannot be read."""
    size = getattr(file, "size", None)
    if size is not None and size > MAX_FILE_SIZE:
        raise ImportFileError(_too_large_message())
    if file.seekable():
        file.seek(0)
    data = file.read(MAX_FILE_SIZE + 1)
    if len(data) > MAX_FILE_SIZE:
        raise ImportFileError(_too_large_message())
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    if data.startswith(_XLSX_MAGIC):
        return _read_xlsx(data)
    if data.startswith(_XLS_MAGIC):
        raise ImportFileError(
            _("Excel 97–2003 (.xls) files cannot be read: save the sheet as .xlsx or CSV."))
    name = (getattr(file, "name", "") or "").lower()
    if name.endswith((".xlsx", ".xlsm")):
        raise ImportFileError(
            _("This Excel file cannot be read; is it a damaged or password-protected .xlsx?"))
    return _read_csv(data)


def _too_large_message() -> str:
    return _("The file is larger than %(size)d MB.") % {"size": MAX_FILE_SIZE // (1024 * 1024)}


# --- Turning cells into values -----------------------------------------------

class RowProblem(Exception):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _column, message in problems))
        self.problems = problems  # (column, message)


def _whole_number(value: Any, *, money: bool = False) -> int | None:
    """30, '30', '1.000', 8490000.0, '8.490.000', '8,490,000 đ' → int; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        number = int(value)
    else:
        text = str(value).strip()
        if money:
            text = re.sub(r"\s*(vnđ|vnd|đồng|đ|₫)$", "", text, flags=re.IGNORECASE)
        text = re.sub(r"\s+", "", text)
        if not text:
            return None
        if re.fullmatch(r"\d{1,3}([.,]\d{3})+", text):
            text = re.sub(r"[.,]", "", text)
        if not text.isdigit():
            raise ValueError(value)
        number = int(text)
    if number < 0:
        raise ValueError(value)
    return number


_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d/%m/%y")


def _date(value: Any) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _cell_text(value)
    if not text:
        return None
    text = text.split()[0]  # "12/03/2025 00:00:00"
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def _max_length(name: str) -> int:
    model = EquipmentCategory if name == "category" else Equipment
    field_name = "name" if name == "category" else name
    return model._meta.get_field(field_name).max_length or 0  # type: ignore[union-attr]


@dataclass
class ParsedRow:
    number: int
    values: dict[str, Any]  # only the cells that were filled in
    space_name: str
    category_name: str


_FORMULA_START = ("=", "+", "@", "\t", "\r")
_NEGATIVE_NUMBER = re.compile(r"-\s*[\d.,]+")


def _looks_like_formula(text: str) -> bool:
    """Text a spreadsheet would run when the list is exported again (CSV injection). A lone
    "-" (nothing) and a negative number (refused as a quantity or price later) are not."""
    if text.startswith(_FORMULA_START):
        return True
    return text.startswith("-") and text != "-" and not _NEGATIVE_NUMBER.fullmatch(text)


def parse_row(number: int, row: dict[str, Any], labels: dict[str, str]) -> ParsedRow:
    """The row's filled-in cells as Equipment values; RowProblem lists what is wrong."""
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}

    def problem(column: str, message: str) -> None:
        problems.append((column, message))

    text = {column: _cell_text(value) for column, value in row.items()}
    for column, value in text.items():
        if column != "row_number" and _looks_like_formula(value):
            problem(column, _("“%(column)s” starts like a spreadsheet formula (= + - @): "
                              "formulas are not imported.") % {"column": labels.get(column, column)})
    for column in REQUIRED_COLUMNS:
        if not text.get(column):
            problem(column, _("“%(column)s” is empty.") % {"column": labels[column]})
    for column in ("name", "category", "asset_tag", "serial_number", "unit"):
        if text.get(column):
            if len(text[column]) > _max_length(column):
                problem(column, _("“%(column)s” is longer than %(max)d characters.")
                        % {"column": labels[column], "max": _max_length(column)})
            if column != "category":
                values[column] = " ".join(text[column].split())
    if text.get("notes"):
        values["notes"] = text["notes"]
    if text.get("kind"):
        kind = KINDS.get(_key(text["kind"]))
        if kind is None:
            problem("kind", _("Unknown kind “%(value)s” (expected Tài sản, Vật tư or "
                              "Vật tư tiêu hao).") % {"value": text["kind"]})
        else:
            values["kind"], values["is_consumable"] = kind
    if text.get("status"):
        status = STATUSES.get(_key(text["status"]))
        if status is None:
            problem("status", _("Unknown condition “%(value)s” (expected Tốt, Đang sửa chữa, "
                                "Hỏng or Thanh lý).") % {"value": text["status"]})
        else:
            values["status"] = status
    if text.get("funding_source"):
        source = FUNDING_SOURCES.get(_key(text["funding_source"]))
        if source is None:
            problem("funding_source", _("Unknown funding source “%(value)s” (expected Sở KH&CN, "
                                        "Tỉnh đoàn, Trường or Tài trợ).")
                    % {"value": text["funding_source"]})
        else:
            values["funding_source"] = source
    for column, money, largest in (("quantity", False, MAX_QUANTITY),
                                   ("cost_vnd", True, MAX_COST_VND)):
        try:
            number_value = _whole_number(row.get(column), money=money)
        except ValueError:
            message = (_("“%(value)s” is not an amount in đồng.") if money
                       else _("“%(value)s” is not a whole number."))
            problem(column, message % {"value": text[column]})
            continue
        if number_value is not None and number_value > largest:
            problem(column, _("“%(value)s” is too large.") % {"value": text[column]})
        elif number_value is not None:
            values[column] = number_value
    try:
        purchased = _date(row.get("purchase_date"))
    except ValueError:
        problem("purchase_date", _("“%(value)s” is not a date (dd/mm/yyyy).")
                % {"value": text["purchase_date"]})
    else:
        if purchased is not None:
            values["purchase_date"] = purchased
    if problems:
        raise RowProblem(problems)
    return ParsedRow(number, values, space_name=text["space"], category_name=text["category"])


# --- Writing -------------------------------------------------------------------

class _Importer:
    def __init__(self, *, school: School, actor: User | None) -> None:
        self.school = school
        self.actor = actor
        self.spaces: dict[str, list[Space]] = {}
        for space in Space.objects.filter(school=school):
            self.spaces.setdefault(fold(space.name), []).append(space)
        self.categories = {self._category_key(category.name): category
                           for category in EquipmentCategory.objects.all()}
        self.stock: dict[int, dict[str, list[Equipment]]] = {}
        self.seen: dict[tuple[Any, ...], int] = {}

    @staticmethod
    def _category_key(name: str) -> str:
        return " ".join(name.split()).casefold()

    def _space(self, name: str) -> Space:
        found = self.spaces.get(fold(name), [])
        if len(found) != 1:
            message = (_("There is no space “%(space)s” at this school.") if not found
                       else _("More than one space at this school is called “%(space)s”."))
            raise Invalid(message % {"space": name}, field="space")
        return found[0]

    def _category(self, name: str) -> EquipmentCategory:
        key = self._category_key(name)
        if key not in self.categories:
            self.categories[key] = EquipmentCategory.objects.create(name=" ".join(name.split()))
        return self.categories[key]

    def _stock_in(self, space: Space) -> dict[str, list[Equipment]]:
        if space.pk not in self.stock:
            items: dict[str, list[Equipment]] = {}
            for item in Equipment.objects.filter(space=space, kind=EquipmentKind.STOCK):
                items.setdefault(self._category_key(item.name), []).append(item)
            self.stock[space.pk] = items
        return self.stock[space.pk]

    def _existing(self, row: ParsedRow, space: Space) -> Equipment | None:
        tag = row.values.get("asset_tag")
        if tag:
            item = Equipment.objects.select_related("space").filter(asset_tag=tag).first()
            if item is not None and item.space.school_id != self.school.pk:
                raise Invalid(_("Asset tag %(tag)s belongs to another school's item.")
                              % {"tag": tag}, field="asset_tag")
            return item
        if row.values.get("kind", EquipmentKind.STOCK) != EquipmentKind.STOCK:
            return None  # an asset without a tag: the service says what is wrong
        matches = self._stock_in(space).get(self._category_key(row.values["name"]), [])
        if len(matches) > 1:
            raise Invalid(_("More than one stock item in %(space)s is called “%(name)s”.")
                          % {"space": space.name, "name": row.values["name"]}, field="name")
        return matches[0] if matches else None

    def _check_not_seen(self, row: ParsedRow, space: Space) -> tuple[Any, ...]:
        tag = row.values.get("asset_tag")
        key = ("tag", tag) if tag else ("stock", space.pk,
                                         self._category_key(row.values["name"]))
        if key in self.seen:
            raise Invalid(_("Same item as row %(row)d.") % {"row": self.seen[key]},
                          field="asset_tag" if tag else "name")
        return key

    def write(self, row: ParsedRow) -> RowResult:
        space = self._space(row.space_name)
        key = self._check_not_seen(row, space)
        values = {**row.values, "space": space, "category": self._category(row.category_name)}
        existing = self._existing(row, space)
        if existing is None:
            if "kind" not in values:
                values["kind"] = (EquipmentKind.ASSET if values.get("asset_tag")
                                  else EquipmentKind.STOCK)
            item = equipment_create(actor=self.actor, **values)
            action = RowAction.CREATED
        else:
            if existing.kind == EquipmentKind.STOCK:
                values.pop("name")  # matched by name: keep the stored spelling
            changes = {name: value for name, value in values.items()
                       if getattr(existing, name) != value}
            if changes:
                item = equipment_update(actor=self.actor, equipment=existing, **changes)
                action = RowAction.UPDATED
            else:
                item, action = existing, RowAction.UNCHANGED
        self.seen[key] = row.number
        if item.kind == EquipmentKind.STOCK and action == RowAction.CREATED:
            stock = self._stock_in(space)
            stock.setdefault(self._category_key(item.name), []).append(item)
        return RowResult(row.number, action, name=item.name, asset_tag=item.asset_tag or "",
                         equipment_id=item.pk)

    def import_row(self, number: int, cells: dict[str, Any], labels: dict[str, str]
                   ) -> RowResult:
        name = _cell_text(cells.get("name"))
        tag = _cell_text(cells.get("asset_tag"))
        try:
            row = parse_row(number, cells, labels)
        except RowProblem as problem:
            return RowResult(number, RowAction.SKIPPED, name=name, asset_tag=tag,
                             reason=str(problem),
                             fields=tuple(column for column, _message in problem.problems))
        categories_before = dict(self.categories)
        try:
            # A savepoint per row: a refused row leaves nothing behind.
            with transaction.atomic():
                return self.write(row)
        except DomainError as error:
            self.categories = categories_before  # those created for this row were rolled back
            return RowResult(number, RowAction.SKIPPED, name=name, asset_tag=tag,
                             reason=str(error.message),
                             fields=(error.field,) if error.field else ())


def _is_totals_row(cells: dict[str, Any]) -> bool:
    # Only where a label goes: a note that says "tổng cộng" does not make a totals row.
    for column in ("row_number", "name"):
        text = _key(_cell_text(cells.get(column)))
        if text in _TOTALS or text.startswith("tong cong "):
            return True
    return False


def import_equipment(file: IO[bytes], *, school: School, dry_run: bool = False,
                     actor: User | None = None) -> ImportReport:
    """Import a school's equipment list; see the module docstring for the rules.

    `actor=None` is the system (management commands). Raises ImportFileError if
    the file cannot be read, NotAllowed if `actor` does not manage `school`.
    """
    ensure_manager(actor, school.pk)
    table = read_table(file)
    report = ImportReport(school=school, dry_run=dry_run, file_format=table.file_format,
                          header_row=table.header_row)
    with transaction.atomic():
        importer = _Importer(school=school, actor=actor)
        for number, cells in table.rows:
            if _is_totals_row(cells):
                continue
            report.rows.append(importer.import_row(number, cells, table.labels))
        if dry_run:
            # Everything above ran for real, so the report is exact; now undo it.
            transaction.set_rollback(True)
    return report
