"""Fixtures of the fidelity checks: Microsoft's Python SDK signed in to the emulator."""

from __future__ import annotations

import ssl
import warnings
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from azure.identity.aio import ClientSecretCredential
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)

from tests.support.live_emulator import LiveEmulator

with warnings.catch_warnings():
    # The SDK's generated builders subclass a class kiota marks deprecated at import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from msgraph.graph_request_adapter import GraphRequestAdapter
    from msgraph.graph_service_client import GraphServiceClient

SCOPES = ["https://graph.microsoft.com/.default"]


@pytest.fixture
async def sdk(emulator: LiveEmulator) -> AsyncIterator[GraphServiceClient]:
    """A GraphServiceClient authenticated by azure-identity against the emulator's authority."""
    authority = urlsplit(emulator.authority)
    credential = ClientSecretCredential(
        emulator.tenant_id, emulator.client_id, emulator.client_secret,
        authority=authority.netloc, disable_instance_discovery=True,
        connection_verify=emulator.ca_bundle)
    host = urlsplit(emulator.graph_url).hostname or ""
    auth = AzureIdentityAuthenticationProvider(credential, scopes=SCOPES, allowed_hosts=[host])
    http = httpx.AsyncClient(verify=ssl.create_default_context(cafile=emulator.ca_bundle),
                             timeout=30)
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = emulator.graph_url
    try:
        yield GraphServiceClient(request_adapter=adapter)
    finally:
        await http.aclose()
        await credential.close()
