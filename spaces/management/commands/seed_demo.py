"""Realistic Vietnamese demo data for the three schools. Safe to run again."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Certification, Role, User
from spaces import services
from spaces.models import (
    Equipment,
    EquipmentCategory,
    Loan,
    OpeningHours,
    Period,
    School,
    Space,
)

PASSWORD = "demo12345"

SCHOOLS = [
    {"slug": "ndc", "name": "THPT Chuyên Nguyễn Đình Chiểu", "district": "Phường Mỹ Trà",
     "address": "Số 2 Lê Duẩn, phường Mỹ Trà, tỉnh Đồng Tháp"},
    {"slug": "nqd", "name": "THPT Chuyên Nguyễn Quang Diêu", "district": "Phường Cao Lãnh",
     "address": "Số 1 Võ Trường Toản, phường Cao Lãnh, tỉnh Đồng Tháp"},
    {"slug": "tm", "name": "THPT Tháp Mười", "district": "Xã Tháp Mười",
     "address": "Khóm 3, xã Tháp Mười, tỉnh Đồng Tháp"},
]

# The names match the "Vị trí" column of the sample inventory (shared/data) for ndc.
SPACES: dict[str, list[dict[str, Any]]] = {
    "ndc": [
        {"name": "Phòng STEM", "kind": "lab", "capacity": 40},
        {"name": "Phòng chế tạo", "kind": "makerspace", "capacity": 30},
        {"name": "Phòng thí nghiệm", "kind": "lab", "capacity": 35},
        {"name": "Phòng khởi nghiệp", "kind": "startup_room", "capacity": 25},
    ],
    "nqd": [
        {"name": "Phòng STEM", "kind": "lab", "capacity": 40},
        {"name": "Phòng chế tạo", "kind": "makerspace", "capacity": 30},
        {"name": "Phòng khởi nghiệp", "kind": "startup_room", "capacity": 25},
    ],
    "tm": [
        {"name": "Phòng STEM", "kind": "lab", "capacity": 40},
        {"name": "Phòng khởi nghiệp sáng tạo", "kind": "startup_room", "capacity": 30},
    ],
}

CATEGORIES = [
    ("Máy in 3D", True), ("Máy cắt laser", True), ("Vi điều khiển", False),
    ("Máy tính nhúng", False), ("Cảm biến", False), ("Robot", False),
    ("Thiết bị thí nghiệm", False), ("Máy tính", False), ("Thiết bị trình chiếu", False),
    ("Dụng cụ", False), ("Dụng cụ đo", False), ("Vật tư tiêu hao", False), ("Bảo hộ", False),
]

# (name, category, kind, quantity or tags, unit, cost, funding, space index, extra)
ASSETS = [
    ("Máy in 3D Creality Ender-3 V3", "Máy in 3D", 3, 8_490_000, "department", 1),
    ("Máy cắt khắc laser CO2 60W", "Máy cắt laser", 1, 52_000_000, "union", 1),
    ("Kính hiển vi điện tử kết nối máy tính", "Thiết bị thí nghiệm", 2, 15_600_000,
     "department", 0),
    ("Máy tính xách tay Dell Latitude 3540", "Máy tính", 6, 17_990_000, "union", -1),
    ("Máy chiếu Epson EB-X51", "Thiết bị trình chiếu", 2, 11_500_000, "school", -1),
    ("Máy khoan pin Bosch GSR 120-LI", "Dụng cụ", 2, 1_890_000, "school", 1),
    ("Máy đo pH cầm tay Hanna HI98107", "Dụng cụ đo", 2, 1_350_000, "department", 0),
    ("Bảng tương tác thông minh 65 inch", "Thiết bị trình chiếu", 1, 38_000_000, "union", 0),
]
STOCK = [
    ("Bộ kit Arduino Uno R3 (kèm cảm biến cơ bản)", "Vi điều khiển", 30, "bộ", 650_000,
     "school", 0, False),
    ("Raspberry Pi 4 Model B 4GB", "Máy tính nhúng", 12, "bộ", 2_150_000, "school", 0, False),
    ("Bộ cảm biến môi trường (nhiệt độ, độ ẩm, bụi mịn)", "Cảm biến", 20, "bộ", 420_000,
     "school", 0, False),
    ("Robot giáo dục lập trình mBot", "Robot", 10, "bộ", 2_390_000, "donation", 0, False),
    ("Mỏ hàn điều chỉnh nhiệt 60W", "Dụng cụ", 15, "cái", 185_000, "school", 1, False),
    ("Đồng hồ vạn năng số", "Dụng cụ đo", 15, "cái", 240_000, "school", 1, False),
    ("Nhựa in 3D PLA 1.75mm (cuộn 1kg)", "Vật tư tiêu hao", 24, "cuộn", 290_000,
     "department", 1, True),
    ("Tấm gỗ MDF 3mm khổ A3", "Vật tư tiêu hao", 120, "tấm", 12_000, "department", 1, True),
    ("Kính bảo hộ", "Bảo hộ", 40, "cái", 45_000, "school", 1, False),
    ("Bộ dụng cụ thí nghiệm hóa học vi mô", "Thiết bị thí nghiệm", 8, "bộ", 1_250_000,
     "department", 0, False),
    ("Bộ lắp ráp năng lượng mặt trời mini", "Thiết bị thí nghiệm", 12, "bộ", 560_000,
     "union", 0, False),
    ("ESP32 DevKit V1", "Vi điều khiển", 25, "cái", 145_000, "school", 0, False),
]

PEOPLE = {
    "teacher": [("Nguyễn Thị Thu Hà", "ndc"), ("Trần Văn Phúc", "nqd"), ("Lê Minh Tâm", "tm")],
    "manager": [("Phạm Quốc Huy", "ndc"), ("Võ Thị Ngọc Lan", "nqd"), ("Huỳnh Văn Lợi", "tm")],
    "student": [("Đặng Gia Bảo", "ndc"), ("Ngô Khánh Linh", "nqd"), ("Bùi Minh Khôi", "tm")],
}


def _time(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def bell_schedule(first: str = "07:00") -> list[tuple[int, str, str, str]]:
    """Five 45-minute periods each morning and afternoon, 5-minute breaks, 15 after the 2nd."""
    rows = []
    for session, start, numbers in (("morning", first, range(1, 6)),
                                    ("afternoon", "13:30", range(6, 11))):
        clock = datetime.datetime.combine(datetime.date(2000, 1, 1), _time(start))
        for index, number in enumerate(numbers):
            end = clock + datetime.timedelta(minutes=45)
            rows.append((number, session, clock.strftime("%H:%M"), end.strftime("%H:%M")))
            clock = end + datetime.timedelta(minutes=15 if index == 1 else 5)
    return rows


class Command(BaseCommand):
    help = "Create (or complete) the demo schools, spaces, equipment, loans and users."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        schools = {row["slug"]: School.objects.update_or_create(
            slug=row["slug"], defaults=row)[0] for row in SCHOOLS}
        categories = {name: EquipmentCategory.objects.get_or_create(
            name=name, defaults={"requires_certification": gated})[0]
            for name, gated in CATEGORIES}

        self.user("union", "Nguyễn Hoàng Nam", Role.UNION, None)
        self.user("mentor1", "TS. Trương Thanh Tùng", Role.MENTOR, None)
        for role, people in PEOPLE.items():
            for full_name, slug in people:
                self.user(f"{role}.{slug}", full_name, role, schools[slug])
        self.user("admin", "Quản trị hệ thống", Role.UNION, None, superuser=True)

        for slug, school in schools.items():
            spaces = [self.space(school, row) for row in SPACES[slug]]
            self.periods(school)
            self.equipment(slug, spaces, categories)
            self.loans_and_certifications(school, categories)
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {School.objects.count()} schools, {Space.objects.count()} spaces, "
            f"{Equipment.objects.count()} equipment items, {Loan.objects.count()} loans, "
            f"{User.objects.count()} users (password {PASSWORD})."))
        # Holidays and the Tết break of the school year under way (or, in summer, the coming one).
        call_command("load_holidays", "--school-year", "current", verbosity=0, stdout=self.stdout)
        # Apps built on spaces add their own demo data (by name: spaces imports none of them).
        call_command("seed_demo_bookings", stdout=self.stdout)
        call_command("seed_demo_projects", stdout=self.stdout)
        call_command("seed_demo_sessions", stdout=self.stdout)

    def user(self, username: str, full_name: str, role: str, school: School | None, *,
             superuser: bool = False) -> User:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"full_name": full_name, "role": role, "school": school,
                      "email": f"{username}@stemspace.local", "is_superuser": superuser,
                      "is_staff": superuser})
        if created:
            user.set_password(PASSWORD)
            user.save()
        return user

    def space(self, school: School, row: dict[str, Any]) -> Space:
        space, created = Space.objects.get_or_create(
            school=school, name=row["name"],
            defaults={**row, "description": f"{row['name']} — {school.name}",
                      "max_duration_minutes": 300, "student_bookings_need_approval": True})
        if created:
            OpeningHours.objects.bulk_create(
                [OpeningHours(space=space, weekday=day, opens=_time("07:00"),
                              closes=_time("17:30")) for day in range(5)]
                + [OpeningHours(space=space, weekday=5, opens=_time("07:00"),
                                closes=_time("11:30"))])
        return space

    def periods(self, school: School) -> None:
        # Every day's schedule, and for ndc a Monday that starts later (flag ceremony).
        schedules: list[tuple[int | None, str]] = [(None, "07:00")]
        if school.slug == "ndc":
            schedules.append((0, "07:30"))
        for weekday, first in schedules:
            for number, session, start, end in bell_schedule(first):
                Period.objects.get_or_create(
                    school=school, weekday=weekday, number=number,
                    defaults={"session": session, "start": _time(start), "end": _time(end)})

    def equipment(self, slug: str, spaces: list[Space],
                  categories: dict[str, EquipmentCategory]) -> None:
        prefix = slug.upper()
        for index, (name, category, count, cost, funding, where) in enumerate(ASSETS, start=1):
            for number in range(1, count + 1):
                tag = f"{prefix}-TB{index:02d}-{number:03d}"
                if Equipment.objects.filter(asset_tag=tag).exists():
                    continue
                services.equipment_create(
                    actor=None, space=spaces[where], name=f"{name} #{number}",
                    category=categories[category], kind="asset", asset_tag=tag,
                    serial_number=f"SN{prefix}{number:04d}{len(name)}", quantity=1,
                    cost_vnd=cost, funding_source=funding,
                    purchase_date=datetime.date(2025, 3, 12), unit="cái")
        for name, category, quantity, unit, cost, funding, where, consumable in STOCK:
            space = spaces[min(where, len(spaces) - 1)]
            if Equipment.objects.filter(space__school=space.school, name=name).exists():
                continue
            services.equipment_create(
                actor=None, space=space, name=name, category=categories[category],
                kind="stock", quantity=quantity, unit=unit, cost_vnd=cost,
                funding_source=funding, is_consumable=consumable,
                low_stock_threshold=5 if consumable else None,
                purchase_date=datetime.date(2024, 8, 20))

    def loans_and_certifications(self, school: School,
                                 categories: dict[str, EquipmentCategory]) -> None:
        manager = User.objects.get(username=f"manager.{school.slug}")
        student = User.objects.get(username=f"student.{school.slug}")
        teacher = User.objects.get(username=f"teacher.{school.slug}")
        if not Certification.objects.filter(user=teacher, category=categories["Máy in 3D"]).exists():
            for category in ("Máy in 3D", "Máy cắt laser"):
                services.certification_grant(actor=manager, user=teacher,
                                             category=categories[category],
                                             expires_on=timezone.localdate()
                                             + datetime.timedelta(days=365))
            services.certification_grant(actor=manager, user=student,
                                         category=categories["Máy in 3D"])
        if Loan.objects.filter(equipment__space__school=school).exists():
            return
        kits = Equipment.objects.filter(space__school=school, kind="stock",
                                        category__name="Vi điều khiển").first()
        laptop = Equipment.objects.filter(space__school=school,
                                          category__name="Máy tính").first()
        now = timezone.now()
        if kits:
            services.loan_create(actor=manager, equipment=kits, borrower=teacher, quantity=5,
                                 due_at=now + datetime.timedelta(days=14),
                                 notes="Câu lạc bộ Robotics")
        if laptop:
            loan = services.loan_create(actor=manager, equipment=laptop, borrower=student,
                                        quantity=1, due_at=now + datetime.timedelta(days=3),
                                        notes="Chuẩn bị hồ sơ dự thi KHKT")
            # One loan is already late, so the overdue list has something to show.
            Loan.objects.filter(pk=loan.pk).update(
                checked_out_at=now - datetime.timedelta(days=10),
                due_at=now - datetime.timedelta(days=2))
