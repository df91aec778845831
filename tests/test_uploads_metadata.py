"""Students' photos are stored without where, when and with what they were taken: the EXIF
(GPS, device, time, orientation), XMP, comments and PNG text chunks are gone, the picture is
turned upright, and what does not decode or declares too many pixels is refused."""

from __future__ import annotations

import io
import os
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms, ImageDraw, PngImagePlugin
from PIL.TiffImagePlugin import IFDRational

from projects import uploads
from projects.models import LogAttachment
from tests import project_factories as pf

MAKE = "Samsung"
MODEL = "Galaxy A54"
TAKEN = "2025:03:14 07:15:42"
AUTHOR = "Nguyễn Văn A"
# A latitude nobody would write by chance: its numerator, as TIFF stores it either way round.
LATITUDE_SECONDS = 361233  # / 10000: 36.1233"
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
       b'22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" '
       b'dc:creator="Nguyen Van A"/></rdf:RDF></x:xmpmeta>')
RED = (220, 20, 20)
WHITE = (255, 255, 255)
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.fixture
def entry(school, student, teacher):
    project = pf.project(school, leader=student, advisor=teacher, visibility="public",
                         title="Cảnh báo xâm nhập mặn")
    return pf.entry(project, student)


def attachments_url(entry, tail=""):
    return f"/api/v1/projects/{entry.project_id}/log/{entry.pk}/attachments/{tail}"


def upload(client, entry, name, content):
    return client.post(attachments_url(entry),
                       {"file": SimpleUploadedFile(name, content, content_type="image/png")},
                       format="multipart")


def download(client, entry, body):
    response = client.get(attachments_url(entry, f"{body['id']}/file/"))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def stored_files(root):
    return [os.path.join(folder, name) for folder, _dirs, names in os.walk(root)
            for name in names]


def phone_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = MAKE
    exif[ExifTags.Base.Model] = MODEL
    exif[ExifTags.Base.Artist] = "Nguyen Van A"  # EXIF text is ASCII
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = TAKEN
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (10.0, 27.0, IFDRational(LATITUDE_SECONDS, 10000))
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (105.0, 38.0, 12.25)
    return exif


def landscape(mode: str = "RGB") -> Image.Image:
    """40 × 20, white, with a red block in the top-left corner as the pixels are stored."""
    image = Image.new(mode, (40, 20), WHITE)
    ImageDraw.Draw(image).rectangle((0, 0, 15, 9), fill=RED)
    return image


def is_red(pixel) -> bool:
    red, green, blue = pixel[:3]
    return red > 180 and green < 80 and blue < 80


def traces(data: bytes) -> list[bytes]:
    """The personal bits of phone_exif / XMP / text chunks that are in `data`."""
    marks = [MAKE.encode(), MODEL.encode(), TAKEN.encode(), AUTHOR.encode(),
             b"Nguyen Van A", b"xmpmeta", b"Exif\x00\x00",
             LATITUDE_SECONDS.to_bytes(4, "little"), LATITUDE_SECONDS.to_bytes(4, "big")]
    return [mark for mark in marks if mark in data]


def assert_no_metadata(data: bytes) -> Image.Image:
    assert traces(data) == []
    image = Image.open(io.BytesIO(data))
    assert not image.getexif()
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "Author", "Comment",
                "Raw profile type exif"} & set(image.info)
    return image


def test_a_phone_jpeg_is_stored_upright_without_its_exif(client_for, entry, student, media):
    source = io.BytesIO()
    # Orientation 6: the phone was held upright; the pixels must be turned 90° clockwise.
    landscape().save(source, "JPEG", exif=phone_exif(orientation=6), xmp=XMP,
                     comment="Chụp ở nhà Bảo", icc_profile=SRGB, quality=95)
    original = source.getvalue()
    assert "Chụp".encode() in original
    assert len(traces(original)) == 7  # the test photo does carry it all (one latitude order)

    client = client_for(student)
    response = upload(client, entry, "IMG_20250314_071542.jpg", original)
    assert response.status_code == 201, response.json()
    body = response.json()
    data = download(client, entry, body)

    image = assert_no_metadata(data)
    assert "Chụp".encode() not in data
    assert image.format == "JPEG" and body["content_type"] == "image/jpeg"
    assert image.size == (20, 40)  # turned upright
    assert is_red(image.getpixel((15, 7)))  # the top-left block, now top-right
    assert not is_red(image.getpixel((4, 32)))  # where a counter-clockwise turn would put it
    assert image.info.get("icc_profile") == SRGB  # the colour profile is not personal
    assert "progressive" not in image.info
    attachment = LogAttachment.objects.get()
    assert body["size"] == attachment.size == len(data) != len(original)
    assert body["name"] == "IMG_20250314_071542.jpg"
    assert attachment.file.name.startswith("logbook/") and "IMG_" not in attachment.file.name


def test_a_png_loses_its_text_and_exif_chunks_and_keeps_its_palette(client_for, entry, student,
                                                                     media):
    picture = landscape().convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    white = picture.getpixel((39, 19))
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", AUTHOR)  # not Latin-1: written as an iTXt chunk
    text.add_text("Comment", "Chụp lúc 07:15 ở nhà", zip=True)
    source = io.BytesIO()
    picture.save(source, "PNG", pnginfo=text, exif=phone_exif(orientation=6),
                 transparency=white)
    original = source.getvalue()
    assert b"eXIf" in original and b"iTXt" in original

    client = client_for(student)
    response = upload(client, entry, "so-do.png", original)
    assert response.status_code == 201, response.json()
    data = download(client, entry, response.json())

    image = assert_no_metadata(data)
    assert all(chunk not in data for chunk in (b"eXIf", b"tEXt", b"iTXt", b"zTXt"))
    assert image.format == "PNG" and image.mode == "P"  # the palette is kept
    assert image.info.get("transparency") == white
    assert image.size == (20, 40)
    assert is_red(image.convert("RGB").getpixel((15, 7)))
    assert response.json()["size"] == len(data)


@pytest.mark.parametrize("lossless", [False, True], ids=["lossy", "lossless"])
def test_a_webp_loses_its_exif_and_xmp(client_for, entry, student, media, lossless):
    source = io.BytesIO()
    landscape().save(source, "WEBP", exif=phone_exif(orientation=6), xmp=XMP, icc_profile=SRGB,
                     lossless=lossless)
    original = source.getvalue()
    assert b"EXIF" in original and b"XMP " in original

    client = client_for(student)
    response = upload(client, entry, "anh.webp", original)
    assert response.status_code == 201, response.json()
    data = download(client, entry, response.json())

    image = assert_no_metadata(data)
    assert b"EXIF" not in data and b"XMP " not in data
    assert image.format == "WEBP" and image.size == (20, 40)
    assert is_red(image.getpixel((15, 7)))
    assert image.info.get("icc_profile") == SRGB
    assert (b"VP8L" in data) is lossless  # written back the way it came
    assert response.json()["size"] == len(data)


def test_other_files_are_stored_byte_for_byte(client_for, entry, student, media):
    content = "giờ,độ mặn\n06:00,1.2\n".encode()
    client = client_for(student)
    response = client.post(attachments_url(entry),
                           {"file": SimpleUploadedFile("so-lieu.csv", content)},
                           format="multipart")
    assert response.status_code == 201
    assert download(client, entry, response.json()) == content
    assert response.json()["size"] == len(content)


@pytest.mark.parametrize("name, content", [
    ("anh.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64),  # a JPEG's first bytes only
    ("anh.jpg", pf.image("JPEG", (64, 64))[:300]),                      # cut short
    ("anh.png", b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64),
    ("anh.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40),
], ids=["jpeg-head", "jpeg-truncated", "png-head", "webp-head"])
def test_a_photo_that_does_not_decode_is_refused(client_for, entry, student, media, name,
                                                 content):
    response = upload(client_for(student, language="en"), entry, name, content)
    assert response.status_code == 400, response.json()
    assert "cannot be opened" in response.json()["file"][0]
    assert not LogAttachment.objects.exists() and stored_files(media) == []


def declared_png(width: int, height: int) -> bytes:
    """A 1 × 1 PNG whose header claims width × height: what a bomb looks like before it is
    decoded (a real one is a few KB of zlib for hundreds of MB of pixels)."""
    source = io.BytesIO()
    Image.new("1", (1, 1)).save(source, "PNG")
    data = bytearray(source.getvalue())
    data[16:24] = struct.pack(">II", width, height)  # IHDR: signature, length, type, then these
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize("size", [(20_000, 20_000), (8_000, 8_000)],
                         ids=["past-pillows-limit", "past-ours"])
def test_a_decompression_bomb_is_refused(client_for, entry, student, media, size):
    response = upload(client_for(student, language="en"), entry, "bom.png", declared_png(*size))
    assert response.status_code == 400, response.json()
    assert "megapixels" in response.json()["file"][0]
    assert not LogAttachment.objects.exists() and stored_files(media) == []


@pytest.mark.parametrize("options", [{}, {"lossless": True}, {"exif": b"Exif\x00\x00II*\x00"}],
                         ids=["lossy", "lossless", "extended"])
def test_a_webp_too_large_is_refused_before_it_is_decoded(client_for, entry, student, media,
                                                          monkeypatch, options):
    source = io.BytesIO()
    landscape().save(source, "WEBP", **options)

    def never(*args, **kwargs):
        raise AssertionError("decoded: Pillow's WebP decoder allocates the canvas on open")

    monkeypatch.setattr(uploads, "MAX_PIXELS", 40 * 20 - 1)
    monkeypatch.setattr(Image, "open", never)
    response = upload(client_for(student, language="en"), entry, "anh.webp", source.getvalue())
    assert response.status_code == 400, response.json()
    assert "megapixels" in response.json()["file"][0]
    assert not LogAttachment.objects.exists() and stored_files(media) == []


def test_the_refusals_are_in_vietnamese_by_default(client_for, entry, student, media):
    response = upload(client_for(student), entry, "bom.png", declared_png(8_000, 8_000))
    assert response.json()["file"] == ["Ảnh có hơn 50 megapixel; vui lòng gửi ảnh nhỏ hơn."]
    response = upload(client_for(student), entry, "anh.jpg", b"\xff\xd8\xff" + b"\x00" * 64)
    assert response.json()["file"] == [
        "Không mở được ảnh này: tệp bị hỏng hoặc không phải ảnh .jpg thật."]
