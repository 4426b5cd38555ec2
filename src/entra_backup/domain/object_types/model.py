"""The shape of one row of the object-type table: an Entra object type and its relationships.

Pure data. Every field is immutable so rows can be shared freely between backup, restore,
diff, export and the permissions check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

NaturalKey = tuple[str, ...]
"""Properties that together identify an object when its id is unknown or has changed."""


class Capture(Enum):
    """How a backup reads a relationship."""

    DELTA_ANNOTATION = "delta-annotation"
    """From ``<name>@delta`` on the type's delta query (``members@delta``, ``manager@delta``)."""
    PER_OBJECT = "per-object"
    """One paged read of the relationship path per object."""


class WriteForm(Enum):
    """How a restore writes one edge of a relationship."""

    REF = "$ref"
    """``POST {path}/$ref`` (or ``PUT`` for a single-valued one) with an ``@odata.id``."""
    BIND = "@odata.bind"
    """``PATCH`` of the source object with ``<name>@odata.bind``, up to 20 URLs at a time."""
    ENTITY = "entity"
    """``POST {path}`` of a new entity that describes the edge (app role assignments)."""
    NONE = "none"
    """Not written by a restore."""


class RestoreStrategy(Enum):
    """What a restore does when the object is missing from the tenant."""

    UNDELETE_THEN_RECREATE = "undelete-then-recreate"
    """Restore from the recycle bin (keeps the id), else create a new object."""
    RECREATE = "recreate"
    """Create a new object (new id, references remapped)."""
    UPDATE_ONLY = "update-only"
    """The object always exists (a singleton or a device); only its properties are set back."""
    NOT_RESTORABLE = "not-restorable"
    """Backed up for the record, never written; ``ObjectType.not_restorable_reason`` says why."""


class Lane(Enum):
    """Graph throttling lane the type's requests fall in (graph-facts section 4.2)."""

    DIRECTORY = "directory"
    CONDITIONAL_ACCESS = "conditionalAccess"
    """Conditional Access and named locations: 1 request per second, no ``Retry-After``."""


@dataclass(frozen=True, slots=True)
class Relationship:
    """A navigation property of a type that a backup captures and a restore may write."""

    name: str
    """The CSDL navigation property (``members``)."""
    path: str
    """Read path template with ``{id}`` for the source object (``/groups/{id}/members``)."""
    targets: tuple[str, ...]
    """Names of the object types an edge may point to."""
    capture: Capture
    write: WriteForm
    max_per_request: int = 1
    """Edges written per request: 20 for ``@odata.bind``, 1 otherwise."""
    single_valued: bool = False
    """True for ``manager``: at most one target."""
    not_restorable_reason: str = ""
    """Why a restore does not write these edges; empty when it does."""

    @property
    def restorable(self) -> bool:
        """Whether a restore writes these edges."""
        return self.write is not WriteForm.NONE


@dataclass(frozen=True, slots=True)
class SkipRule:
    """A stored object a restore must skip, reported with the reason."""

    property: str
    equals: object
    reason: str


@dataclass(frozen=True, slots=True)
class ObjectType:
    """One Entra object type: how to read it, identify it, and write it back."""

    name: str
    """Stable name used on the command line, in the catalog and in the repository."""
    path: str
    """Graph collection (or singleton) path under the API version (``/users``)."""
    entity_type: str
    """CSDL entity type (``microsoft.graph.user``)."""
    select: tuple[str, ...]
    """Properties a backup reads: explicit, so delta tokens encode them and ``$select`` is
    charged 1 RU less; never properties that delta does not change-track."""
    natural_keys: tuple[NaturalKey, ...]
    """Keys tried in order to match a stored object with a live one (id first)."""
    read_permission: str
    """Least-privileged application permission that reads the type and its relationships."""
    restore_strategy: RestoreStrategy
    api_version: str = "v1.0"
    delta_path: str | None = None
    """The delta function's path, or None when the type has no delta query."""
    derived_types: tuple[str, ...] = ()
    """CSDL types derived from ``entity_type`` whose properties ``select`` may name."""
    per_object_select: tuple[str, ...] = ()
    """Properties Graph fills only on a single-object read (``keyCredentials`` with keys)."""
    relationships: tuple[Relationship, ...] = ()
    alternative_read_permissions: tuple[str, ...] = ()
    """Broader permissions that also read the type."""
    write_permissions: tuple[str, ...] = ()
    """Every permission a restore of the type needs (all of them)."""
    strip_on_create: frozenset[str] = frozenset()
    """Read-only or computed properties removed from a create body."""
    strip_on_update: frozenset[str] = frozenset()
    """Properties removed from an update body."""
    create_only_later: frozenset[str] = frozenset()
    """Properties Graph refuses on create and accepts on a later ``PATCH``."""
    property_actions: tuple[tuple[str, str], ...] = ()
    """(property, action path): properties written through an action, not a ``PATCH``."""
    restore_skips: tuple[SkipRule, ...] = ()
    not_restorable_reason: str = ""
    soft_delete: bool = False
    """Whether deleted objects go to the recycle bin (``directory/deletedItems``)."""
    depends_on: tuple[str, ...] = ()
    """Types a restore must finish creating before this one."""
    lane: Lane = Lane.DIRECTORY
    singleton: bool = False
    """One object at ``path`` instead of a collection (``/policies/authorizationPolicy``)."""
    paged: bool = True
    """False where Graph returns the whole collection in one response (directoryRoles)."""
    notes: tuple[str, ...] = field(default=())
    """Facts an operator should know about this type's backup or restore."""

    @property
    def delta(self) -> bool:
        """Whether the type has a delta query."""
        return self.delta_path is not None

    @property
    def read_permissions(self) -> tuple[str, ...]:
        """Every permission that reads the type, least privileged first."""
        return (self.read_permission, *self.alternative_read_permissions)

    def delta_select(self) -> tuple[str, ...]:
        """``$select`` for the delta query: the properties plus relationships read as
        ``<name>@delta`` annotations."""
        annotated = tuple(r.name for r in self.relationships
                          if r.capture is Capture.DELTA_ANNOTATION)
        return self.select + annotated

    def relationship(self, name: str) -> Relationship:
        """The relationship called ``name``; KeyError if the type has none."""
        for relationship in self.relationships:
            if relationship.name == name:
                return relationship
        raise KeyError(name)
