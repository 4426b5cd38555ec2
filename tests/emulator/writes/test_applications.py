"""Applications, service principals, client secrets and app role assignments."""

from __future__ import annotations

from typing import Any

from tests.emulator._schema_check import check_object
from tests.emulator.writes.support import create, create_group, create_user, emulator, error
from tests.support.inprocess import InProcess

ROLE_ID = "6f3c1a5e-0000-4000-8000-000000000001"


def _app_and_sp(p: InProcess) -> tuple[dict[str, Any], dict[str, Any]]:
    app = create(p, "/applications", {"displayName": "Payroll", "appRoles": [{
        "id": ROLE_ID, "allowedMemberTypes": ["User"], "displayName": "Reader",
        "description": "Reads", "isEnabled": True, "value": "Payroll.Read"}]})
    sp = create(p, "/servicePrincipals", {"appId": app["appId"]})
    return app, sp


def test_create_assigns_id_and_app_id() -> None:
    p = emulator()
    first = create(p, "/applications", {"displayName": "A"})
    second = create(p, "/applications", {"displayName": "A"})
    assert first["appId"] != second["appId"] and first["id"] != second["id"]
    assert check_object("microsoft.graph.application", first) == []
    response = p.call("POST", "/applications", {"displayName": "B", "appId": first["appId"]})
    assert error(response)["message"] == "Property 'appId' is read-only and cannot be set."


def test_service_principal_for_an_application() -> None:
    p = emulator()
    app, sp = _app_and_sp(p)
    assert sp["appId"] == app["appId"]
    assert sp["displayName"] == "Payroll"
    assert check_object("microsoft.graph.servicePrincipal", sp) == []
    twice = p.call("POST", "/servicePrincipals", {"appId": app["appId"]})
    assert twice.status == 400
    assert error(twice)["details"][0]["code"] == "ObjectConflict"
    unknown = p.call("POST", "/servicePrincipals",
                     {"appId": "00000000-0000-4000-8000-000000000bad"})
    assert unknown.status == 400


def test_add_password_returns_the_secret_once() -> None:
    p = emulator()
    app, _ = _app_and_sp(p)
    response = p.call("POST", f"/applications/{app['id']}/addPassword",
                      {"passwordCredential": {"displayName": "ci"}})
    assert response.status == 200
    secret = response.body["secretText"]
    assert len(secret) >= 32
    assert response.body["hint"] == secret[:3]
    stored = p.get(f"/applications/{app['id']}")["passwordCredentials"]
    assert [c["keyId"] for c in stored] == [response.body["keyId"]]
    assert stored[0]["secretText"] is None and stored[0]["hint"] == secret[:3]
    patch = p.call("PATCH", f"/applications/{app['id']}", {"passwordCredentials": []})
    assert patch.status == 400
    removed = p.call("POST", f"/applications/{app['id']}/removePassword",
                     {"keyId": response.body["keyId"]})
    assert removed.status == 204
    assert p.get(f"/applications/{app['id']}")["passwordCredentials"] == []


def test_deleting_an_app_deletes_its_sp_and_restore_brings_back_only_the_app() -> None:
    p = emulator()
    app, sp = _app_and_sp(p)
    assert p.call("DELETE", f"/applications/{app['id']}").status == 204
    assert p.call("GET", f"/servicePrincipals/{sp['id']}").status == 404
    restored = p.call("POST", f"/directory/deletedItems/{app['id']}/restore")
    assert restored.status == 200
    assert restored.body["appId"] == app["appId"]
    assert restored.body["@odata.type"] == "#microsoft.graph.application"
    assert p.call("GET", f"/servicePrincipals/{sp['id']}").status == 404
    assert p.call("POST", f"/directory/deletedItems/{sp['id']}/restore").status == 200
    assert p.get(f"/servicePrincipals/{sp['id']}")["appId"] == app["appId"]


def test_app_role_assignments_to_users_and_groups() -> None:
    p = emulator()
    _, sp = _app_and_sp(p)
    user = create_user(p, "adele")
    group = create_group(p, "readers")
    body = {"principalId": user, "resourceId": sp["id"], "appRoleId": ROLE_ID}
    assignment = p.call("POST", f"/servicePrincipals/{sp['id']}/appRoleAssignedTo", body)
    assert assignment.status == 201
    assert assignment.body["principalType"] == "User"
    assert check_object("microsoft.graph.appRoleAssignment", assignment.body) == []
    again = p.call("POST", f"/users/{user}/appRoleAssignments", body)
    assert again.status == 400
    assert "already exists" in error(again)["message"]
    unknown_role = "00000000-0000-4000-8000-0000000000ff"
    wrong = p.call("POST", f"/groups/{group}/appRoleAssignments",
                   {**body, "principalId": group, "appRoleId": unknown_role})
    assert wrong.status == 400
    listed = p.get(f"/users/{user}/appRoleAssignments")["value"]
    assert [a["id"] for a in listed] == [assignment.body["id"]]
    deleted = p.call("DELETE",
                     f"/servicePrincipals/{sp['id']}/appRoleAssignedTo/{assignment.body['id']}")
    assert deleted.status == 204
    assert p.get(f"/users/{user}/appRoleAssignments")["value"] == []


def test_app_role_assignments_need_their_permission() -> None:
    p = emulator()
    _, sp = _app_and_sp(p)
    user = create_user(p, "adele")
    p.auth.caller.roles = frozenset({"Application.ReadWrite.All"})
    response = p.call("POST", f"/servicePrincipals/{sp['id']}/appRoleAssignedTo",
                      {"principalId": user, "resourceId": sp["id"], "appRoleId": ROLE_ID})
    assert response.status == 403


def test_delegated_grants() -> None:
    p = emulator()
    _, client = _app_and_sp(p)
    resource = create(p, "/servicePrincipals", {
        "appId": create(p, "/applications", {"displayName": "API"})["appId"]})
    body = {"clientId": client["id"], "consentType": "AllPrincipals",
            "resourceId": resource["id"], "scope": "User.Read"}
    grant = create(p, "/oauth2PermissionGrants", body)
    assert check_object("microsoft.graph.oAuth2PermissionGrant", grant) == []
    assert p.call("POST", "/oauth2PermissionGrants", body).status == 409
    assert p.call("PATCH", f"/oauth2PermissionGrants/{grant['id']}",
                  {"scope": "User.Read Mail.Read"}).status == 204
    assert p.get(f"/oauth2PermissionGrants/{grant['id']}")["scope"] == "User.Read Mail.Read"
    assert p.call("DELETE", f"/oauth2PermissionGrants/{grant['id']}").status == 204
