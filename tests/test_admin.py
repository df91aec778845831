"""The admin from both sides: a manager keeps their own school's records, nobody else's."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, Certification
from spaces.models import Equipment, Loan, MaintenanceRecord
from tests import factories as f


@pytest.fixture
def browser():
    """browser(user) → a test client logged in as that user, reading English."""

    def login(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return login


@pytest.fixture
def other_kit(other_space, category):
    return f.stock(other_space, category, name="Bộ kit ở trường khác", quantity=5)


def url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


def changelist(model: str) -> str:
    return url(f"{model}_changelist")


def change(model: str, obj) -> str:
    return url(f"{model}_change", obj.pk)


def listed(response) -> set:
    return set(response.context["cl"].result_list)


def equipment_form(**values) -> dict:
    """The equipment page's POST, inline management forms included."""
    data = {"name": "", "category": "", "kind": "asset", "space": "", "status": "available",
            "asset_tag": "", "serial_number": "", "quantity": "1", "unit": "",
            "low_stock_threshold": "", "purchase_date": "", "cost_vnd": "",
            "funding_source": "", "last_audit_on": "", "notes": ""}
    for prefix in ("maintenance", "loans"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    data.update({key: str(value) for key, value in values.items()})
    return data


def equipment_values(item: Equipment, **changes) -> dict:
    values = {name: getattr(item, name) for name in (
        "name", "kind", "status", "asset_tag", "serial_number", "quantity", "unit")}
    values.update(category=item.category_id, space=item.space_id, asset_tag=item.asset_tag or "")
    values.update(changes)
    return equipment_form(**values)


# --- Who gets in -----------------------------------------------------------------------

def test_teacher_has_no_admin_access(browser, teacher):
    client = browser(teacher)

    for page in (url("index"), changelist("spaces_equipment")):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(url("login"))


def test_manager_is_staff_and_sees_the_school_models(browser, manager):
    response = browser(manager).get(url("index"))

    assert response.status_code == 200
    models = {model["object_name"] for app in response.context["app_list"]
              for model in app["models"]}
    assert models == {"User", "Certification", "AuditEntry", "School", "Space", "Period",
                      "EquipmentCategory", "Equipment", "MaintenanceRecord", "Loan",
                      "Booking", "Series", "Closure", "Project", "ProjectCategory", "LogEntry"}


MANAGER_PAGES = ["accounts_user", "accounts_certification", "accounts_auditentry",
                 "spaces_school", "spaces_space", "spaces_period", "spaces_equipmentcategory",
                 "spaces_equipment", "spaces_maintenancerecord", "spaces_loan"]
ADDABLE = ["accounts_certification", "spaces_space", "spaces_period",
           "spaces_equipmentcategory", "spaces_equipment", "spaces_maintenancerecord",
           "spaces_loan"]


@pytest.mark.parametrize("model", MANAGER_PAGES)
@pytest.mark.parametrize("who", ["manager", "admin_user"])
def test_every_list_page_renders(model, who, browser, request, kit, laser, student):
    f.loan(kit, student, request.getfixturevalue("manager"))

    response = browser(request.getfixturevalue(who)).get(changelist(model))

    assert response.status_code == 200


@pytest.mark.parametrize("model", ADDABLE)
@pytest.mark.parametrize("who", ["manager", "admin_user"])
def test_every_add_page_renders(model, who, browser, request, school):
    response = browser(request.getfixturevalue(who)).get(url(f"{model}_add"))

    assert response.status_code == 200


def test_every_record_page_renders_for_the_manager(browser, manager, school, space, kit,
                                                   student, category):
    loan = f.loan(kit, student, manager)
    record = MaintenanceRecord.objects.create(equipment=kit, description="Kiểm kê")
    cert = f.certification(student, category, manager)
    entry = AuditEntry.objects.create(action="x", content_type_id=1, object_id="1",
                                      school_id=school.pk)
    period = f.period(school, 1, "07:00", "07:45")
    client = browser(manager)

    for model, obj in [("accounts_user", student), ("accounts_certification", cert),
                       ("accounts_auditentry", entry), ("spaces_school", school),
                       ("spaces_space", space), ("spaces_period", period),
                       ("spaces_equipmentcategory", category), ("spaces_equipment", kit),
                       ("spaces_maintenancerecord", record), ("spaces_loan", loan)]:
        assert client.get(change(model, obj)).status_code == 200, model


# --- Only their own school -----------------------------------------------------------

def test_manager_sees_only_own_school_equipment(browser, manager, kit, laser, other_kit):
    response = browser(manager).get(changelist("spaces_equipment"))

    assert listed(response) == {kit, laser}


def test_superuser_sees_every_school_equipment(browser, admin_user, kit, laser, other_kit):
    response = browser(admin_user).get(changelist("spaces_equipment"))

    assert listed(response) == {kit, laser, other_kit}


def test_manager_gets_404_for_other_school_equipment(browser, manager, other_kit):
    client = browser(manager)

    assert client.get(change("spaces_equipment", other_kit)).status_code == 404
    response = client.post(change("spaces_equipment", other_kit),
                           equipment_values(other_kit, quantity=1))
    assert response.status_code == 404
    other_kit.refresh_from_db()
    assert other_kit.quantity == 5


@pytest.mark.parametrize("model", ["spaces_space", "spaces_school", "spaces_loan"])
def test_manager_gets_404_for_other_school_records(model, browser, manager, other_space,
                                                   other_kit, other_student, other_manager):
    obj = {"spaces_space": other_space, "spaces_school": other_space.school,
           "spaces_loan": f.loan(other_kit, other_student, other_manager)}[model]

    assert browser(manager).get(change(model, obj)).status_code == 404


def test_manager_sees_only_own_school_loans_and_records(browser, manager, kit, other_kit,
                                                       student, other_student,
                                                       other_manager):
    mine = f.loan(kit, student, manager)
    f.loan(other_kit, other_student, other_manager)
    record = MaintenanceRecord.objects.create(equipment=kit, description="Kiểm kê")
    MaintenanceRecord.objects.create(equipment=other_kit, description="Kiểm kê")
    client = browser(manager)

    assert listed(client.get(changelist("spaces_loan"))) == {mine}
    assert listed(client.get(changelist("spaces_maintenancerecord"))) == {record}


def test_manager_space_choices_are_their_school_only(browser, manager, space, other_space):
    response = browser(manager).get(url("spaces_equipment_add"))

    form = response.context["adminform"].form
    assert list(form.fields["space"].queryset) == [space]


def test_manager_cannot_put_equipment_in_another_school_space(browser, manager, other_space,
                                                             category):
    response = browser(manager).post(url("spaces_equipment_add"), equipment_form(
        name="Máy in", category=category.pk, space=other_space.pk, asset_tag="X-1"))

    assert response.status_code == 200
    assert "space" in response.context["adminform"].form.errors
    assert not Equipment.objects.exists()


def test_manager_views_own_school_but_cannot_edit_schools(browser, manager, school):
    client = browser(manager)

    response = client.get(change("spaces_school", school))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert client.post(change("spaces_school", school), {"name": "X", "slug": "x"}
                       ).status_code == 403
    assert client.get(url("spaces_school_add")).status_code == 403
    school.refresh_from_db()
    assert school.slug == "ndc"


def test_manager_views_only_users_of_own_school(browser, manager, teacher, student,
                                               other_student, union):
    client = browser(manager)

    assert listed(client.get(changelist("accounts_user"))) == {manager, teacher, student}
    assert client.get(change("accounts_user", other_student)).status_code == 404
    assert client.get(change("accounts_user", teacher)).status_code == 200
    assert client.post(change("accounts_user", teacher), {"username": "x"}).status_code == 403
    assert client.get(url("accounts_user_add")).status_code == 403
    assert client.get(url("auth_user_password_change", teacher.pk)).status_code == 403


def test_manager_sees_own_school_audit_entries_only(browser, manager, kit, other_kit,
                                                    school, other_school):
    mine = AuditEntry.objects.create(action="a", content_type_id=1, object_id="1",
                                     school_id=school.pk)
    AuditEntry.objects.create(action="b", content_type_id=1, object_id="2",
                              school_id=other_school.pk)

    assert listed(browser(manager).get(changelist("accounts_auditentry"))) == {mine}


def test_borrower_autocomplete_offers_own_school_people_only(browser, manager, student,
                                                            other_student):
    response = browser(manager).get(url("autocomplete"), {
        "app_label": "spaces", "model_name": "loan", "field_name": "borrower", "term": "student"})

    assert response.status_code == 200
    assert [result["id"] for result in response.json()["results"]] == [str(student.pk)]


# --- Nothing is deleted ------------------------------------------------------------------

@pytest.mark.parametrize("model", MANAGER_PAGES)
def test_manager_cannot_delete_anything(model, browser, manager, school, space, kit, student,
                                        category):
    obj = {
        "accounts_user": student, "accounts_certification": f.certification(
            student, category, manager), "accounts_auditentry": AuditEntry.objects.create(
            action="x", content_type_id=1, object_id="1", school_id=school.pk),
        "spaces_school": school, "spaces_space": space,
        "spaces_period": f.period(school, 1, "07:00", "07:45"),
        "spaces_equipmentcategory": category, "spaces_equipment": kit,
        "spaces_maintenancerecord": MaintenanceRecord.objects.create(equipment=kit,
                                                                     description="x"),
        "spaces_loan": f.loan(kit, student, manager),
    }[model]
    client = browser(manager)

    assert client.get(url(f"{model}_delete", obj.pk)).status_code == 403
    assert client.post(url(f"{model}_delete", obj.pk), {"post": "yes"}).status_code == 403
    response = client.get(changelist(model))
    assert "delete_selected" not in response.context["cl"].model_admin.get_actions(
        response.wsgi_request)
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_superuser_may_delete_but_not_the_audit_trail(browser, admin_user, kit, school):
    entry = AuditEntry.objects.create(action="x", content_type_id=1, object_id="1")
    client = browser(admin_user)

    assert client.get(url("spaces_equipment_delete", kit.pk)).status_code == 200
    assert client.get(url("accounts_auditentry_delete", entry.pk)).status_code == 403
    assert client.get(url("accounts_auditentry_add")).status_code == 403
    assert client.post(change("accounts_auditentry", entry), {"action": "y"}).status_code == 403


# --- Writes go through the services ------------------------------------------------------

def test_manager_adds_equipment_through_the_service(browser, manager, space, category):
    response = browser(manager).post(url("spaces_equipment_add"), equipment_form(
        name="Máy in 3D", category=category.pk, space=space.pk, asset_tag="NDC-3D-009",
        cost_vnd=8490000))

    assert response.status_code == 302
    printer = Equipment.objects.get(asset_tag="NDC-3D-009")
    assert printer.cost_vnd == 8_490_000
    entry = AuditEntry.objects.get(action="equipment.created")
    assert (entry.actor, entry.object_id, entry.school_id) \
        == (manager, str(printer.pk), space.school_id)


def test_asset_quantity_rule_error_is_shown_not_500(browser, manager, space, category):
    response = browser(manager).post(url("spaces_equipment_add"), equipment_form(
        name="Máy in 3D", category=category.pk, space=space.pk, asset_tag="NDC-3D-009",
        quantity=3))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["quantity"] \
        == ["An asset is one item: its quantity is 1."]
    assert not Equipment.objects.exists()
    assert not AuditEntry.objects.exists()


def test_asset_without_a_tag_is_refused_with_the_service_message(browser, manager, space,
                                                                 category):
    response = browser(manager).post(url("spaces_equipment_add"), equipment_form(
        name="Máy in 3D", category=category.pk, space=space.pk))

    assert response.context["adminform"].form.errors["asset_tag"] \
        == ["An asset needs an asset tag."]


def test_manager_edit_is_recorded_in_the_audit_trail(browser, manager, kit):
    response = browser(manager).post(change("spaces_equipment", kit),
                                     equipment_values(kit, quantity=12))

    assert response.status_code == 302
    kit.refresh_from_db()
    assert kit.quantity == 12
    entry = AuditEntry.objects.get(action="equipment.changed")
    assert (entry.actor, entry.data) == (manager, {"quantity": [10, 12]})


def test_quantity_below_units_on_loan_is_a_form_error(browser, manager, kit, student):
    f.loan(kit, student, manager, quantity=5)

    response = browser(manager).post(change("spaces_equipment", kit),
                                     equipment_values(kit, quantity=3))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["quantity"] \
        == ["5 are on loan: the quantity cannot be lower."]
    kit.refresh_from_db()
    assert kit.quantity == 10


def test_maintenance_added_on_the_equipment_page_goes_through_the_service(browser, manager,
                                                                          laser):
    data = equipment_values(laser)
    data.update({"maintenance-TOTAL_FORMS": "1", "maintenance-0-performed_on": "2025-05-01",
                 "maintenance-0-kind": "repair", "maintenance-0-description": "Thay ống laser",
                 "maintenance-0-cost_vnd": "3500000"})

    response = browser(manager).post(change("spaces_equipment", laser), data)

    assert response.status_code == 302
    record = MaintenanceRecord.objects.get(equipment=laser)
    assert (record.kind, record.performed_by, record.cost_vnd) == ("repair", manager, 3_500_000)
    assert AuditEntry.objects.filter(action="maintenance.recorded", actor=manager).exists()


def test_maintenance_record_added_on_its_own_page(browser, manager, kit):
    response = browser(manager).post(url("spaces_maintenancerecord_add"), {
        "equipment": kit.pk, "kind": "audit", "performed_on": "2025-05-02",
        "description": "Kiểm kê cuối năm", "cost_vnd": ""})

    assert response.status_code == 302
    kit.refresh_from_db()
    assert kit.last_audit_on == datetime.date(2025, 5, 2)
    assert MaintenanceRecord.objects.get(equipment=kit).performed_by == manager


def test_retire_action_retires_through_the_service(browser, manager, kit, laser):
    response = browser(manager).post(changelist("spaces_equipment"), {
        "action": "retire", "_selected_action": [kit.pk, laser.pk]})

    assert response.status_code == 302
    assert set(Equipment.objects.values_list("status", flat=True)) == {"retired"}
    assert AuditEntry.objects.filter(action="equipment.changed", actor=manager).count() == 2


def loan_form(equipment, borrower, quantity: int = 1, days: int = 7) -> dict:
    due = timezone.localtime() + datetime.timedelta(days=days)
    return {"equipment": equipment.pk, "borrower": borrower.pk, "quantity": quantity,
            "due_at_0": due.strftime("%Y-%m-%d"), "due_at_1": due.strftime("%H:%M:%S"),
            "notes": ""}


def test_manager_lends_through_the_service(browser, manager, kit, student):
    response = browser(manager).post(url("spaces_loan_add"), loan_form(kit, student, 3))

    assert response.status_code == 302
    loan = Loan.objects.get()
    assert (loan.borrower, loan.quantity, loan.lent_by) == (student, 3, manager)
    assert AuditEntry.objects.get(action="loan.created").actor == manager


def test_lending_more_than_available_is_a_form_error(browser, manager, kit, student):
    response = browser(manager).post(url("spaces_loan_add"), loan_form(kit, student, 11))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["quantity"] \
        == ["Only 10 available, 11 asked."]
    assert not Loan.objects.exists()


def test_lending_needs_certification_on_gated_equipment(browser, manager, laser, student):
    response = browser(manager).post(url("spaces_loan_add"), loan_form(laser, student))

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert not Loan.objects.exists()


def test_manager_cannot_lend_to_another_school_student(browser, manager, kit, other_student):
    response = browser(manager).post(url("spaces_loan_add"), loan_form(kit, other_student))

    assert "borrower" in response.context["adminform"].form.errors
    assert not Loan.objects.exists()


def test_loans_are_read_only_once_made(browser, manager, kit, student):
    loan = f.loan(kit, student, manager)

    response = browser(manager).post(change("spaces_loan", loan), loan_form(kit, student, 2))

    assert response.status_code == 403
    loan.refresh_from_db()
    assert loan.quantity == 1


def test_mark_returned_action_returns_through_the_service(browser, manager, kit, student):
    first, second = f.loan(kit, student, manager), f.loan(kit, student, manager)
    second.returned_at = timezone.now()
    second.save()

    response = browser(manager).post(changelist("spaces_loan"), {
        "action": "mark_returned", "_selected_action": [first.pk, second.pk]}, follow=True)

    first.refresh_from_db()
    assert (first.returned_to, first.returned_at is not None) == (manager, True)
    assert AuditEntry.objects.filter(action="loan.returned").count() == 1
    levels = sorted(message.level_tag for message in response.context["messages"])
    assert levels == ["error", "success"]  # the second was already back


def test_manager_certifies_through_the_service(browser, manager, student, gated_category):
    response = browser(manager).post(url("accounts_certification_add"), {
        "user": student.pk, "category": gated_category.pk, "certified_on": "2025-05-01",
        "expires_on": "2026-05-01", "notes": ""})

    assert response.status_code == 302
    cert = Certification.objects.get()
    assert (cert.user, cert.certified_by) == (student, manager)
    assert AuditEntry.objects.get(action="certification.granted").actor == manager


def test_certification_expiring_before_it_is_given_is_a_form_error(browser, manager, student,
                                                                  gated_category):
    response = browser(manager).post(url("accounts_certification_add"), {
        "user": student.pk, "category": gated_category.pk, "certified_on": "2025-05-01",
        "expires_on": "2025-04-01", "notes": ""})

    assert response.status_code == 200
    assert "expires_on" in response.context["adminform"].form.errors
    assert not Certification.objects.exists()


def test_manager_cannot_certify_another_school_student(browser, manager, other_student,
                                                       gated_category):
    response = browser(manager).post(url("accounts_certification_add"), {
        "user": other_student.pk, "category": gated_category.pk, "certified_on": "2025-05-01",
        "expires_on": "", "notes": ""})

    assert "user" in response.context["adminform"].form.errors
    assert not Certification.objects.exists()


def test_revoke_action_revokes_through_the_service(browser, manager, student, gated_category):
    cert = f.certification(student, gated_category, manager)

    browser(manager).post(changelist("accounts_certification"), {
        "action": "revoke", "_selected_action": [cert.pk]})

    cert.refresh_from_db()
    assert cert.revoked_at is not None
    assert AuditEntry.objects.get(action="certification.revoked").actor == manager


def test_manager_adds_a_space_with_opening_hours_to_own_school(browser, manager, school):
    response = browser(manager).post(url("spaces_space_add"), {
        "school": school.pk, "name": "Phòng robot", "kind": "makerspace", "capacity": "20",
        "description": "", "is_active": "on", "min_duration_minutes": "30",
        "max_duration_minutes": "300", "max_days_ahead": "180", "min_notice_minutes": "60",
        "opening_hours-TOTAL_FORMS": "1", "opening_hours-INITIAL_FORMS": "0",
        "opening_hours-MIN_NUM_FORMS": "0", "opening_hours-MAX_NUM_FORMS": "1000",
        "opening_hours-0-weekday": "0", "opening_hours-0-opens": "07:00",
        "opening_hours-0-closes": "11:00"})

    assert response.status_code == 302
    room = school.spaces.get(name="Phòng robot")
    assert room.opening_hours.count() == 1
