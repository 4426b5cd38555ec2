"""Object diffs: what an administrator is told changed between two stored versions."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from entra_backup.domain.canonical import canonical_bytes
from entra_backup.domain.diff import (
    AttributeChange,
    MalformedDocument,
    ObjectDiff,
    RelationshipChange,
    count_changes,
    diff_documents,
)
from entra_backup.domain.errors import UnknownObjectType
from entra_backup.domain.object_types import TYPES, by_name

USER = "#microsoft.graph.user"
GROUP = "#microsoft.graph.group"
ALL_RELATIONSHIPS = {r.name for t in TYPES for r in t.relationships}
ENTITY_RELATIONSHIPS = {"appRoleAssignedTo", "appRoleAssignments", "scopedRoleMembers"}
DIFFED_TYPES = ["users", "groups", "servicePrincipals", "administrativeUnits", "namedLocations"]


def ref(object_id: str, odata_type: str = USER) -> dict[str, Any]:
    return {"@odata.type": odata_type, "id": object_id}


def assignment(object_id: str, app_role_id: str) -> dict[str, Any]:
    return {
        "id": object_id,
        "appRoleId": app_role_id,
        "principalId": "p-1",
        "principalType": "User",
        "resourceId": "sp-1",
    }


# Python's == says 0 == 0.0 == -0.0 == False and 1 == 1.0 == True; JSON does not.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
    | st.sampled_from([0, 1, 0.0, 1.0, -0.0, True, False, "", "1"])
)
keys = (st.text(max_size=6) | st.sampled_from(["displayName", "state", "a", "b"])).filter(
    lambda key: key not in ALL_RELATIONSHIPS
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)
attribute_maps = st.dictionaries(keys, json_values, max_size=6)

edge_ids = st.sampled_from(["id-a", "id-b", "id-c", "id-d"])
reference_edges = st.builds(ref, edge_ids, st.sampled_from([USER, GROUP]))
entity_edges = st.builds(assignment, edge_ids, st.sampled_from(["role-1", "role-2"]))


def edge_lists(entity: bool) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Edges as the backup stores them: unique ids, sorted by id."""
    edges = entity_edges if entity else reference_edges
    return st.lists(edges, unique_by=lambda e: e["id"], max_size=4).map(
        lambda found: sorted(found, key=lambda e: e["id"])
    )


@st.composite
def relationship_values(draw: st.DrawFn, type_name: str) -> dict[str, Any]:
    """Every relationship of the type, each present and in stored form."""
    values: dict[str, Any] = {}
    for rel in by_name(type_name).relationships:
        if rel.single_valued:
            values[rel.name] = draw(st.none() | reference_edges)
        else:
            values[rel.name] = draw(edge_lists(rel.name in ENTITY_RELATIONSHIPS))
    return values


@st.composite
def documents(draw: st.DrawFn, type_name: str) -> dict[str, Any]:
    return {**draw(attribute_maps), **draw(relationship_values(type_name))}


@st.composite
def variant(draw: st.DrawFn, value: Any) -> Any:
    """A copy of ``value`` that is often equal, and otherwise differs a little or a lot."""
    choice = draw(st.sampled_from(["same", "replace", "tweak"]))
    if choice == "same":
        return copy.deepcopy(value)
    if choice == "replace" or not isinstance(value, dict | list) or not value:
        return draw(json_values)
    if isinstance(value, list):
        index = draw(st.integers(min_value=0, max_value=len(value) - 1))
        return [draw(variant(item)) if i == index else item for i, item in enumerate(value)]
    tweaked = {key: draw(variant(item)) for key, item in value.items() if draw(st.booleans())}
    tweaked.update(draw(st.dictionaries(keys, json_values, max_size=2)))
    return tweaked


@st.composite
def document_pairs(draw: st.DrawFn) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A type and two of its documents: equal, nearly equal or unrelated."""
    type_name = draw(st.sampled_from(DIFFED_TYPES))
    before = draw(documents(type_name))
    attributes = {k: v for k, v in before.items() if k not in ALL_RELATIONSHIPS}
    relationships = {k: v for k, v in before.items() if k in ALL_RELATIONSHIPS}
    new_attributes = draw(variant(attributes))
    if not isinstance(new_attributes, dict):
        new_attributes = {}
    new_relationships = draw(st.just(copy.deepcopy(relationships)) | relationship_values(type_name))
    return type_name, before, {**new_attributes, **new_relationships}


def mirrored(diff: ObjectDiff) -> ObjectDiff:
    """The diff one would expect in the other direction."""
    swap = {"added": "removed", "removed": "added", "changed": "changed"}
    status = {"added": "removed", "removed": "added"}.get(diff.status, diff.status)
    return ObjectDiff(
        diff.type,
        diff.object_id,
        status,  # type: ignore[arg-type]
        tuple(
            AttributeChange(c.name, c.after, c.before, swap[c.kind])  # type: ignore[arg-type]
            for c in diff.attributes
        ),
        tuple(
            RelationshipChange(r.name, r.removed, r.added, tuple((a, b) for b, a in r.changed))
            for r in diff.relationships
        ),
    )


# Properties


@given(st.sampled_from(DIFFED_TYPES).flatmap(lambda t: st.tuples(st.just(t), documents(t))))
def test_identical_documents_are_unchanged(case: tuple[str, dict[str, Any]]) -> None:
    type_name, document = case
    reordered = dict(reversed(list(copy.deepcopy(document).items())))
    diff = diff_documents(type_name, "o-1", document, reordered)
    assert diff.status == "unchanged"
    assert not diff.changed
    assert diff.attributes == ()
    assert diff.relationships == ()


@given(json_values)
def test_any_identical_json_document_is_unchanged(value: Any) -> None:
    document = {"value": value, "nested": {"value": value}}
    diff = diff_documents("conditionalAccessPolicies", "p-1", document, copy.deepcopy(document))
    assert diff == ObjectDiff("conditionalAccessPolicies", "p-1", "unchanged", (), ())


@given(document_pairs())
def test_diff_is_empty_exactly_when_the_canonical_forms_are_equal(
    case: tuple[str, dict[str, Any], dict[str, Any]],
) -> None:
    type_name, before, after = case
    diff = diff_documents(type_name, "o-1", before, after)
    same = canonical_bytes(before) == canonical_bytes(after)
    assert (not diff.attributes and not diff.relationships) == same
    assert diff.status == ("unchanged" if same else "modified")


@given(document_pairs(), st.sampled_from(["both", "added", "removed"]))
def test_reversing_the_diff_swaps_added_and_removed(
    case: tuple[str, dict[str, Any], dict[str, Any]], which: str
) -> None:
    type_name, a, b = case
    first: dict[str, Any] | None = None if which == "added" else a
    second: dict[str, Any] | None = None if which == "removed" else b
    forward = diff_documents(type_name, "o-1", first, second)
    backward = diff_documents(type_name, "o-1", second, first)
    assert backward == mirrored(forward)


@given(document_pairs())
def test_json_form_survives_orjson(case: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    type_name, before, after = case
    as_json = diff_documents(type_name, "o-1", before, after).to_json()
    assert canonical_bytes(orjson.loads(orjson.dumps(as_json))) == canonical_bytes(as_json)


@given(document_pairs())
def test_results_are_sorted(case: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    type_name, before, after = case
    diff = diff_documents(type_name, "o-1", before, after)
    names = [c.name for c in diff.attributes]
    assert names == sorted(names)
    order = [r.name for r in by_name(type_name).relationships]
    assert [r.name for r in diff.relationships] == [
        name for name in order if name in {r.name for r in diff.relationships}
    ]
    for change in diff.relationships:
        for edges in (change.added, change.removed, tuple(b for b, _ in change.changed)):
            ids = [e["id"] for e in edges]
            assert ids == sorted(ids)


# Attributes


def test_changed_nested_leaf_is_named_by_its_dotted_path() -> None:
    before: dict[str, Any] = {
        "displayName": "Ada",
        "passwordProfile": {"forceChangePasswordNextSignIn": False, "password": None},
    }
    after = copy.deepcopy(before)
    after["passwordProfile"]["forceChangePasswordNextSignIn"] = True
    diff = diff_documents("users", "u-1", before, after)
    assert diff.status == "modified"
    assert diff.changed
    assert diff.attributes == (
        AttributeChange("passwordProfile.forceChangePasswordNextSignIn", False, True, "changed"),
    )


def test_lists_inside_nested_objects_are_compared_whole() -> None:
    before = {"conditions": {"users": {"includeUsers": ["All"], "excludeUsers": ["u-9"]}}}
    after = copy.deepcopy(before)
    after["conditions"]["users"]["includeUsers"] = ["u-1", "u-2"]
    diff = diff_documents("conditionalAccessPolicies", "p-1", before, after)
    assert diff.attributes == (
        AttributeChange("conditions.users.includeUsers", ["All"], ["u-1", "u-2"], "changed"),
    )


def test_added_and_removed_properties_are_told_apart_from_null() -> None:
    before = {"displayName": "Ada", "jobTitle": "Engineer", "mobilePhone": None, "city": None}
    after = {"displayName": "Ada", "department": "R&D", "city": "Oslo"}
    diff = diff_documents("users", "u-1", before, after)
    assert diff.attributes == (
        AttributeChange("city", None, "Oslo", "changed"),
        AttributeChange("department", None, "R&D", "added"),
        AttributeChange("jobTitle", "Engineer", None, "removed"),
        AttributeChange("mobilePhone", None, None, "removed"),
    )


def test_a_property_added_inside_a_nested_object() -> None:
    before: dict[str, Any] = {"passwordProfile": {}}
    after = {"passwordProfile": {"forceChangePasswordNextSignInWithMfa": True}}
    diff = diff_documents("users", "u-1", before, after)
    assert diff.attributes == (
        AttributeChange(
            "passwordProfile.forceChangePasswordNextSignInWithMfa", None, True, "added"
        ),
    )


@pytest.mark.parametrize(("old", "new"), [(True, 1), (1, 1.0), (0.0, -0.0), (False, 0)])
def test_values_python_calls_equal_but_json_does_not_are_changes(old: Any, new: Any) -> None:
    diff = diff_documents("users", "u-1", {"accountEnabled": old}, {"accountEnabled": new})
    assert diff.attributes == (AttributeChange("accountEnabled", old, new, "changed"),)


def test_ignored_properties_are_left_out() -> None:
    before = {"displayName": "Sales", "renewedDateTime": "2024-01-01T00:00:00Z"}
    after = {"displayName": "Sales", "renewedDateTime": "2025-01-01T00:00:00Z"}
    assert diff_documents("groups", "g-1", before, after).status == "modified"
    ignored = diff_documents("groups", "g-1", before, after, ignore={"renewedDateTime"})
    assert ignored.status == "unchanged"
    after["displayName"] = "Sales EU"
    still = diff_documents("groups", "g-1", before, after, ignore=["renewedDateTime"])
    assert [c.name for c in still.attributes] == ["displayName"]


# Relationships


def test_member_added_and_another_removed() -> None:
    before = {"displayName": "Sales", "members": [ref("u-1"), ref("u-2")]}
    after = {"displayName": "Sales", "members": [ref("u-2"), ref("u-3")]}
    diff = diff_documents("groups", "g-1", before, after)
    assert diff.status == "modified"
    assert diff.attributes == ()
    assert diff.relationships == (
        RelationshipChange("members", added=(ref("u-3"),), removed=(ref("u-1"),)),
    )


def test_manager_changed_is_one_edge_removed_and_one_added() -> None:
    before = {"displayName": "Ada", "manager": ref("u-boss")}
    after = {"displayName": "Ada", "manager": ref("u-new-boss")}
    diff = diff_documents("users", "u-1", before, after)
    assert diff.relationships == (
        RelationshipChange("manager", added=(ref("u-new-boss"),), removed=(ref("u-boss"),)),
    )


def test_manager_set_to_null() -> None:
    diff = diff_documents("users", "u-1", {"manager": ref("u-boss")}, {"manager": None})
    assert diff.status == "modified"
    assert diff.attributes == ()
    assert diff.relationships == (RelationshipChange("manager", removed=(ref("u-boss"),)),)


def test_absent_relationship_equals_empty_or_null() -> None:
    assert diff_documents("users", "u-1", {"manager": None}, {}).status == "unchanged"
    assert diff_documents("groups", "g-1", {"members": []}, {}).status == "unchanged"


def test_changed_app_role_assignment_is_reported_with_both_versions() -> None:
    before = {"appRoleAssignedTo": [assignment("a-1", "role-1"), assignment("a-2", "role-1")]}
    after = {"appRoleAssignedTo": [assignment("a-1", "role-2"), assignment("a-2", "role-1")]}
    diff = diff_documents("servicePrincipals", "sp-1", before, after)
    assert diff.relationships == (
        RelationshipChange(
            "appRoleAssignedTo",
            changed=((assignment("a-1", "role-1"), assignment("a-1", "role-2")),),
        ),
    )


def test_edges_are_matched_by_id_not_by_position() -> None:
    before = {"members": [ref("u-1"), ref("u-2")]}
    after = {"members": [ref("u-2"), ref("u-1")]}
    assert diff_documents("groups", "g-1", before, after).status == "unchanged"
    after = {"members": [ref("u-3"), ref("u-2"), ref("u-0")]}
    diff = diff_documents("groups", "g-1", before, after)
    assert diff.relationships[0].added == (ref("u-0"), ref("u-3"))


def test_relationships_come_in_the_types_order() -> None:
    before: dict[str, Any] = {"owners": [], "appRoleAssignments": [], "appRoleAssignedTo": []}
    after = {
        "appRoleAssignments": [assignment("a-9", "role-1")],
        "appRoleAssignedTo": [assignment("a-1", "role-1")],
        "owners": [ref("u-1")],
    }
    diff = diff_documents("servicePrincipals", "sp-1", before, after)
    assert [r.name for r in diff.relationships] == [
        "owners",
        "appRoleAssignedTo",
        "appRoleAssignments",
    ]


def test_relationship_keys_are_never_attributes() -> None:
    before = {"displayName": "Sales", "members": [ref("u-1")], "owners": [ref("u-8")]}
    after = {"displayName": "Sales", "members": [ref("u-2")]}
    for include in (True, False):
        diff = diff_documents("groups", "g-1", before, after, include_relationships=include)
        assert diff.attributes == ()
    added = diff_documents("groups", "g-1", None, after)
    assert [c.name for c in added.attributes] == ["displayName"]


def test_without_relationships_none_are_reported() -> None:
    before = {"displayName": "Sales", "members": [ref("u-1")]}
    after = {"displayName": "Sales", "members": [ref("u-2")]}
    diff = diff_documents("groups", "g-1", before, after, include_relationships=False)
    assert diff.relationships == ()
    assert diff.status == "unchanged"


def test_ignore_also_names_relationships() -> None:
    before = {"members": [ref("u-1")], "owners": [ref("u-8")]}
    after = {"members": [ref("u-2")], "owners": []}
    diff = diff_documents("groups", "g-1", before, after, ignore=["owners"])
    assert [r.name for r in diff.relationships] == ["members"]


@pytest.mark.parametrize(
    ("type_name", "document"),
    [
        ("groups", {"members": {"id": "u-1"}}),
        ("groups", {"members": [{"@odata.type": USER}]}),
        ("groups", {"members": [ref("u-1"), ref("u-1")]}),
        ("groups", {"members": ["u-1"]}),
        ("users", {"manager": [ref("u-1")]}),
    ],
)
def test_malformed_relationships_are_refused(type_name: str, document: dict[str, Any]) -> None:
    with pytest.raises(MalformedDocument):
        diff_documents(type_name, "o-1", document, {})


# Whole objects


def test_added_object_lists_everything_as_added() -> None:
    after = {
        "displayName": "Sales",
        "mailNickname": "sales",
        "members": [ref("u-2"), ref("u-1")],
        "owners": [ref("u-8")],
    }
    diff = diff_documents("groups", "g-1", None, after)
    assert diff.status == "added"
    assert diff.changed
    assert diff.attributes == (
        AttributeChange("displayName", None, "Sales", "added"),
        AttributeChange("mailNickname", None, "sales", "added"),
    )
    assert diff.relationships == (
        RelationshipChange("members", added=(ref("u-1"), ref("u-2"))),
        RelationshipChange("owners", added=(ref("u-8"),)),
    )


def test_removed_object_lists_everything_as_removed() -> None:
    before = {"displayName": "Ada", "passwordProfile": {"a": 1}, "manager": ref("u-boss")}
    diff = diff_documents("users", "u-1", before, None)
    assert diff.status == "removed"
    assert diff.attributes == (
        AttributeChange("displayName", "Ada", None, "removed"),
        AttributeChange("passwordProfile", {"a": 1}, None, "removed"),
    )
    assert diff.relationships == (RelationshipChange("manager", removed=(ref("u-boss"),)),)


def test_unknown_type_is_refused() -> None:
    with pytest.raises(UnknownObjectType):
        diff_documents("printers", "x-1", {}, {})


def test_a_diff_needs_one_version() -> None:
    with pytest.raises(ValueError, match="at least one version"):
        diff_documents("users", "u-1", None, None)


def test_json_form_has_stable_keys() -> None:
    before = {"displayName": "Sales", "appRoleAssignedTo": [assignment("a-1", "role-1")]}
    after = {"appRoleAssignedTo": [assignment("a-1", "role-2")], "owners": [ref("u-1")]}
    diff = diff_documents("servicePrincipals", "sp-1", before, after)
    expected = {
        "type": "servicePrincipals",
        "id": "sp-1",
        "status": "modified",
        "attributes": [
            {"name": "displayName", "kind": "removed", "before": "Sales", "after": None},
        ],
        "relationships": [
            {"name": "owners", "added": [ref("u-1")], "removed": [], "changed": []},
            {
                "name": "appRoleAssignedTo",
                "added": [],
                "removed": [],
                "changed": [
                    {"before": assignment("a-1", "role-1"), "after": assignment("a-1", "role-2")}
                ],
            },
        ],
    }
    assert diff.to_json() == expected
    assert orjson.loads(orjson.dumps(diff.to_json())) == expected


def test_count_changes_per_type() -> None:
    diffs = [
        diff_documents("users", "u-1", None, {"displayName": "Ada"}),
        diff_documents("users", "u-2", {"displayName": "Bo"}, None),
        diff_documents("users", "u-3", {"displayName": "Cy"}, {"displayName": "Cyd"}),
        diff_documents("users", "u-4", {"displayName": "Di"}, {"displayName": "Di"}),
        diff_documents("groups", "g-1", {"members": []}, {"members": [ref("u-1")]}),
        diff_documents("groups", "g-2", {}, {}),
        diff_documents("devices", "d-1", {}, {}),
        diff_documents("administrativeUnits", "au-1", None, {}),
    ]
    counts = count_changes(diffs)
    assert counts == {
        "administrativeUnits": {"added": 1, "removed": 0, "modified": 0},
        "users": {"added": 1, "removed": 1, "modified": 1},
        "groups": {"added": 0, "removed": 0, "modified": 1},
        "devices": {"added": 0, "removed": 0, "modified": 0},
    }
    assert list(counts) == ["administrativeUnits", "users", "groups", "devices"]
    assert count_changes([]) == {}
