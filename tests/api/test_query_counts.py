"""Every list endpoint makes the same number of queries for 1 row as for many."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()["count"]


def grow(kind, school, space, manager, student, category, start, n):
    for i in range(start, start + n):
        if kind == "spaces":
            f.space(school, name=f"Phòng {kind} {i}")
        elif kind == "equipment":
            f.stock(space, category, name=f"Kit {i}")
            f.asset(space, category, name=f"Máy {i}")
        elif kind == "loans":
            f.loan(f.stock(space, category, name=f"Bộ {i}"), student, manager)
        elif kind == "periods":
            f.period(school, i + 1, f"{6 + i // 2:02d}:{(i % 2) * 30:02d}",
                     f"{6 + i // 2:02d}:{(i % 2) * 30 + 25:02d}")
        elif kind == "certifications":
            f.certification(student, f.category(f"Cat {i}"), manager)
        elif kind == "schools":
            f.school()
        elif kind == "users":
            f.user(role="student", school=school)
        elif kind == "equipment-categories":
            f.category()


@pytest.mark.parametrize("kind, expected", [
    ("schools", 2), ("spaces", 3), ("periods", 2), ("equipment", 4), ("loans", 2),
    ("certifications", 2), ("users", 2), ("equipment-categories", 2),
])
def test_list_query_count_is_constant(client_for, union, manager, school, space, student,
                                      category, kind, expected):
    """A COUNT and the page; spaces add a prefetch of opening hours, equipment the
    loans and reservations of the page's items (time-aware availability)."""
    client = client_for(union)
    url = f"/api/v1/{kind}/"
    grow(kind, school, space, manager, student, category, 0, 2)
    small, small_rows = count_queries(client, url)
    grow(kind, school, space, manager, student, category, 2, 15)
    large, large_rows = count_queries(client, url)
    assert large_rows > small_rows
    assert small == large == expected


def test_manager_scoped_loan_list_is_constant(client_for, manager, kit):
    client = client_for(manager)
    f.loan(kit, manager, manager)
    first, _ = count_queries(client, "/api/v1/loans/?overdue=false")
    for _i in range(9):
        f.loan(kit, manager, manager)
    second, rows = count_queries(client, "/api/v1/loans/?overdue=false")
    assert rows == 10
    assert first == second == 2
