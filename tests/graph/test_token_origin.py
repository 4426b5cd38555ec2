"""The access token goes only to the configured Graph origin, and only to the path named.

A ``@odata.nextLink``, a delta link or a URL read from a file is followed only when it is
on the Graph origin (same scheme, host and port); anything else is refused before a
connection is opened, so the bearer token never leaves.
"""

from __future__ import annotations

import httpx
import pytest

from entra_backup.graph.batch import BatchRequest
from entra_backup.graph.client import GraphClient
from entra_backup.graph.errors import ForeignUrl, UnsafePath
from tests.support.live_emulator import LiveEmulator


def _variants(graph_url: str) -> list[str]:
    url = httpx.URL(graph_url)
    port = url.port or 443
    return [
        str(url.copy_with(scheme="http")) + "/users",
        str(url.copy_with(port=port + 1)) + "/users",
        str(url.copy_with(host="graph.example.com")) + "/users",
        f"https://{url.host}:{port}@graph.example.com/v1.0/users",
    ]


async def test_links_off_the_graph_origin_are_refused(client: GraphClient,
                                                      emulator: LiveEmulator) -> None:
    sent_before = client.counters.requests
    for foreign in _variants(emulator.graph_url):
        with pytest.raises(ForeignUrl, match="not on the Graph origin"):
            await client.get(foreign)
    assert client.counters.requests == sent_before


async def test_a_full_url_on_the_graph_origin_is_followed(client: GraphClient,
                                                          emulator: LiveEmulator) -> None:
    page = await client.get(f"{emulator.graph_url}/users", {"$top": "1", "$select": "id"})
    assert len(page["value"]) == 1


@pytest.mark.parametrize("path", [
    "users/../servicePrincipals/00000000-0000-0000-0000-000000000001",
    "users/%2e%2e/servicePrincipals/00000000-0000-0000-0000-000000000001",
    "users/./00000000-0000-0000-0000-000000000001",
    "users/00000000-0000-0000-0000-000000000001#/../../servicePrincipals",
    "users/a%2Fb",
])
async def test_paths_that_resolve_elsewhere_are_refused(client: GraphClient, path: str) -> None:
    sent_before = client.counters.requests
    with pytest.raises(UnsafePath):
        await client.delete(path)
    with pytest.raises(UnsafePath):
        await client.batch([BatchRequest("DELETE", "/" + path)])
    assert client.counters.requests == sent_before
