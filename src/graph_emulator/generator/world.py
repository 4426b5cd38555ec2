"""What the generator's stages share: the spec, the output, and compact indexes of what
earlier stages emitted (ids and the few attributes later references need)."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from graph_emulator.generator.ids import Rand
from graph_emulator.generator.output import Output
from graph_emulator.generator.spec import TenantSpec

GUEST = 1
SYNCED = 2
DISABLED = 4
NO_VALUE = -1


@dataclass
class People:
    """Every generated user by index, with what groups, roles and apps look up later."""

    ids: list[str] = field(default_factory=list)
    first: array[int] = field(default_factory=lambda: array("H"))
    last: array[int] = field(default_factory=lambda: array("H"))
    department: array[int] = field(default_factory=lambda: array("b"))
    """Index into ``departments`` or ``NO_VALUE``; the CEO's is ``EXECUTIVE_INDEX``."""
    office: array[int] = field(default_factory=lambda: array("b"))
    flags: bytearray = field(default_factory=bytearray)
    departments: list[array[int]] = field(default_factory=list)
    """Per department: indexes of its people, head first, in hierarchy order."""
    names: dict[int, tuple[str, str]] = field(default_factory=dict)
    """Display name and UPN of notable users (admins, CEO, heads), by index."""
    admin: int = 0
    break_glass: int | None = None
    ceo: int | None = None
    staff: range = range(0)
    """Indexes of the organisation's people (CEO and departments)."""
    guests: range = range(0)
    office_count: int = 1

    def is_(self, index: int, flag: int) -> bool:
        return bool(self.flags[index] & flag)


@dataclass
class Groups:
    """Generated groups by index, and the special ones other stages reference."""

    ids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    role_assignable: list[int] = field(default_factory=list)
    security: list[int] = field(default_factory=list)
    """Static, cloud-only security groups (candidates for app assignments and CA)."""
    department_dynamic: dict[int, int] = field(default_factory=dict)
    all_staff: int | None = None
    ca_exclusions: int | None = None
    creators: int | None = None
    dynamic: int | None = None


@dataclass
class Apps:
    """Service principals and apps other stages reference."""

    graph_sp: str = ""
    first_party: dict[str, str] = field(default_factory=dict)
    """appId -> service principal id of Microsoft's apps."""
    custom_app_ids: list[str] = field(default_factory=list)
    """appIds of the tenant's own applications."""
    custom_sp_ids: list[str] = field(default_factory=list)
    sample_application: str = ""


@dataclass
class World:
    """The generation in progress."""

    spec: TenantSpec
    out: Output
    tenant_id: str
    display_name: str
    initial_domain: str
    default_domain: str
    unverified_domain: str
    hybrid: bool
    people: People = field(default_factory=People)
    groups: Groups = field(default_factory=Groups)
    apps: Apps = field(default_factory=Apps)
    licences: dict[str, int] = field(default_factory=dict)
    """Consumed units per SKU id."""
    administrative_units: list[str] = field(default_factory=list)

    def rand(self, stream: str) -> Rand:
        """A fresh named stream of this spec's randomness."""
        return Rand(self.spec.seed, stream)
