"""Helpers for write tests: an in-process emulator with a few seeded objects."""

from __future__ import annotations

from typing import Any

from graph_emulator.protocol import GraphResponse
from tests.support.inprocess import InProcess

DOMAIN = "contoso.onmicrosoft.com"
PASSWORD = "Xk4!pz-Qr8"
OBJECT_URL = "https://graph.microsoft.com/v1.0/directoryObjects/"


def emulator() -> InProcess:
    p = InProcess()
    p.loader.add("domains", {"id": "contoso.example", "isVerified": True, "isDefault": True})
    p.loader.add("domains", {"id": "unverified.example", "isVerified": False})
    return p


def user_body(name: str, **extra: Any) -> dict[str, Any]:
    return {"accountEnabled": True, "displayName": name.title(), "mailNickname": name,
            "userPrincipalName": f"{name}@{DOMAIN}",
            "passwordProfile": {"password": PASSWORD, "forceChangePasswordNextSignIn": True},
            **extra}


def create(p: InProcess, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = p.call("POST", url, body)
    assert response.status == 201, response.body
    created: dict[str, Any] = response.body
    return created


def create_user(p: InProcess, name: str, **extra: Any) -> str:
    return str(create(p, "/users", user_body(name, **extra))["id"])


def create_group(p: InProcess, name: str, *, unified: bool = False, **extra: Any) -> str:
    body = {"displayName": name, "mailNickname": name, "mailEnabled": unified,
            "securityEnabled": not unified, "groupTypes": ["Unified"] if unified else [],
            **extra}
    return str(create(p, "/groups", body)["id"])


def add_member(p: InProcess, group_id: str, member_id: str) -> GraphResponse:
    return p.call("POST", f"/groups/{group_id}/members/$ref",
                  {"@odata.id": OBJECT_URL + member_id})


def member_ids(p: InProcess, group_id: str) -> list[str]:
    return [m["id"] for m in p.get(f"/groups/{group_id}/members")["value"]]


def error(response: GraphResponse) -> dict[str, Any]:
    body: dict[str, Any] = response.body["error"]
    return body
