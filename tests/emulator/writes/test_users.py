"""User creates, updates and deletes answer as Graph does, errors included."""

from __future__ import annotations

from tests.emulator._schema_check import check_object
from tests.emulator.writes.support import (
    DOMAIN,
    create_user,
    emulator,
    error,
    user_body,
)


def test_create_returns_201_with_a_new_id_and_context() -> None:
    p = emulator()
    response = p.call("POST", "/users", user_body("adele"))
    assert response.status == 201
    body = response.body
    assert body["@odata.context"].endswith("/$metadata#users/$entity")
    assert body["userPrincipalName"] == f"adele@{DOMAIN}"
    assert len(body["id"]) == 36
    assert check_object("microsoft.graph.user", body) == []
    fetched = p.get(f"/users/{body['id']}?$select=createdDateTime,passwordProfile")
    assert fetched["createdDateTime"].endswith("Z")
    assert fetched["passwordProfile"]["password"] is None


def test_missing_required_property_is_named() -> None:
    p = emulator()
    body = user_body("adele")
    del body["mailNickname"]
    response = p.call("POST", "/users", body)
    assert response.status == 400
    assert error(response)["code"] == "Request_BadRequest"
    assert "mailNickname" in error(response)["message"]


def test_read_only_property_is_refused() -> None:
    p = emulator()
    response = p.call("POST", "/users", user_body("adele", onPremisesSyncEnabled=True))
    assert response.status == 400
    assert error(response)["message"] == \
        "Property 'onPremisesSyncEnabled' is read-only and cannot be set."


def test_unknown_property_is_refused() -> None:
    p = emulator()
    response = p.call("POST", "/users", user_body("adele", favouriteColour="blue"))
    assert response.status == 400
    assert "favouriteColour" in error(response)["message"]


def test_upn_on_an_unverified_domain_is_refused() -> None:
    p = emulator()
    response = p.call("POST", "/users",
                      user_body("adele", userPrincipalName="adele@unverified.example"))
    assert response.status == 400
    assert "verified domain names" in error(response)["message"]
    assert p.call("POST", "/users", user_body(
        "bianca", userPrincipalName="bianca@contoso.example")).status == 201


def test_duplicate_upn_is_an_object_conflict() -> None:
    p = emulator()
    create_user(p, "adele")
    response = p.call("POST", "/users", user_body("adele2", userPrincipalName=f"ADELE@{DOMAIN}"))
    assert response.status == 400
    body = error(response)
    assert body["message"] == \
        "Another object with the same value for property userPrincipalName already exists."
    assert body["details"] == [{"code": "ObjectConflict", "target": "userPrincipalName"}]


def test_weak_password_is_refused() -> None:
    p = emulator()
    for weak in ("short1!", "alllowercaseletters"):
        body = user_body("adele", passwordProfile={"password": weak})
        response = p.call("POST", "/users", body)
        assert response.status == 400
        assert "password complexity" in error(response)["message"]


def test_patch_answers_204_and_changes_the_user() -> None:
    p = emulator()
    user = create_user(p, "adele")
    response = p.call("PATCH", f"/users/{user}", {"jobTitle": "Engineer"})
    assert response.status == 204
    assert response.body is None
    assert p.get(f"/users/{user}")["jobTitle"] == "Engineer"


def test_patch_cannot_take_another_users_upn() -> None:
    p = emulator()
    create_user(p, "adele")
    other = create_user(p, "bianca")
    response = p.call("PATCH", f"/users/{other}", {"userPrincipalName": f"adele@{DOMAIN}"})
    assert response.status == 400
    assert error(response)["details"][0]["code"] == "ObjectConflict"


def test_synced_users_refuse_cloud_writes_to_mastered_properties() -> None:
    p = emulator()
    p.loader.add("users", {"id": "synced-1", "displayName": "Synced",
                           "userPrincipalName": f"synced@{DOMAIN}",
                           "onPremisesSyncEnabled": True})
    response = p.call("PATCH", "/users/synced-1", {"jobTitle": "x"})
    assert response.status == 400
    assert "on-premises mastered Directory Sync objects" in error(response)["message"]
    assert p.call("PATCH", "/users/synced-1", {"usageLocation": "SE"}).status == 204


def test_writes_need_a_write_permission() -> None:
    p = emulator()
    p.auth.caller.roles = frozenset({"User.Read.All"})
    response = p.call("POST", "/users", user_body("adele"))
    assert response.status == 403
    assert error(response)["code"] == "Authorization_RequestDenied"


def test_delete_moves_the_user_to_the_recycle_bin() -> None:
    p = emulator()
    user = create_user(p, "adele")
    assert p.call("DELETE", f"/users/{user}").status == 204
    assert p.call("GET", f"/users/{user}").status == 404
    deleted = p.get("/directory/deletedItems/microsoft.graph.user")["value"]
    assert [d["id"] for d in deleted] == [user]
