"""The row for the tenant's licence subscriptions (``subscribedSkus``).

Backed up so that a user's ``assignedLicenses`` (sku ids) can be shown by name
(``skuPartNumber``) at the time of the snapshot, and so a restore can tell which licences
the tenant held. Read-only: subscriptions are bought, not written through Graph.

Sources: CSDL ``subscribedSku`` (properties); the v1.0 doc examples of
``GET /subscribedSkus`` (a plain collection, ids ``{tenantId}_{skuId}``); facts §4.2 (3
resource units); facts §1.1 (no delta: not among the change-tracked collections).
"""

from __future__ import annotations

from entra_backup.domain.object_types.directory_types import DIRECTORY_READ
from entra_backup.domain.object_types.model import ObjectType, RestoreStrategy

SUBSCRIBED_SKUS = ObjectType(
    name="subscribedSkus",
    path="/subscribedSkus",
    entity_type="microsoft.graph.subscribedSku",
    select=("id", "skuId", "skuPartNumber", "appliesTo", "capabilityStatus",
            "consumedUnits", "prepaidUnits", "servicePlans", "accountId", "accountName",
            "subscriptionIds"),
    natural_keys=(("id",), ("skuId",)),
    read_permission="Organization.Read.All",
    alternative_read_permissions=("LicenseAssignment.Read.All", DIRECTORY_READ,
                                  "Organization.ReadWrite.All", "Directory.ReadWrite.All"),
    restore_strategy=RestoreStrategy.NOT_RESTORABLE,
    not_restorable_reason="licence subscriptions are bought from Microsoft, not written "
                          "through Graph; a restore assigns licences to users only",
    paged=False,
    notes=("Kept to name users' licences (skuPartNumber) as they were at the snapshot.",),
)
