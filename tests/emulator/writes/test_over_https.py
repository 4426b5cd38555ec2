"""Writes end to end: HTTPS, MSAL tokens and a generated tenant, as a restore would use them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live_emulator import LiveEmulator


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    # Its own emulator: these tests change the tenant, which the session one must not see.
    emulator = LiveEmulator.start(Path(tmp_path_factory.mktemp("writes")), users=30, seed=3,
                                  throttle="off")
    try:
        yield emulator
    finally:
        emulator.stop()


def test_delete_and_restore_a_member_over_https(live: LiveEmulator) -> None:
    with live.http() as client:
        groups = client.get("groups", params={"$select": "id,groupTypes", "$top": "999"}).json()
        group, members = next(
            (g["id"], ids) for g in groups["value"]
            if (ids := [m["id"] for m in client.get(f"groups/{g['id']}/members").json()["value"]
                        if m["@odata.type"] == "#microsoft.graph.user"]))
        user = members[0]
        assert client.delete(f"users/{user}").status_code == 204
        after = [m["id"] for m in client.get(f"groups/{group}/members").json()["value"]]
        assert user not in after
        restored = client.post(f"directory/deletedItems/{user}/restore")
        assert restored.status_code == 200, restored.text
        back = [m["id"] for m in client.get(f"groups/{group}/members").json()["value"]]
        assert user in back


def test_recreate_a_group_with_binds_and_resolve_ids(live: LiveEmulator) -> None:
    with live.http() as client:
        users = client.get("users", params={"$select": "id", "$top": "3"}).json()["value"]
        ids = [u["id"] for u in users]
        binds = [f"{live.graph_url}/directoryObjects/{i}" for i in ids]
        created = client.post("groups", json={
            "displayName": "Restored", "mailNickname": "restored", "mailEnabled": False,
            "securityEnabled": True, "members@odata.bind": binds})
        assert created.status_code == 201, created.text
        resolved = client.post("directoryObjects/getByIds",
                               json={"ids": [*ids, created.json()["id"]], "types": ["group"]})
        assert resolved.status_code == 200
        assert [o["id"] for o in resolved.json()["value"]] == [created.json()["id"]]
