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
  space's bookings are spread over the table as in real life.
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


def generate(scale: str, seed: float) -> dict[str, object]:
    config = SCALES[scale]
    today = timezone.localdate()
    first, last = today - datetime.timedelta(days=HALF_YEAR), today + datetime.timedelta(days=HALF_YEAR)
    days = open_days(first, last, today)
    n_spaces = config["schools"] * config["spaces_per_school"]
    params = {"schools": config["schools"], "per_school": config["spaces_per_school"],
              "first": first, "last": last, "today": today, "tz": TZ,
              "titles": TITLES, "series_hour": SERIES_HOUR}
    timings: dict[str, float] = {}

    def step(label: str, sql: str, extra: dict | None = None) -> int:
        began = time.perf_counter()
        rows = run(sql, params | (extra or {}))
        timings[label] = time.perf_counter() - began
        print(f"  {label:<22} {rows:>10,} rows  {timings[label]:6.1f} s", flush=True)
        return rows

    run("SELECT setseed(%(seed)s)", {"seed": seed})
    step("truncate", "TRUNCATE spaces_school, accounts_user, accounts_auditentry, django_session "
                     "RESTART IDENTITY CASCADE")
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
                SELECT s.*, p.manager_id, p.student_id,
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
                               random() AS r5, random() AS r6
                        FROM spaces_space sp
                        CROSS JOIN bench_days d
                        CROSS JOIN generate_series(7, 16) AS h
                        WHERE NOT (h = %(series_hour)s
                                   AND d.wd IN (sp.id %% 6, (sp.id + 3) %% 6))
                          AND random() < %(p)s
                    ) AS sl
                ) AS s
                JOIN bench_people p ON p.school_id = s.school_id
            ) AS c
        ) AS b
        ORDER BY b.created_at""")
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
