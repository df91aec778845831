"""Fill the database with a province's or a whole country's schools, spaces, people and a year
of bookings, in set-based SQL (INSERT … SELECT generate_series), then VACUUM ANALYZE.

    DJANGO_SETTINGS_MODULE=config.settings python bench/generate.py --scale province|country

Everything already there (schools, people, bookings, audit trail, sessions) is removed first.
The data respects every rule a booking made through the services would:

* each space opens Monday–Saturday 07:00–17:00 (Asia/Ho_Chi_Minh); bookings sit on one-hour
  slots (07:00, 08:00 … 16:00), lasting 45 or 60 minutes, so that two bookings of one space
  never overlap (the `booking_no_overlap` exclusion constraint holds);
* the year runs from 182 days ago to 182 days ahead (the default horizon is 180 days);
* every school has a mid-term break (days +60…+66) and a holiday (day −85): no booking there;
* each space has two weekly series (club sessions, 16:00–17:00): one from five months ago to
  three weeks ahead, one starting in two weeks; their slots are never used by single bookings;
* single bookings: mostly approved; future ones 10 % pending (students' requests) and 7 %
  cancelled, past ones 7 % cancelled; rows are stored in the order they were created, so a
  space's bookings are spread over the table as in real life;
* a manager, a teacher and 41 students per school (students' bookings spread over them);
* what the usage report counts besides bookings (generate_activity): 150 mentors, a session
  owning each approved or cancelled mentor_session booking with its registrations, 12
  equipment items per space and half a year of loans that never overlap, 10 projects per
  school with their members and logbook (an entry for each past project_work booking, linked
  to it, and entries written at home).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

SCALES = {
    "province": {"schools": 3, "spaces_per_school": 3, "bookings": 20_000},
    "country": {"schools": 2_400, "spaces_per_school": 3, "bookings": 1_000_000},
}
HALF_YEAR = 182
HOURS = range(7, 17)  # slot starts, local time
SERIES_HOUR = 16
SERIES = (
    # (weekday offset from space id, first day relative to today, occurrences)
    (0, -154, 26),
    (3, 14, 20),
)
BREAK = (60, 66)
HOLIDAY = -85
TZ = "Asia/Ho_Chi_Minh"

SPACE_NAMES = [("Makerspace", "makerspace", 30), ("Phòng thí nghiệm STEM", "lab", 40),
               ("Phòng khởi nghiệp", "startup_room", 25)]
TITLES = ["Thực hành Vật lý 10A1", "Thực hành Hóa 11A2", "Sinh học 12A3 – thí nghiệm",
          "CLB Robotics", "CLB Lập trình Arduino", "Dự án: Máy lọc nước mini",
          "Dự án: Nhà kính thông minh", "Tập huấn in 3D", "Chuyên gia Sở KH&CN hướng dẫn",
          "Workshop khởi nghiệp", "Ngày hội STEM", "Bảo trì máy in 3D"]


def run(sql: str, params: dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.rowcount


def scalar(sql: str, params: dict | None = None):  # type: ignore[no-untyped-def]
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchone()[0]


def open_days(first: datetime.date, last: datetime.date, today: datetime.date) -> list[datetime.date]:
    closed = {today + datetime.timedelta(days=n) for n in range(BREAK[0], BREAK[1] + 1)}
    closed.add(today + datetime.timedelta(days=HOLIDAY))
    days = []
    day = first
    while day <= last:
        if day.weekday() < 6 and day not in closed:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


# What the usage report aggregates besides bookings (per school or space, at every scale).
STUDENTS_PER_SCHOOL = 40  # besides the one the users step makes
MENTORS = 150
EQUIPMENT = (  # (name, category, kind) per space: nine tagged assets, three counted stocks
    ("Máy in 3D", 1, "asset"), ("Máy in 3D", 1, "asset"), ("Máy cắt laser", 2, "asset"),
    ("Kính hiển vi", 3, "asset"), ("Máy đo pH", 3, "asset"), ("Bộ Arduino Uno", 4, "asset"),
    ("Bộ Raspberry Pi", 4, "asset"), ("Máy hàn thiếc", 5, "asset"),
    ("Bộ robot giáo dục", 6, "asset"), ("Bộ kit cảm biến", 4, "stock"),
    ("Linh kiện điện tử", 5, "stock"), ("Kính bảo hộ", 7, "stock"))
EQUIPMENT_CATEGORIES = (("Máy in 3D", True), ("Máy cắt laser", True), ("Thiết bị thí nghiệm", False),
                        ("Vi điều khiển", False), ("Dụng cụ điện tử", True), ("Robot", False),
                        ("Bảo hộ", False))
LOAN_SLOT_DAYS, LOAN_P = 14, 0.4  # per item: at most one loan a fortnight, 40 % of them taken
PROJECTS_PER_SCHOOL, MEMBERS = 10, 3
LOG_P = 0.55  # per project and past week: an entry written at home (besides booked work)
REGISTRATIONS = (4, 16)  # per mentor session
ACTIVITY_TABLES = ("spaces_equipment", "spaces_loan", "projects_mentor", "projects_mentorsession",
                   "projects_registration", "projects_project", "projects_membership",
                   "projects_logentry")


def add_students(step) -> None:  # type: ignore[no-untyped-def]
    """Forty more students per school, and bench_students: (school, k) → the k-th student."""
    step("students", """
        INSERT INTO accounts_user (password, last_login, is_superuser, username, first_name,
            last_name, email, is_staff, is_active, date_joined, role, full_name, feed_token,
            school_id)
        SELECT '!bench', NULL, false, 'student-' || s.id || '-' || k, '', '',
               'student-' || s.id || '-' || k || '@bench.example', false, true,
               now() - interval '300 days', 'student', 'Học sinh ' || k || ' ' || s.name,
               replace(gen_random_uuid()::text, '-', ''), s.id
        FROM spaces_school s CROSS JOIN generate_series(1, %(extra)s) AS k
        ORDER BY s.id, k""", {"extra": STUDENTS_PER_SCHOOL})
    run("DROP TABLE IF EXISTS bench_students")
    run("""
        CREATE TEMP TABLE bench_students AS
        SELECT school_id, (row_number() OVER (PARTITION BY school_id ORDER BY id) - 1)::int AS k,
               id AS user_id
        FROM accounts_user WHERE role = 'student'""")
    run("CREATE UNIQUE INDEX ON bench_students (school_id, k)")
    run("ANALYZE bench_students")


def generate_activity(step) -> None:  # type: ignore[no-untyped-def]
    """Mentors and their sessions, equipment and loans, projects and their logbook: what the
    usage report counts besides bookings. Past activity only (loans, attendance, logbook);
    sessions own the bookings of kind mentor_session."""
    students = STUDENTS_PER_SCHOOL + 1
    step("mentors", """
        WITH users AS (
            INSERT INTO accounts_user (password, last_login, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined, role, full_name, feed_token,
                school_id)
            SELECT '!bench', NULL, false, 'mentor-' || k, '', '', 'mentor-' || k || '@bench.example',
                   false, true, now() - interval '400 days', 'mentor', 'Chuyên gia ' || k,
                   replace(gen_random_uuid()::text, '-', ''), NULL
            FROM generate_series(1, %(mentors)s) AS k ORDER BY k
            RETURNING id)
        INSERT INTO projects_mentor (organization, expertise, bio, user_id)
        SELECT 'Sở Khoa học và Công nghệ', '["IoT", "Sở hữu trí tuệ"]'::jsonb, '', id
        FROM users ORDER BY id""", {"mentors": MENTORS})
    step("equipment categories", """
        INSERT INTO spaces_equipmentcategory (name, requires_certification, description)
        SELECT c.name, c.certified, '' FROM unnest(%(names)s::text[], %(certified)s::bool[])
            WITH ORDINALITY AS c(name, certified, n) ORDER BY c.n""",
         {"names": [name for name, _c in EQUIPMENT_CATEGORIES],
          "certified": [certified for _n, certified in EQUIPMENT_CATEGORIES]})
    step("equipment", """
        INSERT INTO spaces_equipment (name, kind, asset_tag, serial_number, quantity, unit,
            is_consumable, low_stock_threshold, status, purchase_date, cost_vnd, funding_source,
            last_audit_on, notes, created_at, updated_at, category_id, space_id)
        SELECT e.name, e.kind, CASE WHEN e.kind = 'asset' THEN 'TB-' || sp.id || '-' || e.n END,
               '', CASE WHEN e.kind = 'asset' THEN 1 ELSE 10 + (sp.id + e.n) %% 31 END,
               CASE WHEN e.kind = 'asset' THEN '' ELSE 'bộ' END, false,
               CASE WHEN e.kind = 'stock' THEN 3 END,
               CASE WHEN (sp.id + e.n) %% 29 = 0 THEN 'maintenance' ELSE 'available' END,
               %(today)s::date - 400 - (sp.id %% 300)::int, 2000000 * e.n,
               (ARRAY['union', 'department', 'school'])[1 + e.n %% 3], NULL, '',
               now() - interval '400 days', now() - interval '400 days', c.id, sp.id
        FROM spaces_space sp
        CROSS JOIN unnest(%(names)s::text[], %(categories)s::int[], %(kinds)s::text[])
            WITH ORDINALITY AS e(name, category, kind, n)
        JOIN spaces_equipmentcategory c ON c.name = (%(category_names)s::text[])[e.category]
        ORDER BY sp.id, e.n""",
         {"names": [name for name, _c, _k in EQUIPMENT],
          "categories": [category for _n, category, _k in EQUIPMENT],
          "kinds": [kind for _n, _c, kind in EQUIPMENT],
          "category_names": [name for name, _c in EQUIPMENT_CATEGORIES]})
    # One loan at most per item and fortnight: out on one of the slot's first four days, due
    # 2–7 days later, back before the due time (85 %) or up to 3 days late, or not yet (still
    # out if that is after now; an item's last loan, one in twenty, never came back): loans
    # of an item never overlap.
    step("loans", """
        INSERT INTO spaces_loan (quantity, checked_out_at, due_at, returned_at, return_condition,
            notes, borrower_id, equipment_id, lent_by_id, returned_to_id)
        SELECT l.quantity, l.out_at, l.due_at, CASE WHEN l.back < now() THEN l.back END, '',
               '', st.user_id, l.equipment_id, p.manager_id,
               CASE WHEN l.back < now() THEN p.manager_id END
        FROM (
            SELECT o.*,
                   CASE WHEN o.r_lost < 0.05 AND o.last THEN NULL
                        WHEN o.r_late < 0.15 THEN o.due_at + o.r_back * interval '3 days'
                        ELSE o.due_at - o.r_back * (o.days - 0.5) * interval '1 day' END AS back
            FROM (
                SELECT t.id AS equipment_id, sp.school_id,
                       CASE WHEN t.kind = 'asset' THEN 1 ELSE 1 + floor(random() * 3)::int END
                           AS quantity,
                       t.out_at, t.days, t.out_at + t.days * interval '1 day' AS due_at,
                       random() AS r_lost, random() AS r_late, random() AS r_back,
                       floor(random() * %(students)s)::int AS student_k,
                       count(*) OVER (PARTITION BY t.id ORDER BY t.out_at DESC
                                      ROWS UNBOUNDED PRECEDING) = 1 AS last
                FROM (
                    -- random() in a subquery's select list: drawn for every item and slot
                    SELECT e.id, e.kind, e.space_id, random() AS r_taken,
                           ((%(first)s::date + slot * %(slot_days)s + floor(random() * 4)::int)
                            + make_time(7 + floor(random() * 9)::int, 0, 0)) AT TIME ZONE %(tz)s
                               AS out_at,
                           2 + floor(random() * 6)::int AS days
                    FROM spaces_equipment e CROSS JOIN generate_series(0, %(slots)s - 1) AS slot
                ) AS t
                JOIN spaces_space sp ON sp.id = t.space_id
                WHERE t.r_taken < %(loan_p)s AND t.out_at < now() - interval '1 hour'
            ) AS o
        ) AS l
        JOIN bench_people p ON p.school_id = l.school_id
        JOIN bench_students st ON st.school_id = l.school_id AND st.k = l.student_k
        ORDER BY l.out_at""",
         {"students": students, "slots": (2 * HALF_YEAR) // LOAN_SLOT_DAYS + 1,
          "slot_days": LOAN_SLOT_DAYS, "loan_p": LOAN_P})
    mentor_first = scalar("SELECT min(id) FROM projects_mentor")
    step("mentor sessions", """
        INSERT INTO projects_mentorsession (topic, description, kind, capacity, notes,
            reminder_sent_at, created_at, updated_at, booking_id, created_by_id, mentor_id,
            school_id)
        SELECT (ARRAY['Đăng ký nhãn hiệu', 'Viết báo cáo KHKT', 'IoT cho nông nghiệp',
                      'Gọi vốn khởi nghiệp', 'An toàn phòng thí nghiệm'])[1 + b.id %% 5],
               '', (ARRAY['mentoring', 'training', 'workshop'])[1 + b.id %% 3], 30, '',
               CASE WHEN b.start < now() THEN b.start - interval '1 day' END,
               b.created_at, b.updated_at, b.id, p.manager_id,
               %(mentor_first)s + floor(random() * %(mentors)s)::int, b.school_id
        FROM bookings_booking b JOIN bench_people p ON p.school_id = b.school_id
        WHERE b.kind = 'mentor_session' AND b.status IN ('approved', 'cancelled')
        ORDER BY b.created_at""", {"mentor_first": mentor_first, "mentors": MENTORS})
    step("registrations", """
        INSERT INTO projects_registration (registered_at, cancelled_at, attended, rating,
            feedback, session_id, student_id)
        SELECT r.registered_at, r.cancelled_at,
               CASE WHEN r.cancelled_at IS NULL AND r."end" < now() THEN r.r_attended < 0.8 END,
               CASE WHEN r.cancelled_at IS NULL AND r."end" < now() AND r.r_attended < 0.4
                    THEN 3 + floor(r.r_attended * 5)::int END,
               '', r.session_id, st.user_id
        FROM (
            SELECT g.*,
                   CASE WHEN g.r_cancel < 0.08
                        THEN least(g.registered_at + (g.start - g.registered_at) * g.r_cancel * 10,
                                   now()) END AS cancelled_at
            FROM (
                SELECT s.session_id, s.school_id, s.start, s."end", (s.first_k + j) %% %(students)s
                           AS student_k,
                       least(s.created_at + (s.start - s.created_at) * random(), now())
                           AS registered_at,
                       random() AS r_cancel, random() AS r_attended
                FROM (
                    SELECT ms.id AS session_id, ms.school_id, b.start, b."end", b.created_at,
                           floor(random() * %(students)s)::int AS first_k,
                           %(low)s + floor(random() * (%(high)s - %(low)s + 1))::int AS n
                    FROM projects_mentorsession ms
                    JOIN bookings_booking b ON b.id = ms.booking_id
                ) AS s
                CROSS JOIN generate_series(0, s.n - 1) AS j
            ) AS g
        ) AS r
        JOIN bench_students st ON st.school_id = r.school_id AND st.k = r.student_k
        ORDER BY r.registered_at""",
         {"students": students, "low": REGISTRATIONS[0], "high": REGISTRATIONS[1]})
    step("project categories", """
        INSERT INTO projects_projectcategory (name_vi, name_en, year, is_active)
        SELECT c.vi, c.en, %(school_year)s, true
        FROM (VALUES ('Kỹ thuật cơ khí', 'Mechanical engineering'),
                     ('Hệ thống nhúng', 'Embedded systems'),
                     ('Khoa học môi trường', 'Environmental science'),
                     ('Vi sinh', 'Microbiology'), ('Phần mềm hệ thống', 'Systems software'),
                     ('Khoa học xã hội và hành vi', 'Behavioural and social sciences'))
            AS c(vi, en)""",
         {"school_year": (lambda d: d.year if d.month >= 8 else d.year - 1)(timezone.localdate())})
    step("projects", """
        INSERT INTO projects_project (title, summary, kind, status, started_on, visibility,
            max_members, startup_stage, ip_status, created_at, updated_at, advisor_id,
            school_id, category_id)
        SELECT (ARRAY['Máy lọc nước mini', 'Nhà kính thông minh', 'Cảnh báo ngập lụt',
                      'Phân bón hữu cơ vi sinh', 'Robot phân loại rác', 'Ứng dụng học từ vựng',
                      'Gạch không nung', 'Đèn năng lượng mặt trời', 'Máy cho cá ăn tự động',
                      'Cảm biến chất lượng không khí'])[1 + k] || ' ' || p.school_id,
               '', CASE WHEN k = 9 THEN 'startup' WHEN k %% 3 = 0 THEN 'engineering'
                        ELSE 'science' END,
               (ARRAY['active', 'active', 'active', 'prototype', 'prototype', 'completed',
                      'exhibited', 'idea', 'active', 'archived'])[1 + k],
               %(today)s::date - 200 - floor(random() * 200)::int,
               CASE WHEN k %% 2 = 0 THEN 'public' ELSE 'private' END, %(members)s,
               CASE WHEN k = 9 THEN 'prototype' ELSE '' END, 'none',
               now() - interval '400 days', now() - interval '10 days', p.teacher_id,
               p.school_id, c.id
        FROM bench_people p CROSS JOIN generate_series(0, %(projects)s - 1) AS k
        JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM projects_projectcategory)
            AS c ON c.n = k %% 6
        ORDER BY p.school_id, k""", {"projects": PROJECTS_PER_SCHOOL, "members": MEMBERS})
    run("DROP TABLE IF EXISTS bench_projects")
    run("""
        CREATE TEMP TABLE bench_projects AS
        SELECT school_id, (row_number() OVER (PARTITION BY school_id ORDER BY id) - 1)::int AS k,
               id AS project_id, started_on
        FROM projects_project""")
    run("CREATE UNIQUE INDEX ON bench_projects (school_id, k)")
    run("ANALYZE bench_projects")
    # Project k's team: students 4k, 4k+1, 4k+2 of its school (the third left one in five).
    step("memberships", """
        INSERT INTO projects_membership (role, joined_on, left_on, user_id, project_id)
        SELECT CASE WHEN j = 0 THEN 'leader' ELSE 'member' END, bp.started_on,
               CASE WHEN j = 2 AND bp.k %% 5 = 0 THEN bp.started_on + 90 END, st.user_id,
               bp.project_id
        FROM bench_projects bp CROSS JOIN generate_series(0, %(members)s - 1) AS j
        JOIN bench_students st ON st.school_id = bp.school_id
                              AND st.k = (bp.k * 4 + j) %% %(students)s
        ORDER BY bp.project_id, j""", {"members": MEMBERS, "students": students})
    # The logbook: an entry for every past approved project_work booking (linked to it, for
    # the school's project id %% 10), and entries written at home, about one week in two.
    step("logbook entries", """
        INSERT INTO projects_logentry (date, hours, body, created_at, updated_at, author_id,
            booking_id, project_id)
        SELECT e.date, e.hours, e.body, e.written_at, e.written_at, st.user_id, e.booking_id,
               e.project_id
        FROM (
            SELECT (b.start AT TIME ZONE %(tz)s)::date AS date,
                   round((extract(epoch FROM b."end" - b.start) / 3600)::numeric, 2) AS hours,
                   'Làm việc tại phòng: ' || b.title AS body,
                   least(b."end" + interval '2 hours', now()) AS written_at,
                   b.school_id, bp.k AS project_k, b.id AS booking_id, bp.project_id
            FROM bookings_booking b
            JOIN bench_projects bp ON bp.school_id = b.school_id
                                  AND bp.k = b.id %% %(projects)s
            WHERE b.kind = 'project_work' AND b.status = 'approved' AND b."end" < now()
            UNION ALL
            SELECT d.day, (1 + floor(random() * 8)) * 0.5,
                   'Thí nghiệm, ghi số liệu và ảnh chụp',
                   least((d.day + time '20:00') AT TIME ZONE %(tz)s, now()),
                   bp.school_id, bp.k, NULL, bp.project_id
            FROM bench_projects bp
            JOIN (SELECT project_id, random() AS r_written,
                         %(today)s::date - 7 * w - floor(random() * 7)::int AS day
                  FROM bench_projects CROSS JOIN generate_series(0, %(weeks)s - 1) AS w
                  ) AS d ON d.project_id = bp.project_id AND d.r_written < %(log_p)s
        ) AS e
        JOIN bench_students st ON st.school_id = e.school_id
                              AND st.k = (e.project_k * 4) %% %(students)s
        ORDER BY e.written_at""",
         {"projects": PROJECTS_PER_SCHOOL, "weeks": HALF_YEAR // 7, "log_p": LOG_P,
          "students": students})


def generate(scale: str, seed: float) -> dict[str, object]:
    config = SCALES[scale]
    today = timezone.localdate()
    first, last = today - datetime.timedelta(days=HALF_YEAR), today + datetime.timedelta(days=HALF_YEAR)
    days = open_days(first, last, today)
    n_spaces = config["schools"] * config["spaces_per_school"]
    params = {"schools": config["schools"], "per_school": config["spaces_per_school"],
              "first": first, "last": last, "today": today, "tz": TZ,
              "titles": TITLES, "series_hour": SERIES_HOUR,
              "students": STUDENTS_PER_SCHOOL + 1}
    timings: dict[str, float] = {}

    def step(label: str, sql: str, extra: dict | None = None) -> int:
        began = time.perf_counter()
        rows = run(sql, params | (extra or {}))
        timings[label] = time.perf_counter() - began
        print(f"  {label:<22} {rows:>10,} rows  {timings[label]:6.1f} s", flush=True)
        return rows

    run("SELECT setseed(%(seed)s)", {"seed": seed})
    step("truncate", "TRUNCATE spaces_school, accounts_user, accounts_auditentry, django_session, "
                     "spaces_equipmentcategory, projects_projectcategory RESTART IDENTITY CASCADE")
    step("schools", """
        INSERT INTO spaces_school (name, slug, district, address)
        SELECT 'THPT Bench ' || lpad(i::text, 4, '0'), 'bench-' || i,
               'Quận ' || (1 + i %% 63), 'Số ' || i || ', đường Nguyễn Huệ'
        FROM generate_series(1, %(schools)s) AS i""")
    names = [name for name, _kind, _capacity in SPACE_NAMES]
    kinds = [kind for _name, kind, _capacity in SPACE_NAMES]
    capacities = [capacity for _name, _kind, capacity in SPACE_NAMES]
    step("spaces", """
        INSERT INTO spaces_space (name, kind, capacity, description, is_active,
            min_duration_minutes, max_duration_minutes, max_days_ahead, min_notice_minutes,
            student_bookings_need_approval, school_id)
        SELECT (%(names)s::text[])[1 + (k - 1) %% 3]
                   || CASE WHEN k > 3 THEN ' ' || ((k - 1) / 3 + 1) ELSE '' END,
               (%(kinds)s::text[])[1 + (k - 1) %% 3], (%(capacities)s::int[])[1 + (k - 1) %% 3],
               '', true, 30, 300, 180, 60, true, s.id
        FROM spaces_school s CROSS JOIN generate_series(1, %(per_school)s) AS k
        ORDER BY s.id, k""", {"names": names, "kinds": kinds, "capacities": capacities})
    step("opening hours", """
        INSERT INTO spaces_openinghours (space_id, weekday, opens, closes)
        SELECT sp.id, wd, '07:00', '17:00'
        FROM spaces_space sp CROSS JOIN generate_series(0, 5) AS wd""")
    step("users", """
        INSERT INTO accounts_user (password, last_login, is_superuser, username, first_name,
            last_name, email, is_staff, is_active, date_joined, role, full_name, feed_token,
            school_id)
        SELECT '!bench', NULL, false, r.role || '-' || s.id, '', '',
               r.role || '-' || s.id || '@bench.example', r.role = 'manager', true,
               now() - interval '400 days', r.role,
               r.label || ' ' || s.name, replace(gen_random_uuid()::text, '-', ''), s.id
        FROM spaces_school s
        CROSS JOIN (VALUES (1, 'manager', 'Quản lý'), (2, 'teacher', 'Giáo viên'),
                           (3, 'student', 'Học sinh')) AS r(n, role, label)
        ORDER BY s.id, r.n""")
    add_students(step)
    run("DROP TABLE IF EXISTS bench_people")
    run("""
        CREATE TEMP TABLE bench_people AS
        SELECT school_id,
               max(id) FILTER (WHERE role = 'manager') AS manager_id,
               max(id) FILTER (WHERE role = 'teacher') AS teacher_id,
               max(id) FILTER (WHERE role = 'student') AS student_id
        FROM accounts_user GROUP BY school_id""")
    run("CREATE UNIQUE INDEX ON bench_people (school_id)")
    step("closures", """
        INSERT INTO bookings_closure (school_id, space_id, start_date, end_date, reason, source,
            created_at, created_by_id)
        SELECT p.school_id, NULL, c.first_day, c.last_day, c.reason, c.source,
               now() - interval '200 days', p.manager_id
        FROM bench_people p CROSS JOIN (VALUES
            (%(today)s::date + %(break_first)s, %(today)s::date + %(break_last)s,
             'Nghỉ giữa học kỳ', 'school_break'),
            (%(today)s::date + %(holiday)s, %(today)s::date + %(holiday)s,
             'Nghỉ lễ', 'holiday')) AS c(first_day, last_day, reason, source)""",
         {"break_first": BREAK[0], "break_last": BREAK[1], "holiday": HOLIDAY})
    run("DROP TABLE IF EXISTS bench_days")
    run("CREATE TEMP TABLE bench_days (day date PRIMARY KEY, wd int NOT NULL)")
    with connection.cursor() as cursor:
        cursor.executemany("INSERT INTO bench_days (day, wd) VALUES (%s, %s)",
                           [(day, day.weekday()) for day in days])
    run("ANALYZE bench_days")
    run("ANALYZE bench_people")

    # Two weekly series per space; occurrences on closed days were skipped (EXDATEs).
    series_values = ", ".join(f"({n}, {offset}, {start}, {count})"
                              for n, (offset, start, count) in enumerate(SERIES))
    step("series", f"""
        INSERT INTO bookings_series (space_id, school_id, title, description, kind, organizer_id,
            attendees, rrule, start, "end", uid, sequence, cancelled_at, created_at, updated_at)
        SELECT sp.id, sp.school_id,
               CASE WHEN d.n = 0 THEN 'CLB Robotics' ELSE 'CLB Lập trình Arduino' END, '',
               'club', p.teacher_id, 20, 'FREQ=WEEKLY;COUNT=' || d.count, f.start,
               f.start + interval '1 hour', replace(gen_random_uuid()::text, '-', ''), 0, NULL,
               least(f.start - interval '14 days', now() - interval '10 days'),
               least(f.start - interval '14 days', now() - interval '10 days')
        FROM spaces_space sp
        JOIN bench_people p ON p.school_id = sp.school_id
        CROSS JOIN (VALUES {series_values}) AS d(n, wd_offset, first_day, count)
        CROSS JOIN LATERAL (
            SELECT ((g.day + make_time(%(series_hour)s, 0, 0)) AT TIME ZONE %(tz)s) AS start
            FROM (SELECT %(today)s::date + d.first_day + i AS day
                  FROM generate_series(0, 6) AS i) AS g
            WHERE extract(isodow FROM g.day)::int - 1 = (sp.id + d.wd_offset) %% 6
        ) AS f
        ORDER BY sp.id, d.n""")
    step("series occurrences", """
        INSERT INTO bookings_booking (title, description, kind, start, "end", attendees, status,
            uid, sequence, recurrence_id, is_exception, rules_overridden, decided_at,
            decision_reason, cancelled_at, cancel_reason, created_at, updated_at,
            cancelled_by_id, decided_by_id, organizer_id, school_id, space_id, series_id)
        SELECT se.title, '', se.kind, o.start, o.start + interval '1 hour', se.attendees,
               CASE WHEN o.k %% 9 = 4 THEN 'cancelled' ELSE 'approved' END,
               replace(gen_random_uuid()::text, '-', ''),
               CASE WHEN o.k %% 9 = 4 THEN 1 ELSE 0 END, o.start, false, false,
               NULL, '',
               CASE WHEN o.k %% 9 = 4 THEN least(o.start - interval '2 days', now()) END,
               '', se.created_at,
               CASE WHEN o.k %% 9 = 4 THEN least(o.start - interval '2 days', now())
                    ELSE se.created_at END,
               CASE WHEN o.k %% 9 = 4 THEN se.organizer_id END, NULL,
               se.organizer_id, se.school_id, se.space_id, se.id
        FROM bookings_series se
        CROSS JOIN LATERAL (
            SELECT k, se.start + k * interval '7 days' AS start
            FROM generate_series(0, split_part(se.rrule, 'COUNT=', 2)::int - 1) AS k
        ) AS o
        WHERE EXISTS (SELECT 1 FROM bench_days bd
                      WHERE bd.day = (o.start AT TIME ZONE %(tz)s)::date)
        ORDER BY se.created_at, o.start""")
    # Single bookings: each free slot of each space taken with probability p. Free slots per
    # space: every open day's hours, less the two series' weekdays at 16:00.
    slots_per_space = len(days) * len(HOURS) - 2 * len(days) / 6
    singles = config["bookings"] - scalar("SELECT count(*) FROM bookings_booking")
    params["p"] = singles / (n_spaces * slots_per_space)
    if not 0 < params["p"] <= 1:
        raise SystemExit(f"{scale}: {config['bookings']} bookings do not fit the slots")
    step("single bookings", """
        INSERT INTO bookings_booking (title, description, kind, start, "end", attendees, status,
            uid, sequence, recurrence_id, is_exception, rules_overridden, decided_at,
            decision_reason, cancelled_at, cancel_reason, created_at, updated_at,
            cancelled_by_id, decided_by_id, organizer_id, school_id, space_id, series_id)
        SELECT b.title, CASE WHEN b.kind = 'mentor_session'
                             THEN 'Chuyên gia Sở KH&CN hướng dẫn dự án' ELSE '' END,
               b.kind, b.start, b.start + b.minutes * interval '1 minute', b.attendees, b.status,
               replace(gen_random_uuid()::text, '-', ''),
               CASE WHEN b.status = 'cancelled' THEN 1 ELSE 0 END, NULL, false, false,
               b.decided_at, '', b.cancelled_at, '', b.created_at,
               coalesce(b.cancelled_at, b.decided_at, b.created_at),
               CASE WHEN b.status = 'cancelled' THEN b.organizer_id END,
               CASE WHEN b.decided_at IS NOT NULL THEN b.manager_id END,
               b.organizer_id, b.school_id, b.space_id, NULL
        FROM (
            SELECT c.*,
                   CASE WHEN c.status = 'cancelled'
                        THEN c.created_at + (least(c.start, now()) - c.created_at) / 2 END
                       AS cancelled_at,
                   CASE WHEN c.organizer_id = c.student_id AND c.status <> 'pending'
                        THEN c.created_at + interval '1 day' END AS decided_at
            FROM (
                SELECT s.*, p.manager_id, st.user_id AS student_id,
                       CASE WHEN s.status = 'pending' OR s.r2 >= 0.85 THEN p.student_id
                            WHEN s.r2 >= 0.7 THEN p.manager_id ELSE p.teacher_id END
                           AS organizer_id,
                       CASE WHEN s.r3 < 0.50 THEN 'class' WHEN s.r3 < 0.65 THEN 'club'
                            WHEN s.r3 < 0.80 THEN 'project_work'
                            WHEN s.r3 < 0.88 THEN 'mentor_session'
                            WHEN s.r3 < 0.95 THEN 'workshop' WHEN s.r3 < 0.98 THEN 'event'
                            ELSE 'maintenance' END AS kind,
                       (%(titles)s::text[])[1 + floor(s.r4 * 12)::int] AS title,
                       CASE WHEN s.r5 < 0.5 THEN 45 ELSE 60 END AS minutes,
                       10 + floor(s.r5 * 20)::int AS attendees,
                       least(s.start - (1 + floor(s.r6 * 30)::int) * interval '1 day',
                             now() - (1 + floor(s.r6 * 1000)::int) * interval '1 hour')
                           AS created_at
                FROM (
                    SELECT sl.*,
                           CASE WHEN sl.start > now() AND sl.r1 < 0.10 THEN 'pending'
                                WHEN sl.start > now() AND sl.r1 < 0.17 THEN 'cancelled'
                                WHEN sl.start <= now() AND sl.r1 < 0.07 THEN 'cancelled'
                                ELSE 'approved' END AS status
                    FROM (
                        SELECT sp.id AS space_id, sp.school_id,
                               ((d.day + make_time(h, 0, 0)) AT TIME ZONE %(tz)s) AS start,
                               random() AS r1, random() AS r2, random() AS r3, random() AS r4,
                               random() AS r5, random() AS r6, random() AS r7
                        FROM spaces_space sp
                        CROSS JOIN bench_days d
                        CROSS JOIN generate_series(7, 16) AS h
                        WHERE NOT (h = %(series_hour)s
                                   AND d.wd IN (sp.id %% 6, (sp.id + 3) %% 6))
                          AND random() < %(p)s
                    ) AS sl
                ) AS s
                JOIN bench_people p ON p.school_id = s.school_id
                JOIN bench_students st ON st.school_id = s.school_id
                                      AND st.k = floor(s.r7 * %(students)s)::int
            ) AS c
        ) AS b
        ORDER BY b.created_at""")
    generate_activity(step)
    began = time.perf_counter()
    run("VACUUM (ANALYZE)")
    timings["vacuum analyze"] = time.perf_counter() - began
    print(f"  {'vacuum analyze':<22} {'':>15}  {timings['vacuum analyze']:6.1f} s", flush=True)

    counts = {
        "schools": scalar("SELECT count(*) FROM spaces_school"),
        "spaces": scalar("SELECT count(*) FROM spaces_space"),
        "users": scalar("SELECT count(*) FROM accounts_user"),
        "series": scalar("SELECT count(*) FROM bookings_series"),
        "closures": scalar("SELECT count(*) FROM bookings_closure"),
        "bookings": scalar("SELECT count(*) FROM bookings_booking"),
        "bookings_active": scalar("SELECT count(*) FROM bookings_booking "
                                  "WHERE status IN ('pending', 'approved')"),
        "bookings_future": scalar("SELECT count(*) FROM bookings_booking WHERE start > now()"),
        "booking_table_mb": round(scalar(
            "SELECT pg_total_relation_size('bookings_booking')") / 2**20),
        **{table: scalar(f"SELECT count(*) FROM {table}") for table in ACTIVITY_TABLES},
    }
    print("  " + ", ".join(f"{key} {value:,}" for key, value in counts.items()), flush=True)
    return {"counts": counts, "timings": timings, "today": today.isoformat()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), required=True)
    parser.add_argument("--seed", type=float, default=0.42)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The benchmarks need PostgreSQL: set DATABASE_URL (bench/run.sh does).")
    began = time.perf_counter()
    generate(args.scale, args.seed)
    print(f"  generated in {time.perf_counter() - began:.1f} s", flush=True)


if __name__ == "__main__":
    main()
