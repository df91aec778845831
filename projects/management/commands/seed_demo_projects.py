"""Demo projects for the three schools (seed_demo calls it). Safe to run again.

Per school: three or four projects across kinds and statuses, led or joined by
`student.<slug>` with a few more students, advised by `teacher.<slug>`, some mentored by
`mentor1`; each with logbook entries over the past weeks (equipment, comments, a data
file), milestones and, for some, an award. The extra students cannot sign in (no
password): they only fill the teams. The current school year's categories are loaded.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from bookings.holidays import current_school_year
from projects import services
from projects.models import LogEntry, MemberRole, Mentor, Project, ProjectCategory
from spaces.models import Equipment, School

EXTRA_STUDENTS = {
    "ndc": ["Trần Minh Thư", "Lê Hoàng Phúc", "Nguyễn Ngọc Hân", "Phạm Đức Anh"],
    "nqd": ["Huỳnh Tấn Phát", "Lý Bảo Ngọc", "Đỗ Quang Vinh", "Trương Mỹ Duyên"],
    "tm": ["Nguyễn Thị Kim Ngân", "Lâm Gia Huy", "Trần Quốc Toàn"],
}

# team: indexes into [student.<slug>, *extra students]; the first is the leader.
# log: (weeks ago, hours, text, equipment category or None, comment by "advisor"/"mentor"/None)
PROJECTS: dict[str, list[dict[str, Any]]] = {
    "ndc": [
        {"title": "Hệ thống cảnh báo xâm nhập mặn cho ruộng lúa dùng IoT",
         "summary": "Trạm cảm biến độ mặn chạy pin mặt trời gửi cảnh báo qua Zalo cho nông dân "
                    "khi độ mặn nước kênh vượt ngưỡng an toàn cho lúa.",
         "kind": "engineering", "category": "Embedded Systems", "status": "prototype",
         "visibility": "public", "team": [0, 1, 2], "mentor": True, "weeks": 12,
         "log": [
             (10, "2", "Khảo sát kênh nội đồng, lấy 6 mẫu nước, đo độ mặn bằng khúc xạ kế.",
              None, "advisor"),
             (8, "3", "Lắp mạch ESP32 với cảm biến độ dẫn điện, hiệu chuẩn bằng dung dịch "
                      "muối 1‰, 2‰, 4‰.", "Vi điều khiển", None),
             (6, "2.5", "Viết chương trình gửi cảnh báo qua mạng di động; thử gửi 20 tin.",
              "Vi điều khiển", "mentor"),
             (4, "3", "In 3D hộp chống nước cho trạm đo, thử ngâm nước 24 giờ.", "Máy in 3D",
              None),
             (2, "2", "Đặt trạm thử tại ruộng nhà bạn Phúc, ghi số liệu 3 ngày.", None,
              "advisor"),
             (0, "1.5", "Tổng hợp số liệu đo, vẽ biểu đồ độ mặn theo giờ.", None, None),
         ],
         "milestones": [("Hoàn thành mạch đo và hiệu chuẩn", 8, True),
                        ("Thử nghiệm tại ruộng 2 tuần", 1, False),
                        ("Nộp hồ sơ Cuộc thi KHKT cấp tỉnh", -6, False)],
         "awards": [("Cuộc thi Khoa học kỹ thuật cấp trường", "school", 0, "Giải Nhất")]},
        {"title": "Chế phẩm vi sinh xử lý rơm rạ thành phân hữu cơ",
         "summary": "Phân lập chủng nấm Trichoderma bản địa để ủ rơm rạ sau thu hoạch thay "
                    "cho việc đốt đồng.",
         "kind": "science", "category": "Microbiology", "status": "active",
         "visibility": "private", "team": [3, 4], "mentor": False, "weeks": 9,
         "log": [
             (8, "2", "Chuẩn bị môi trường PDA, cấy mẫu đất ruộng lên 10 đĩa petri.",
              "Thiết bị thí nghiệm", "advisor"),
             (6, "1.5", "Quan sát khuẩn lạc dưới kính hiển vi, chọn 3 chủng nghi là "
                        "Trichoderma.", "Thiết bị thí nghiệm", None),
             (3, "2", "Ủ 3 đống rơm thí nghiệm và 1 đống đối chứng, đo nhiệt độ hằng ngày.",
              None, None),
         ],
         "milestones": [("Phân lập được chủng nấm", 5, True),
                        ("So sánh thời gian phân hủy với đối chứng", -4, False)],
         "awards": []},
        {"title": "Trà hoa sen Tháp Mười sấy lạnh",
         "summary": "Sản phẩm trà túi lọc từ hoa và tim sen sấy lạnh giữ hương, bán qua "
                    "hội chợ trường và trang bán hàng trực tuyến.",
         "kind": "startup", "category": None, "status": "active", "visibility": "public",
         "team": [1, 0, 3, 4], "mentor": True, "weeks": 10, "startup_stage": "first_customers",
         "ip_status": "trademark_filed",
         "log": [
             (9, "2", "Phỏng vấn 30 khách hàng tại hội chợ về khẩu vị và mức giá.", None, None),
             (7, "3", "Thử 4 công thức phối trộn hoa sen và trà xanh; chọn công thức 3.", None,
              "advisor"),
             (5, "2", "Học buổi tập huấn đăng ký nhãn hiệu; chuẩn bị mẫu nhãn và tờ khai.",
              None, "mentor"),
             (1, "2.5", "Bán thử 50 hộp tại ngày hội khởi nghiệp; ghi nhận phản hồi.", None,
              None),
         ],
         "milestones": [("Nộp đơn đăng ký nhãn hiệu", 4, True),
                        ("Bán 200 hộp đầu tiên", -5, False)],
         "awards": []},
        {"title": "Nhận dạng bệnh đạo ôn trên lá lúa bằng trí tuệ nhân tạo",
         "summary": "Ứng dụng điện thoại chụp lá lúa và gợi ý bệnh, dùng mô hình học máy nhỏ "
                    "chạy trên máy.",
         "kind": "science", "category": "Systems Software", "status": "idea",
         "visibility": "private", "team": [2], "mentor": False, "weeks": 3,
         "log": [(2, "1", "Tìm hiểu các bộ ảnh lá lúa công khai, lập danh sách bệnh cần nhận "
                          "dạng.", "Máy tính", None)],
         "milestones": [("Thu thập 500 ảnh lá lúa", -3, False)],
         "awards": []},
    ],
    "nqd": [
        {"title": "Robot phân loại xoài cát Hòa Lộc theo kích thước và màu sắc",
         "summary": "Băng chuyền nhỏ với camera và cánh tay servo phân loại xoài thành 3 "
                    "loại cho hợp tác xã.",
         "kind": "engineering", "category": "Robotics and Intelligent Machines",
         "status": "prototype", "visibility": "public", "team": [0, 1, 2], "mentor": True,
         "weeks": 11,
         "log": [
             (10, "2", "Đo kích thước và chụp ảnh 100 trái xoài tại hợp tác xã.", None, None),
             (8, "3", "Lắp băng chuyền và cánh tay servo từ bộ robot mBot.", "Robot",
              "advisor"),
             (5, "3", "Huấn luyện nhận dạng màu vỏ; độ chính xác 86%.", "Máy tính nhúng",
              "mentor"),
             (2, "2.5", "Cắt laser khung đỡ camera; chạy thử 200 trái, kẹt 3 lần.",
              "Máy cắt laser", None),
         ],
         "milestones": [("Băng chuyền chạy ổn định", 6, True),
                        ("Độ chính xác phân loại trên 90%", -2, False)],
         "awards": [("Cuộc thi Khoa học kỹ thuật cấp trường", "school", 0, "Giải Nhì")]},
        {"title": "Vật liệu hấp phụ kim loại nặng từ tro trấu",
         "summary": "Biến tính tro trấu làm vật liệu lọc chì và cadimi trong nước giếng.",
         "kind": "science", "category": "Environmental Engineering", "status": "completed",
         "visibility": "public", "team": [3, 0], "mentor": False, "weeks": 16,
         "log": [
             (15, "2", "Đốt trấu ở 600 °C, rây lấy tro mịn.", "Thiết bị thí nghiệm", None),
             (12, "3", "Biến tính tro bằng NaOH, đo pH dung dịch sau xử lý.", "Dụng cụ đo",
              "advisor"),
             (9, "2.5", "Thí nghiệm hấp phụ chì ở 5 nồng độ, gửi mẫu đi phân tích.",
              "Thiết bị thí nghiệm", None),
             (6, "2", "Viết báo cáo và làm poster dự thi.", "Máy tính", "advisor"),
         ],
         "milestones": [("Có kết quả phân tích mẫu", 8, True),
                        ("Hoàn thành báo cáo", 5, True)],
         "awards": [("Cuộc thi Khoa học kỹ thuật cấp tỉnh dành cho học sinh trung học",
                     "province", 0, "Giải Ba")]},
        {"title": "Đồ thủ công mỹ nghệ từ lục bình",
         "summary": "Túi xách và hộp đựng từ lục bình phơi khô, do phụ nữ trong xã đan, bán "
                    "cho khách du lịch.",
         "kind": "startup", "category": None, "status": "active", "visibility": "private",
         "team": [4, 0, 1], "mentor": False, "weeks": 6, "startup_stage": "prototype",
         "log": [
             (5, "2", "Gặp tổ hợp tác đan lục bình, thống nhất giá gia công.", None, None),
             (3, "2", "Làm 5 mẫu túi, chụp ảnh sản phẩm.", None, "advisor"),
         ],
         "milestones": [("Có 5 mẫu sản phẩm", 3, True), ("Mở gian hàng trực tuyến", -4, False)],
         "awards": []},
        {"title": "Máy đo chất lượng nước ao nuôi cá tra giá rẻ",
         "summary": "Thiết bị đo oxy hòa tan, pH và nhiệt độ cho hộ nuôi cá tra nhỏ, giá dưới "
                    "1 triệu đồng.",
         "kind": "engineering", "category": "Environmental Engineering", "status": "active",
         "visibility": "private", "team": [2, 3], "mentor": True, "weeks": 7,
         "log": [
             (6, "2", "So sánh giá các cảm biến oxy hòa tan; chọn cảm biến điện hóa.",
              "Cảm biến", None),
             (4, "2.5", "Lắp mạch Arduino đọc 3 cảm biến, hiển thị LCD.", "Vi điều khiển",
              "mentor"),
             (1, "2", "Đo thử tại ao nhà bạn Vinh, so với máy đo của trại giống.",
              "Dụng cụ đo", None),
         ],
         "milestones": [("Mạch đo đọc đủ 3 chỉ số", 3, True),
                        ("Sai số dưới 5% so với máy chuẩn", -3, False)],
         "awards": []},
    ],
    "tm": [
        {"title": "Hệ thống tưới sen tự động dùng năng lượng mặt trời",
         "summary": "Bơm tưới theo độ ẩm đất cho ruộng sen giống, chạy bằng tấm pin mặt trời.",
         "kind": "engineering", "category": "Energy: Sustainable Materials and Design",
         "status": "active", "visibility": "public", "team": [0, 1], "mentor": True,
         "weeks": 10,
         "log": [
             (9, "2", "Đo lưu lượng bơm và công suất tấm pin mặt trời mini.",
              "Thiết bị thí nghiệm", "advisor"),
             (6, "3", "Lập trình bơm bật theo độ ẩm, thử 3 ngưỡng.", "Vi điều khiển", "mentor"),
             (3, "2", "Lắp thử tại ruộng sen giống của trường.", None, None),
             (1, "1.5", "Ghi độ ẩm đất và số lần bơm chạy trong 5 ngày nắng.", "Cảm biến",
              "advisor"),
         ],
         "milestones": [("Bơm chạy bằng pin mặt trời", 5, True),
                        ("Chạy thử 1 tháng", -4, False)],
         "awards": []},
        {"title": "Chiết xuất tinh dầu vỏ bưởi làm thuốc xua muỗi",
         "summary": "Chưng cất tinh dầu từ vỏ bưởi bỏ đi ở chợ, pha chế xịt xua muỗi an toàn.",
         "kind": "science", "category": "Chemistry", "status": "exhibited",
         "visibility": "public", "team": [2, 3, 0], "mentor": False, "weeks": 20,
         "log": [
             (18, "3", "Chưng cất lôi cuốn hơi nước 2 kg vỏ bưởi, thu 9 ml tinh dầu.",
              "Thiết bị thí nghiệm", "advisor"),
             (14, "2", "Pha 3 nồng độ, thử xua muỗi trong lồng lưới.", None, None),
             (10, "2", "Làm poster và thuyết trình thử trước lớp.", "Thiết bị trình chiếu",
              "advisor"),
         ],
         "milestones": [("Có tinh dầu đạt yêu cầu", 16, True), ("Trưng bày tại hội chợ", 8, True)],
         "awards": [("Cuộc thi Khoa học kỹ thuật cấp tỉnh dành cho học sinh trung học",
                     "province", 1, "Giải Khuyến khích")]},
        {"title": "Gạo hữu cơ Tháp Mười – thương hiệu của nông dân trẻ",
         "summary": "Kết nối hộ trồng lúa hữu cơ với bếp ăn trường học; xây dựng nhãn hiệu.",
         "kind": "startup", "category": None, "status": "idea", "visibility": "private",
         "team": [1, 2], "mentor": True, "weeks": 2, "startup_stage": "idea",
         "log": [(1, "1.5", "Lập danh sách 10 hộ trồng lúa hữu cơ trong xã.", None, None)],
         "milestones": [("Khảo sát 3 bếp ăn trường học", -3, False)],
         "awards": []},
    ],
}

MEASUREMENTS = (
    "thoi_gian,do_man_phan_nghin,nhiet_do_c\n"
    "06:00,1.2,27.5\n09:00,1.6,29.1\n12:00,2.3,31.4\n15:00,2.1,30.8\n18:00,1.4,28.6\n"
)


class Command(BaseCommand):
    help = "Create the demo projects: teams, logbooks, milestones and awards. Safe to re-run."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        call_command("load_project_categories", "--school-year", "current", stdout=self.stdout)
        year = current_school_year(timezone.localdate())
        categories = {c.name_en: c for c in ProjectCategory.objects.filter(year=year)}
        mentor = self.mentor()
        made = 0
        for school in School.objects.filter(slug__in=PROJECTS):
            teacher = User.objects.filter(username=f"teacher.{school.slug}").first()
            student = User.objects.filter(username=f"student.{school.slug}").first()
            if teacher is None or student is None:
                continue  # seed_demo makes them first
            students = [student, *self.students(school)]
            for plan in PROJECTS[school.slug]:
                if Project.objects.filter(school=school, title=plan["title"]).exists():
                    continue
                self.project(school, plan, students=students, advisor=teacher, mentor=mentor,
                             category=categories.get(plan["category"] or ""))
                made += 1
        self.stdout.write(f"Demo projects: {made} created, {Project.objects.count()} in all.")

    def mentor(self) -> Mentor | None:
        user = User.objects.filter(username="mentor1").first()
        if user is None:
            return None
        mentor, _created = Mentor.objects.get_or_create(user=user, defaults={
            "expertise": ["IoT", "Hệ thống nhúng", "Sở hữu trí tuệ"],
            "bio": "Chuyên viên Sở Khoa học và Công nghệ; hướng dẫn dự án kỹ thuật và "
                   "đăng ký nhãn hiệu."})
        return mentor

    def students(self, school: School) -> list[User]:
        people = []
        for number, full_name in enumerate(EXTRA_STUDENTS[school.slug], start=1):
            user, created = User.objects.get_or_create(
                username=f"hs{number}.{school.slug}",
                defaults={"full_name": full_name, "role": Role.STUDENT, "school": school})
            if created:
                user.set_unusable_password()  # fills a team; never signs in
                user.save(update_fields=["password"])
            people.append(user)
        return people

    def project(self, school: School, plan: dict[str, Any], *, students: list[User],
                advisor: User, mentor: Mentor | None, category: ProjectCategory | None) -> None:
        today = timezone.localdate()
        team = [services.TeamMember(students[index],
                                    MemberRole.LEADER if place == 0 else MemberRole.MEMBER)
                for place, index in enumerate(plan["team"])]
        project = services.project_create(
            actor=None, school=school, title=plan["title"], summary=plan["summary"],
            kind=plan["kind"], status=plan["status"], visibility=plan["visibility"],
            category=category, advisor=advisor, members=team,
            mentors=[mentor] if mentor and plan["mentor"] else [],
            started_on=today - datetime.timedelta(weeks=plan["weeks"]),
            startup_stage=plan.get("startup_stage", ""), ip_status=plan.get("ip_status", "none"))
        for position, (weeks, hours, body, equipment, commenter) in enumerate(plan["log"]):
            author = team[position % len(team)].user
            day = today - datetime.timedelta(weeks=weeks, days=1 + position % 3)
            items = list(Equipment.objects.filter(space__school=school, category__name=equipment)
                         .order_by("id")[:1]) if equipment else []
            entry = services.log_entry_create(actor=author, project=project, date=day,
                                              hours=Decimal(hours), body=body, equipment=items)
            if position == len(plan["log"]) - 1 and project.kind == "engineering":
                upload = ContentFile(MEASUREMENTS.encode(), name="so-lieu-do.csv")
                services.attachment_add(actor=author, entry=entry, upload=upload)
            if commenter == "advisor":
                services.log_comment_create(actor=advisor, entry=entry, body=(
                    "Ghi rõ điều kiện thí nghiệm và đơn vị đo để người khác làm lại được."))
            elif commenter == "mentor" and mentor and plan["mentor"]:
                services.log_comment_create(actor=mentor.user, entry=entry, body=(
                    "Hướng đi tốt. Tuần tới thử với số mẫu lớn hơn và ghi lại sai số."))
            # Written on the day it tells of (at 20:00), so older entries are already fixed.
            written = datetime.datetime.combine(day, datetime.time(20, 0),
                                                tzinfo=timezone.get_current_timezone())
            LogEntry.objects.filter(pk=entry.pk).update(created_at=written, updated_at=written)
        for title, weeks_ago, done in plan["milestones"]:
            due = today - datetime.timedelta(weeks=weeks_ago)
            services.milestone_save(actor=None, project=project, title=title, due_on=due,
                                    completed_on=min(due, today) if done else None)
        for competition, level, years_ago, result in plan["awards"]:
            services.award_save(actor=None, project=project, competition=competition,
                                level=level, year=today.year - years_ago, result=result)
