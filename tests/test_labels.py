"""QR labels of a space's equipment: the SVG sheet (spaces.labels) and who may print it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import segno
from django.urls import reverse

from spaces import labels
from spaces.models import EquipmentStatus
from tests import factories as f

SVG = "{http://www.w3.org/2000/svg}"


def item_url(item) -> str:
    return f"http://testserver{reverse('equipment-detail', args=[item.pk])}"


def parse(svg: str | bytes) -> ET.Element:
    return ET.fromstring(svg.encode() if isinstance(svg, str) else svg)


def label_groups(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "label"]


def texts(group: ET.Element) -> dict[str, str]:
    return {t.get("class", ""): "".join(t.itertext()) for t in group.iter(f"{SVG}text")}


def qr_path(url: str) -> str:
    """The modules of `url`'s QR code, as segno draws them with the labels' options."""
    code = parse(segno.make(url, error="m").svg_inline(**labels.QR_SVG_OPTIONS))
    path = code.find("path")  # svg_inline writes no namespace
    assert path is not None
    return path.get("d", "")


@pytest.fixture
def tagged(space, category):
    """Three tagged assets (out of order), a retired one and a stock item, in `space`."""
    items = [f.asset(space, category, name=f"Máy in 3D số {n}", asset_tag=f"NDC-3D-00{n}")
             for n in (3, 1, 2)]
    f.asset(space, category, name="Máy hỏng bỏ", asset_tag="NDC-OLD-001",
            status=EquipmentStatus.RETIRED)
    f.stock(space, category, name="Bộ kit cảm biến", quantity=20)
    return items


# spaces.labels ------------------------------------------------------------------------

def test_sheet_is_svg_with_one_qr_per_asset_tag_in_tag_order(space, tagged):
    sheet = labels.render_sheet(labels.labels_for_space(space, item_url))

    root = parse(sheet)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 210 297"
    assert root.get("width") == "210mm"
    groups = label_groups(root)
    assert [texts(g)["label-title"] for g in groups] == ["NDC-3D-001", "NDC-3D-002", "NDC-3D-003"]
    assert len([s for s in root.iter(f"{SVG}svg") if s.get("class") == "segno"]) == 3


def test_each_qr_is_segnos_code_of_the_item_address(space, tagged):
    root = parse(labels.render_sheet(labels.labels_for_space(space, item_url)))

    by_id = {str(item.pk): item for item in tagged}
    for group in label_groups(root):
        item = by_id[group.get("data-equipment", "")]
        assert group.get("data-url") == item_url(item)
        (code,) = [s for s in group.iter(f"{SVG}svg") if s.get("class") == "segno"]
        assert code.find(f"{SVG}path").get("d") == qr_path(item_url(item))
        assert texts(group) == {"label-title": item.asset_tag, "label-subtitle": item.name}


def test_sheet_leaves_out_retired_items_and_stock(space, tagged):
    sheet = labels.render_sheet(labels.labels_for_space(space, item_url))

    assert "NDC-OLD-001" not in sheet
    assert "Máy hỏng bỏ" not in sheet
    assert "Bộ kit cảm biến" not in sheet


def test_sheet_includes_stock_with_its_name_when_asked(space, tagged):
    root = parse(labels.render_sheet(labels.labels_for_space(space, item_url,
                                                             include_stock=True)))

    titles = [texts(g)["label-title"] for g in label_groups(root)]
    assert titles == ["NDC-3D-001", "NDC-3D-002", "NDC-3D-003", "Bộ kit cảm biến"]
    assert "NDC-OLD-001" not in titles


def test_sheet_only_has_the_space_own_items(space, other_space, category, tagged):
    f.asset(other_space, category, asset_tag="NQD-3D-001")

    sheet = labels.render_sheet(labels.labels_for_space(space, item_url))

    assert "NQD-3D-001" not in sheet


def test_names_are_escaped(space, category):
    f.asset(space, category, name='Máy <script>alert("x")</script> & bộ', asset_tag="A&B<1>")

    root = parse(labels.render_sheet(labels.labels_for_space(space, item_url)))

    (group,) = label_groups(root)
    assert texts(group) == {"label-title": "A&B<1>",
                            "label-subtitle": 'Máy <script>alert("x")</script> & bộ'}
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))


def test_characters_xml_forbids_are_dropped():
    label = labels.Label(equipment_id=1, url="http://testserver/equipment/1/",
                         title="NDC\x01-1", subtitle="Máy\x00in\x1f 3D")

    root = parse(labels.render_sheet([label]))

    assert texts(label_groups(root)[0]) == {"label-title": "NDC-1", "label-subtitle": "Máyin 3D"}


def test_long_names_are_shortened_to_fit_a_label(space, category):
    f.asset(space, category, name="Máy " * 40, asset_tag="NDC-1")

    root = parse(labels.render_sheet(labels.labels_for_space(space, item_url)))

    subtitle = texts(label_groups(root)[0])["label-subtitle"]
    assert len(subtitle) <= labels.SUBTITLE_CHARS
    assert subtitle.endswith("…")


def test_twenty_five_labels_take_two_a4_pages(space, category):
    for n in range(25):
        f.asset(space, category, asset_tag=f"NDC-{n:03d}")
    space_labels = labels.labels_for_space(space, item_url)

    root = parse(labels.render_sheet(space_labels))
    pages = labels.render_pages(space_labels)

    assert root.get("viewBox") == "0 0 210 594"
    assert root.get("height") == "594mm"
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "page"]) == 2
    assert len(pages) == 2
    assert [len(label_groups(parse(page))) for page in pages] == [24, 1]
    assert all(parse(page).get("viewBox") == "0 0 210 297" for page in pages)


def test_labels_stay_inside_the_page(space, category):
    for n in range(24):
        f.asset(space, category, asset_tag=f"NDC-{n:03d}")

    (page,) = labels.render_pages(labels.labels_for_space(space, item_url))

    for group in label_groups(parse(page)):
        x, y = map(float, group.get("transform", "")[len("translate("):-1].split())
        assert 0 <= x <= labels.PAGE_WIDTH - labels.CELL_WIDTH
        assert 0 <= y <= labels.PAGE_HEIGHT - labels.CELL_HEIGHT


def test_a_space_without_tagged_items_gets_one_empty_page(space):
    root = parse(labels.render_sheet(labels.labels_for_space(space, item_url)))

    assert root.get("viewBox") == "0 0 210 297"
    assert label_groups(root) == []


# The label views ---------------------------------------------------------------------

def test_labels_svg_is_served_as_svg_with_item_addresses(client, manager, space, tagged):
    client.force_login(manager)

    response = client.get(reverse("space-labels", args=[space.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    root = parse(response.content)
    urls = sorted(g.get("data-url") for g in label_groups(root))
    assert urls == sorted(item_url(item) for item in tagged)
    for group in label_groups(root):
        (code,) = [s for s in group.iter(f"{SVG}svg") if s.get("class") == "segno"]
        assert code.find(f"{SVG}path").get("d") == qr_path(group.get("data-url", ""))


def test_labels_svg_with_stock_parameter_adds_stock(client, manager, space, tagged):
    client.force_login(manager)

    response = client.get(reverse("space-labels", args=[space.pk]) + "?stock=1")

    assert len(label_groups(parse(response.content))) == 4


def test_labels_print_page_has_one_svg_per_a4_page(client, manager, space, category):
    for n in range(30):
        f.asset(space, category, asset_tag=f"NDC-{n:03d}")
    client.force_login(manager)

    response = client.get(reverse("space-labels-print", args=[space.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('class="label-sheet"') == 2
    assert body.count('class="label"') == 30
    assert "/static/css/labels.css" in body
    assert reverse("space-labels", args=[space.pk]) in body


@pytest.mark.parametrize("viewer", ["manager", "union", "admin_user"])
def test_labels_allowed_to_school_manager_union_and_admin(client, space, tagged, viewer,
                                                         request):
    client.force_login(request.getfixturevalue(viewer))

    assert client.get(reverse("space-labels", args=[space.pk])).status_code == 200
    assert client.get(reverse("space-labels-print", args=[space.pk])).status_code == 200


@pytest.mark.parametrize("viewer", ["other_manager", "teacher", "student", "mentor"])
def test_labels_refused_to_others(client, space, tagged, viewer, request):
    client.force_login(request.getfixturevalue(viewer))

    assert client.get(reverse("space-labels", args=[space.pk])).status_code == 403
    assert client.get(reverse("space-labels-print", args=[space.pk])).status_code == 403


def test_labels_refused_to_teacher(client, teacher, space, tagged):
    client.force_login(teacher)

    response = client.get(reverse("space-labels", args=[space.pk]))

    assert response.status_code == 403
    assert b"NDC-3D-001" not in response.content


def test_other_school_manager_gets_own_space_labels_but_not_ours(client, other_manager, space,
                                                                 other_space):
    client.force_login(other_manager)

    assert client.get(reverse("space-labels", args=[other_space.pk])).status_code == 200
    assert client.get(reverse("space-labels", args=[space.pk])).status_code == 403


def test_labels_send_anonymous_to_login(client, space):
    for name in ["space-labels", "space-labels-print"]:
        url = reverse(name, args=[space.pk])

        response = client.get(url)

        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={url}"


def test_labels_of_unknown_space_are_404(client, manager):
    client.force_login(manager)

    assert client.get(reverse("space-labels", args=[999999])).status_code == 404
