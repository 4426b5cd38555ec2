"""The restore planner end to end: the emulator over HTTPS, a backup, the tenant broken
through Graph, then plans compared item by item with what was broken.

One module-scoped story: a backup of a 40-user tenant; a plan of the unchanged tenant; then
a patched cloud user, a soft-deleted user, a user deleted for good and created again under
the same userPrincipalName, a security group deleted (security groups are never
soft-deleted), a member removed from one group and one added to another, a user created, a
synced user changed (only ``usageLocation`` can be, Graph refuses the rest), the
authorization policy changed and an application deleted for good; plans with each option;
then one more change to prove ``live_state`` notices it. Further down: the planner's rules
on hand-made documents (no emulator), and the ``restore --dry-run`` command.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer

from entra_backup.cli import backup_cmd, browse_cmd, repo_cmd, restore_cmd, tenant_cmd
from entra_backup.cli import main as cli_main
from entra_backup.domain.errors import UsageError
from entra_backup.domain.object_types import TYPES, RestoreStrategy, by_name
from entra_backup.domain.restore.plan import Action, PlanItem, RestorePlan, changed_types
from entra_backup.services.restore.plan import (
    DYNAMIC_MEMBERS,
    MAIL_ENABLED,
    SETTINGS_SKIPPED,
    LiveTenant,
    RestoreOptions,
    live_digest,
    make_plan,
    plan_restore,
)
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot
from tests.cli.conftest_workspace import (
    Cli,
    assert_one_line_error,
    tenant_add_args,
    weak_passphrase_keys,
)
from tests.services._backup_support import (
    LiveGraph,
    State,
    Tenant,
    backup,
    graph_client,
    new_repo,
    snapshot_state,
)
from tests.support.live_emulator import LiveEmulator

allow_weak_kdf_for_tests()

PLAN_TYPES = ("users", "groups", "authorizationPolicy")
APP_TYPES = ("applications", "servicePrincipals")
SYNCED_REASON = by_name("users").restore_skips[0].reason
WRITE_ACTIONS = frozenset(Action) - {Action.SKIP}
Key = tuple[str, str, str, str | None]
"""(action, type, object id, relationship) of a plan item."""


def key(item: PlanItem) -> Key:
    return (item.action.value, item.type, item.object_id, item.relationship)


def keys(plan: RestorePlan) -> set[Key]:
    return {key(item) for item in plan.items}


def item(plan: RestorePlan, action: Action, type_name: str, object_id: str,
         relationship: str | None = None) -> PlanItem:
    found = [i for i in plan.items if key(i) == (action.value, type_name, object_id,
                                                 relationship)]
    assert len(found) == 1, (action, type_name, object_id, relationship, plan.items)
    return found[0]


def ids(edges: Any) -> list[str]:
    return sorted(edge["id"] for edge in edges or ())


# --- the story ---------------------------------------------------------------------------


@dataclass
class Story:
    live: LiveEmulator
    repo: Repository
    snapshot: Snapshot
    stored: State
    picks: dict[str, str] = field(default_factory=dict)
    plans: dict[str, RestorePlan] = field(default_factory=dict)

    def plan(self, **options: Any) -> RestorePlan:
        async def go() -> RestorePlan:
            async with graph_client(self.live) as client:
                return await make_plan(client, self.repo, self.snapshot,
                                       RestoreOptions(**options))
        return asyncio.run(go())


def _writable_groups(stored: State) -> list[str]:
    """Security groups with assigned membership that Graph lets a restore write."""
    return sorted(i for i, g in stored["groups"].items()
                  if g["securityEnabled"] and not g["mailEnabled"] and not g["groupTypes"]
                  and not g["onPremisesSyncEnabled"] and not g["isAssignableToRole"])


def _members(stored: State, group: str, relationship: str = "members") -> set[str]:
    return set(ids(stored["groups"][group][relationship]))


def _pick(stored: State, picks: dict[str, str]) -> None:
    users, groups = stored["users"], stored["groups"]
    managers = {u["manager"]["id"] for u in users.values() if u["manager"]}
    owners = {o for g in groups for o in _members(stored, g, "owners")}
    dynamic = {m for g in groups if "DynamicMembership" in groups[g]["groupTypes"]
               for m in _members(stored, g)}
    quiet = sorted(i for i, u in users.items()
                   if not u["onPremisesSyncEnabled"] and u["userType"] == "Member"
                   and i not in managers | owners | dynamic and u["manager"])
    assert len(quiet) >= 6, "the tenant should have six cloud users nobody depends on"
    picks.update(changed=quiet[0], soft=quiet[1], reborn=quiet[2], removed=quiet[3],
                 added=quiet[4], later=quiet[5])
    synced = sorted(i for i, u in users.items() if u["onPremisesSyncEnabled"]
                    and i not in managers)
    picks.update(synced=synced[0], synced_unchanged=synced[1])
    writable = _writable_groups(stored)
    assigned = {a["principalId"]: sp for sp, s in stored["servicePrincipals"].items()
                for a in s["appRoleAssignedTo"]}
    picks["doomed"] = next(g for g in writable if g in assigned and _members(stored, g))
    picks["resource"] = assigned[picks["doomed"]]
    picks["lost_member"] = next(g for g in writable if g != picks["doomed"]
                                and picks["removed"] in _members(stored, g))
    picks["gained_member"] = next(g for g in writable
                                  if g not in (picks["doomed"], picks["lost_member"])
                                  and picks["added"] not in _members(stored, g))
    apps = stored["applications"]
    sps = {s["appId"]: i for i, s in stored["servicePrincipals"].items()}
    resource_app = stored["servicePrincipals"][picks["resource"]]["appId"]
    picks["app"] = next(i for i, a in sorted(apps.items())
                        if a["appId"] != resource_app and a["appId"] in sps
                        and a["passwordCredentials"])
    picks["app_sp"] = sps[apps[picks["app"]]["appId"]]


def _break(tenant: Tenant, stored: State, picks: dict[str, str]) -> None:
    """Everything the plans must put back, done through Graph."""
    users = stored["users"]
    tenant.patch(f"users/{picks['changed']}", {"jobTitle": "Restore Planner",
                                               "department": "Planning"})
    tenant.soft_delete(f"users/{picks['soft']}")
    upn = users[picks["reborn"]]["userPrincipalName"]
    tenant.soft_delete(f"users/{picks['reborn']}")
    tenant.hard_delete(picks["reborn"])
    picks["reborn_live"] = str(tenant.graph.call("POST", "users", {
        "accountEnabled": True, "displayName": "Someone Else", "mailNickname": "someone.else",
        "userPrincipalName": upn.upper(),
        "passwordProfile": {"password": "Xk4!pz-Qr8-restore",
                            "forceChangePasswordNextSignIn": True}}, expect=201)["id"])
    tenant.graph.call("DELETE", f"groups/{picks['doomed']}", expect=204)
    assert tenant.graph.get_or_none(f"directory/deletedItems/{picks['doomed']}") is None
    # Graph drops a deleted principal's app role assignments; the emulator keeps them, so
    # the test removes the group's one as Graph would have.
    for assignment in stored["servicePrincipals"][picks["resource"]]["appRoleAssignedTo"]:
        if assignment["principalId"] == picks["doomed"]:
            response = tenant.graph.request(
                "DELETE", f"servicePrincipals/{picks['resource']}/appRoleAssignedTo/"
                          f"{assignment['id']}")
            assert response.status_code in (204, 404), response.text
    tenant.remove_link(f"groups/{picks['lost_member']}/members", picks["removed"])
    tenant.add_link(f"groups/{picks['gained_member']}/members", picks["added"])
    picks["newcomer"] = tenant.create_user("restore.newcomer")
    location = "DE" if users[picks["synced"]]["usageLocation"] != "DE" else "FR"
    tenant.patch(f"users/{picks['synced']}", {"usageLocation": location})
    before = stored["authorizationPolicy"]["authorizationPolicy"]["allowInvitesFrom"]
    tenant.patch("policies/authorizationPolicy",
                 {"allowInvitesFrom": "everyone" if before != "everyone" else "none"})
    tenant.soft_delete(f"applications/{picks['app']}")
    tenant.hard_delete(picks["app"])


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    path = tmp_path_factory.mktemp("restore-plan")
    live = LiveEmulator.start(path / "emulator", users=40, seed=31, throttle="off")
    graph = LiveGraph(live)
    try:
        repo = new_repo(path / "repo")
        _, snapshot = asyncio.run(backup(live, repo))
        tale = Story(live, repo, snapshot, snapshot_state(repo, snapshot))
        tale.plans["unchanged"] = tale.plan()
        tenant = Tenant(graph)
        _pick(tale.stored, tale.picks)
        _break(tenant, tale.stored, tale.picks)
        tale.plans["default"] = tale.plan(types=PLAN_TYPES)
        tale.plans["remove_new"] = tale.plan(types=PLAN_TYPES, remove_new=True)
        tale.plans["deleted_only"] = tale.plan(types=PLAN_TYPES, deleted_only=True)
        tale.plans["settings_skip"] = tale.plan(types=PLAN_TYPES, settings="skip")
        tale.plans["no_relationships"] = tale.plan(types=PLAN_TYPES, relationships=False)
        tale.plans["apps"] = tale.plan(types=APP_TYPES)
        tale.plans["synced"] = tale.plan(object_ids=(tale.picks["synced"],))
        tale.plans["synced_unchanged"] = tale.plan(
            object_ids=(tale.picks["synced_unchanged"],), remove_new=True)
        tenant.patch(f"users/{tale.picks['later']}", {"officeLocation": "Moved later"})
        tale.plans["later"] = tale.plan(types=PLAN_TYPES)
        yield tale
    finally:
        graph.close()
        live.stop()


def expected_default(story: Story) -> set[Key]:
    """Every item of the default plan over users, groups and the authorization policy."""
    p, stored = story.picks, story.stored
    found: set[Key] = {
        ("update", "users", p["changed"], None),
        ("undelete", "users", p["soft"], None),
        ("update", "users", p["reborn"], None),
        ("add-relationships", "users", p["reborn"], "manager"),
        ("skip", "users", p["synced"], None),
        ("recreate", "groups", p["doomed"], None),
        ("add-relationships", "groups", p["doomed"], "members"),
        ("update", "authorizationPolicy", "authorizationPolicy", None),
    }
    if stored["groups"][p["doomed"]]["owners"]:
        found.add(("add-relationships", "groups", p["doomed"], "owners"))
    for group_id, group in stored["groups"].items():
        if group_id == p["doomed"]:
            continue
        for relationship in ("members", "owners"):
            lacking = {p["reborn"]} & set(ids(group[relationship]))
            if group_id == p["lost_member"] and relationship == "members":
                lacking.add(p["removed"])
            if not lacking:
                continue
            if group_id in _writable_groups(stored):
                found.add(("add-relationships", "groups", group_id, relationship))
            else:  # mail-enabled or synced: reported, not written
                found.add(("skip", "groups", group_id, None))
    return found | reverse_edges(story, {p["reborn"], p["doomed"]})


def reverse_edges(story: Story, targets: set[str]) -> set[Key]:
    """The edges objects of types the plan does not cover hold to ``targets`` (a user
    re-created under its UPN and a re-created group, so none of them is live): app role
    assignments, device registrations, AU memberships ..., planned with them."""
    found: set[Key] = set()
    for name, objects in story.stored.items():
        object_type = by_name(name)
        if name in PLAN_TYPES or object_type.restore_strategy is RestoreStrategy.NOT_RESTORABLE:
            continue
        for object_id, document in objects.items():
            for relationship in object_type.relationships:
                if not relationship.restorable:
                    continue
                value = document.get(relationship.name) or []
                edges = [value] if isinstance(value, dict) else value
                if any(targets & {e.get("id"), e.get("principalId"),
                                  (e.get("roleMemberInfo") or {}).get("id")} for e in edges):
                    found.add(("add-relationships", name, object_id, relationship.name))
    return found


def test_an_unchanged_tenant_gives_a_plan_without_writes(story: Story) -> None:
    plan = story.plans["unchanged"]
    assert [i for i in plan.items if i.action in WRITE_ACTIONS] == []
    assert plan.writes() == {"directory": 0, "conditional_access": 0}
    assert set(plan.live_state) == {name for name, entry in story.snapshot.types.items()
                                    if entry.manifest is not None}


def test_the_plan_lists_exactly_what_was_broken(story: Story) -> None:
    assert keys(story.plans["default"]) == expected_default(story)


def test_a_patched_user_is_updated_in_exactly_the_changed_properties(story: Story) -> None:
    update = item(story.plans["default"], Action.UPDATE, "users", story.picks["changed"])
    assert update.properties == ("department", "jobTitle")
    assert update.live_id == story.picks["changed"]
    assert update.writes == 1


def test_a_soft_deleted_user_is_undeleted(story: Story) -> None:
    undelete = item(story.plans["default"], Action.UNDELETE, "users", story.picks["soft"])
    assert "recycle bin since" in undelete.reason
    assert undelete.writes == 1
    # Memberships come back with the undelete: no edge item names the user, except for
    # the re-created group, which lost them all.
    assert not any(story.picks["soft"] in i.edges or i.object_id == story.picks["soft"]
                   for i in story.plans["default"].items
                   if i.action is not Action.UNDELETE and i.object_id != story.picks["doomed"])
    doomed = item(story.plans["default"], Action.ADD_EDGES, "groups", story.picks["doomed"],
                  "members")
    assert (story.picks["soft"] in doomed.edges) == (
        story.picks["soft"] in ids(story.stored["groups"][story.picks["doomed"]]["members"]))


def test_a_deleted_security_group_is_recreated_with_its_members(story: Story) -> None:
    plan, doomed = story.plans["default"], story.picks["doomed"]
    recreate = item(plan, Action.RECREATE, "groups", doomed)
    stored = story.stored["groups"][doomed]
    groups = by_name("groups")
    licences = {name for name, _ in groups.property_actions}  # written by assignLicense
    assert set(recreate.properties) == set(stored) & groups.strip_on_create - licences
    assert "id" in recreate.properties and "createdDateTime" in recreate.properties
    members = item(plan, Action.ADD_EDGES, "groups", doomed, "members")
    assert list(members.edges) == ids(stored["members"])
    # The create binds the owners, then members up to 20 in all (every member is a user,
    # restored before groups); the rest go 20 to a PATCH.
    owners = len(stored["owners"])
    assert len(members.edges) > 20 > owners
    assert members.writes == math.ceil((len(members.edges) - (20 - owners)) / 20)
    assert f"{20 - owners} bound by the group's create" in members.reason
    assert members.live_id is None


def test_a_removed_member_is_added_back_and_an_added_one_only_removed_on_request(
        story: Story) -> None:
    p = story.picks
    lost = item(story.plans["default"], Action.ADD_EDGES, "groups", p["lost_member"],
                "members")
    assert p["removed"] in lost.edges
    assert set(lost.edges) <= {p["removed"], p["reborn"]}
    default, removing = story.plans["default"], story.plans["remove_new"]
    assert not any(i.object_id == p["gained_member"] and i.action is Action.REMOVE_EDGES
                   for i in default.items)
    removal = item(removing, Action.REMOVE_EDGES, "groups", p["gained_member"], "members")
    assert removal.edges == (p["added"],)
    assert removal.writes == 1


def test_objects_created_after_the_snapshot_are_removed_only_on_request(
        story: Story) -> None:
    p = story.picks
    assert not any(i.action is Action.REMOVE for i in story.plans["default"].items)
    extra = keys(story.plans["remove_new"]) - keys(story.plans["default"])
    assert extra == {("remove", "users", p["newcomer"], None),
                     ("remove-relationships", "groups", p["gained_member"], "members")}
    remove = item(story.plans["remove_new"], Action.REMOVE, "users", p["newcomer"])
    assert remove.live_id == p["newcomer"] and "recycle bin" in remove.reason


def test_a_user_recreated_under_the_same_upn_is_matched_not_recreated(story: Story) -> None:
    p = story.picks
    update = item(story.plans["default"], Action.UPDATE, "users", p["reborn"])
    assert update.live_id == p["reborn_live"]
    assert "userPrincipalName" in update.reason
    assert {"displayName", "mailNickname"} <= set(update.properties)
    manager = item(story.plans["default"], Action.ADD_EDGES, "users", p["reborn"], "manager")
    assert manager.edges == (story.stored["users"][p["reborn"]]["manager"]["id"],)
    assert manager.live_id == p["reborn_live"]
    # The matched live user is the stored one: never removed as "created later".
    assert not any(i.object_id == p["reborn_live"] for i in story.plans["remove_new"].items)


def test_a_changed_synced_user_is_skipped_with_the_reason(story: Story) -> None:
    skip = item(story.plans["default"], Action.SKIP, "users", story.picks["synced"])
    assert skip.reason == SYNCED_REASON
    assert skip.writes == 0


def test_synced_users_never_get_writes(story: Story) -> None:
    synced = story.plans["synced"]
    assert [key(i) for i in synced.items] == [("skip", "users", story.picks["synced"], None)]
    assert synced.writes()["directory"] == 0
    assert set(synced.live_state) == {"users"}
    # Filtered to an unchanged synced user: nothing at all (and nothing removed, though
    # users were created after the snapshot: removals need the whole type).
    assert story.plans["synced_unchanged"].items == []
    for plan in story.plans.values():
        for step in plan.items:
            if step.type == "users" and step.object_id in story.stored["users"] and \
                    story.stored["users"][step.object_id]["onPremisesSyncEnabled"]:
                assert step.action is Action.SKIP, step


def test_read_only_groups_are_skipped_when_they_differ(story: Story) -> None:
    skips = [i for i in story.plans["default"].items
             if i.action is Action.SKIP and i.type == "groups"]
    assert skips, "the user deleted for good was a member of read-only groups"
    for skip in skips:
        group = story.stored["groups"][skip.object_id]
        assert skip.reason == (SYNCED_REASON if group["onPremisesSyncEnabled"]
                               else MAIL_ENABLED)


def test_deleted_only_brings_back_deleted_objects_and_updates_nothing(story: Story) -> None:
    p, plan = story.picks, story.plans["deleted_only"]
    assert not any(i.action is Action.UPDATE for i in plan.items)
    expected: set[Key] = {("undelete", "users", p["soft"], None),
                          ("skip", "users", p["reborn"], None),
                          ("recreate", "groups", p["doomed"], None),
                          ("add-relationships", "groups", p["doomed"], "members")}
    if story.stored["groups"][p["doomed"]]["owners"]:
        expected.add(("add-relationships", "groups", p["doomed"], "owners"))
    # The re-created group's assignments held by other types come back; the user left
    # as it is under --deleted-only gets none.
    assert keys(plan) == expected | reverse_edges(story, {p["doomed"]})
    members = item(plan, Action.ADD_EDGES, "groups", p["doomed"], "members")
    kept = set(ids(story.stored["groups"][p["doomed"]]["members"])) - {p["reborn"]}
    assert set(members.edges) == kept
    assert "left out" in members.reason


def test_settings_skip_keeps_the_authorization_policy(story: Story) -> None:
    plan = story.plans["settings_skip"]
    skip = item(plan, Action.SKIP, "authorizationPolicy", "authorizationPolicy")
    assert skip.reason == SETTINGS_SKIPPED
    overwrite = item(story.plans["default"], Action.UPDATE, "authorizationPolicy",
                     "authorizationPolicy")
    assert overwrite.properties == ("allowInvitesFrom",)
    assert keys(plan) - {key(skip)} == expected_default(story) - {key(overwrite)}


def test_without_relationships_no_edge_is_planned(story: Story) -> None:
    plan = story.plans["no_relationships"]
    assert not any(i.relationship for i in plan.items)
    assert {key(i) for i in plan.items} == {k for k in expected_default(story)
                                            if k[3] is None and not (
                                                k[0] == "skip" and k[1] == "groups")}


def test_a_deleted_application_is_recreated_and_its_service_principal_undeleted(
        story: Story) -> None:
    p, plan, stored = story.picks, story.plans["apps"], story.stored
    recreate = item(plan, Action.RECREATE, "applications", p["app"])
    assert "new appId" in recreate.reason and "client secrets cannot be recovered" \
        in recreate.reason
    assert {"appId", "passwordCredentials", "id"} <= set(recreate.properties)
    item(plan, Action.UNDELETE, "servicePrincipals", p["app_sp"])
    expected = {("recreate", "applications", p["app"], None),
                ("undelete", "servicePrincipals", p["app_sp"], None),
                ("add-relationships", "servicePrincipals", p["resource"],
                 "appRoleAssignedTo")}
    if stored["applications"][p["app"]]["owners"]:
        expected.add(("add-relationships", "applications", p["app"], "owners"))
    # Policies outside the selection that name the old appId are rewritten to the new one.
    app_id = stored["applications"][p["app"]]["appId"]
    naming = {("update", "conditionalAccessPolicies", i, None)
              for i, policy in stored["conditionalAccessPolicies"].items()
              if app_id in policy["conditions"]["applications"]["includeApplications"]}
    assert naming, "the story's tenant has a policy naming the application"
    assert keys(plan) == expected | naming
    # The deleted group's app role assignment: the stored assignment, named by its id.
    assignment = item(plan, Action.ADD_EDGES, "servicePrincipals", p["resource"],
                      "appRoleAssignedTo")
    stored_assignments = {a["id"]: a for a in
                          stored["servicePrincipals"][p["resource"]]["appRoleAssignedTo"]}
    assert [stored_assignments[e]["principalId"] for e in assignment.edges] == [p["doomed"]]


def test_unknown_objects_and_types_are_usage_errors(story: Story) -> None:
    with pytest.raises(UsageError, match="no-such-object"):
        story.plan(object_ids=("no-such-object", story.picks["changed"]))
    with pytest.raises(UsageError, match="no-such-type"):
        story.plan(types=("no-such-type",))
    with pytest.raises(UsageError, match=story.picks["doomed"]):
        story.plan(types=("users",), object_ids=(story.picks["doomed"],))


def test_the_plan_json_round_trips(story: Story) -> None:
    for plan in story.plans.values():
        text = json.dumps(plan.to_json())
        again = RestorePlan.from_json(json.loads(text))
        assert again.to_json() == plan.to_json()
        assert again.ordered() == plan.ordered()
    default = story.plans["default"].to_json()
    assert default["options"] == RestoreOptions(types=PLAN_TYPES).to_json()
    assert default["writes"]["directory"] == sum(i.writes for i in story.plans["default"].items)


def test_live_state_notices_a_later_change(story: Story) -> None:
    default, later = story.plans["default"], story.plans["later"]
    # The chosen types and every type the plan writes edges of (so that a saved plan
    # notices a change of any type it writes).
    written = {i.type for i in default.items if i.action is not Action.SKIP}
    assert set(default.live_state) == set(PLAN_TYPES) | written
    assert changed_types(default, later.live_state) == ["users"]
    assert changed_types(default, default.live_state) == []
    assert changed_types(story.plans["remove_new"], default.live_state) == []
    assert keys(later) == keys(default) | {("update", "users", story.picks["later"], None)}


# --- the planner's rules on hand-made documents --------------------------------------------


class Documents:
    """A DocumentSource over dicts: type -> id -> document."""

    def __init__(self, by_type: Mapping[str, Mapping[str, dict[str, Any]]]) -> None:
        self.by_type = by_type

    def objects(self, type_name: str) -> Iterator[tuple[str, dict[str, Any]]]:
        return iter(sorted(self.by_type.get(type_name, {}).items()))

    def get(self, type_name: str, object_id: str) -> dict[str, Any] | None:
        return self.by_type.get(type_name, {}).get(object_id)


def ref(object_id: str, kind: str = "user") -> dict[str, str]:
    return {"@odata.type": f"#microsoft.graph.{kind}", "id": object_id}


def user(object_id: str, **values: Any) -> dict[str, Any]:
    return {"id": object_id, "userPrincipalName": f"{object_id}@contoso.com",
            "displayName": object_id.title(), "onPremisesSyncEnabled": None,
            "assignedLicenses": [], "manager": None, **values}


def group(object_id: str, members: list[str], **values: Any) -> dict[str, Any]:
    return {"id": object_id, "displayName": object_id, "mailEnabled": False,
            "securityEnabled": True, "groupTypes": [], "onPremisesSyncEnabled": None,
            "members": [ref(m) for m in sorted(members)], "owners": [], **values}


def offline_plan(stored: Mapping[str, Mapping[str, dict[str, Any]]],
                 live: Mapping[str, Mapping[str, dict[str, Any]]],
                 recycle_bin: dict[str, dict[str, dict[str, Any]]] | None = None,
                 **options: Any) -> RestorePlan:
    documents = Documents(live)
    state = {name: live_digest(documents.objects(name)) for name in stored}
    return plan_restore(Documents(stored), LiveTenant(documents, recycle_bin or {}, state),
                        tenant="t", snapshot_id="s",
                        types=[by_name(name) for name in stored],
                        options=RestoreOptions(**options))


def test_a_synced_user_missing_from_the_tenant_is_skipped_not_recreated() -> None:
    plan = offline_plan({"users": {"s": user("s", onPremisesSyncEnabled=True)}}, {})
    assert [(i.action, i.object_id, i.writes) for i in plan.items] == [(Action.SKIP, "s", 0)]
    assert SYNCED_REASON in plan.items[0].reason


def test_a_missing_device_is_skipped_and_a_missing_user_recreated() -> None:
    stored = {"devices": {"d": {"id": "d", "displayName": "LAPTOP", "registeredOwners": [],
                                "registeredUsers": []}},
              "users": {"u": user("u", assignedLicenses=[{"skuId": "x"}])}}
    plan = offline_plan(stored, {})
    device = item(plan, Action.SKIP, "devices", "d")
    assert device.reason == "cannot be re-created through Graph; the device re-registers itself"
    recreate = item(plan, Action.RECREATE, "users", "u")
    assert recreate.writes == 2  # the POST and the assignLicense
    assert "assignedLicenses" not in recreate.properties and "id" in recreate.properties
    assert "new password" in recreate.reason


def test_licences_count_two_writes_and_dynamic_members_are_not_written() -> None:
    stored = {"users": {"u": user("u", assignedLicenses=[{"skuId": "x"}], jobTitle="A")},
              "groups": {"g": group("g", ["u", "v"], groupTypes=["DynamicMembership"],
                                    membershipRule='user.department -eq "X"')}}
    live = {"users": {"u": user("u", jobTitle="B")},
            "groups": {"g": group("g", ["v"], groupTypes=["DynamicMembership"],
                                  membershipRule='user.department -eq "X"')}}
    plan = offline_plan(stored, live)
    update = item(plan, Action.UPDATE, "users", "u")
    assert update.properties == ("assignedLicenses", "jobTitle") and update.writes == 2
    skip = item(plan, Action.SKIP, "groups", "g", "members")
    assert skip.reason == DYNAMIC_MEMBERS and skip.writes == 0
    assert len(plan.items) == 2


def test_binds_are_counted_per_twenty_and_the_manager_is_replaced_not_removed() -> None:
    members = [f"m{n:02d}" for n in range(45)]
    stored = {"groups": {"g": group("g", members)},
              "users": {"a": user("a", manager=ref("x")), "b": user("b")}}
    live = {"groups": {"g": group("g", ["extra"])},
            "users": {"a": user("a", manager=ref("y")), "b": user("b", manager=ref("y"))}}
    plan = offline_plan(stored, live, remove_new=True)
    assert item(plan, Action.ADD_EDGES, "groups", "g", "members").writes == 3
    assert item(plan, Action.REMOVE_EDGES, "groups", "g", "members").edges == ("extra",)
    assert item(plan, Action.ADD_EDGES, "users", "a", "manager").edges == ("x",)
    assert not any(i.object_id == "a" and i.action is Action.REMOVE_EDGES for i in plan.items)
    assert item(plan, Action.REMOVE_EDGES, "users", "b", "manager").edges == ("y",)


def test_a_recreated_policy_starts_in_report_only_unless_asked_otherwise() -> None:
    policy = {"id": "p", "displayName": "Block legacy", "state": "enabled",
              "createdDateTime": "2026-01-01T00:00:00Z"}
    stored = {"conditionalAccessPolicies": {"p": policy}}
    report_only = item(offline_plan(stored, {}), Action.RECREATE,
                       "conditionalAccessPolicies", "p")
    assert "report-only" in report_only.reason and report_only.properties == (
        "createdDateTime", "id")
    as_backed_up = item(offline_plan(stored, {}, ca_state="as-backed-up"), Action.RECREATE,
                        "conditionalAccessPolicies", "p")
    assert "backed-up state 'enabled'" in as_backed_up.reason


def test_edges_to_deleted_objects_are_left_out_or_kept() -> None:
    stored = {"groups": {"g": group("g", ["gone", "binned", "here"]),
                         "new": group("new", ["binned"])},
              "users": {"gone": user("gone", onPremisesSyncEnabled=True),
                        "binned": user("binned"), "here": user("here"),
                        "old": user("old", manager=ref("binned"))}}
    live = {"groups": {"g": group("g", [])},
            "users": {"here": user("here"),
                      "twin": user("twin", userPrincipalName="OLD@contoso.com")}}
    bin_ = {"users": {"binned": {"id": "binned", "deletedDateTime": "2026-05-01T00:00:00Z"}}}
    plan = offline_plan(stored, live, bin_)
    # A live group keeps its link to a soft-deleted member; a synced user deleted from the
    # tenant cannot come back, so its edge is left out.
    members = item(plan, Action.ADD_EDGES, "groups", "g", "members")
    assert members.edges == ("here",) and "left out" in members.reason
    # A re-created group needs the member that the undelete brings back.
    assert item(plan, Action.ADD_EDGES, "groups", "new", "members").edges == ("binned",)
    assert item(plan, Action.UNDELETE, "users", "binned").reason.startswith(
        "in the recycle bin since 2026-05-01T00:00:00Z")
    # A user matched by userPrincipalName never had the link: it is added, on the twin.
    manager = item(plan, Action.ADD_EDGES, "users", "old", "manager")
    assert manager.edges == ("binned",) and manager.live_id == "twin"
    assert item(plan, Action.UPDATE, "users", "old").live_id == "twin"


def test_options_validate_and_round_trip() -> None:
    options = RestoreOptions(types=("users",), object_ids=("a",), relationships=False,
                             deleted_only=True, settings="skip", remove_new=True,
                             ca_state="as-backed-up")
    assert RestoreOptions.from_json(json.loads(json.dumps(options.to_json()))) == options
    with pytest.raises(UsageError, match="--settings"):
        RestoreOptions(settings="merge")  # type: ignore[arg-type]


# --- restore --dry-run ---------------------------------------------------------------------


SECRET_VARIABLE = "CONTOSO_RESTORE_SECRET"


def _cli_app() -> typer.Typer:
    """The commands this test needs."""
    app = typer.Typer(name="entra-backup", no_args_is_help=True, add_completion=False,
                      pretty_exceptions_enable=False, rich_markup_mode=None)
    app.callback(invoke_without_command=True)(cli_main._root)
    app.add_typer(tenant_cmd.app, name="tenant")
    app.command("init")(repo_cmd.init)
    app.command("backup")(backup_cmd.backup)
    app.command("restore")(restore_cmd.restore)
    app.command("restore-report")(restore_cmd.restore_report)
    app.command("show")(browse_cmd.show)
    return app


def test_restore_dry_run_prints_and_saves_the_plan(story: Story, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]
                                                   ) -> None:
    with weak_passphrase_keys(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli_main, "app", _cli_app())
        cli = Cli.for_home(tmp_path / "home", {SECRET_VARIABLE: story.live.client_secret},
                           capsys)
        assert cli.run("init", "--json").code == 0
        assert cli.run(*tenant_add_args(story.live, "contoso", SECRET_VARIABLE)).code == 0
        first = cli.run("backup", "contoso", "--json")
        assert first.code == 0, str(first)
        snapshot = first.json()["snapshot"]
        target = story.picks["changed"]
        graph = LiveGraph(story.live)
        try:
            Tenant(graph).patch(f"users/{target}", {"jobTitle": "Dry run"})
        finally:
            graph.close()

        saved = cli.run("restore", "contoso", "--snapshot", snapshot[:8], "--type", "users",
                        "--dry-run", "--json")
        assert saved.code == 0, str(saved)
        plan = RestorePlan.from_json(saved.json())
        assert [key(i) for i in plan.items] == [("update", "users", target, None)]
        assert plan.items[0].properties == ("jobTitle",)

        text = cli.run("restore", "contoso", "--snapshot", snapshot, "--type", "users",
                       "--dry-run")
        assert text.code == 0, str(text)
        assert "users" in text.out and "1 directory writes" in text.out
        assert f"update                users {target}" in text.out

        plan_file = tmp_path / "plan.json"
        plan_file.write_text(saved.out)
        shown = cli.run("restore", "contoso", "--snapshot", snapshot, "--dry-run", "--plan",
                        str(plan_file), "--json")
        assert shown.code == 0 and shown.json() == saved.json(), str(shown)
        graph = LiveGraph(story.live)
        try:
            Tenant(graph).patch(f"users/{target}", {"jobTitle": "Changed again"})
        finally:
            graph.close()
        stale = cli.run("restore", "contoso", "--snapshot", snapshot, "--dry-run", "--plan",
                        str(plan_file))
        assert stale.code == 1 and "changed since the plan was made (users)" in stale.err

        refused = cli.run("restore", "contoso", "--snapshot", snapshot, "--plan",
                          str(plan_file), "--yes")
        assert_one_line_error(refused, 2, contains=("changed since the plan was made",))
        backed_up = cli.run("show", "contoso", target, "--snapshot", snapshot, "--json")
        original = backed_up.json()["properties"]["jobTitle"]
        done = cli.run("restore", "contoso", "--snapshot", snapshot, "--type", "users",
                       "--json", "--yes")
        assert done.code == 0, str(done)
        report = done.json()
        assert report["ok"] and report["counts"]["done"] == 1, report
        graph = LiveGraph(story.live)
        try:
            live = graph.get(f"users/{target}", {"$select": "jobTitle"})
        finally:
            graph.close()
        assert live["jobTitle"] == original
        again = cli.run("restore-report", report["run"], "--json")
        assert again.json()["counts"] == report["counts"]
        table = cli.run("restore-report", report["run"][:12], "--csv")
        assert table.out.splitlines()[0].startswith("key,action,type,object_id")
        assert len(table.out.splitlines()) == 1 + report["counts"]["total"]
        unknown = cli.run("restore", "contoso", "--snapshot", snapshot, "--object", "nope",
                          "--dry-run")
        assert_one_line_error(unknown, 2, contains=("nope",))


def test_a_restore_app_without_write_permissions_is_refused_before_any_write(
        story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    read_only = sorted({t.read_permission for t in TYPES})
    app = story.live.control("POST", "/apps", {"permissions": read_only})
    with weak_passphrase_keys(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli_main, "app", _cli_app())
        cli = Cli.for_home(tmp_path / "home", {"READER_SECRET": app["client_secret"]},
                           capsys)
        assert cli.run("init", "--json").code == 0
        assert cli.run(*tenant_add_args(story.live, "contoso", "READER_SECRET",
                                        client_id=app["client_id"])).code == 0
        snapshot = cli.run("backup", "contoso", "--json").json()["snapshot"]
        target = story.picks["changed"]
        graph = LiveGraph(story.live)
        try:
            Tenant(graph).patch(f"users/{target}", {"jobTitle": "Needs restoring"})
        finally:
            graph.close()
        def writes() -> int:
            # A $batch envelope is a POST even when it carries only reads.
            return sum(1 for entry in story.live.control("GET", "/log")
                       if entry["method"] != "GET" and entry["path"] != "/$batch")

        before = writes()
        refused = cli.run("restore", "contoso", "--snapshot", snapshot, "--type", "users",
                          "--yes")
        assert_one_line_error(refused, 6, contains=("User.ReadWrite.All", "nothing was written"))
        assert writes() == before
