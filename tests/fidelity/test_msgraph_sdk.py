"""Microsoft's official Python SDK, signed in through azure-identity, against the emulator.

The SDK and its kiota runtime are an independent client: they build URLs, parse pages,
delta links, ``@removed`` annotations and batch responses their own way, so a departure of
the emulator from Graph's protocol shows up here as an SDK error.
"""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    # The SDK's generated builders subclass a class kiota marks deprecated at import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from msgraph.generated.models.password_profile import PasswordProfile
    from msgraph.generated.models.user import User
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder
    from msgraph.graph_service_client import GraphServiceClient
    from msgraph_core.requests.batch_request_content import (  # type: ignore[import-untyped]
        BatchRequestContent,
    )
    from msgraph_core.requests.batch_request_item import (  # type: ignore[import-untyped]
        BatchRequestItem,
    )
    from msgraph_core.requests.batch_response_content import (  # type: ignore[import-untyped]
        BatchResponseContent,
    )

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated.*:DeprecationWarning")


async def _initial_domain(sdk: GraphServiceClient) -> str:
    domains = await sdk.domains.get()
    assert domains is not None and domains.value
    return next(d.id for d in domains.value if d.is_initial and d.id)


def _new_user(domain: str, nickname: str) -> User:
    return User(
        account_enabled=True, display_name=f"SDK {nickname}", mail_nickname=nickname,
        user_principal_name=f"{nickname}@{domain}",
        password_profile=PasswordProfile(password="Sdk-Check-2026!",
                                         force_change_password_next_sign_in=True))


async def _purge(sdk: GraphServiceClient, user_id: str, deleted: bool = False) -> None:
    """Remove a user this module created, recycle bin included, leaving the tenant as found."""
    if not deleted:
        await sdk.users.by_user_id(user_id).delete()
    await sdk.directory.deleted_items.by_directory_object_id(user_id).delete()


async def test_sdk_lists_users_across_pages(sdk: GraphServiceClient) -> None:
    config = UsersRequestBuilder.UsersRequestBuilderGetRequestConfiguration(
        query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            top=25, select=["id", "displayName", "userPrincipalName"]))
    page = await sdk.users.get(request_configuration=config)
    ids: list[str] = []
    pages = 0
    while page is not None:
        pages += 1
        ids += [user.id for user in page.value or [] if user.id]
        if not page.odata_next_link:
            break
        page = await sdk.users.with_url(page.odata_next_link).get()
    assert pages >= 5
    assert len(ids) == len(set(ids)) >= 120


async def test_sdk_delta_rounds_see_a_change_and_a_deletion(sdk: GraphServiceClient) -> None:
    domain = await _initial_domain(sdk)
    changed = await sdk.users.post(_new_user(domain, "sdk.delta.changed"))
    deleted = await sdk.users.post(_new_user(domain, "sdk.delta.deleted"))
    assert changed is not None and changed.id and deleted is not None and deleted.id
    page = await sdk.users.delta.get()
    while page is not None and page.odata_next_link:
        page = await sdk.users.delta.with_url(page.odata_next_link).get()
    assert page is not None and page.odata_delta_link
    await sdk.users.by_user_id(changed.id).patch(User(job_title="Delta Checker"))
    await sdk.users.by_user_id(deleted.id).delete()
    changes = await sdk.users.delta.with_url(page.odata_delta_link).get()
    assert changes is not None and changes.value is not None
    by_id = {user.id: user for user in changes.value}
    assert by_id[changed.id].job_title == "Delta Checker"
    assert by_id[deleted.id].additional_data["@removed"] == {"reason": "changed"}
    assert changes.odata_delta_link
    await _purge(sdk, changed.id)
    await _purge(sdk, deleted.id, deleted=True)


async def test_sdk_creates_deletes_and_restores_a_user(sdk: GraphServiceClient) -> None:
    domain = await _initial_domain(sdk)
    created = await sdk.users.post(_new_user(domain, "sdk.restore"))
    assert created is not None and created.id
    await sdk.users.by_user_id(created.id).delete()
    binned = await sdk.directory.deleted_items.by_directory_object_id(created.id).get()
    assert isinstance(binned, User) and binned.id == created.id
    restored = await sdk.directory.deleted_items.by_directory_object_id(
        created.id).restore.post()
    assert restored is not None and restored.id == created.id
    again = await sdk.users.by_user_id(created.id).get()
    assert again is not None and again.user_principal_name == f"sdk.restore@{domain}"
    await _purge(sdk, created.id)


async def test_sdk_lists_deleted_users_by_short_cast(sdk: GraphServiceClient) -> None:
    """The SDK asks for /directory/deletedItems/graph.user, the alias Microsoft lists."""
    binned = await sdk.directory.deleted_items.graph_user.get()
    assert binned is not None and binned.value is not None


async def test_sdk_sends_a_batch(sdk: GraphServiceClient) -> None:
    users = sdk.users.to_get_request_information()
    groups = sdk.groups.to_get_request_information()
    content = BatchRequestContent()
    first, second = BatchRequestItem(request_information=users), BatchRequestItem(
        request_information=groups)
    content.add_request(None, first)
    content.add_request(None, second)
    response = await sdk.batch.post(batch_request_content=content)
    assert isinstance(response, BatchResponseContent)
    statuses = {item_id: response.get_response_by_id(item_id).status
                for item_id in (first.id, second.id)}
    assert statuses == {first.id: 200, second.id: 200}
