"""The usage report against a fixture computed by hand.

Window: Monday 2 to Sunday 8 March 2026. Spaces open Mon–Sat 07:00–17:00 (10 h a day,
60 h a week). ndc has spaces A and B, nqd has C.
- Closures: all of ndc on Wed 4/3, and A again that day (a day closes once), B alone on
  Thu 5/3 → open hours A 50, B 40, C 60.
- Approved bookings: A Mon 08–10 (2 h, class, teacher); A Sun 1/3 23:00 → Mon 01:00 (event,
  teacher: 1 h inside); A Sat 08–10 mentor session (2 h, mentor); B Tue 13–16 (3 h,
  project work, student); B Sun 8/3 23:00 → Mon 9/3 02:00 (event, teacher: 1 h inside);
  C Fri 08:00–09:30 (1.5 h, class, other teacher). Cancelled, rejected and pending ones
  on Tuesday in A do not count.
- The session: 3 registrations, one cancelled; the student attended, student2 did not.
- Loans (kit kept in A): out 3/3 due 5/3 back 6/3 (late), out 4/3 due 10/3 back 8/3,
  out 20/2 (before the window).
- Project P (ndc; members student, student4): log 3/3 2.5 h in B's booking, 5/3 1.5 h,
  25/2 3 h (before the window).
"""

import datetime
import decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Closure
from projects.models import LogEntry, Membership, Mentor, MentorSession, Project, Registration
from reports.usage import usage_report
from tests import factories as f

FROM, TO = datetime.date(2026, 3, 2), datetime.date(2026, 3, 8)


def day(n):
    return datetime.date(2026, 3, n)


@pytest.fixture
def world(school, other_school, teacher, student, mentor, manager, category):
    a = f.space(school, name="A")
    b = f.space(school, name="B")
    c = f.space(other_school, name="C")
    other_teacher = f.user("teacher.nqd", role="teacher", school=other_school)
    student2 = f.user("student2", role="student", school=school)
    student3 = f.user("student3", role="student", school=school)
    student4 = f.user("student4", role="student", school=school)
    Closure.objects.create(school=school, start_date=day(4), end_date=day(4), reason="Hội thao")
    Closure.objects.create(school=school, space=a, start_date=day(4), end_date=day(4),
                           reason="Sửa điện")
    Closure.objects.create(school=school, space=b, start_date=day(5), end_date=day(5),
                           reason="Sơn tường")

    def book(space, who, start, end, kind="class", status="approved"):
        return f.booking(space, who, start=start, end=end, kind=kind, status=status)

    book(a, teacher, f.at(day(2), "08:00"), f.at(day(2), "10:00"))
    book(a, teacher, f.at(day(1), "23:00"), f.at(day(2), "01:00"), kind="event")
    session_booking = book(a, mentor, f.at(day(7), "08:00"), f.at(day(7), "10:00"),
                           kind="mentor_session")
    book(a, teacher, f.at(day(3), "08:00"), f.at(day(3), "09:00"), status="cancelled")
    book(a, teacher, f.at(day(3), "10:00"), f.at(day(3), "11:00"), status="rejected")
    book(a, student, f.at(day(3), "12:00"), f.at(day(3), "13:00"), status="pending")
    b_booking = book(b, student, f.at(day(3), "13:00"), f.at(day(3), "16:00"),
                     kind="project_work")
    book(b, teacher, f.at(day(8), "23:00"), f.at(day(9), "02:00"), kind="event")
    book(c, other_teacher, f.at(day(6), "08:00"), f.at(day(6), "09:30"))

    session = MentorSession.objects.create(
        mentor=Mentor.objects.create(user=mentor), booking=session_booking, school=school,
        topic="Đăng ký nhãn hiệu", capacity=10, created_by=manager)
    Registration.objects.create(session=session, student=student, attended=True)
    Registration.objects.create(session=session, student=student2, attended=False)
    Registration.objects.create(session=session, student=student3,
                                cancelled_at=f.at(day(6), "10:00"))

    kit = f.stock(a, category, quantity=10)
    f.loan(kit, student, manager, checked_out_at=f.at(day(3), "09:00"), days=2,
           returned_at=f.at(day(6), "09:00"))
    f.loan(kit, student2, manager, checked_out_at=f.at(day(4), "09:00"), days=6,
           returned_at=f.at(day(8), "09:00"))
    f.loan(kit, student2, manager, checked_out_at=datetime.datetime(2026, 2, 20, 2, 0,
                                                                    tzinfo=datetime.UTC))

    project = Project.objects.create(school=school, title="Lọc nước", max_members=3)
    Membership.objects.create(project=project, user=student, role="leader")
    Membership.objects.create(project=project, user=student4)
    for date, hours, booking in ((day(3), "2.5", b_booking), (day(5), "1.5", None),
                                 (datetime.date(2026, 2, 25), "3", None)):
        LogEntry.objects.create(project=project, author=student, date=date,
                                hours=decimal.Decimal(hours), body="Thí nghiệm",
                                booking=booking)
    return {"a": a, "b": b, "c": c}


def by(rows, key):
    return {row[key]: row for row in rows}


def test_by_school(world, school, other_school):
    rows = by(usage_report(date_from=FROM, date_to=TO, group_by="school"), "school")
    ndc = rows[school.pk]
    assert ndc["booked_hours"] == 9.0
    assert ndc["open_hours"] == 90.0
    assert ndc["utilisation"] == 0.1
    assert ndc["bookings"] == 5
    assert ndc["bookings_by_kind"] == {"class": 1, "club": 0, "project_work": 1,
                                       "mentor_session": 1, "workshop": 0, "event": 2,
                                       "maintenance": 0}
    assert ndc["unique_organizers"] == 3
    assert (ndc["mentor_sessions"], ndc["session_registrations"],
            ndc["session_attendance"]) == (1, 2, 1)
    assert (ndc["loans"], ndc["overdue_loans"]) == (2, 1)
    assert (ndc["active_projects"], ndc["logbook_hours"]) == (1, 4.0)
    assert ndc["unique_students"] == 3
    nqd = rows[other_school.pk]
    assert (nqd["booked_hours"], nqd["open_hours"], nqd["utilisation"]) == (1.5, 60.0, 0.025)
    assert (nqd["bookings"], nqd["unique_organizers"], nqd["unique_students"]) == (1, 1, 0)


def test_by_space(world):
    rows = by(usage_report(date_from=FROM, date_to=TO, group_by="space"), "space")
    a, b, c = rows[world["a"].pk], rows[world["b"].pk], rows[world["c"].pk]
    assert (a["booked_hours"], a["open_hours"], a["utilisation"]) == (5.0, 50.0, 0.1)
    assert (b["booked_hours"], b["open_hours"], b["utilisation"]) == (4.0, 40.0, 0.1)
    assert (c["booked_hours"], c["open_hours"]) == (1.5, 60.0)
    assert (a["bookings"], a["unique_organizers"], a["mentor_sessions"]) == (3, 2, 1)
    assert (a["loans"], a["overdue_loans"], a["logbook_hours"]) == (2, 1, 0.0)
    assert a["unique_students"] == 2
    assert (b["bookings"], b["unique_organizers"], b["loans"]) == (2, 2, 0)
    assert (b["active_projects"], b["logbook_hours"], b["unique_students"]) == (1, 2.5, 2)


def test_by_month_across_a_month_boundary(world):
    rows = by(usage_report(date_from=datetime.date(2026, 2, 23), date_to=TO,
                           group_by="month"), "month")
    assert set(rows) == {"2026-02", "2026-03"}
    march = rows["2026-03"]
    # 23/2–8/3: March's part is the week above, plus Sun 1/3 (closed: no hours).
    assert march["booked_hours"] == 10.5 + 1.0  # the Sunday-night event is whole now
    assert march["open_hours"] == 150.0
    assert march["bookings"] == 6
    assert (march["loans"], march["logbook_hours"]) == (2, 4.0)
    february = rows["2026-02"]
    assert february["open_hours"] == 3 * 60.0  # 23–28/2, three spaces, no closures
    # The loan of 20/2 is before the window; the 25/2 logbook entry is inside.
    assert (february["loans"], february["logbook_hours"], february["active_projects"]) == (
        0, 3.0, 1)


def test_school_filter(world, other_school):
    rows = usage_report(date_from=FROM, date_to=TO, group_by="school",
                        school_ids=[other_school.pk])
    assert [row["school"] for row in rows] == [other_school.pk]


def test_query_count_is_fixed(world, school):
    with CaptureQueriesContext(connection) as small:
        usage_report(date_from=FROM, date_to=TO, group_by="school")
    for n in range(20):
        f.booking(world["c"], f.user(role="teacher", school=world["c"].school),
                  start=f.at(day(3), f"{7 + n // 2:02d}:{(n % 2) * 30:02d}"),
                  end=f.at(day(3), f"{7 + n // 2:02d}:{(n % 2) * 30 + 20:02d}"))
    with CaptureQueriesContext(connection) as large:
        usage_report(date_from=FROM, date_to=TO, group_by="school")
    # Schools, spaces, opening hours, closures, then 8 aggregates (bookings ×2, sessions,
    # loans, logbook, students reached ×3).
    assert len(small.captured_queries) == len(large.captured_queries) == 12


@pytest.mark.parametrize("kwargs, field", [
    ({"date_from": TO, "date_to": FROM}, "to"),
    ({"date_from": FROM, "date_to": FROM + datetime.timedelta(days=900)}, "to"),
    ({"date_from": FROM, "date_to": TO, "group_by": "week"}, "group_by"),
])
def test_bad_windows(db, kwargs, field):
    from spaces.errors import Invalid

    with pytest.raises(Invalid) as error:
        usage_report(**kwargs)
    assert error.value.field == field


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_reports_read_from_the_replica(settings):
    """make test and make test-postgres configure DATABASE_REPLICA_URL to the same server."""
    from django.db import connections

    assert "replica" in connections.settings, "DATABASE_REPLICA_URL is not set for the tests"
    settings.REPORTS_DATABASE = "replica"
    school = f.school(slug="ndc")
    space = f.space(school, name="A")
    f.booking(space, f.user(role="teacher", school=school), start=f.at(day(2), "08:00"),
              end=f.at(day(2), "10:00"))
    with CaptureQueriesContext(connections["replica"]) as replica, \
            CaptureQueriesContext(connections["default"]) as primary:
        rows = usage_report(date_from=FROM, date_to=TO, group_by="space")
    assert rows[0]["booked_hours"] == 2.0
    assert len(replica.captured_queries) == 12
    assert len(primary.captured_queries) == 0
    # Outside a report, reads stay on the primary.
    with CaptureQueriesContext(connections["replica"]) as replica:
        list(Closure.objects.all())
    assert len(replica.captured_queries) == 0
