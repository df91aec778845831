"""What a logbook attachment may be: checked by its name's extension AND by its content.

The client's file name and content type are never trusted: the extension must be one we
accept, the first bytes (or, for Office files, the zip's table of contents) must match
it, and the stored path is a random name chosen here. The name people see is cleaned
of paths and control characters.
"""

from __future__ import annotations

import codecs
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _

from spaces.errors import Invalid

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

# extension → the content type we store and serve (whatever the client said)
TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "csv": "text/csv",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# What must be inside an Office file (a zip) for it to be the document its name says.
OFFICE_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}

HEAD_BYTES = 16
TEXT_CHUNK = 64 * 1024
ALLOWED_CONTROLS = frozenset("\t\n\r\f")


def max_bytes() -> int:
    return int(getattr(settings, "LOGBOOK_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass(frozen=True)
class CheckedFile:
    extension: str
    content_type: str
    display_name: str
    size: int


def extension_of(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def display_name(name: str, extension: str) -> str:
    """The name people see: no folders, no control or direction-changing characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    stem = name[: -(len(extension) + 1)] if name.lower().endswith(f".{extension}") else name
    stem = stem.strip().strip(".").strip()[:200] or _("file")
    return f"{stem}.{extension}"


def _is_text(stream: IO[bytes]) -> bool:
    """UTF-8 (a BOM allowed) with no NULs or other control characters: plain text or CSV."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        while chunk := stream.read(TEXT_CHUNK):
            text = decoder.decode(chunk)
            if any(ch < " " and ch not in ALLOWED_CONTROLS for ch in text):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _is_office(stream: IO[bytes], extension: str) -> bool:
    # Only the zip's directory is read, never its contents: no zip bomb can go off here.
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False
    return "[Content_Types].xml" in names and OFFICE_PARTS[extension] in names


def content_matches(stream: IO[bytes], extension: str) -> bool:
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    if extension in ("jpg", "jpeg"):
        ok = head.startswith(b"\xff\xd8\xff")
    elif extension == "png":
        ok = head.startswith(b"\x89PNG\r\n\x1a\n")
    elif extension == "webp":
        ok = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    elif extension == "pdf":
        ok = head.startswith(b"%PDF-")
    elif extension in ("txt", "csv"):
        ok = _is_text(stream)
    elif extension in OFFICE_PARTS:
        ok = _is_office(stream, extension)
    else:
        ok = False
    stream.seek(0)
    return ok


def check_upload(stream: IO[bytes], *, name: str, size: int) -> CheckedFile:
    """Refuse (Invalid, field "file") what is too big, empty, of a type we do not take, or
    whose content is not what its name says."""
    limit = max_bytes()
    if size > limit:
        raise Invalid(_("The file is larger than %(size)d MB.") % {"size": limit // (1024 * 1024)},
                      field="file")
    if size == 0:
        raise Invalid(_("The file is empty."), field="file")
    extension = extension_of(name)
    if extension not in TYPES:
        raise Invalid(_("Attach a photo (JPEG, PNG, WebP), a PDF, a text or CSV file, or a Word "
                        "or Excel document (.docx, .xlsx)."), field="file")
    if not content_matches(stream, extension):
        raise Invalid(_("The file's content is not a .%(extension)s file.")
                      % {"extension": extension}, field="file")
    return CheckedFile(extension=extension, content_type=TYPES[extension],
                       display_name=display_name(name, extension), size=size)
