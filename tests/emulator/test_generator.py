"""The tenant generator: determinism, sizes, referential integrity, schema fidelity and
the realism features the emulator's users rely on."""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from cryptography import x509

from graph_emulator.generator import SpecError, TenantSpec, TenantSummary, generate_tenant
from graph_emulator.model.directory import Directory
from graph_emulator.model.kinds import KINDS, RELATIONS
from graph_emulator.model.loader import DirectoryLoader
from tests.emulator._schema_check import check_object

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
USER_READ_ALL = "df021288-bdef-4463-88db-98f22de89214"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"


@dataclass
class Recording:
    """A sink that keeps everything, checking that links follow their endpoints."""

    objects: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    links: list[tuple[str, str, str]] = field(default_factory=list)
    kind_of: dict[str, str] = field(default_factory=dict)
    early_links: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, kind: str, obj: dict[str, Any]) -> None:
        self.objects.append((kind, obj))
        self.kind_of.setdefault(str(obj["id"]), kind)

    def link(self, relation: str, source_id: str, target_id: str) -> None:
        if source_id not in self.kind_of or target_id not in self.kind_of:
            self.early_links.append((relation, source_id, target_id))
        self.links.append((relation, source_id, target_id))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [obj for k, obj in self.objects if k == kind]

    def digest(self) -> str:
        hasher = hashlib.sha256()
        for kind, obj in self.objects:
            hasher.update(kind.encode() + orjson.dumps(obj))
        for link in self.links:
            hasher.update("|".join(link).encode())
        return hasher.hexdigest()


def generate(spec: TenantSpec) -> tuple[Recording, TenantSummary]:
    recording = Recording()
    return recording, generate_tenant(recording, spec)


@pytest.fixture(scope="module")
def tenant() -> tuple[Recording, TenantSummary]:
    return generate(TenantSpec(users=1500, seed=11, tenant_name="fabrikam"))


def members_of(recording: Recording, source_id: str, relation: str = "members") -> list[str]:
    return [t for r, s, t in recording.links if r == relation and s == source_id]


# --- determinism -------------------------------------------------------------------------

def test_same_spec_gives_byte_identical_output() -> None:
    spec = TenantSpec(users=400, seed=5)
    assert generate(spec)[0].digest() == generate(spec)[0].digest()


def test_another_seed_gives_another_tenant() -> None:
    first, _ = generate(TenantSpec(users=100, seed=1))
    second, _ = generate(TenantSpec(users=100, seed=2))
    assert first.digest() != second.digest()
    assert {o["id"] for o in first.of("users")}.isdisjoint(o["id"] for o in second.of("users"))


# --- sizes -------------------------------------------------------------------------------

def test_summary_counts_match_what_was_emitted(tenant: tuple[Recording, TenantSummary]) -> None:
    recording, summary = tenant
    assert summary.counts == {kind: len(recording.of(kind)) for kind in KINDS}
    emitted = Counter(relation for relation, _, _ in recording.links)
    assert summary.links == {relation: emitted[relation] for relation in RELATIONS}
    groups = {g["id"] for g in recording.of("groups")}
    assert summary.group_memberships == sum(
        1 for r, s, _ in recording.links if r == "members" and s in groups)


def test_groups_and_memberships_scale_with_users(tenant: tuple[Recording, TenantSummary]) -> None:
    _, summary = tenant
    assert summary.counts["users"] == 1500
    assert summary.counts["groups"] == 300
    assert 0.9 * 7500 <= summary.group_memberships <= 1.1 * 7500


def test_group_and_membership_counts_can_be_overridden() -> None:
    _, summary = generate(TenantSpec(users=600, seed=3, groups=40, memberships=2500))
    assert summary.counts["groups"] == 40
    assert 0.85 * 2500 <= summary.group_memberships <= 1.15 * 2500


@pytest.mark.parametrize("users", [1, 5, 19, 20, 60])
def test_tiny_tenants_are_complete_and_consistent(users: int) -> None:
    recording, summary = generate(TenantSpec(users=users, seed=users))
    assert summary.counts["users"] == users
    assert recording.early_links == []
    assert_references_resolve(recording)


# --- referential integrity ---------------------------------------------------------------

def test_links_join_objects_emitted_before_them(tenant: tuple[Recording, TenantSummary]) -> None:
    recording, _ = tenant
    assert recording.early_links == []
    for relation, source, target in recording.links:
        assert recording.kind_of[source] in RELATIONS[relation]
        if relation == "manager":
            assert recording.kind_of[target] == "users"


def test_ids_are_unique(tenant: tuple[Recording, TenantSummary]) -> None:
    recording, _ = tenant
    ids = [(kind, obj["id"]) for kind, obj in recording.objects]
    assert len(ids) == len(set(ids))


def test_entity_references_resolve(tenant: tuple[Recording, TenantSummary]) -> None:
    assert_references_resolve(tenant[0])


def assert_references_resolve(recording: Recording) -> None:
    ids = recording.kind_of
    sps = {sp["id"]: sp for sp in recording.of("servicePrincipals")}
    definitions = {d["id"] for d in recording.of("roleDefinitions")}
    units = {u["id"] for u in recording.of("administrativeUnits")}
    roles = {r["id"] for r in recording.of("directoryRoles")}
    for assignment in recording.of("appRoleAssignments"):
        assert ids[assignment["principalId"]] in ("users", "groups", "servicePrincipals")
        resource = sps[assignment["resourceId"]]
        allowed = {role["id"] for role in resource["appRoles"]} | {
            "00000000-0000-0000-0000-000000000000"}
        assert assignment["appRoleId"] in allowed
    for grant in recording.of("oauth2PermissionGrants"):
        assert grant["clientId"] in sps and grant["resourceId"] in sps
        assert (grant["principalId"] is None) == (grant["consentType"] == "AllPrincipals")
        assert grant["principalId"] is None or ids[grant["principalId"]] == "users"
    for assignment in recording.of("roleAssignments"):
        assert assignment["principalId"] in ids
        assert assignment["roleDefinitionId"] in definitions
        scope = assignment["directoryScopeId"]
        assert scope == "/" or scope.removeprefix("/administrativeUnits/") in units
    for member in recording.of("scopedRoleMembers"):
        assert member["roleId"] in roles and member["administrativeUnitId"] in units
        assert ids[member["roleMemberInfo"]["id"]] == "users"
    for role in recording.of("directoryRoles"):
        assert role["roleTemplateId"] in definitions


def test_directory_role_members_match_tenant_wide_assignments(
        tenant: tuple[Recording, TenantSummary]) -> None:
    recording, _ = tenant
    for role in recording.of("directoryRoles"):
        assigned = {a["principalId"] for a in recording.of("roleAssignments")
                    if a["roleDefinitionId"] == role["roleTemplateId"]
                    and a["directoryScopeId"] == "/"}
        assert set(members_of(recording, role["id"])) == assigned


def test_the_emulator_directory_loads_the_tenant() -> None:
    directory = Directory("tenant")
    summary = generate_tenant(DirectoryLoader(directory), TenantSpec(users=300, seed=4))
    for kind, count in summary.counts.items():
        assert directory.count(kind) == count, kind


# --- schema fidelity ---------------------------------------------------------------------

def test_every_object_matches_the_v1_schema(tenant: tuple[Recording, TenantSummary]) -> None:
    recording, _ = tenant
    problems = Counter()
    for kind, obj in recording.objects:
        for problem in check_object(KINDS[kind].odata_type, obj):
            problems[f"{kind}: {problem}"] += 1
    assert not problems, list(problems)[:20]


# --- realism -----------------------------------------------------------------------------

def test_dynamic_groups_hold_exactly_the_users_their_rule_matches(
        tenant: tuple[Recording, TenantSummary]) -> None:
    recording, _ = tenant
    users = recording.of("users")
    dynamic = [g for g in recording.of("groups") if "DynamicMembership" in g["groupTypes"]]
    assert len(dynamic) >= 3
    for group in dynamic:
        match = re.fullmatch(r'\(user\.(\w+) -eq "([^"]*)"\)', group["membershipRule"])
        assert match, group["membershipRule"]
        expected = {u["id"] for u in users if u.get(match[1]) == match[2]}
        assert expected
        assert set(members_of(recording, group["id"])) == expected
        assert group["membershipRuleProcessingState"] == "On"


def test_group_varieties(tenant: tuple[Recording, TenantSummary]) -> None:
    recording, summary = tenant
    groups = recording.of("groups")
    group_ids = {g["id"] for g in groups}
    unified = [g for g in groups if "Unified" in g["groupTypes"]]
    assert unified and all(g["mailEnabled"] and not g["securityEnabled"] for g in unified)
    assert any(g["mailEnabled"] and g["securityEnabled"] and not g["groupTypes"] for g in groups)
    assert any(g["isAssignableToRole"] for g in groups)
    assert any(g["onPremisesSyncEnabled"] for g in groups)
    nested = [(s, t) for r, s, t in recording.links if r == "members" and s in group_ids
              and t in group_ids]
    assert nested
    large = members_of(recording, str(summary.large_group_id))
    assert len(large) == max(Counter(s for r, s, _ in recording.links
                                     if r == "members" and s in group_ids).values())


def test_user_varieties(tenant: tuple[Recording, TenantSummary]) -> None:
    recording, summary = tenant
    users = {u["id"]: u for u in recording.of("users")}
    guest = users[str(summary.guest_user_id)]
    assert guest["userType"] == "Guest" and "#EXT#@" in guest["userPrincipalName"]
    synced = users[str(summary.synced_user_id)]
    assert synced["onPremisesSyncEnabled"] is True
    assert synced["onPremisesImmutableId"] and synced["onPremisesSamAccountName"]
    assert any(not u["accountEnabled"] for u in users.values())
    assert len({u["userPrincipalName"].lower() for u in users.values()}) == len(users)
    licensed = [u for u in users.values() if u["assignedLicenses"]]
    skus = {s["skuId"]: s for s in recording.of("subscribedSkus")}
    consumed = Counter(a["skuId"] for u in licensed for a in u["assignedLicenses"])
    assert consumed == {sku: s["consumedUnits"] for sku, s in skus.items() if s["consumedUnits"]}


def test_managers_form_a_tree_under_the_chief_executive(
        tenant: tuple[Recording, TenantSummary]) -> None:
    recording, _ = tenant
    manager = {s: t for r, s, t in recording.links if r == "manager"}
    users = {u["id"]: u for u in recording.of("users")}
    roots = {t for t in manager.values() if t not in manager}
    assert len(roots) == 1
    assert users[roots.pop()]["jobTitle"] == "Chief Executive Officer"
    for start in list(manager):
        seen, current = set(), start
        while current in manager:
            assert current not in seen
            seen.add(current)
            current = manager[current]
    staff = [u for u in users.values() if u["department"] not in (None, "Executive")]
    assert all(u["id"] in manager for u in staff)


def test_tenant_level_objects(tenant: tuple[Recording, TenantSummary]) -> None:
    recording, summary = tenant
    domains = {d["id"]: d for d in recording.of("domains")}
    assert domains["fabrikam.onmicrosoft.com"]["isInitial"]
    assert domains[summary.default_domain]["isDefault"] and domains[summary.default_domain][
        "isVerified"]
    assert any(not d["isVerified"] for d in domains.values())
    assert recording.of("organization")[0]["id"] == summary.tenant_id
    assert recording.of("authorizationPolicy")[0]["id"] == "authorizationPolicy"
    setting = recording.of("groupSettings")[0]
    assert setting["displayName"] == "Group.Unified"
    assert {d["id"] for d in recording.of("roleDefinitions") if d["isBuiltIn"]} >= {
        GLOBAL_ADMIN, "fe930be7-5e62-47db-91af-98c3a49a38b1"}
    assert any(not d["isBuiltIn"] for d in recording.of("roleDefinitions"))


def test_role_assignments_include_global_admins_and_au_scoped_ones(
        tenant: tuple[Recording, TenantSummary]) -> None:
    recording, summary = tenant
    assignments = recording.of("roleAssignments")
    admins = {a["principalId"] for a in assignments if a["roleDefinitionId"] == GLOBAL_ADMIN}
    assert summary.admin_user_id in admins and summary.break_glass_user_id in admins
    assert any(a["directoryScopeId"].startswith("/administrativeUnits/") for a in assignments)
    assert recording.of("scopedRoleMembers")
    assert any(recording.kind_of[a["principalId"]] == "groups" for a in assignments)


def test_graph_service_principal_and_app_permissions(
        tenant: tuple[Recording, TenantSummary]) -> None:
    recording, summary = tenant
    graph = next(sp for sp in recording.of("servicePrincipals") if sp["appId"] == GRAPH_APP_ID)
    assert graph["id"] == summary.graph_service_principal_id
    assert USER_READ_ALL in {role["id"] for role in graph["appRoles"]}
    to_graph = [a for a in recording.of("appRoleAssignments") if a["resourceId"] == graph["id"]]
    assert to_graph and all(a["principalType"] == "ServicePrincipal" for a in to_graph)
    kinds = {a["principalType"] for a in recording.of("appRoleAssignments")}
    assert kinds == {"User", "Group", "ServicePrincipal"}
    apps = {a["appId"] for a in recording.of("applications")}
    assert apps <= {sp["appId"] for sp in recording.of("servicePrincipals")}


def test_application_credentials_are_real_certificates_and_secret_metadata(
        tenant: tuple[Recording, TenantSummary]) -> None:
    recording, summary = tenant
    app = next(a for a in recording.of("applications") if a["id"] == summary.application_id)
    assert members_of(recording, app["id"], "owners")
    key = app["keyCredentials"][0]
    der = base64.b64decode(key["key"])
    certificate = x509.load_der_x509_certificate(der)
    assert base64.b64decode(key["customKeyIdentifier"]) == hashlib.sha1(der).digest()
    assert key["displayName"] == certificate.subject.rfc4514_string()
    secret = app["passwordCredentials"][0]
    assert secret["secretText"] is None and len(secret["hint"]) == 3


def test_devices_have_owners(tenant: tuple[Recording, TenantSummary]) -> None:
    recording, _ = tenant
    devices = recording.of("devices")
    owned = {s for r, s, _ in recording.links if r == "registeredOwners"}
    assert devices and len(owned) >= len(devices) // 2
    assert {d["trustType"] for d in devices} >= {"AzureAd", "Workplace"}


def test_conditional_access_references_resolve(tenant: tuple[Recording, TenantSummary]) -> None:
    recording, summary = tenant
    ids = recording.kind_of
    templates = {d["templateId"] for d in recording.of("roleDefinitions")}
    app_ids = {sp["appId"] for sp in recording.of("servicePrincipals")}
    locations = {loc["id"] for loc in recording.of("namedLocations")}
    policies = recording.of("conditionalAccessPolicies")
    assert {p["state"] for p in policies} == {
        "enabled", "disabled", "enabledForReportingButNotEnforced"}
    for policy in policies:
        users = policy["conditions"]["users"]
        for user in users["includeUsers"] + users["excludeUsers"]:
            assert user in ("All", "None", "GuestsOrExternalUsers") or ids[user] == "users"
        for group in users["includeGroups"] + users["excludeGroups"]:
            assert ids[group] == "groups"
        assert set(users["includeRoles"] + users["excludeRoles"]) <= templates
        apps = policy["conditions"]["applications"]
        assert set(apps["includeApplications"] + apps["excludeApplications"]) <= app_ids | {
            "All", "Office365", "None"}
        where = policy["conditions"]["locations"]
        if where:
            assert set(where["includeLocations"] + where["excludeLocations"]) <= locations | {
                "All", "AllTrusted"}
    main = next(p for p in policies if p["id"] == summary.ca_policy_id)
    assert main["state"] == "enabled"
    assert summary.break_glass_user_id in main["conditions"]["users"]["excludeUsers"]
    assert summary.ca_exclusion_group_id in main["conditions"]["users"]["excludeGroups"]
    assert GLOBAL_ADMIN in main["conditions"]["users"]["includeRoles"]
    assert any(p["conditions"]["locations"] for p in policies)
    assert any(set(p["conditions"]["applications"]["includeApplications"]) & (
        app_ids - {"All"}) for p in policies)


# --- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "field_name"), [
    (TenantSpec(users=0), "users"),
    (TenantSpec(users=2_000_000), "users"),
    (TenantSpec(tenant_name="Contoso Ltd"), "tenant_name"),
    (TenantSpec(tenant_id="not-a-guid"), "tenant_id"),
    (TenantSpec(groups=-1), "groups"),
    (TenantSpec(memberships=-5), "memberships"),
])
def test_invalid_specs_are_refused_with_the_field_named(spec: TenantSpec, field_name: str) -> None:
    with pytest.raises(SpecError, match=field_name):
        generate_tenant(Recording(), spec)


def test_a_given_tenant_id_is_used() -> None:
    tenant_id = "11111111-2222-4333-8444-555555555555"
    recording, summary = generate(TenantSpec(users=30, tenant_id=tenant_id))
    assert summary.tenant_id == tenant_id
    assert recording.of("organization")[0]["id"] == tenant_id
    assert all(s["id"].startswith(tenant_id) for s in recording.of("subscribedSkus"))
