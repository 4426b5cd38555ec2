"""The Graph client end to end: MSAL tokens and Graph calls over HTTPS to the emulator."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from entra_backup.graph.auth import CertificateCredential
from entra_backup.graph.batch import BatchRequest
from entra_backup.graph.budget import TenantSize
from entra_backup.graph.client import GraphClient
from entra_backup.graph.errors import (
    AuthenticationError,
    DeltaTokenExpired,
    PermissionDenied,
    TransportError,
)
from tests.graph.conftest import EmulatorClock, connection, reset
from tests.graph.support import ManualClock
from tests.support.live_emulator import LiveEmulator


async def test_paging_reads_every_user_once(client: GraphClient,
                                            emulator: LiveEmulator) -> None:
    ids = [user["id"] async for user in client.iterate(
        "users", {"$select": "id,displayName", "$top": "25"}, permission="User.Read.All")]
    assert len(ids) == len(set(ids)) == emulator.runtime.holdings()["users"]
    assert client.counters.requests == -(-len(ids) // 25)
    assert client.counters.resource_units >= client.counters.requests


async def test_advanced_query_count_comes_with_the_first_page(client: GraphClient) -> None:
    pages = [page async for page in client.pages(
        "users", {"$count": "true", "$top": "50", "$select": "id"},
        headers={"ConsistencyLevel": "eventual"})]
    assert pages[0].count == sum(len(page.items) for page in pages)
    assert all(page.count is None for page in pages[1:])


async def test_batch_reads_users_by_id(client: GraphClient) -> None:
    ids = [user["id"] async for user in client.iterate("users", {"$select": "id", "$top": "999"})]
    ids = ids[:27]
    requests = [BatchRequest("GET", f"/users/{user_id}?$select=id,displayName")
                for user_id in ids]
    requests.append(BatchRequest("GET", "/users/00000000-0000-4000-8000-00000000dead"))
    results = await client.batch(requests)
    assert [r.body["id"] for r in results[:-1]] == ids
    assert results[-1].status == 404
    assert client.counters.requests == 1 + 2  # one page of ids, two batches


async def test_a_delta_round_sees_a_change_and_a_deletion(
        private_emulator: LiveEmulator) -> None:
    async with GraphClient.connect(connection(private_emulator)) as client:
        first = await client.delta_round("users", select=["id", "displayName", "jobTitle"])
        changed_id, deleted_id = list(first.changed)[:2]
        await client.patch(f"users/{changed_id}", {"jobTitle": "Backup tester"})
        await client.delete(f"users/{deleted_id}")
        second = await client.delta_round("users", delta_link=first.delta_link)
        assert second.changed[changed_id]["jobTitle"] == "Backup tester"
        assert second.removed == {deleted_id: "changed"}  # soft-deleted: restorable
        assert second.delta_link != first.delta_link


async def test_group_delta_carries_member_annotations(private_emulator: LiveEmulator) -> None:
    async with GraphClient.connect(connection(private_emulator)) as client:
        result = await client.delta_round("groups", select=["id", "displayName", "members"])
        with_members = [g for g in result.changed.values() if g.get("members@delta")]
        assert with_members
        total = sum(len(g["members@delta"]) for g in with_members)
        ids = {m["id"] for g in with_members for m in g["members@delta"]}
        assert total >= len(ids) > 0


async def test_a_reset_delta_token_asks_for_a_full_resync(
        private_emulator: LiveEmulator) -> None:
    async with GraphClient.connect(connection(private_emulator)) as client:
        first = await client.delta_round("users", select=["id"])
        private_emulator.control("POST", "/delta/reset", {})
        with pytest.raises(DeltaTokenExpired) as info:
            await client.delta_round("users", delta_link=first.delta_link)
        assert info.value.location is not None and "/users/delta" in info.value.location


async def test_a_wrong_secret_names_aadsts7000215_and_what_to_do(
        emulator: LiveEmulator) -> None:
    async with GraphClient.connect(connection(emulator, credential="not-the-secret")) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.get("users")
    assert info.value.aadsts == "AADSTS7000215"
    assert "Value (not its Secret ID)" in str(info.value)


async def test_an_unknown_tenant_is_named(emulator: LiveEmulator) -> None:
    unknown = "11111111-2222-4333-8444-555555555555"
    authority = emulator.authority.rsplit("/", 1)[0] + "/" + unknown
    async with GraphClient.connect(connection(emulator, tenant_id=unknown,
                                              authority=authority)) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.authenticate()
    assert info.value.aadsts == "AADSTS90002"
    assert "tenant was not found" in str(info.value)


async def test_an_untrusted_certificate_says_to_pass_the_ca_bundle(
        emulator: LiveEmulator) -> None:
    async with GraphClient.connect(connection(emulator, ca_bundle=None)) as client:
        with pytest.raises(TransportError, match="--ca-bundle"):
            await client.authenticate()


async def test_an_unreachable_graph_url_is_one_clear_error(emulator: LiveEmulator) -> None:
    clock = ManualClock()
    async with GraphClient.connect(connection(emulator, graph_url="https://127.0.0.1:9/v1.0"),
                                   clock=clock) as client:
        with pytest.raises(TransportError, match=r"Cannot reach Graph at https://127\.0\.0\.1:9"):
            await client.get("users")


async def test_an_app_without_the_permission_gets_permission_denied(
        emulator: LiveEmulator) -> None:
    app = emulator.control("POST", "/apps", {"tenant_id": emulator.tenant_id,
                                             "permissions": ["Group.Read.All"]})
    conn = connection(emulator, client_id=app["client_id"], credential=app["client_secret"])
    async with GraphClient.connect(conn) as client:
        assert await client.get("groups", {"$top": "1"})
        with pytest.raises(PermissionDenied, match=r"User\.Read\.All") as info:
            await client.get("users", permission="User.Read.All")
    assert info.value.permission == "User.Read.All"


async def test_a_certificate_credential_gets_a_token(emulator: LiveEmulator) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "entra-backup test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    app = emulator.control("POST", "/apps", {"tenant_id": emulator.tenant_id,
                                             "permissions": ["User.Read.All"],
                                             "certificate_pem": cert_pem.decode()})
    credential = CertificateCredential.from_pem(key_pem + cert_pem)
    conn = connection(emulator, client_id=app["client_id"], credential=credential)
    async with GraphClient.connect(conn) as client:
        assert (await client.get("users", {"$top": "1"}))["value"]


async def test_a_token_expiring_mid_run_is_renewed(private_emulator: LiveEmulator) -> None:
    async with GraphClient.connect(connection(private_emulator)) as client:
        await client.get("users", {"$top": "1"})
        private_emulator.control("POST", "/clock/advance", {"seconds": 2 * 3600})
        await client.get("users", {"$top": "1"})
        assert client.tokens is not None and client.tokens.acquisitions == 2


async def test_injected_faults_are_retried_to_success(private_emulator: LiveEmulator) -> None:
    clock = EmulatorClock(private_emulator)
    private_emulator.control("POST", "/settings", {"fault_rate": 0.4, "seed": 3})
    try:
        async with GraphClient.connect(connection(private_emulator), clock=clock,
                                       timeout=1.0) as client:
            users = [u async for u in client.iterate("users", {"$select": "id", "$top": "5"})]
            settings = private_emulator.control("GET", "/settings")
    finally:
        reset(private_emulator)
    assert len(users) == private_emulator.runtime.holdings()["users"]
    assert sum(settings["faults_injected"].values()) > 0
    assert client.counters.retries > 0
    assert settings["retried_too_early"] == 0


async def test_real_throttling_is_waited_out(private_emulator: LiveEmulator) -> None:
    clock = EmulatorClock(private_emulator)
    private_emulator.control("POST", "/settings", {"throttle": "real"})
    # A budget sized for a large tenant overspends this small one, so Graph throttles.
    conn = connection(private_emulator, size=TenantSize.LARGE)
    try:
        async with GraphClient.connect(conn, clock=clock) as client:
            group = (await client.get("groups", {"$top": "1", "$select": "id"}))["value"][0]
            requests = [BatchRequest("GET", f"/groups/{group['id']}/members")] * 20
            for _ in range(100):
                results = await client.batch(requests)
                assert [r.body for r in results if not r.ok] == []
                if client.counters.throttle_waits >= 3:
                    break
            settings = private_emulator.control("GET", "/settings")
    finally:
        reset(private_emulator)
    assert sum(settings["throttled"].values()) >= client.counters.throttle_waits >= 3
    assert settings["retried_too_early"] == 0
    assert sum(clock.sleeps) > 0
