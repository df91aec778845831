"""Printable QR labels for a space's equipment, as SVG.

Each label carries a QR code (segno) of the item page's address, with the
asset tag and the name printed under it. Labels sit in a grid of 3 × 8 per
A4 page (the common 70 × 37 mm label sheet; cut guides are drawn for plain paper).

Two outputs, one layout:

- `render_pages()` gives one standalone A4 ``<svg>`` per page. The web print page
  puts them one after another, one per printed sheet: this is the way to print.
- `render_sheet()` gives one SVG document whose pages are stacked vertically
  (its viewBox is a whole number of A4 pages, 210 × 297·n mm). One file is
  handy for download, for a vector editor or for a label printer's software; a
  browser printing it may not break pages exactly at the A4 boundaries.

The caller says how an item's address is made (`url_for`), so that this domain
module knows nothing of URLs or requests.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import segno

from spaces.models import Equipment, EquipmentKind, EquipmentStatus, Space

# All lengths in millimetres (the SVG user unit here).
PAGE_WIDTH = 210
PAGE_HEIGHT = 297
COLUMNS = 3
ROWS = 8
LABELS_PER_PAGE = COLUMNS * ROWS
MARGIN_X = 7.0
MARGIN_Y = 8.5
CELL_WIDTH = (PAGE_WIDTH - 2 * MARGIN_X) / COLUMNS   # 65.33
CELL_HEIGHT = (PAGE_HEIGHT - 2 * MARGIN_Y) / ROWS    # 35
QR_SIZE = 24.0
QR_TOP = 1.5
TITLE_SIZE = 3.4
SUBTITLE_SIZE = 2.8
# Rough character budgets so that one line fits a label (no wrapping in SVG).
TITLE_CHARS = 30
SUBTITLE_CHARS = 40
FONT_FAMILY = "DejaVu Sans, Arial, Helvetica, sans-serif"

# How each QR code is drawn; tests render the same code with the same options.
QR_ERROR = "m"
QR_BORDER = 2  # modules of quiet zone; the label's own margin adds to it
QR_SVG_OPTIONS: dict[str, object] = {"scale": 1, "border": QR_BORDER, "dark": "#000"}

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Label:
    equipment_id: int
    url: str
    title: str       # bold line: the asset tag (or the name, for stock)
    subtitle: str    # the name (or the category, for stock)


def label_equipment(space: Space, *, include_stock: bool = False) -> list[Equipment]:
    """The items of `space` that get a label: tagged assets not retired, optionally stock."""
    items = (Equipment.objects.filter(space=space).exclude(status=EquipmentStatus.RETIRED)
             .select_related("category"))
    assets = list(items.filter(kind=EquipmentKind.ASSET, asset_tag__isnull=False)
                  .exclude(asset_tag="").order_by("asset_tag"))
    if not include_stock:
        return assets
    return assets + list(items.filter(kind=EquipmentKind.STOCK).order_by("name", "id"))


def make_labels(items: Iterable[Equipment], url_for: Callable[[Equipment], str]) -> list[Label]:
    labels = []
    for item in items:
        if item.asset_tag:
            labels.append(Label(item.pk, url_for(item), item.asset_tag, item.name))
        else:
            labels.append(Label(item.pk, url_for(item), item.name, item.category.name))
    return labels


def labels_for_space(space: Space, url_for: Callable[[Equipment], str], *,
                     include_stock: bool = False) -> list[Label]:
    return make_labels(label_equipment(space, include_stock=include_stock), url_for)


def qr_svg(url: str) -> str:
    """The QR code of `url` as an inline ``<svg>`` element, one unit per module."""
    return segno.make(url, error=QR_ERROR).svg_inline(**QR_SVG_OPTIONS)


def render_pages(labels: Sequence[Label]) -> list[str]:
    """One standalone A4 ``<svg>`` element per page (at least one page, maybe empty)."""
    return [
        _svg_root(_page_content(chunk), pages=1)
        for chunk in _chunks(labels)
    ]


def render_sheet(labels: Sequence[Label]) -> str:
    """One SVG document: the A4 pages stacked top to bottom."""
    pages = [
        f'<g class="page" transform="translate(0 {index * PAGE_HEIGHT})">'
        f"{_page_content(chunk)}</g>"
        for index, chunk in enumerate(_chunks(labels))
    ]
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            + _svg_root("".join(pages), pages=len(pages)) + "\n")


def _chunks(labels: Sequence[Label]) -> list[Sequence[Label]]:
    return [labels[start:start + LABELS_PER_PAGE]
            for start in range(0, len(labels), LABELS_PER_PAGE)] or [[]]


def _svg_root(content: str, *, pages: int) -> str:
    height = PAGE_HEIGHT * pages
    return (f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" class="label-sheet" '
            f'width="{PAGE_WIDTH}mm" height="{height}mm" viewBox="0 0 {PAGE_WIDTH} {height}" '
            f'font-family="{FONT_FAMILY}">{content}</svg>')


def _page_content(labels: Sequence[Label]) -> str:
    parts = []
    for index, label in enumerate(labels):
        row, column = divmod(index, COLUMNS)
        parts.append(_label(label, MARGIN_X + column * CELL_WIDTH, MARGIN_Y + row * CELL_HEIGHT))
    return "".join(parts)


def _label(label: Label, x: float, y: float) -> str:
    qr = segno.make(label.url, error=QR_ERROR)
    modules = qr.symbol_size(scale=1, border=QR_BORDER)[0]
    scale = QR_SIZE / modules
    centre = CELL_WIDTH / 2
    title_y = QR_TOP + QR_SIZE + 4.0
    subtitle_y = title_y + 3.8
    return (
        f'<g class="label" data-equipment="{label.equipment_id}" data-url="{_escape(label.url)}" '
        f'transform="translate({x:.2f} {y:.2f})">'
        f"<title>{_escape(label.title)} · {_escape(label.subtitle)}</title>"
        # Cut guide for labels printed on plain paper.
        f'<rect width="{CELL_WIDTH:.2f}" height="{CELL_HEIGHT:.2f}" fill="none" stroke="#bbb" '
        f'stroke-width="0.15" stroke-dasharray="1 1"/>'
        f'<g shape-rendering="crispEdges" '
        f'transform="translate({centre - QR_SIZE / 2:.2f} {QR_TOP}) scale({scale:.5f})">'
        f"{qr.svg_inline(**QR_SVG_OPTIONS)}</g>"
        f'<text class="label-title" x="{centre:.2f}" y="{title_y:.2f}" text-anchor="middle" '
        f'font-size="{TITLE_SIZE}" font-weight="bold">'
        f"{_escape(_shorten(label.title, TITLE_CHARS))}</text>"
        f'<text class="label-subtitle" x="{centre:.2f}" y="{subtitle_y:.2f}" '
        f'text-anchor="middle" font-size="{SUBTITLE_SIZE}">'
        f"{_escape(_shorten(label.subtitle, SUBTITLE_CHARS))}</text>"
        "</g>"
    )


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _escape(text: str) -> str:
    """Text and attribute values: XML-escaped, without the characters XML forbids."""
    return html.escape(_XML_INVALID.sub("", text), quote=True)
