"""What to generate (``TenantSpec``) and what was generated (``TenantSummary``)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

MAX_USERS = 1_000_000
GROUPS_PER_USER = 0.2
"""20,000 groups for 100,000 users, the proportion of the large benchmark tenant."""
MEMBERSHIPS_PER_USER = 5.0
"""About 500,000 group memberships for 100,000 users."""
_TENANT_NAME = re.compile(r"^[a-z][a-z0-9]{0,26}$")


class SpecError(ValueError):
    """A tenant spec that cannot be generated; the message names the field."""


@dataclass(frozen=True)
class TenantSpec:
    """The shape of a generated tenant. Equal specs give byte-identical tenants."""

    users: int = 200
    seed: int = 1
    tenant_id: str | None = None
    """The tenant's GUID; derived from the seed when not given."""
    tenant_name: str = "contoso"
    """Lower-case letters and digits: ``contoso`` gives ``contoso.onmicrosoft.com``."""
    groups: int | None = None
    """Number of groups; ``GROUPS_PER_USER`` times the users when not given."""
    memberships: int | None = None
    """Approximate number of group member links; ``MEMBERSHIPS_PER_USER`` per user if not given."""

    def validate(self) -> None:
        """Raise :class:`SpecError` naming the first field that is out of range."""
        if not 1 <= self.users <= MAX_USERS:
            raise SpecError(f"users must be between 1 and {MAX_USERS:,}, not {self.users}")
        if not _TENANT_NAME.match(self.tenant_name):
            raise SpecError(
                "tenant_name must be 1 to 27 lower-case letters or digits starting with a "
                f"letter, not {self.tenant_name!r}")
        if self.tenant_id is not None:
            try:
                uuid.UUID(self.tenant_id)
            except ValueError:
                raise SpecError(f"tenant_id must be a GUID, not {self.tenant_id!r}") from None
        if self.groups is not None and self.groups < 0:
            raise SpecError(f"groups must not be negative, not {self.groups}")
        if self.memberships is not None and self.memberships < 0:
            raise SpecError(f"memberships must not be negative, not {self.memberships}")

    @property
    def group_count(self) -> int:
        if self.groups is not None:
            return self.groups
        return round(self.users * GROUPS_PER_USER)

    @property
    def membership_target(self) -> int:
        if self.memberships is not None:
            return self.memberships
        return round(self.users * MEMBERSHIPS_PER_USER)


@dataclass
class TenantSummary:
    """What a generation produced: counts, domains and ids that tests and demos use."""

    tenant_id: str
    tenant_name: str
    display_name: str
    initial_domain: str
    default_domain: str
    domains: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    """Objects per kind."""
    links: dict[str, int] = field(default_factory=dict)
    """Links per relation."""
    group_memberships: int = 0
    """Member links whose source is a group (a part of ``links['members']``)."""
    admin_user_id: str = ""
    """A cloud-only Global Administrator."""
    admin_upn: str = ""
    break_glass_user_id: str | None = None
    """An emergency-access account excluded from Conditional Access, when users >= 20."""
    guest_user_id: str | None = None
    synced_user_id: str | None = None
    large_group_id: str | None = None
    """The static group with the most members ('All Employees')."""
    dynamic_group_id: str | None = None
    role_assignable_group_id: str | None = None
    ca_policy_id: str = ""
    """An enabled Conditional Access policy that excludes users, groups and roles."""
    ca_exclusion_group_id: str | None = None
    graph_service_principal_id: str = ""
    application_id: str = ""
    """The object id of a generated application with a certificate and a secret."""
    administrative_unit_id: str | None = None
