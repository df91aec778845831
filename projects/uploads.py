"""What a logbook attachment may be: checked by its name's extension AND by its content.

The client's file name and content type are never trusted: the extension must be one we
accept, the first bytes (or, for Office files, the zip's table of contents) must match
it, and the stored path is a random name chosen here. The name people see is cleaned
of paths and control characters.

Photos are decoded and written anew, without their metadata: a phone's EXIF carries where
(GPS, often the student's home) and when a picture was taken, the device and at times the
owner's name, and these are minors' photos shown to other users (decree 13/2023).
"""

from __future__ import annotations

import codecs
import io
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

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

# extension → the Pillow format a photo must decode as, and is written back in
IMAGE_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
# A photo is decoded in full; past this many pixels it would take hundreds of MB of memory
# (a few KB of PNG or WebP can declare 20000 × 20000 pixels: a decompression bomb).
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 90
WEBP_QUALITY = 90

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
    # What to store instead of the upload (a photo written anew without its metadata);
    # None: store the upload as it came.
    content: bytes | None = None


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


def _webp_canvas(data: bytes) -> tuple[int, int, bool]:
    """The canvas size and whether the picture is lossless, read from the RIFF chunks.

    Read here because Pillow's WebP decoder allocates the whole canvas when it opens the
    file, before any size check of ours could run. (0, 0, False) when no header says."""
    width = height = 0
    offset = 12
    while offset + 8 <= len(data):
        kind = data[offset:offset + 4]
        length = int.from_bytes(data[offset + 4:offset + 8], "little")
        body = data[offset + 8:offset + 18]
        if kind == b"VP8X" and len(body) >= 10:  # extended format: the canvas, then chunks
            width = int.from_bytes(body[4:7], "little") + 1
            height = int.from_bytes(body[7:10], "little") + 1
        elif kind == b"VP8L" and len(body) >= 5:  # lossless bitstream
            bits = int.from_bytes(body[1:5], "little")
            return width or (bits & 0x3FFF) + 1, height or ((bits >> 14) & 0x3FFF) + 1, True
        elif kind == b"VP8 " and len(body) >= 10:  # lossy bitstream
            return (width or int.from_bytes(body[6:8], "little") & 0x3FFF,
                    height or int.from_bytes(body[8:10], "little") & 0x3FFF, False)
        offset += 8 + length + (length & 1)
    return width, height, False


def _too_many_pixels() -> Invalid:
    return Invalid(_("The photo has more than %(count)d megapixels; send a smaller one.")
                   % {"count": MAX_PIXELS // 1_000_000}, field="file")


def clean_image(stream: IO[bytes], extension: str) -> bytes:
    """The photo decoded and written anew in its own format, upright, without EXIF, XMP,
    comments or PNG text chunks; only the colour profile (ICC) and PNG transparency are kept.

    Refuses (Invalid, field "file") what does not decode as that format, and pictures with
    more than MAX_PIXELS pixels. An animated image keeps only its first frame."""
    kind = IMAGE_FORMATS[extension]
    stream.seek(0)
    data = stream.read()
    lossless = False
    if kind == "WEBP":
        width, height, lossless = _webp_canvas(data)
        if width * height > MAX_PIXELS:
            raise _too_many_pixels()
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
        if image.width * image.height > MAX_PIXELS:
            raise _too_many_pixels()
        # Turned by its Orientation tag, which goes with the rest of the EXIF; the copy
        # decodes the whole (first) frame, so a truncated or corrupt file fails here.
        upright = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as error:  # Pillow's own, far higher limit
        raise _too_many_pixels() from error
    except Invalid:
        raise
    except Exception as error:  # whatever Pillow cannot decode is not a photo we take
        raise Invalid(_("This photo cannot be opened: the file is damaged or is not a real "
                        ".%(extension)s image.") % {"extension": extension},
                      field="file") from error
    # Only what is passed here gets written: `info` is emptied (Pillow's JPEG writer would
    # carry the comment over from it) and what we keep from it is passed by name.
    options: dict[str, Any] = {}
    if icc := image.info.get("icc_profile"):
        options["icc_profile"] = icc
    if kind == "JPEG":
        options |= {"quality": JPEG_QUALITY, "optimize": True, "progressive": False}
    elif kind == "PNG":
        if "transparency" in image.info:
            options["transparency"] = image.info["transparency"]
    elif lossless:
        options["lossless"] = True
    else:
        options["quality"] = WEBP_QUALITY
    upright.info = {}
    out = io.BytesIO()
    upright.save(out, format=kind, **options)
    return out.getvalue()


def check_upload(stream: IO[bytes], *, name: str, size: int) -> CheckedFile:
    """Refuse (Invalid, field "file") what is too big, empty, of a type we do not take, or
    whose content is not what its name says. A photo comes back as `content`: written anew
    without its metadata, to be stored instead of the upload."""
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
    content = clean_image(stream, extension) if extension in IMAGE_FORMATS else None
    return CheckedFile(extension=extension, content_type=TYPES[extension],
                       display_name=display_name(name, extension),
                       size=size if content is None else len(content), content=content)
