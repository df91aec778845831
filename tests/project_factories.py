"""Tiny factories for projects and their data book (direct writes: for fixtures)."""

from __future__ import annotations

import datetime
import io
import itertools
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils import timezone
from PIL import Image

from accounts.models import User
from projects.models import (
    LogComment,
    LogEntry,
    Membership,
    Mentor,
    Project,
    ProjectCategory,
)
from spaces.models import School

_seq = itertools.count(1)


def image(kind: str = "PNG", size: tuple[int, int] = (4, 3)) -> bytes:
    """A real (decodable) tiny picture: photos are decoded and written anew on upload."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format=kind)
    return buffer.getvalue()


PNG = image("PNG")
JPEG = image("JPEG")
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def office(part: str) -> bytes:
    """A minimal Office Open XML zip holding `part` (word/document.xml or xl/workbook.xml)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<document/>")
    return buffer.getvalue()


def category(name_en: str | None = None, *, name_vi: str | None = None, year: int = 2026,
             **fields: Any) -> ProjectCategory:
    number = next(_seq)
    return ProjectCategory.objects.create(
        name_en=name_en or f"Category {number}", name_vi=name_vi or f"Lĩnh vực {number}",
        year=year, **fields)


def mentor_profile(user: User, **fields: Any) -> Mentor:
    return Mentor.objects.get_or_create(user=user, defaults=fields)[0]


def project(school: School, *, leader: User | None = None, members: Iterable[User] = (),
            advisor: User | None = None, mentors: Iterable[Mentor] = (),
            visibility: str = "private", kind: str = "science", title: str | None = None,
            **fields: Any) -> Project:
    fields.setdefault("max_members", {"startup": 5}.get(kind, 3))
    obj = Project.objects.create(school=school, title=title or f"Dự án {next(_seq)}",
                                 visibility=visibility, kind=kind, advisor=advisor, **fields)
    if leader is not None:
        Membership.objects.create(project=obj, user=leader, role="leader")
    for person in members:
        Membership.objects.create(project=obj, user=person, role="member")
    obj.mentors.set(list(mentors))
    return obj


def entry(project: Project, author: User, *, date: datetime.date | None = None,
          hours: str = "2", body: str = "Lắp mạch cảm biến, ghi số liệu.",
          days_old: float = 0, **fields: Any) -> LogEntry:
    """An entry written `days_old` days ago."""
    obj = LogEntry.objects.create(project=project, author=author,
                                  date=date or timezone.localdate(), hours=Decimal(hours),
                                  body=body, **fields)
    if days_old:
        written = timezone.now() - datetime.timedelta(days=days_old)
        LogEntry.objects.filter(pk=obj.pk).update(created_at=written, updated_at=written)
        obj.refresh_from_db()
    return obj


def comment(entry: LogEntry, author: User, body: str = "Ghi rõ đơn vị đo.") -> LogComment:
    return LogComment.objects.create(entry=entry, author=author, body=body)
