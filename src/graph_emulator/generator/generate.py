"""The order of generation: each stage emits what later stages reference before they do."""

from __future__ import annotations

from graph_emulator.generator import apps, devices, groups, people, policies, roles, tenant
from graph_emulator.generator.ids import Rand
from graph_emulator.generator.output import Output
from graph_emulator.generator.spec import TenantSpec, TenantSummary
from graph_emulator.generator.world import World
from graph_emulator.model.sink import DirectorySink


def generate_tenant(sink: DirectorySink, spec: TenantSpec) -> TenantSummary:
    """Stream a whole tenant into ``sink`` and describe what was generated.

    Raises :class:`~graph_emulator.generator.spec.SpecError` for an invalid spec.
    """
    spec.validate()
    world = _world(sink, spec)
    tenant.emit_organization(world)
    people.emit_users(world)
    tenant.emit_subscribed_skus(world)
    groups.emit_groups(world)
    tenant.emit_policies(world)
    devices.emit_devices(world)
    apps.emit_apps(world)
    roles.emit_roles(world)
    locations = policies.emit_named_locations(world)
    ca_policy = policies.emit_conditional_access(world, locations)
    return _summary(world, ca_policy)


def _world(sink: DirectorySink, spec: TenantSpec) -> World:
    name = spec.tenant_name
    return World(
        spec=spec, out=Output(sink),
        tenant_id=spec.tenant_id or Rand(spec.seed, "tenant").uuid(),
        display_name=name[0].upper() + name[1:],
        initial_domain=f"{name}.onmicrosoft.com", default_domain=f"{name}.com",
        unverified_domain=f"{name}-labs.net", hybrid=spec.users >= 20,
    )


def _summary(world: World, ca_policy: str) -> TenantSummary:
    people, group_index = world.people, world.groups

    def user(index: int | None) -> str | None:
        return people.ids[index] if index is not None else None

    def group(index: int | None) -> str | None:
        return group_index.ids[index] if index is not None else None

    synced = next((i for i in people.staff if people.is_(i, 2)), None)
    return TenantSummary(
        tenant_id=world.tenant_id, tenant_name=world.spec.tenant_name,
        display_name=world.display_name, initial_domain=world.initial_domain,
        default_domain=world.default_domain,
        domains=[world.initial_domain, world.default_domain, world.unverified_domain],
        counts=dict(world.out.counts), links=dict(world.out.links),
        group_memberships=world.out.group_memberships,
        admin_user_id=people.ids[people.admin], admin_upn=people.names[people.admin][1],
        break_glass_user_id=user(people.break_glass),
        guest_user_id=user(people.guests.start if people.guests else None),
        synced_user_id=user(synced),
        large_group_id=group(group_index.all_staff),
        dynamic_group_id=group(group_index.dynamic),
        role_assignable_group_id=group(
            group_index.role_assignable[0] if group_index.role_assignable else None),
        ca_policy_id=ca_policy, ca_exclusion_group_id=group(group_index.ca_exclusions),
        graph_service_principal_id=world.apps.graph_sp,
        application_id=world.apps.sample_application,
        administrative_unit_id=world.administrative_units[0]
        if world.administrative_units else None,
    )
