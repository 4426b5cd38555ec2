"""The oracles catch what they must, and accept what Microsoft itself publishes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.fidelity.oracle.endpoints import route_exists
from tests.fidelity.oracle.examples import Allowance, compare, load_examples, select, shape
from tests.fidelity.oracle.quirks import DOC_QUIRKS
from tests.fidelity.oracle.response_types import response_type
from tests.fidelity.oracle.routes import route_basis
from tests.fidelity.oracle.schema import Schema, UnknownType, load_schema

USER_ID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
GOOD_USER: dict[str, Any] = {
    "@odata.type": "#microsoft.graph.user",
    "id": USER_ID,
    "displayName": "Adele Vance",
    "accountEnabled": True,
    "businessPhones": ["+1 425 555 0109"],
    "createdDateTime": "2024-03-01T10:15:00Z",
    "deletedDateTime": None,
    "assignedLicenses": [{"skuId": "c7df2760-2c81-4ef7-b578-5b5392b571df", "disabledPlans": []}],
    "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": "x"},
    "extension_0cc81a4e1d2d4b2e8f3a6f1b2c3d4e5f_costCenter": "CC-1",
    "manager@odata.bind": "https://graph.microsoft.com/v1.0/users/x",
}


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD_USER, **changes}


def test_a_valid_user_has_no_problems(schema: Schema) -> None:
    before = schema.properties_checked
    assert schema.problems("user", GOOD_USER) == []
    assert schema.properties_checked - before == 13  # nested properties count too


def test_inherited_properties_come_from_base_types(schema: Schema) -> None:
    properties, navigation = schema.members("microsoft.graph.user")
    assert properties["id"].name == "Edm.String"
    assert properties["deletedDateTime"].name == "Edm.DateTimeOffset"
    assert navigation["manager"].name == "microsoft.graph.directoryObject"
    assert [t.name for t in schema.bases("user")] == [
        "microsoft.graph.user", "microsoft.graph.directoryObject", "microsoft.graph.entity"]


@pytest.mark.parametrize(("obj", "expected"), [
    (_with(dispalyName="A"), r"user\.dispalyName: .* has no property 'dispalyName'"),
    (_with(accountEnabled="true"), r"accountEnabled: 'true' is not a valid Edm\.Boolean"),
    (_with(createdDateTime="yesterday"), r"createdDateTime: .* Edm\.DateTimeOffset"),
    (_with(assignedLicenses=[{"skuId": "E5"}]), r"assignedLicenses\[0\]\.skuId: .* Edm\.Guid"),
    (_with(assignedLicenses=None), r"assignedLicenses: null, but .* is not nullable"),
    (_with(businessPhones="+1 425"), r"businessPhones: expected an array"),
    (_with(passwordProfile={"forceChange": True}), r"passwordProfile\.forceChange: .*"
                                                   r"passwordProfile has no property"),
    (_with(**{"@odata.type": "#microsoft.graph.group"}), r"microsoft\.graph\.group is not a"),
    (_with(**{"@odata.type": "#microsoft.graph.usr"}), r"unknown type"),
    (_with(**{"@odata.nextPage": "x"}), r"@odata\.nextPage: unknown annotation"),
    (_with(**{"@removed": {"reason": "gone"}}), r"@removed: must be"),
    (_with(**{"mail@delta": []}), r"mail@delta: unknown annotation 'delta'"),
    (_with(**{"mial@odata.type": "x"}), r"annotates 'mial', which is not a property"),
    (_with(costCenter="CC-1"), r"has no property 'costCenter'"),
])
def test_schema_reports_each_kind_of_departure(schema: Schema, obj: dict[str, Any],
                                               expected: str) -> None:
    problems = schema.problems("user", obj)
    assert len(problems) == 1, problems
    assert re.search(expected, problems[0]), problems[0]


def test_enums_and_flags_enums(schema: Schema) -> None:
    policy = {"id": "p", "displayName": "MFA", "state": "enabledForReportingButNotEnforced"}
    assert schema.problems("conditionalAccessPolicy", policy) == []
    assert "is not a member of microsoft.graph.conditionalAccessPolicyState" in " ".join(
        schema.problems("conditionalAccessPolicy", {**policy, "state": "on"}))
    grant = {"operator": "OR", "builtInControls": ["mfa", "compliantDevice"]}
    assert schema.problems("conditionalAccessGrantControls", grant) == []
    bad = schema.problems("conditionalAccessGrantControls", {**grant, "builtInControls": ["2fa"]})
    assert bad == ["conditionalAccessGrantControls.builtInControls[0]: '2fa' is not a member "
                   "of microsoft.graph.conditionalAccessGrantControl"]
    flags = schema.csdl.enums["microsoft.graph.authenticationMethodModes"]
    assert flags.flags
    assert schema.problems("authenticationStrengthPolicy", {
        "allowedCombinations": ["password,sms", "fido2"]}) == []
    assert schema.problems("authenticationStrengthPolicy", {
        "allowedCombinations": ["password,carrierPigeon"]}) != []


def test_at_odata_type_selects_a_derived_type(schema: Schema) -> None:
    member = {"@odata.type": "#microsoft.graph.group", "id": "g", "securityEnabled": True}
    assert schema.problems("directoryObject", member) == []
    assert schema.problems("directoryObject", {"id": "g", "securityEnabled": True}) == [
        "directoryObject.securityEnabled: microsoft.graph.directoryObject has no property "
        "'securityEnabled'"]
    cidr: dict[str, Any] = {"@odata.type": "#microsoft.graph.iPv4CidrRange",
                            "cidrAddress": "10.0.0.0/8"}
    location = {"@odata.type": "#microsoft.graph.ipNamedLocation", "id": "l",
                "isTrusted": True, "ipRanges": [cidr]}
    assert schema.problems("namedLocation", location) == []
    cidr["cidrAdress"] = "x"
    assert schema.problems("namedLocation", location) == [
        "namedLocation.ipRanges[0].cidrAdress: microsoft.graph.iPv4CidrRange has no property "
        "'cidrAdress'"]


def test_delta_annotations_are_accepted(schema: Schema) -> None:
    group = {"id": "g", "displayName": "G", "members@delta": [
        {"@odata.type": "#microsoft.graph.user", "id": "u"},
        {"@odata.type": "#microsoft.graph.user", "id": "v", "@removed": {"reason": "deleted"}},
    ]}
    assert schema.problems("group", group) == []
    assert schema.problems("user", {"id": "u", "@removed": {"reason": "changed"}}) == []


def test_collection_envelope(schema: Schema) -> None:
    body = {"@odata.context": "x", "@odata.nextLink": "y", "value": [{"id": "u"}]}
    assert schema.collection_problems("user", body) == []
    assert schema.collection_problems("user", {**body, "nextLink": "y"}) == [
        "unexpected key 'nextLink' in a collection response"]
    assert schema.collection_problems("user", [{"id": "u"}]) != []


def test_unknown_type_names_are_an_error(schema: Schema) -> None:
    with pytest.raises(UnknownType, match="no type 'usr'"):
        schema.problems("usr", {})


@pytest.mark.parametrize(("path", "exists"), [
    ("/users", True),
    ("/v1.0/users/{id}/memberOf", True),
    ("/users/7d54cb02-aaa3-4016-9f9c-a4b49422dd9b/manager", True),
    ("/users/delta", True),
    ("/users/delta()", True),
    ("/directory/deletedItems/microsoft.graph.user", True),
    ("/directory/deletedItems/graph.group", True),
    ("/groups/{id}/members/$ref", True),
    ("/identity/conditionalAccess/policies/{id}", True),
    ("/users?$top=5", True),
    ("/usres", False),
    ("/users/{id}/memberOff", False),
    ("/users/{id}/delta", False),
    ("/policies/{id}", False),
    ("/directory/deletedItems/{id}/microsoft.graph.contact", False),
])
def test_route_exists(path: str, exists: bool) -> None:
    assert route_exists(path) is exists


def test_route_templates_do_not_take_literals_for_ids() -> None:
    assert route_exists("/users/microsoft.graph.bogus")  # a concrete id, as far as we know
    assert not route_exists("/users/microsoft.graph.bogus", template=True)
    assert route_exists("/users/microsoft.graph.delta()", template=True)
    assert route_exists("/users/{id}/memberOf", template=True)


@pytest.mark.parametrize(("method", "path", "basis"), [
    ("GET", "/users/{id}", "endpoint list"),
    ("POST", "/$batch", "JSON batching"),
    ("DELETE", "/groups/{id}/members/{id}/$ref", "reference delete"),
    ("POST", "/directory/deletedItems/{id}/restore", "action restore bound to "
                                                    "microsoft.graph.directoryObject"),
    ("POST", "/identity/conditionalAccess/policies/{id}/restore", "conditionalAccessPolicy"),
    ("GET", "/users/{id}/restore", None),
    ("POST", "/users/{id}/restoreAll", None),
    ("GET", "/$batch", None),
    ("DELETE", "/users/{id}/mailboxes/{id}/$ref", None),
])
def test_route_basis_covers_unlisted_operations(method: str, path: str,
                                                basis: str | None) -> None:
    found = route_basis(method, path)
    if basis is None:
        assert found is None
    else:
        assert found is not None and basis in found


def test_shape_merges_list_items_and_ignores_values() -> None:
    body = {"@odata.context": "c", "value": [{"id": 1, "a": {"b": 2}}, {"id": 3, "c": [{"d": 4}]}]}
    assert shape(body) == {"@odata.context", "value", "value[].id", "value[].a", "value[].a.b",
                           "value[].c", "value[].c[].d"}
    assert shape({"value": [{"id": "x"}]}) == shape({"value": [{"id": "y"}, {"id": "z"}]})


def test_compare_reports_missing_and_added_keys_and_annotations() -> None:
    expected = {"@odata.context": "c", "value": [{"@odata.type": "#t", "id": "1", "mail": "m"}]}
    ours = {"value": [{"id": "2", "mail": None, "jobTitle": "x"}]}
    differences = compare(expected, ours)
    assert differences.missing == ["@odata.context", "value[].@odata.type"]
    assert differences.extra == ["value[].jobTitle"]
    assert differences.annotations == ["@odata.context", "value[].@odata.type"]
    allowed = compare(expected, ours, [Allowance("the example shows few properties",
                                                 extra=("value[].*",))])
    assert allowed.extra == [] and allowed.missing == differences.missing
    assert not compare(expected, expected)


def test_select_matches_patterns_exactly() -> None:
    users = select("GET", "/users/*")
    assert users and all(e.path == "/users/*" for e in users)
    assert all(e.method == "GET" for e in users)
    assert select("GET", "/users/delta")
    assert not select("GET", "/no/such/path")


def _directory_examples() -> list[tuple[int, list[str]]]:
    schema = load_schema()
    results = []
    for example in load_examples():
        found = response_type(example.path, example.method)
        if found is None or example.status >= 300 or not isinstance(example.body, dict):
            continue
        if found.collection and "value" in example.body:
            problems = schema.collection_problems(found.type, example.body)
        elif found.collection:
            continue
        else:
            problems = schema.problems(found.type, example.body)
        results.append((example.index, problems))
    return results


def test_microsofts_directory_examples_pass_except_listed_quirks() -> None:
    results = _directory_examples()
    accepted = [index for index, problems in results if not problems]
    rejected = {index: problems for index, problems in results if problems}
    assert len(results) >= 119
    assert len(accepted) >= 100
    assert set(rejected) == set(DOC_QUIRKS), "unlisted rejections or stale quirks"
    for index, problems in rejected.items():
        pattern = re.compile(DOC_QUIRKS[index].problems)
        assert all(pattern.search(p) for p in problems), (index, problems)


@pytest.mark.parametrize("path", [
    "/users", "/users/*", "/groups", "/groups/*", "/applications", "/applications/*",
    "/servicePrincipals", "/identity/conditionalAccess/policies",
    "/identity/conditionalAccess/policies/*", "/roleManagement/directory/roleDefinitions",
    "/roleManagement/directory/roleDefinitions/*",
])
def test_each_core_type_has_accepted_examples(path: str) -> None:
    schema = load_schema()
    examples = [e for e in select("GET", path) + select("POST", path)
                if e.status < 300 and isinstance(e.body, dict) and e.index not in DOC_QUIRKS]
    assert examples
    for example in examples:
        found = response_type(path, example.method)
        assert found is not None
        body = example.body
        problems = (schema.collection_problems(found.type, body) if "value" in body
                    else schema.problems(found.type, body))
        assert problems == [], (str(example), problems)
