"""Deterministic, realistic Entra ID tenants of any size, streamed into a directory sink.

``generate_tenant(sink, TenantSpec(users=5000, seed=7))`` emits organization, domains,
users, groups, devices, applications and service principals, roles, administrative
units and Conditional Access, and returns a :class:`TenantSummary`. Equal specs give
byte-identical output; memory stays bounded by compact indexes of ids.
"""

from graph_emulator.generator.generate import generate_tenant
from graph_emulator.generator.spec import SpecError, TenantSpec, TenantSummary

__all__ = ["SpecError", "TenantSpec", "TenantSummary", "generate_tenant"]
