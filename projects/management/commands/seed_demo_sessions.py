"""Demo mentors and their sessions at the three schools (called by seed_demo). Safe to run again."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from projects.models import Mentor, MentorSession, SessionKind
from projects.sessions import mentor_profile_save, register, session_create
from spaces.errors import DomainError
from spaces.models import School, Space, SpaceKind

PASSWORD = "demo12345"

MENTORS: list[dict[str, Any]] = [
    {"username": "mentor1", "full_name": "TS. Trương Thanh Tùng",
     "expertise": ["IoT", "Hệ thống nhúng", "Embedded systems", "Cảm biến"],
     "bio": "Chuyên gia Internet vạn vật và hệ thống nhúng; hướng dẫn các dự án cảm biến, "
            "tự động hóa nông nghiệp dự thi khoa học kỹ thuật cấp tỉnh và quốc gia."},
    {"username": "mentor2", "full_name": "ThS. Lê Thị Mỹ Hạnh",
     "expertise": ["Sở hữu trí tuệ", "Nhãn hiệu", "Trademarks", "Khởi nghiệp"],
     "bio": "Phụ trách sở hữu trí tuệ; tập huấn đăng ký nhãn hiệu, bảo hộ sáng chế và "
            "giải pháp hữu ích cho các nhóm khởi nghiệp học sinh."},
]

DESCRIPTIONS = {
    "Hướng dẫn dự án IoT: cảm biến và truyền dữ liệu":
        "Chọn cảm biến, đo và gửi dữ liệu lên máy chủ qua Wi-Fi; góp ý cho các nhóm dự án "
        "đang chuẩn bị thi khoa học kỹ thuật. Mang theo mạch và sổ nhật ký dự án.",
    "Tập huấn đăng ký và xây dựng nhãn hiệu":
        "Vì sao cần bảo hộ nhãn hiệu; tra cứu nhãn hiệu trên cơ sở dữ liệu của Cục Sở hữu trí "
        "tuệ; chuẩn bị và nộp đơn đăng ký; xây dựng và quảng bá nhãn hiệu cho dự án khởi nghiệp.",
    "Workshop: lập trình vi điều khiển ESP32 cho hệ thống nhúng":
        "Thực hành lập trình ESP32: đọc cảm biến, điều khiển thiết bị, tiết kiệm năng lượng.",
}

# (mentor, topic, kind, places, space kind, weeks ahead, weekday of the first school, start,
#  end, student registers). Each school's weekday is one later than the previous school's,
# so that a mentor is never in two schools at once.
SESSIONS = [
    ("mentor1", "Hướng dẫn dự án IoT: cảm biến và truyền dữ liệu", SessionKind.MENTORING, 15,
     SpaceKind.LAB, 0, 2, "08:00", "10:00", True),
    ("mentor2", "Tập huấn đăng ký và xây dựng nhãn hiệu", SessionKind.TRAINING, 25,
     SpaceKind.STARTUP_ROOM, 1, 0, "08:00", "11:00", True),
    ("mentor1", "Workshop: lập trình vi điều khiển ESP32 cho hệ thống nhúng",
     SessionKind.WORKSHOP, 20, SpaceKind.LAB, 2, 1, "13:30", "16:30", False),
]


def next_weekday(weekday: int, weeks: int = 0) -> datetime.date:
    today = timezone.localdate()
    return today + datetime.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1 + 7 * weeks)


def at(day: datetime.date, clock: str) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(clock),
                                     tzinfo=timezone.get_current_timezone())


class Command(BaseCommand):
    help = "Create the demo mentors (mentor1, mentor2) and their sessions at each school."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        mentors = {row["username"]: self.mentor(row) for row in MENTORS}
        made = 0
        schools = School.objects.filter(slug__in=["ndc", "nqd", "tm"]).order_by("slug")
        for index, school in enumerate(schools):
            for plan in SESSIONS:
                made += self.session(school, index, mentors, *plan)
        self.stdout.write(f"Demo sessions: {made} created, "
                          f"{MentorSession.objects.count()} in all, "
                          f"{Mentor.objects.count()} mentors.")

    def mentor(self, row: dict[str, Any]) -> Mentor:
        user, created = User.objects.get_or_create(
            username=row["username"],
            defaults={"full_name": row["full_name"], "role": Role.MENTOR,
                      "email": f"{row['username']}@stemspace.local"})
        if created:
            user.set_password(PASSWORD)
            user.save()
        mentor = Mentor.objects.filter(user=user).first()
        if mentor is None:
            mentor = mentor_profile_save(actor=None, user=user, expertise=row["expertise"],
                                         bio=row["bio"])
        return mentor

    def session(self, school: School, index: int, mentors: dict[str, Mentor], username: str,
                topic: str, kind: str, places: int, space_kind: str, weeks: int, weekday: int,
                start: str, end: str, student_registers: bool) -> int:
        if MentorSession.objects.filter(school=school, topic=topic).exists():
            return 0
        space = (Space.objects.filter(school=school, kind=space_kind, is_active=True).first()
                 or Space.objects.filter(school=school, is_active=True).order_by("id").first())
        if space is None:
            return 0
        mentor = mentors[username]
        day = next_weekday((weekday + index) % 6, weeks)
        try:
            with transaction.atomic():
                session = session_create(
                    actor=mentor.user, mentor=mentor, space=space, topic=topic, kind=kind,
                    capacity=min(places, space.capacity), start=at(day, start), end=at(day, end),
                    description=DESCRIPTIONS[topic])
        except DomainError as error:  # the slot is taken or the school is closed that day
            self.stdout.write(f"  skipped {topic} ({school.slug}): {error.message}")
            return 0
        student = User.objects.filter(username=f"student.{school.slug}").first()
        if student_registers and student is not None:
            try:
                with transaction.atomic():
                    register(actor=student, session=session)
            except DomainError as error:
                self.stdout.write(f"  {student} not registered: {error.message}")
        return 1
