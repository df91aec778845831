"""The project data book: the whole logbook of one project on A4 pages, to print or save
as PDF from the browser, the way ISEF asks students to bring it to the fair."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.views import redirect_to_login
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from projects.models import LogComment, LogEntry, Membership
from projects.services import visible_projects


@require_safe
def databook(request: HttpRequest, pk: int) -> HttpResponse:
    """Whoever may see the project; anonymous callers see a public one without its
    students' names (as in the API)."""
    project = (visible_projects(request.user)
               .select_related("school", "category", "advisor").filter(pk=pk).first())
    if project is None:
        if not request.user.is_authenticated:
            # The same answer whether the project exists or not: sign in first.
            return redirect_to_login(request.get_full_path())
        raise Http404
    entries = list(
        LogEntry.objects.filter(project=project)
        .select_related("author", "booking__space")
        .prefetch_related("equipment", "attachments",
                          Prefetch("comments", queryset=LogComment.objects.select_related("author")))
        .order_by("date", "id"))
    total = sum((entry.hours for entry in entries), Decimal(0))
    return render(request, "projects/databook.html", {
        "project": project,
        "team": list(Membership.objects.filter(project=project).select_related("user")
                     .order_by("left_on", "role", "joined_on", "id")),
        "mentors": list(project.mentors.select_related("user")),
        "milestones": list(project.milestones.all()),
        "awards": list(project.awards.all()),
        "entries": entries,
        "total_hours": total,
        "first_date": entries[0].date if entries else None,
        "last_date": entries[-1].date if entries else None,
        "show_people": request.user.is_authenticated,
        "printed_at": timezone.localtime(),
    })
