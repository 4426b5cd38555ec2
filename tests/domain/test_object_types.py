"""The object-type table agrees with Microsoft's v1.0 schema and endpoint list, and with
what a running emulator serves and authorises."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from entra_backup.domain.errors import ObjectTypeTableError, UnknownObjectType, UsageError
from entra_backup.domain.object_types import (
    TYPES,
    Capture,
    ObjectType,
    RestoreStrategy,
    by_name,
    missing_permissions,
    missing_write_permissions,
    names,
    restore_order,
    select_types,
)
from graph_emulator.model.kinds import KINDS
from tests.fidelity.oracle.endpoints import route_exists
from tests.fidelity.oracle.schema import load_schema
from tests.support.live_emulator import LiveEmulator, acquire_token

ids = [t.name for t in TYPES]
each_type = pytest.mark.parametrize("object_type", TYPES, ids=ids)
EMULATOR_PERMISSION_GAPS: frozenset[str] = frozenset()
"""Types whose least-privileged permission (from the current Graph docs) the emulator does
not accept yet."""
EMULATED = [t for t in TYPES if t.name not in EMULATOR_PERMISSION_GAPS]
PERMISSION = re.compile(r"^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)+$")
NOT_CHANGE_TRACKED = frozenset({
    # Stored outside the directory store: delta cannot track them (graph-facts 1.4).
    "signInActivity", "skills", "aboutMe", "birthday", "hireDate", "interests",
    "mySite", "pastProjects", "preferredName", "responsibilities", "schools",
    "mailboxSettings", "photo", "allowExternalSenders", "autoSubscribeNewMembers",
    "hideFromAddressLists", "hideFromOutlookClients", "isSubscribedByMail", "unseenCount",
})


def _properties(object_type: ObjectType) -> set[str]:
    schema = load_schema()
    found = set(schema.members(object_type.entity_type)[0])
    for derived in object_type.derived_types:
        assert schema.is_subtype(derived, object_type.entity_type)
        found |= set(schema.members(derived)[0])
    return found


@each_type
def test_selected_properties_exist_in_the_v1_schema(object_type: ObjectType) -> None:
    properties = _properties(object_type)
    unknown = [p for p in (*object_type.select, *object_type.per_object_select)
               if p not in properties]
    assert unknown == []
    assert len(set(object_type.select)) == len(object_type.select)
    assert set(object_type.per_object_select) <= set(object_type.select)


@each_type
def test_relationships_are_navigation_properties_pointing_at_known_types(
        object_type: ObjectType) -> None:
    navigation = load_schema().members(object_type.entity_type)[1]
    for relationship in object_type.relationships:
        assert relationship.name in navigation, relationship.name
        assert set(relationship.targets) <= set(names()), relationship.name
        assert relationship.restorable == (relationship.not_restorable_reason == "")
        assert relationship.max_per_request <= 20


@each_type
def test_write_lists_name_real_properties(object_type: ObjectType) -> None:
    properties = _properties(object_type)
    named = (object_type.strip_on_create | object_type.strip_on_update
             | object_type.create_only_later
             | {p for p, _ in object_type.property_actions}
             | {rule.property for rule in object_type.restore_skips}
             | {p for key in object_type.natural_keys for p in key})
    assert sorted(named - properties) == []


@each_type
def test_natural_keys_start_with_the_id_and_are_backed_up(object_type: ObjectType) -> None:
    assert object_type.natural_keys[0] == ("id",)
    keyed = {p for key in object_type.natural_keys for p in key}
    assert keyed <= set(object_type.select)


@each_type
def test_paths_are_documented_v1_endpoints(object_type: ObjectType) -> None:
    paths = [object_type.path, *(r.path for r in object_type.relationships)]
    if object_type.delta_path:
        paths.append(object_type.delta_path)
    assert [p for p in paths if not route_exists(p, template=True)] == []


@each_type
def test_property_actions_are_actions_bound_to_the_type(object_type: ObjectType) -> None:
    # The endpoint list leaves out actions, so the CSDL's bound actions are the reference.
    operations = load_schema().csdl.operations
    for _, path in object_type.property_actions:
        source, _, action = path.rpartition("/")
        assert source == object_type.path + "/{id}"
        bindings = {(op.binding.name, op.binding.collection, op.action)
                    for op in operations.get(action, [])}
        assert (object_type.entity_type, False, True) in bindings, path


@each_type
def test_delta_support_matches_the_schema(object_type: ObjectType) -> None:
    schema = load_schema()
    bound_to = {op.binding.name for op in schema.csdl.operations["delta"]
                if op.binding.collection}
    assert object_type.delta == (object_type.entity_type in bound_to)
    if object_type.delta:
        assert object_type.delta_path == object_type.path + "/delta"


@each_type
def test_delta_selects_only_change_tracked_properties(object_type: ObjectType) -> None:
    assert set(object_type.delta_select()) & NOT_CHANGE_TRACKED == set()
    annotated = [r for r in object_type.relationships if r.capture is Capture.DELTA_ANNOTATION]
    assert not annotated or object_type.delta


@each_type
def test_restore_fields_are_consistent(object_type: ObjectType) -> None:
    not_restorable = object_type.restore_strategy is RestoreStrategy.NOT_RESTORABLE
    assert not_restorable == (object_type.not_restorable_reason != "")
    assert not_restorable == (object_type.write_permissions == ())
    undelete = object_type.restore_strategy is RestoreStrategy.UNDELETE_THEN_RECREATE
    assert undelete == object_type.soft_delete
    assert "id" in object_type.strip_on_update or not_restorable


@each_type
def test_permission_names_are_well_formed_and_accepted_by_the_emulator(
        object_type: ObjectType) -> None:
    kind = KINDS[object_type.name]
    assert kind.path == object_type.path
    assert kind.odata_type == object_type.entity_type
    for permission in (*object_type.read_permissions, *object_type.write_permissions):
        assert PERMISSION.match(permission), permission
    assert set(object_type.read_permissions) & set(kind.read)
    if object_type.name in EMULATOR_PERMISSION_GAPS:
        return
    assert object_type.read_permission in kind.read
    if object_type.write_permissions:
        # Restore needs all its permissions; the emulator's write list holds any-one-of.
        assert set(object_type.write_permissions) & set(kind.write)


def test_the_emulator_accepts_the_documented_group_settings_permission() -> None:
    assert by_name("groupSettings").read_permission in KINDS["groupSettings"].read


def test_restore_order_respects_every_dependency() -> None:
    order = [t.name for t in restore_order()]
    assert sorted(order) == sorted(names())
    for object_type in TYPES:
        for dependency in object_type.depends_on:
            assert order.index(dependency) < order.index(object_type.name)
    assert order == list(names())
    assert order.index("administrativeUnits") < order.index("users") < order.index("groups")
    assert order.index("applications") < order.index("servicePrincipals")
    assert order.index("roleAssignments") < order.index("conditionalAccessPolicies")
    assert order.index("namedLocations") < order.index("conditionalAccessPolicies")


def test_restore_order_of_a_selection_keeps_only_the_selection() -> None:
    chosen = select_types(["conditionalAccessPolicies", "users", "namedLocations", "users"])
    assert [t.name for t in restore_order(chosen)] == [
        "users", "namedLocations", "conditionalAccessPolicies"]


def _row(name: str, *depends_on: str) -> ObjectType:
    return ObjectType(name=name, path=f"/{name}", entity_type="microsoft.graph.user",
                      select=("id",), natural_keys=(("id",),),
                      read_permission="User.Read.All",
                      restore_strategy=RestoreStrategy.RECREATE, depends_on=depends_on)


def test_a_dependency_cycle_is_reported_with_its_members() -> None:
    with pytest.raises(ObjectTypeTableError, match="cycle: a, b"):
        restore_order([_row("a", "b"), _row("b", "a"), _row("c")])


def test_a_dependency_on_an_unknown_type_is_reported() -> None:
    with pytest.raises(UnknownObjectType, match="'nothing'"):
        restore_order([_row("a", "nothing")])


def test_an_unknown_type_name_is_a_usage_error_listing_the_known_ones() -> None:
    with pytest.raises(UnknownObjectType) as caught:
        by_name("user")
    assert isinstance(caught.value, UsageError)
    assert caught.value.exit_code == 2
    assert "unknown object type 'user'" in caught.value.message
    assert "users" in caught.value.message
    with pytest.raises(UnknownObjectType):
        select_types(["groups", "gropus"])
    assert by_name("groups").path == "/groups"


def test_missing_permissions_names_the_least_privileged_one_per_type() -> None:
    everything = {t.read_permission for t in TYPES}
    assert missing_permissions(everything) == {}
    assert missing_permissions([]) == {t.name: t.read_permission for t in TYPES}
    only_users = missing_permissions(["user.read.all"])
    assert "users" not in only_users
    assert only_users["groups"] == "Group.Read.All"
    assert "groupSettings" not in missing_permissions(["Group.Read.All"])
    directory = missing_permissions(["Directory.Read.All"])
    assert directory == {"authorizationPolicy": "Policy.Read.All",
                         "namedLocations": "Policy.Read.All",
                         "conditionalAccessPolicies": "Policy.Read.All"}


def test_missing_write_permissions_lists_every_absent_one() -> None:
    missing = missing_write_permissions(["Policy.ReadWrite.ConditionalAccess"])
    assert missing["conditionalAccessPolicies"] == ("Policy.Read.All", "Application.Read.All")
    assert "directoryRoles" not in missing
    everything = {p for t in TYPES for p in t.write_permissions}
    assert missing_write_permissions(everything) == {}


def test_group_delta_reads_members_as_annotations() -> None:
    groups = by_name("groups")
    assert groups.delta_select()[-2:] == ("members", "owners")
    assert "members" not in groups.select and "owners" not in groups.select
    assert by_name("devices").delta_select()[-2:] == ("registeredOwners", "registeredUsers")
    assert "manager" in by_name("users").delta_select()


# --- against a running emulator -------------------------------------------------------

def _query(object_type: ObjectType, properties: tuple[str, ...]) -> str:
    return object_type.path.lstrip("/") + "?$select=" + ",".join(properties)


def _app_client(emulator: LiveEmulator, permissions: list[str]) -> httpx.Client:
    app = emulator.control("POST", "/apps", {"permissions": permissions})
    token = acquire_token(emulator.authority, app["client_id"], app["client_secret"],
                          emulator.ca_bundle)["access_token"]
    return emulator.http(token)


def _first_id(client: httpx.Client, object_type: ObjectType) -> str | None:
    response = client.get(_query(object_type, ("id",)))
    assert response.status_code == 200, response.text
    body = response.json()
    items = [body] if object_type.singleton else body["value"]
    return str(items[0]["id"]) if items else None


@each_type
def test_the_emulator_accepts_each_select_list(emulator: LiveEmulator,
                                               object_type: ObjectType) -> None:
    allowed = set(object_type.select)
    with emulator.http() as client:
        response = client.get(_query(object_type, object_type.select))
        assert response.status_code == 200, response.text
        body = response.json()
        items = [body] if object_type.singleton else body["value"]
        assert items, f"the emulator's tenant holds no {object_type.name}"
        extra = {key for item in items for key in item
                 if "@" not in key and key not in allowed}
        assert extra == set()
        if object_type.delta_path:
            delta = client.get(object_type.delta_path.lstrip("/") + "?$select="
                               + ",".join(object_type.delta_select()))
            assert delta.status_code == 200, delta.text
        if object_type.per_object_select:
            one = client.get(f"{object_type.path.lstrip('/')}/{items[0]['id']}?$select="
                             + ",".join(object_type.per_object_select))
            assert one.status_code == 200, one.text


def test_group_delta_carries_members_as_annotations(emulator: LiveEmulator) -> None:
    groups = by_name("groups")
    with emulator.http() as client:
        page = client.get(_query(groups, groups.delta_select()).replace(
            "groups?", "groups/delta?", 1)).json()
    assert any("members@delta" in group for group in page["value"])


def test_the_listed_read_permissions_read_every_type_and_relationship(
        emulator: LiveEmulator) -> None:
    permissions = sorted({t.read_permission for t in EMULATED})
    read = 0
    with _app_client(emulator, permissions) as client:
        for object_type in EMULATED:
            first = _first_id(client, object_type)
            per_object = [r for r in object_type.relationships
                          if r.capture is Capture.PER_OBJECT]
            for relationship in per_object if first else []:
                response = client.get(relationship.path.lstrip("/").format(id=first))
                assert response.status_code == 200, (relationship.path, response.text)
                read += 1
    assert read == sum(1 for t in EMULATED for r in t.relationships
                       if r.capture is Capture.PER_OBJECT)


@pytest.mark.parametrize("withheld", sorted({t.read_permission for t in EMULATED}))
def test_a_missing_read_permission_denies_only_its_types(emulator: LiveEmulator,
                                                         withheld: str) -> None:
    permissions = sorted({t.read_permission for t in EMULATED} - {withheld})
    # A type stays readable when another permission the app holds also reads it
    # (directory settings are readable with Group.Read.All too).
    expected = {t.name for t in EMULATED if not set(t.read_permissions) & set(permissions)}
    assert set(missing_permissions(permissions, EMULATED)) == expected
    with _app_client(emulator, permissions) as client:
        denied = {t.name for t in EMULATED
                  if client.get(_query(t, ("id",))).status_code == 403}
    assert denied == expected


def test_the_documentation_describes_every_type() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "object-types.md").read_text()
    for object_type in TYPES:
        assert f"| `{object_type.name}` | `{object_type.path}` |" in text, object_type.name
