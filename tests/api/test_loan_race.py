"""Two people asking for the last unit at once: exactly one gets it.

Real threads, real transactions: on PostgreSQL (make test-postgres) the row lock
in loan_create serialises them; on SQLite the immediate transactions do.
"""

import datetime
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from spaces.models import Loan
from tests import factories as f


def race(n, make_request):
    barrier = threading.Barrier(n)
    results = []
    lock = threading.Lock()

    def run(i):
        try:
            barrier.wait()
            code = make_request(i)
            with lock:
                results.append(code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(results)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("owned, threads", [(1, 2), (3, 8)])
def test_concurrent_loans_never_overdraw(owned, threads):
    school = f.school(slug="ndc")
    manager = f.user("manager.ndc", role="manager", school=school)
    borrowers = [f.user(f"student{i}", role="student", school=school) for i in range(threads)]
    item = f.stock(f.space(school), f.category("Vi điều khiển"), quantity=owned)
    due_at = (timezone.now() + datetime.timedelta(days=3)).isoformat()

    def borrow(i):
        client = APIClient()
        client.force_authenticate(manager)
        return client.post("/api/v1/loans/", {"equipment": item.pk, "borrower": borrowers[i].pk,
                                               "quantity": 1, "due_at": due_at},
                           format="json").status_code

    codes = race(threads, borrow)
    assert codes == [201] * owned + [409] * (threads - owned), connection.vendor
    assert Loan.objects.filter(equipment=item).count() == owned
