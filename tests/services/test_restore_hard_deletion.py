"""Scenario: objects of every kind deleted for good in one run, and a restore of every type.

A generated 100-user tenant, shaped through Graph before its backup so that every
reference a restore must remap exists (a group nested in two others, an application
assigned a Microsoft Graph role, a delegated grant to a user, a custom role assigned
tenant-wide and on an administrative unit, an AU-scoped role membership, a Conditional
Access policy naming users, groups, a role, the application and a named location). Then,
through Graph: 8 cloud users (the emergency-access account every policy excludes, a role
holder who owns applications, members of groups that policies name, a manager ...), 3
assigned security groups (one a policy includes, one policies exclude, one nested in
another), an application with its service principal (app role assignments both ways,
delegated grants, owners, named by policies' ``includeApplications``, a client secret),
the custom role with its assignments, a named location and the policy are deleted for
good: ``DELETE`` then ``DELETE /directory/deletedItems/{id}`` where the type is
soft-deleted (security groups are gone at once). ``make_plan`` over every type, then
``execute_plan``.

The live tenant is then compared with the snapshot object by object and relationship by
relationship. Objects are matched by id, else by the natural keys of the object-type table
(users by userPrincipalName, groups by mailNickname, applications and named locations and
policies by displayName, service principals by their application's new appId, role
definitions by templateId, role assignments and grants by the objects they name), and the
stored documents are read through the resulting id map. The only differences allowed are
the documented ones: new ids, a new appId, client secrets that cannot be recovered, a
policy re-created in report-only state, and edges that the plan reports as skipped (members
of dynamic groups follow their rule; mail-enabled and directory-synced objects are
read-only). Finally every id held anywhere in the live tenant is checked: none names an
object of the snapshot that is no longer there.

Where Entra ID deletes more than the emulator does (a principal's role assignments, app
role assignments, grants and scoped role memberships go with it), the test deletes those
through Graph too (``purge_dependents``), so the tenant is broken as Graph would leave it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from entra_backup.domain.object_types import (
    TYPES,
    Capture,
    ObjectType,
    RestoreStrategy,
    by_name,
    names,
    restore_order,
)
from entra_backup.domain.restore.plan import REPORT_ONLY, Action, RestorePlan
from entra_backup.services.restore.plan import (
    DYNAMIC_MEMBERS,
    MAIL_ENABLED,
    NAMES_RECREATED,
    LiveTenant,
    RestoreOptions,
    live_digest,
    plan_restore,
)
from entra_backup.services.restore.report import RestoreReport
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from tests.services._backup_support import LiveGraph, State
from tests.services._restore_support import (
    RestoreWorld,
    backed_up_world,
    edge_ids,
    left_after_restore,
)

allow_weak_kdf_for_tests()

USERS = 100
SEED = 31
CHECKPOINT = "hard-deletion-backed-up"
POLICY_NAME = "CA010: Expense approvals outside the corporate network"
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SYNCED_REASON = by_name("users").restore_skips[0].reason
UNTRANSLATED = {"roleDefinitions": frozenset({"templateId"})}
"""Kept as backed up by a re-creation although it may equal the old id: a custom role's
templateId (the generator gives custom roles templateId == id, as Graph does)."""
ENTITY_KEYS: dict[str, tuple[str, ...]] = {
    # Edges written as new entities get new ids: they are compared by what they name.
    "appRoleAssignedTo": ("principalId", "resourceId", "appRoleId"),
    "appRoleAssignments": ("principalId", "resourceId", "appRoleId"),
    "scopedRoleMembers": ("roleId", "roleMemberInfo.id"),
}


# --- what is deleted -------------------------------------------------------------------


@dataclass
class Picks:
    """The objects the scenario deletes for good, chosen from the generated tenant."""

    users: list[str] = field(default_factory=list)
    break_glass: str = ""
    role_holder: str = ""
    groups: list[str] = field(default_factory=list)
    pilot: str = ""
    """A group a policy includes."""
    exclusions: str = ""
    """The group policies exclude."""
    nested: str = ""
    """A group that is a member of ``pilot`` and of ``host``."""
    host: str = ""
    application: str = ""
    service_principal: str = ""
    role: str = ""
    """A custom role definition."""
    held_role: str = ""
    """A built-in role (template id) ``role_holder`` holds: policies name roles that way."""
    location: str = ""
    policy: str = ""
    unit: str = ""

    def deleted(self) -> dict[str, list[str]]:
        """Type -> the ids the test deletes itself."""
        return {"users": self.users, "groups": self.groups,
                "applications": [self.application],
                "servicePrincipals": [self.service_principal],
                "roleDefinitions": [self.role], "namedLocations": [self.location],
                "conditionalAccessPolicies": [self.policy]}


def _most_common(values: list[str]) -> str:
    return max(sorted(set(values)), key=values.count)


def choose_and_shape(graph: LiveGraph, picks: Picks) -> None:
    """Pick what the scenario deletes (before the backup), and add through Graph the
    references the generated tenant lacks."""
    policies = graph.iterate("identity/conditionalAccess/policies")
    users = {u["id"]: u for u in graph.iterate("users", {
        "$select": "id,userType,onPremisesSyncEnabled,userPrincipalName", "$top": "999"})}
    cloud = sorted(i for i, u in users.items()
                   if not u["onPremisesSyncEnabled"] and u["userType"] == "Member")
    groups = {g["id"]: g for g in graph.iterate("groups", {"$top": "999"})}
    assigned = sorted(i for i, g in groups.items()
                      if g["securityEnabled"] and not g["mailEnabled"] and not g["groupTypes"]
                      and not g["onPremisesSyncEnabled"] and not g["isAssignableToRole"])

    def members(group: str) -> set[str]:
        return {m["id"] for m in graph.iterate(f"groups/{group}/members", {"$select": "id"})}

    conditions = [p["conditions"] for p in policies]
    picks.break_glass = _most_common([u for c in conditions for u in c["users"]["excludeUsers"]])
    picks.exclusions = _most_common([g for c in conditions for g in c["users"]["excludeGroups"]])
    picks.pilot = next(g for c in conditions for g in c["users"]["includeGroups"])
    assignments = graph.iterate("roleManagement/directory/roleAssignments")
    admins = {a["principalId"] for a in assignments}
    apps = graph.iterate("applications")
    owned = {o["id"] for a in apps for o in graph.iterate(f"applications/{a['id']}/owners")}
    picks.role_holder = next(u for u in cloud if u in admins & owned and u != picks.break_glass)
    sps = {s["appId"]: s for s in graph.iterate("servicePrincipals")}
    grants = graph.iterate("oauth2PermissionGrants")
    in_policies = {a for c in conditions for a in c["applications"]["includeApplications"]}
    application = next(
        a for a in sorted(apps, key=lambda a: a["id"])
        if a["appId"] in in_policies and a["passwordCredentials"]
        and graph.iterate(f"servicePrincipals/{sps[a['appId']]['id']}/appRoleAssignedTo")
        and any(g["clientId"] == sps[a["appId"]]["id"] for g in grants))
    picks.application = application["id"]
    picks.service_principal = sps[application["appId"]]["id"]
    big = max(assigned, key=lambda g: len(members(g)))
    spare = [g for g in assigned if g not in (picks.pilot, picks.exclusions, big)
             and members(g)]
    picks.nested, picks.host = spare[0], spare[1]
    picks.groups = sorted({picks.pilot, picks.exclusions, picks.nested})
    managers = {u: (graph.get_or_none(f"users/{u}/manager", {"$select": "id"}) or {}).get("id")
                for u in cloud}
    chosen = [picks.break_glass, picks.role_holder]
    wanted: list[Callable[[str], bool]] = [
        lambda u: u in members(picks.pilot),
        lambda u: u in members(picks.nested),
        lambda u: u in set(managers.values()),
        lambda u: managers[u] is not None and managers[u] in cloud,
        lambda u: u in members(picks.host),
        lambda u: True,
    ]
    admin = next(i for i, u in users.items() if u["userPrincipalName"].startswith("admin@"))
    for rule in wanted:
        chosen.append(next(u for u in cloud if u not in chosen and u != admin and rule(u)))
    picks.users = chosen
    definitions = graph.iterate("roleManagement/directory/roleDefinitions")
    picks.role = sorted(d["id"] for d in definitions if not d["isBuiltIn"])[0]
    built_in = {d["id"] for d in definitions if d["isBuiltIn"]}
    picks.held_role = next(a["roleDefinitionId"] for a in assignments
                           if a["principalId"] == picks.role_holder
                           and a["roleDefinitionId"] in built_in)
    locations = graph.iterate("identity/conditionalAccess/namedLocations")
    excluded = {loc for c in conditions for loc in (c.get("locations") or {})
                .get("excludeLocations", [])}
    picks.location = next(loc["id"] for loc in sorted(locations, key=lambda x: x["id"])
                          if loc["id"] in excluded
                          and loc["@odata.type"] == "#microsoft.graph.ipNamedLocation")
    units = graph.iterate("directory/administrativeUnits")
    picks.unit = next(u["id"] for u in units if u["membershipType"] != "Dynamic")
    _shape(graph, picks, sps)


def _shape(graph: LiveGraph, picks: Picks, sps: dict[str, dict[str, Any]]) -> None:
    url = graph.live.graph_url
    first, second, third, fourth = picks.users[2:6]
    for group in (picks.pilot, picks.host):
        graph.call("POST", f"groups/{group}/members/$ref",
                   {"@odata.id": f"{url}/directoryObjects/{picks.nested}"}, expect=204)
    microsoft_graph = next(s for s in sps.values() if s["displayName"] == "Microsoft Graph")
    role_id = next(r["id"] for r in microsoft_graph["appRoles"] if r["value"] == "User.Read.All")
    graph.call("POST", f"servicePrincipals/{microsoft_graph['id']}/appRoleAssignedTo",
               {"principalId": picks.service_principal, "resourceId": microsoft_graph["id"],
                "appRoleId": role_id}, expect=201)
    client = next(s["id"] for s in sorted(sps.values(), key=lambda s: s["id"])
                  if s["appOwnerOrganizationId"] == graph.live.tenant_id
                  and s["id"] != picks.service_principal)
    graph.call("POST", "oauth2PermissionGrants",
               {"clientId": client, "consentType": "Principal", "principalId": first,
                "resourceId": microsoft_graph["id"], "scope": "User.Read"}, expect=201)
    for principal, scope in ((second, f"/administrativeUnits/{picks.unit}"), (third, "/")):
        graph.call("POST", "roleManagement/directory/roleAssignments",
                   {"principalId": principal, "roleDefinitionId": picks.role,
                    "directoryScopeId": scope}, expect=201)
    unit_members = {m["id"] for m in graph.iterate(
        f"directory/administrativeUnits/{picks.unit}/members", {"$select": "id"})}
    if second not in unit_members:
        graph.call("POST", f"directory/administrativeUnits/{picks.unit}/members/$ref",
                   {"@odata.id": f"{url}/directoryObjects/{second}"}, expect=204)
    roles = graph.iterate("directoryRoles")
    directory_role = next((r["id"] for r in roles if r["displayName"] in (
        "User Administrator", "Helpdesk Administrator")), roles[0]["id"])
    graph.call("POST", f"directory/administrativeUnits/{picks.unit}/scopedRoleMembers",
               {"roleId": directory_role, "roleMemberInfo": {"id": fourth}}, expect=201)
    application = graph.get(f"applications/{picks.application}")
    picks.policy = graph.call("POST", "identity/conditionalAccess/policies", {
        "displayName": POLICY_NAME, "state": "enabled",
        "conditions": {
            "clientAppTypes": ["all"],
            "applications": {"includeApplications": [application["appId"]],
                             "excludeApplications": []},
            "users": {"includeUsers": [first, second], "excludeUsers": [picks.break_glass],
                      "includeGroups": [picks.pilot], "excludeGroups": [picks.exclusions],
                      "includeRoles": [picks.held_role], "excludeRoles": []},
            "locations": {"includeLocations": ["All"], "excludeLocations": [picks.location]}},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}, expect=201)["id"]


# --- the run -----------------------------------------------------------------------------


@dataclass
class Run:
    """The scenario carried out once: the tenant broken, planned, restored, read back."""

    world: RestoreWorld
    picks: Picks
    before: Comparison
    plan: RestorePlan
    report: RestoreReport
    after: Comparison
    journal: Path
    served: list[dict[str, Any]] = field(default_factory=list)
    """The emulator's log records of the execution (a $batch envelope and its inner
    requests apart)."""

    @property
    def stored(self) -> State:
        return self.world.stored

    def new(self, old: str) -> str:
        """The live id of a stored object (its old id when it kept it)."""
        return self.after.ids[old]


def delete_everything(world: RestoreWorld, p: Picks) -> None:
    """The scenario's deletions, through Graph, as an attacker (or a mistake) would."""
    graph = world.graph
    graph.call("DELETE", f"identity/conditionalAccess/policies/{p.policy}", expect=204)
    graph.call("DELETE", f"identity/conditionalAccess/namedLocations/{p.location}", expect=204)
    for assignment in graph.iterate("roleManagement/directory/roleAssignments",
                                    {"$filter": f"roleDefinitionId eq '{p.role}'"}):
        graph.call("DELETE", f"roleManagement/directory/roleAssignments/{assignment['id']}",
                   expect=204)
        world.purged.append(f"roleAssignments/{assignment['id']}")
    graph.call("DELETE", f"roleManagement/directory/roleDefinitions/{p.role}", expect=204)
    world.hard_delete_application(p.application, p.service_principal)
    for group in p.groups:
        world.hard_delete_group(group)
    for user in p.users:
        world.hard_delete_user(user)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    picks = Picks()
    root = tmp_path_factory.mktemp("restore-hard-deletion")
    with backed_up_world(root, users=USERS, seed=SEED, checkpoint=CHECKPOINT, batched=True,
                         shape=lambda graph: choose_and_shape(graph, picks)) as world:
        unbroken = match(world.stored, world.tenant.state(world.stored))
        problems = compare(unbroken, RestorePlan("", "", "", {})) + dangling(unbroken)
        assert not problems, "the comparison must hold before anything is broken:\n" + \
            "\n".join(problems[:20])
        delete_everything(world, picks)
        before = match(world.stored, world.tenant.state(world.stored))
        plan = world.plan()
        start = len(world.log())
        report = world.execute(plan, root / "journal.jsonl")
        served = world.log()[start:]
        after = match(world.stored, world.tenant.state(world.stored))
        yield Run(world, picks, before, plan, report, after, root / "journal.jsonl", served)


# --- the oracle: the live tenant read through an id map -----------------------------------


@dataclass
class Comparison:
    """The live tenant matched with the snapshot."""

    stored: State
    live: State
    ids: dict[str, str] = field(default_factory=dict)
    """Stored id -> live id (the same for objects that kept theirs)."""
    app_ids: dict[str, str] = field(default_factory=dict)
    recreated: dict[str, dict[str, str]] = field(default_factory=dict)
    """Type -> stored id -> new id, for objects found only by natural key."""
    problems: list[str] = field(default_factory=list)

    def document(self, type_name: str, document: dict[str, Any]) -> dict[str, Any]:
        """A stored document as the restored object should read: its ids translated,
        except the properties a re-creation keeps as they were."""
        kept = UNTRANSLATED.get(type_name, frozenset())
        return {k: v if k in kept else self.translate(v) for k, v in document.items()}

    def translate(self, value: Any) -> Any:
        """A stored value with every old id (and appId) replaced by the live one."""
        mapping = {k.lower(): v for k, v in {**self.ids, **self.app_ids}.items() if k != v}
        if isinstance(value, str):
            return GUID.sub(lambda m: mapping.get(m.group(0).lower(), m.group(0)), value)
        if isinstance(value, list):
            return [self.translate(v) for v in value]
        if isinstance(value, dict):
            return {k: self.translate(v) for k, v in value.items()}
        return value


def _path(document: dict[str, Any], dotted: str) -> Any:
    value: Any = document
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def match(stored: State, live: State) -> Comparison:
    """Match every stored object with a live one: by id, else by the type's natural keys
    (their values read through the ids matched so far, so types go in restore order)."""
    found = Comparison(stored, live)
    for object_type in restore_order([t for t in TYPES if t.name in stored]):
        name = object_type.name
        for object_id, document in stored[name].items():
            if object_id in live[name]:
                found.ids[object_id] = object_id
                continue
            for keys in object_type.natural_keys:
                if keys == ("id",):
                    continue
                wanted = tuple(found.translate(document.get(k)) for k in keys)
                if all(v is None for v in wanted):
                    continue
                hits = [i for i, d in live[name].items() if i not in stored[name]
                        and tuple(_lower(d.get(k)) for k in keys) == _lower_all(wanted)]
                if len(hits) == 1:
                    found.ids[object_id] = hits[0]
                    found.recreated.setdefault(name, {})[object_id] = hits[0]
                    break
            else:
                found.problems.append(f"{name}/{object_id} ({_label(document)}): not back")
                continue
            if name == "applications":
                found.app_ids[document["appId"]] = live[name][found.ids[object_id]]["appId"]
    return found


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _lower_all(values: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(_lower(v) for v in values)


def _label(document: dict[str, Any]) -> str:
    return str(document.get("displayName") or document.get("userPrincipalName")
               or document.get("id"))


def compared_properties(object_type: ObjectType, recreated: bool) -> list[str]:
    """What a restore writes: the selected properties the type does not strip on create
    (re-created) or on update (kept), and those written through an action."""
    actions = {p for p, _ in object_type.property_actions}
    stripped = object_type.strip_on_create if recreated else object_type.strip_on_update
    return [p for p in object_type.select if p not in stripped or p in actions]


def entity_key(relationship: str, entity: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(_path(entity, k) for k in ENTITY_KEYS[relationship])


def compare(found: Comparison, plan: RestorePlan, *, properties: bool = True,
            relationships: bool = True) -> list[str]:
    """Every difference between the snapshot (read through the id map) and the live
    tenant that is not one of the documented ones: objects missing or extra, then
    (``properties``) what a restore writes, (``relationships``) every edge."""
    problems = list(found.problems)
    skipped = {(i.type, i.object_id, i.relationship) for i in plan.items
               if i.action is Action.SKIP}
    for object_type in TYPES:
        name = object_type.name
        if name not in found.stored:
            continue
        back = {found.ids.get(i) for i in found.stored[name]}
        problems += [f"{name}/{i} ({_label(d)}): live, not in the snapshot"
                     for i, d in found.live[name].items() if i not in back]
        for object_id, document in found.stored[name].items():
            live_id = found.ids.get(object_id)
            if live_id is None:
                continue
            recreated = object_id in found.recreated.get(name, {})
            want, got = found.document(name, document), found.live[name][live_id]
            for prop in compared_properties(object_type, recreated) if properties else ():
                expected = want.get(prop)
                if recreated and (name, prop) == ("conditionalAccessPolicies", "state") \
                        and expected == "enabled":
                    expected = REPORT_ONLY  # documented: re-created report-only
                if expected != got.get(prop):
                    problems.append(f"{name}/{object_id} ({_label(document)}).{prop}: "
                                    f"snapshot {expected!r} != live {got.get(prop)!r}")
            for relationship in object_type.relationships if relationships else ():
                rel = relationship.name
                if relationship.capture is Capture.PER_OBJECT and rel in ENTITY_KEYS:
                    a = sorted(map(str, (entity_key(rel, e) for e in want.get(rel) or [])))
                    b = sorted(map(str, (entity_key(rel, e) for e in got.get(rel) or [])))
                else:
                    a, b = edge_ids(want.get(rel)), edge_ids(got.get(rel))
                if a == b:
                    continue
                missing = sorted(set(a) - set(b))
                reported = (name, object_id, rel) in skipped or \
                    (name, object_id, None) in skipped
                if reported and set(b) <= set(a):
                    continue  # documented: the plan skips these edges, with its reason
                problems.append(f"{name}/{object_id} ({_label(document)}).{rel}: missing "
                                f"{missing}, unexpected {sorted(set(b) - set(a))}")
    return problems


def dangling(found: Comparison) -> list[str]:
    """Ids held anywhere in the live tenant (properties and edges) that name an object of
    the snapshot which no longer exists."""
    known = {i.lower() for docs in found.stored.values() for i in docs}
    known |= {str(d["appId"]).lower() for name in ("applications", "servicePrincipals")
              for d in found.stored.get(name, {}).values()}
    alive = {i.lower() for docs in found.live.values() for i in docs}
    alive |= {str(d["appId"]).lower() for name in ("applications", "servicePrincipals")
              for d in found.live.get(name, {}).values()}
    alive |= {str(d.get("templateId")).lower()
              for d in found.live.get("roleDefinitions", {}).values()}
    gone = known - alive
    problems = []
    for name, documents in found.live.items():
        never = never_written(by_name(name))
        for object_id, document in documents.items():
            for text in _strings({k: v for k, v in document.items() if k not in never}):
                for guid in GUID.findall(text):
                    if guid.lower() in gone:
                        problems.append(f"{name}/{object_id} ({_label(document)}) names "
                                        f"{guid}, which is gone")
    return problems


def never_written(object_type: ObjectType) -> frozenset[str]:
    """Properties no restore writes, set by Graph or the device (a device's physicalIds
    name the user who registered it): not created, and stripped on update."""
    if object_type.restore_strategy is RestoreStrategy.UPDATE_ONLY:
        return object_type.strip_on_update
    return object_type.strip_on_update & object_type.strip_on_create


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)


# --- the tests ---------------------------------------------------------------------------


def test_the_deletions_are_for_good_and_the_comparison_sees_them(run: Run) -> None:
    graph = run.world.graph
    for name, ids in run.picks.deleted().items():
        for object_id in ids:
            assert graph.get_or_none(f"{by_name(name).path}/{object_id}") is None
            assert graph.get_or_none(f"directory/deletedItems/{object_id}") is None
    missing = {problem.split(" ")[0] for problem in run.before.problems}
    assert {f"{t}/{i}" for t, i in deleted_objects(run)} == missing


def deleted_objects(run: Run) -> set[tuple[str, str]]:
    """Every object gone for good: those the test deleted, and the role assignments and
    grants deleted with them."""
    purged = {tuple(x.split("/", 1)) for x in run.world.purged}
    return {(t, i) for t, ids in run.picks.deleted().items() for i in ids} | \
        {(t, i) for t, i in purged if t in ("roleAssignments", "oauth2PermissionGrants")}


def test_the_plan_recreates_what_is_gone_and_rewrites_what_names_it(run: Run) -> None:
    plan, p = run.plan, run.picks
    assert {(i.type, i.object_id) for i in plan.items if i.action is Action.RECREATE} == \
        deleted_objects(run)
    assert not any(i.action in (Action.UNDELETE, Action.REMOVE, Action.REMOVE_EDGES)
                   for i in plan.items)
    # Live policies still name the deleted users, groups, location and appId: each gets an
    # update of its conditions, written through the executor's id map.
    naming = {pid for pid, policy in run.stored["conditionalAccessPolicies"].items()
              if pid != p.policy and _names_any(policy["conditions"], run)}
    assert naming, "live policies name what was deleted"
    updates = {i.object_id: i for i in plan.items if i.action is Action.UPDATE
               and i.type == "conditionalAccessPolicies"}
    assert set(updates) == naming
    assert all(i.properties == ("conditions",) and NAMES_RECREATED in i.reason
               for i in updates.values())


def _names_any(value: Any, run: Run) -> bool:
    gone = {i.lower() for _, i in deleted_objects(run)}
    gone.add(run.stored["applications"][run.picks.application]["appId"].lower())
    return any(g.lower() in gone for text in _strings(value) for g in GUID.findall(text))


def test_the_plan_counts_exactly_the_writes_the_run_sends(run: Run) -> None:
    writes = [r for r in run.served if r["method"] != "GET" and r["path"] != "/$batch"]
    refused = [r for r in writes if r["status"] >= 300]
    assert refused == [], "no write was refused or retried"
    counted = run.plan.writes()
    assert len(writes) == counted["directory"] + counted["conditional_access"]


def test_the_restore_reports_no_failure(run: Run) -> None:
    assert run.report.ok, [(i.key, i.reason, i.error_message) for i in run.report.failed]
    assert run.report.counts["done"] == len(run.plan.items) - run.report.counts["skipped"]


def test_every_deleted_object_is_back_under_its_natural_key(run: Run) -> None:
    assert run.after.problems == []
    back = {(t, i) for t, ids in run.after.recreated.items() for i in ids}
    assert back == deleted_objects(run)
    assert {old: new for ids in run.after.recreated.values() for old, new in ids.items()} == \
        run.report.id_map
    assert all(old != new for old, new in run.report.id_map.items())
    app_id = run.stored["applications"][run.picks.application]["appId"]
    assert run.report.app_id_map == {app_id: run.after.app_ids[app_id]} != {app_id: app_id}


@pytest.mark.slow
@pytest.mark.parametrize("types", [(), *((name,) for name in names())],
                         ids=["every-type", *names()])
def test_a_second_restore_from_the_same_snapshot_writes_nothing(
        run: Run, types: tuple[str, ...]) -> None:
    """Licences in another order, a policy re-created report-only, a service principal
    naming its application's old appId, references rewritten to re-created objects
    outside the selection: none is a difference."""
    if types and types[0] not in run.world.held_types():
        pytest.skip(f"the snapshot holds no {types[0]}")
    left = left_after_restore(run.world, [run.journal], [types])
    assert left == [], "\n".join(left[:40])


def test_restored_objects_have_their_backed_up_properties(run: Run) -> None:
    problems = [p for p in compare(run.after, run.plan, relationships=False)
                if ".assignedLicenses:" not in p]
    assert not problems, "\n".join(problems[:40])


def test_every_relationship_is_back_with_its_ids_remapped(run: Run) -> None:
    problems = compare(run.after, run.plan, properties=False)
    assert not problems, "\n".join(problems[:40])


def test_the_references_made_for_the_scenario_name_the_new_ids(run: Run) -> None:
    """Spot checks of each kind of reference, so the comparison above is not vacuous."""
    p, live, new = run.picks, run.after.live, run.new
    first, second, third, fourth = p.users[2:6]
    policy = live["conditionalAccessPolicies"][new(p.policy)]["conditions"]
    assert policy["users"]["includeUsers"] == [new(first), new(second)]
    assert policy["users"]["excludeUsers"] == [new(p.break_glass)]
    assert (policy["users"]["includeGroups"], policy["users"]["excludeGroups"]) == \
        ([new(p.pilot)], [new(p.exclusions)])
    assert policy["applications"]["includeApplications"] == \
        [live["applications"][new(p.application)]["appId"]]
    assert policy["locations"]["excludeLocations"] == [new(p.location)]
    assignments = {(a["principalId"], a["roleDefinitionId"], a["directoryScopeId"])
                   for a in live["roleAssignments"].values()}
    assert {(new(second), new(p.role), f"/administrativeUnits/{p.unit}"),
            (new(third), new(p.role), "/")} <= assignments
    assert any(a["principalId"] == new(p.role_holder) for a in live["roleAssignments"].values())
    grants = {(g["clientId"], g["consentType"], g["principalId"], g["resourceId"])
              for g in live["oauth2PermissionGrants"].values()}
    assert any(c == new(p.service_principal) and kind == "AllPrincipals"
               for c, kind, _, _ in grants)
    assert any(principal == new(first) for _, _, principal, _ in grants)
    received = {a["principalId"] for s in live["servicePrincipals"].values()
                for a in s["appRoleAssignedTo"]}
    assert new(p.service_principal) in received
    assert live["servicePrincipals"][new(p.service_principal)]["appRoleAssignedTo"]
    unit = live["administrativeUnits"][p.unit]
    assert new(second) in edge_ids(unit["members"])
    assert new(fourth) in {m["roleMemberInfo"]["id"] for m in unit["scopedRoleMembers"]}
    for host in (p.host, p.pilot):
        assert new(p.nested) in edge_ids(live["groups"][new(host)]["members"])
    owned = [a for a in live["applications"].values()
             if new(p.role_holder) in edge_ids(a["owners"])]
    assert len(owned) == sum(p.role_holder in edge_ids(a["owners"])
                             for a in run.stored["applications"].values()) > 1


def test_nothing_names_an_object_that_no_longer_exists(run: Run) -> None:
    problems = dangling(run.after)
    assert not problems, "\n".join(problems[:40])


def test_re_created_users_get_their_licences_back(run: Run) -> None:
    licensed = [u for u in run.picks.users if run.stored["users"][u]["assignedLicenses"]]
    assert licensed, "the deleted users held licences"
    for user in licensed:
        live = run.after.live["users"][run.new(user)]
        assert _skus(live["assignedLicenses"]) == \
            _skus(run.stored["users"][user]["assignedLicenses"]), user


def _skus(licences: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((str(lic["skuId"]), tuple(sorted(lic.get("disabledPlans") or [])))
                  for lic in licences)


def test_the_report_names_what_the_administrator_must_do(run: Run) -> None:
    p, report, live = run.picks, run.report, run.after.live
    assert [i.object_id for i in report.needs_enabling] == [p.policy]
    assert live["conditionalAccessPolicies"][run.new(p.policy)]["state"] == REPORT_ONLY
    assert [i.object_id for i in report.needs_new_secrets] == [p.application]
    assert run.stored["applications"][p.application]["passwordCredentials"]
    assert live["applications"][run.new(p.application)]["passwordCredentials"] == []
    # What the comparison let pass as documented was reported as skipped, with a reason.
    reasons = {i.reason for i in run.plan.items if i.action is Action.SKIP}
    assert reasons <= {DYNAMIC_MEMBERS, MAIL_ENABLED, SYNCED_REASON}, reasons



# --- the planner's rule for references held in properties (no emulator) -----------------


class Documents:
    """A DocumentSource over dicts: type -> id -> document."""

    def __init__(self, by_type: Mapping[str, Mapping[str, dict[str, Any]]]) -> None:
        self.by_type = by_type

    def objects(self, type_name: str) -> Iterator[tuple[str, dict[str, Any]]]:
        return iter(sorted(self.by_type.get(type_name, {}).items()))

    def get(self, type_name: str, object_id: str) -> dict[str, Any] | None:
        return self.by_type.get(type_name, {}).get(object_id)


GONE_GROUP = "11111111-1111-1111-1111-111111111111"
LIVE_GROUP = "22222222-2222-2222-2222-222222222222"
GONE_APP_ID = "33333333-3333-3333-3333-333333333333"


def _policy(policy_id: str, groups: list[str], apps: list[str], **values: Any
            ) -> dict[str, Any]:
    return {"id": policy_id, "displayName": policy_id, "state": "enabled",
            "conditions": {"users": {"includeGroups": groups},
                           "applications": {"includeApplications": apps}}, **values}


def _offline(stored: dict[str, dict[str, dict[str, Any]]],
             live: dict[str, dict[str, dict[str, Any]]], **options: Any) -> RestorePlan:
    documents = Documents(live)
    state = {name: live_digest(documents.objects(name)) for name in stored}
    return plan_restore(Documents(stored), LiveTenant(documents, {}, state), tenant="t",
                        snapshot_id="s", types=[by_name(n) for n in stored],
                        options=RestoreOptions(**options))


def _references_world() -> tuple[dict[str, dict[str, dict[str, Any]]],
                                 dict[str, dict[str, dict[str, Any]]]]:
    group: dict[str, Any] = {"displayName": "g", "mailNickname": "g", "mailEnabled": False,
                             "securityEnabled": True, "groupTypes": [],
                             "onPremisesSyncEnabled": None, "members": [], "owners": []}
    app: dict[str, Any] = {"displayName": "app", "passwordCredentials": [], "owners": []}
    stored: dict[str, dict[str, dict[str, Any]]] = {
        "groups": {GONE_GROUP: {"id": GONE_GROUP, **group},
                   LIVE_GROUP: {"id": LIVE_GROUP, **group}},
        "applications": {"a": {"id": "a", "appId": GONE_APP_ID, **app}},
        "conditionalAccessPolicies": {
            "names-group": _policy("names-group", [GONE_GROUP], ["All"]),
            "names-app": _policy("names-app", [LIVE_GROUP], [GONE_APP_ID]),
            "changed-too": _policy("changed-too", [GONE_GROUP], ["All"]),
            "names-nothing": _policy("names-nothing", [LIVE_GROUP], ["All"])}}
    policies = stored["conditionalAccessPolicies"]
    live: dict[str, dict[str, dict[str, Any]]] = {
        "groups": {LIVE_GROUP: stored["groups"][LIVE_GROUP]}, "applications": {},
        "conditionalAccessPolicies": {
            **{k: v for k, v in policies.items() if k != "changed-too"},
            "changed-too": {**policies["changed-too"], "state": "disabled"}}}
    return stored, live


def test_live_objects_naming_recreated_ones_are_updated_in_those_properties() -> None:
    stored, live = _references_world()
    plan = _offline(stored, live)
    updates = {i.object_id: i for i in plan.items if i.action is Action.UPDATE}
    assert set(updates) == {"names-group", "names-app", "changed-too"}
    assert updates["names-group"].properties == ("conditions",)
    assert updates["names-group"].reason == f"{NAMES_RECREATED}: conditions"
    assert updates["names-app"].properties == ("conditions",), "a re-created app's appId"
    merged = updates["changed-too"]
    assert merged.properties == ("conditions", "state") and merged.writes == 1
    assert merged.reason.startswith("differs from the snapshot: state; ")
    assert all(i.live_id == i.object_id for i in updates.values())
    # The updates run after the re-creations whose ids they need.
    order = [(i.action, i.type) for i in plan.ordered() if i.relationship is None]
    assert order.index((Action.RECREATE, "groups")) < \
        order.index((Action.UPDATE, "conditionalAccessPolicies"))


def test_references_are_rewritten_under_deleted_only_and_not_without_a_recreation() -> None:
    stored, live = _references_world()
    deleted_only = _offline(stored, live, deleted_only=True)
    assert {(i.object_id, i.properties) for i in deleted_only.items
            if i.action is Action.UPDATE} == {
        ("names-group", ("conditions",)), ("names-app", ("conditions",)),
        ("changed-too", ("conditions",))}
    # Nothing re-created: no reference update at all.
    live["groups"][GONE_GROUP] = stored["groups"][GONE_GROUP]
    live["applications"]["a"] = stored["applications"]["a"]
    unchanged = _offline(stored, live)
    assert [(i.action, i.object_id) for i in unchanged.items] == [
        (Action.UPDATE, "changed-too")]
