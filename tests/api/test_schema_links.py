"""The OpenAPI links from each create to what can be done with what it created
(api/schema_links.py): what schemathesis's stateful phase follows in make test-fuzz."""

from __future__ import annotations

import pytest


@pytest.fixture
def links(anon, db):
    schema = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    def of(path: str) -> dict:
        return schema["paths"][path]["post"]["responses"]["201"]["links"]
    return of


def test_a_created_booking_links_to_its_own_routes(links):
    found = links("/api/v1/bookings/")
    for operation in ("bookings_retrieve", "bookings_partial_update", "bookings_approve_create",
                      "bookings_reject_create", "bookings_cancel_create", "bookings_history_list"):
        assert found[operation]["operationId"] == operation
        assert found[operation]["parameters"] == {"path.id": "$response.body#/id"}
    assert not any(name.startswith(("spaces_", "schools_")) for name in found)


def test_nested_collections_pass_their_parents_id_on(links):
    assert links("/api/v1/projects/")["projects_log_create"]["parameters"] == {
        "path.project_pk": "$response.body#/id"}
    assert links("/api/v1/projects/{project_pk}/log/")["projects_log_comments_create"][
        "parameters"] == {"path.entry_pk": "$response.body#/id",
                          "path.project_pk": "$request.path.project_pk"}


def test_objects_created_along_are_linked(links):
    assert links("/api/v1/loans/")["loans_return_create"]["parameters"] == {
        "path.id": "$response.body#/id"}
    assert links("/api/v1/closures/")["closures_destroy"]["parameters"] == {
        "path.id": "$response.body#/id"}
    session = links("/api/v1/mentor-sessions/")
    assert session["mentor_sessions_register_create"]["parameters"] == {
        "path.id": "$response.body#/id"}
    assert session["bookings_cancel_create"]["parameters"] == {
        "path.id": "$response.body#/booking"}
    series = links("/api/v1/series/")
    assert series["series_cancel_create"]["parameters"] == {"path.id": "$response.body#/id"}
    assert series["bookings_cancel_create"]["parameters"] == {
        "path.id": "$response.body#/occurrences/0/id"}
