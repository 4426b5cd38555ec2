"""Conditional Access, named locations, authorization policy, group settings, roles."""

from __future__ import annotations

from typing import Any

from tests.emulator._schema_check import check_object
from tests.emulator.writes.support import create, create_group, create_user, emulator, error

POLICIES = "/identity/conditionalAccess/policies"
LOCATIONS = "/identity/conditionalAccess/namedLocations"


def policy(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "displayName": "Require MFA", "state": "enabledForReportingButNotEnforced",
        "conditions": {"clientAppTypes": ["all"],
                       "applications": {"includeApplications": ["All"]},
                       "users": {"includeUsers": ["All"]}},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
    }
    body.update(changes)
    return body


def test_policy_create_stamps_times_and_update_sets_modified() -> None:
    p = emulator()
    created = create(p, POLICIES, policy())
    assert created["@odata.context"].endswith("identity/conditionalAccess/policies/$entity")
    assert created["createdDateTime"].endswith("Z") and created["modifiedDateTime"] is None
    assert check_object("microsoft.graph.conditionalAccessPolicy", created) == []
    p.emulator.clock.advance(60)
    assert p.call("PATCH", f"{POLICIES}/{created['id']}", {"state": "disabled"}).status == 204
    after = p.get(f"{POLICIES}/{created['id']}")
    assert after["state"] == "disabled"
    assert after["modifiedDateTime"] > after["createdDateTime"]
    assert p.call("DELETE", f"{POLICIES}/{created['id']}").status == 204


def test_invalid_policies_are_refused() -> None:
    p = emulator()
    no_users = policy(conditions={"applications": {"includeApplications": ["All"]},
                                  "users": {"includeUsers": []}})
    no_apps = policy(conditions={"users": {"includeUsers": ["All"]}})
    no_controls = policy(grantControls=None)
    for body in (no_users, no_apps, no_controls, policy(state="on")):
        response = p.call("POST", POLICIES, body)
        assert response.status == 400
        assert error(response)["code"] == "BadRequest"
        assert error(response)["innerError"]["message"]


def test_policy_writes_use_the_conditional_access_lane_and_permission() -> None:
    p = emulator()
    route, _ = p.emulator.router.match("POST", POLICIES)
    assert route.lane == "conditionalAccess"
    p.auth.caller.roles = frozenset({"Policy.Read.All"})
    assert p.call("POST", POLICIES, policy()).status == 403


def test_named_locations() -> None:
    p = emulator()
    body = {"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "HQ",
            "isTrusted": True, "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange",
                                             "cidrAddress": "12.34.221.11/22"}]}
    created = create(p, LOCATIONS, body)
    assert created["@odata.type"] == "#microsoft.graph.ipNamedLocation"
    assert check_object("microsoft.graph.namedLocation", created) == []
    assert p.call("POST", LOCATIONS, {**body, "ipRanges": []}).status == 400
    update = p.call("PATCH", f"{LOCATIONS}/{created['id']}",
                    {"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "HQ2"})
    assert update.status == 204
    assert p.get(f"{LOCATIONS}/{created['id']}")["displayName"] == "HQ2"


def test_authorization_policy_patch() -> None:
    p = emulator()
    p.loader.add("authorizationPolicy", {"id": "authorizationPolicy",
                                         "allowInvitesFrom": "everyone"})
    response = p.call("PATCH", "/policies/authorizationPolicy",
                      {"allowInvitesFrom": "adminsAndGuestInviters"})
    assert response.status == 204
    assert p.get("/policies/authorizationPolicy")["allowInvitesFrom"] == "adminsAndGuestInviters"


def test_group_settings() -> None:
    p = emulator()
    body = {"templateId": "62375ab9-6b52-47ed-826b-58e47e0e304b",
            "values": [{"name": "EnableMIPLabels", "value": "true"}]}
    created = create(p, "/groupSettings", body)
    assert p.call("POST", "/groupSettings", body).status == 400
    assert p.call("PATCH", f"/groupSettings/{created['id']}", {"values": []}).status == 204
    assert p.call("DELETE", f"/groupSettings/{created['id']}").status == 204


def test_custom_roles_and_assignments() -> None:
    p = emulator()
    p.loader.add("roleDefinitions", {"id": "builtin-1", "displayName": "Reader",
                                     "isBuiltIn": True, "templateId": "builtin-1"})
    role = create(p, "/roleManagement/directory/roleDefinitions", {
        "displayName": "Helpdesk", "isEnabled": True,
        "rolePermissions": [
            {"allowedResourceActions": ["microsoft.directory/users/basic/update"]}]})
    assert role["isBuiltIn"] is False and role["templateId"] == role["id"]
    assert p.call("PATCH", "/roleManagement/directory/roleDefinitions/builtin-1",
                  {"displayName": "x"}).status == 400
    user = create_user(p, "adele")
    body = {"principalId": user, "roleDefinitionId": role["id"], "directoryScopeId": "/"}
    assignment = create(p, "/roleManagement/directory/roleAssignments", body)
    assert check_object("microsoft.graph.unifiedRoleAssignment", assignment) == []
    assert p.call("POST", "/roleManagement/directory/roleAssignments", body).status == 409
    plain_group = create_group(p, "plain")
    refused = p.call("POST", "/roleManagement/directory/roleAssignments",
                     {**body, "principalId": plain_group})
    assert refused.status == 400
    assert p.call("DELETE",
                  f"/roleManagement/directory/roleAssignments/{assignment['id']}").status == 204


def test_scoped_role_members() -> None:
    p = emulator()
    user = create_user(p, "adele")
    p.loader.add("directoryRoles", {"id": "role-1", "displayName": "User Administrator"})
    unit = create(p, "/directory/administrativeUnits", {"displayName": "Sweden"})["id"]
    base = f"/directory/administrativeUnits/{unit}/scopedRoleMembers"
    member = create(p, base, {"roleId": "role-1", "roleMemberInfo": {"id": user}})
    assert member["roleMemberInfo"]["displayName"] == "Adele"
    assert [m["id"] for m in p.get(base)["value"]] == [member["id"]]
    assert p.call("DELETE", f"{base}/{member['id']}").status == 204
    assert p.get(base)["value"] == []


def test_devices() -> None:
    p = emulator()
    device = create(p, "/devices", {
        "accountEnabled": False, "displayName": "Laptop", "operatingSystem": "linux",
        "operatingSystemVersion": "1", "deviceId": "4c299165-6e8f-4b45-a5ba-c5d250a707ff",
        "alternativeSecurityIds": [{"type": 2, "key": "Y3YxN2E1MWFlYw=="}]})
    assert check_object("microsoft.graph.device", device) == []
    assert p.call("DELETE", f"/devices/{device['id']}").status == 204
    assert p.tenant.directory.is_gone(device["id"])
