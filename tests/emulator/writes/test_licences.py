"""``assignLicense`` on users and groups answers as Graph does (user-assignlicense)."""

from __future__ import annotations

from tests.emulator.writes.support import create_group, create_user, emulator, error
from tests.support.inprocess import InProcess

E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
EMS = "efccb6f7-5641-4e0e-bd10-b4976e1bf68e"
EXCHANGE_PLAN = "efb87545-963c-4e0d-99df-69c6916d9eb0"


def with_skus() -> InProcess:
    p = emulator()
    for sku, part in ((E3, "ENTERPRISEPACK"), (EMS, "EMS")):
        p.loader.add("subscribedSkus", {
            "id": f"t_{sku}", "skuId": sku, "skuPartNumber": part, "consumedUnits": 0,
            "prepaidUnits": {"enabled": 5, "lockedOut": 0, "suspended": 0, "warning": 0},
            "servicePlans": [], "appliesTo": "User", "capabilityStatus": "Enabled"})
    return p


def licences(p: InProcess, path: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = p.get(f"{path}?$select=assignedLicenses")[
        "assignedLicenses"]
    return found


def test_licences_are_added_and_removed() -> None:
    p = with_skus()
    user = create_user(p, "adele", usageLocation="GB")
    answer = p.call("POST", f"/users/{user}/assignLicense", {
        "addLicenses": [{"skuId": E3, "disabledPlans": [EXCHANGE_PLAN]}, {"skuId": EMS}],
        "removeLicenses": []})
    assert answer.status == 200
    assert answer.body["id"] == user
    assert answer.body["@odata.context"].endswith("/$metadata#users/$entity")
    assert licences(p, f"/users/{user}") == [
        {"disabledPlans": [EXCHANGE_PLAN], "skuId": E3}, {"disabledPlans": [], "skuId": EMS}]

    again = p.call("POST", f"/users/{user}/assignLicense",
                   {"addLicenses": [], "removeLicenses": [EMS]})
    assert again.status == 200
    assert licences(p, f"/users/{user}") == [{"disabledPlans": [EXCHANGE_PLAN], "skuId": E3}]


def test_a_user_without_usage_location_gets_no_licence() -> None:
    p = with_skus()
    user = create_user(p, "adele")
    answer = p.call("POST", f"/users/{user}/assignLicense",
                    {"addLicenses": [{"skuId": E3}], "removeLicenses": []})
    assert answer.status == 400
    assert "invalid usage location" in error(answer)["message"]
    assert licences(p, f"/users/{user}") == []


def test_bad_bodies_and_unknown_skus_are_refused() -> None:
    p = with_skus()
    first = create_user(p, "adele", usageLocation="GB")
    path = f"/users/{first}/assignLicense"
    missing = p.call("POST", path, {"addLicenses": [{"skuId": E3}]})
    assert missing.status == 400 and "removeLicenses" in error(missing)["message"]
    unknown = p.call("POST", path, {"addLicenses": [{"skuId": "0" * 36}],
                                    "removeLicenses": []})
    assert unknown.status == 400
    assert "does not correspond to a valid company License" in error(unknown)["message"]
    assert p.call("POST", "/users/" + "1" * 36 + "/assignLicense",
                  {"addLicenses": [], "removeLicenses": []}).status == 404


def test_groups_take_licences_and_patch_cannot_set_them() -> None:
    p = with_skus()
    group = create_group(p, "finance")
    answer = p.call("POST", f"/groups/{group}/assignLicense",
                    {"addLicenses": [{"skuId": E3}], "removeLicenses": []})
    assert answer.status == 200
    assert licences(p, f"/groups/{group}") == [{"disabledPlans": [], "skuId": E3}]
    user = create_user(p, "adele", usageLocation="GB")
    patch = p.call("PATCH", f"/users/{user}", {"assignedLicenses": [{"skuId": E3}]})
    assert patch.status == 400
