"""Ids checked for their type's form before they join a Graph path, then escaped.

The real ids are those of the Graph documentation examples for each type; the hostile
ones would, unchecked, name another resource or add query options to the request.
"""

from __future__ import annotations

import pytest

from entra_backup.domain.object_ids import (
    ID_FORMS,
    MalformedObjectId,
    checked_id,
    edge_kind,
    is_well_formed,
    path_segment,
)
from entra_backup.domain.object_types import TYPES
from entra_backup.domain.restore.plan import Action, PlanItem, RestorePlan
from entra_backup.domain.restore.plan_ids import check_plan_ids

GUID = "5f6e2b3c-8a9d-4e1f-b2c3-d4e5f6a7b8c9"
OTHER = "0d55728d-3e24-4309-9b1b-5ac09921475a"
REAL = {
    "administrativeUnits": GUID, "users": GUID.upper(), "groups": GUID, "devices": GUID,
    "applications": GUID, "servicePrincipals": GUID, "directoryRoles": GUID,
    "roleDefinitions": "b3234d24-4d24-b323-244d-23b3244d23b3",
    "groupSettings": "84af2ca5-c274-41bf-86e4-6e374ec4def6",
    "namedLocations": "1c4427fd-0885-4a3d-8b23-09a899ffa959",
    "conditionalAccessPolicies": "10ef4fe6-5e51-4f5e-b5a2-8fed19d0be67",
    "oauth2PermissionGrants": "l5eW7x0ga0-WDOntXzHateQDNpSH5-lPk9HjD3Sarjk",
    "roleAssignments": "lAPpYvVpN0KRkAEhdxReELhrmgjL6CxJqkHAeKoLUSA-11",
    "subscribedSkus": "dcd219dd-bc68-4b9b-bf0b-4a33a796be35_c7df2760-2c81-4ef7-b578-5b5392b571df",
    "authorizationPolicy": "authorizationPolicy",
    "directoryObjects": GUID,
    "appRoleAssignments": "41W1zT6z1U-kJxf62svfp1HFE8pMZhxDun-ThPczmJE",
    "scopedRoleMembers": "zyJ6yXnO4EmD_bHTmlc_Hc5gNzm6RR1MoSSg4YeWs-s",
}
HOSTILE = [f"../servicePrincipals/{GUID}", "x?$select=a", "x#y", "x%2F..", "x&y=1", "a b", "",
           f"{GUID}/", f"{GUID}?", f"{GUID}\n", f" {GUID}", f"{GUID}%00"]


def test_every_type_of_the_table_says_what_its_ids_look_like() -> None:
    assert {t.name for t in TYPES} <= set(ID_FORMS)
    assert set(REAL) == set(ID_FORMS)


@pytest.mark.parametrize("kind", sorted(REAL))
def test_a_real_id_of_each_kind_passes_unchanged(kind: str) -> None:
    assert path_segment(kind, REAL[kind]) == REAL[kind]


@pytest.mark.parametrize("kind", sorted(REAL))
@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_id_of_any_kind_is_refused(kind: str, hostile: str) -> None:
    with pytest.raises(MalformedObjectId) as refused:
        path_segment(kind, hostile, "plan.json, item 3")
    message = refused.value.message
    assert "\n" not in message
    assert message.startswith(f"malformed {kind} id {hostile!r}"[:40])
    assert "in plan.json, item 3" in message
    assert refused.value.exit_code == 37


def test_a_composite_id_is_not_a_guid_and_the_reverse() -> None:
    assert not is_well_formed("users", REAL["roleAssignments"])
    assert is_well_formed("roleAssignments", REAL["roleAssignments"])
    assert not is_well_formed("subscribedSkus", GUID)


def test_a_long_id_is_shown_shortened_and_a_non_string_refused() -> None:
    with pytest.raises(MalformedObjectId) as refused:
        checked_id("users", "x" * 5000 + "?")
    assert len(refused.value.message) < 300
    with pytest.raises(MalformedObjectId):
        checked_id("users", 42)


def test_an_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        is_well_formed("mailboxes", GUID)


def test_entity_edges_are_checked_as_their_entities() -> None:
    assert edge_kind("appRoleAssignedTo") == "appRoleAssignments"
    assert edge_kind("scopedRoleMembers") == "scopedRoleMembers"
    assert edge_kind("members") == "directoryObjects"


def _plan(*items: PlanItem, matched: dict[str, str] | None = None) -> RestorePlan:
    return RestorePlan("contoso", "ab" * 32, "2026-12-01T00:00:00+00:00", {}, list(items),
                       matched=matched or {})


FIELDS = {
    "object_id": lambda bad: _plan(PlanItem(Action.UPDATE, "users", bad, "r")),
    "live_id": lambda bad: _plan(PlanItem(Action.UPDATE, "users", GUID, "r", live_id=bad)),
    "matched": lambda bad: _plan(PlanItem(Action.UPDATE, "users", GUID, "r"),
                                 matched={GUID: bad}),
    "edges": lambda bad: _plan(PlanItem(Action.ADD_EDGES, "groups", GUID, "r",
                                        relationship="members", edges=(OTHER, bad))),
    "edge matched": lambda bad: _plan(PlanItem(Action.ADD_EDGES, "groups", GUID, "r",
                                               relationship="owners", edges=(OTHER,)),
                                      matched={OTHER: bad}),
    "entity edges": lambda bad: _plan(PlanItem(Action.REMOVE_EDGES, "servicePrincipals",
                                               GUID, "r", relationship="appRoleAssignedTo",
                                               edges=(bad,))),
    "skip live_id": lambda bad: _plan(PlanItem(Action.SKIP, "users", GUID, "r", live_id=bad)),
}


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_a_plan_with_a_malformed_id_in_any_field_is_refused_whole(field: str) -> None:
    bad = "x?$select=a"
    with pytest.raises(MalformedObjectId) as refused:
        check_plan_ids(FIELDS[field](bad), "plan.json")
    assert "plan.json, item 1" in refused.value.message
    check_plan_ids(FIELDS[field](OTHER.upper()), "plan.json")  # a well-formed one passes
