"""Every id of a restore plan that may reach a Graph path, checked before anything is sent.

A plan's items name objects by id (``object_id``, ``live_id``, relationship ``edges``) and
its ``matched`` map gives the live id a stored one stands for; the executor puts these
ids into request paths and ``@odata.bind`` URLs. A plan is authenticated, but a damaged or
forged one must still not steer a request elsewhere, and one malformed id found half-way
would leave a run half done: so the whole plan is checked first, and a malformed id
refuses it (:class:`~entra_backup.domain.object_ids.MalformedObjectId`) before the first
request.
"""

from __future__ import annotations

from collections.abc import Mapping

from entra_backup.domain.object_ids import ID_FORMS, checked_id, edge_kind
from entra_backup.domain.restore.plan import PlanItem, RestorePlan


def check_plan_ids(plan: RestorePlan, source: str = "the restore plan") -> None:
    """Raise MalformedObjectId for the first id of ``plan`` without its type's form.

    Items of a type the table does not know are left to the executor, which refuses
    them by name.
    """
    for number, item in enumerate(plan.items, start=1):
        if item.type in ID_FORMS:
            check_item_ids(item, plan.matched, f"{source}, item {number}")


def check_item_ids(item: PlanItem, matched: Mapping[str, str], where: str) -> None:
    """The ids of one item, and the live ids ``matched`` gives them."""
    def check(kind: str, value: object, field: str) -> None:
        checked_id(kind, value, f"{where} ({item.action.value} {item.type}, {field})")

    check(item.type, item.object_id, "object_id")
    if item.live_id is not None:
        check(item.type, item.live_id, "live_id")
    if item.object_id in matched:
        check(item.type, matched[item.object_id], "its matched id")
    if not item.edges:
        return
    kind = edge_kind(item.relationship or "")
    for edge in item.edges:
        check(kind, edge, "edges")
        if edge in matched:
            check(kind, matched[edge], "an edge's matched id")
