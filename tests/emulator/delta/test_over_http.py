"""Delta through the emulator's ASGI application: raw HTTP and Microsoft's Python SDK."""

from __future__ import annotations

import warnings

import httpx
import pytest
from kiota_abstractions.authentication import AnonymousAuthenticationProvider

from graph_emulator.app import create_app
from graph_emulator.handlers.delta.state import SEVEN_DAYS
from tests.emulator.delta.support import BASE, add_group, add_user, emulator
from tests.support.inprocess import InProcess

with warnings.catch_warnings():
    # The SDK's generated builders subclass a class kiota marks deprecated at import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from msgraph.generated.users.delta.delta_request_builder import DeltaRequestBuilder
    from msgraph.graph_request_adapter import GraphRequestAdapter
    from msgraph.graph_service_client import GraphServiceClient

# The SDK builds request builders lazily, and some of them warn that they are deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated.*:DeprecationWarning")

HOST = "https://graph.example"


def _http(p: InProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(p.emulator)),
                             base_url=HOST)


async def test_expiry_over_http_gives_410_with_a_followable_location() -> None:
    p = emulator()
    user = add_user(p, 1)
    async with _http(p) as http:
        first = (await http.get("/v1.0/users/delta", params={"$select": "displayName"})).json()
        p.emulator.clock.advance(SEVEN_DAYS + 1)
        gone = await http.get(first["@odata.deltaLink"])
        assert gone.status_code == 410
        assert gone.json()["error"]["code"] == "syncStateNotFound"
        again = (await http.get(gone.headers["location"])).json()
    assert again["value"] == [{"displayName": "User 1", "id": user}]
    assert again["@odata.deltaLink"].startswith(BASE + "/users/delta?$deltatoken=")


async def test_the_sdk_follows_rounds_and_reads_removed_and_members() -> None:
    p = emulator(page_size=2)
    users = [add_user(p, n) for n in range(5)]
    group = add_group(p, 1, users[:3])
    async with _http(p) as http:
        adapter = GraphRequestAdapter(AnonymousAuthenticationProvider(), client=http)
        adapter.base_url = BASE
        client = GraphServiceClient(request_adapter=adapter)
        config = DeltaRequestBuilder.DeltaRequestBuilderGetRequestConfiguration(
            query_parameters=DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
                select=["displayName"]))
        page = await client.users.delta.get(request_configuration=config)
        seen = []
        while page is not None and page.odata_next_link:
            seen += [user.display_name for user in page.value or []]
            page = await client.users.delta.with_url(page.odata_next_link).get()
        assert page is not None and page.odata_delta_link
        seen += [user.display_name for user in page.value or []]
        assert seen == [f"User {n}" for n in range(5)]
        directory = p.tenant.directory
        directory.soft_delete(directory.live[users[0]], at=0)
        changes = await client.users.delta.with_url(page.odata_delta_link).get()
        assert changes is not None and changes.value
        assert changes.value[0].id == users[0]
        assert changes.value[0].additional_data["@removed"] == {"reason": "changed"}
        groups = await client.groups.delta.get()
        assert groups is not None and groups.value
        refs = groups.value[0].additional_data["members@delta"]
        assert groups.value[0].id == group
        assert [str(ref["id"]) for ref in refs] == users[:3]
