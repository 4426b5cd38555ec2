"""Helpers for the backup engine's end-to-end tests.

* :class:`LiveGraph`: plain HTTPS calls to the emulator's Graph with a token MSAL got from
  its token endpoint for the default app (which may write), independent of the engine's
  Graph client;
* :class:`Tenant`: the writes the tests make between backups, and the tenant's state read
  back through Graph, shaped as a backup stores it, to compare snapshots with;
* :func:`snapshot_state`: a snapshot's content read back from the repository.

The expected state of a delta-annotation relationship is what Graph lists at the
relationship's path, plus the edges to soft-deleted objects: Graph lists only live members,
but delta keeps reporting a soft-deleted member (it is restorable with its memberships)
until it is hard-deleted (docs/emulator-delta.md, "Link changes"), so a backup keeps it.
:class:`Tenant` records those edges (from the object's reverse relationships, read before
the soft deletion) and forgets them at the hard deletion.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from entra_backup.catalog import Catalog
from entra_backup.domain.object_types import TYPES, Capture, ObjectType, by_name
from entra_backup.graph.client import GraphClient
from entra_backup.services.backup.engine import BackupProgress, BackupSummary, run_backup
from entra_backup.services.backup.scope import BackupScope
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot
from tests.graph.conftest import EmulatorClock, connection
from tests.store._support import new_repository
from tests.support.live_emulator import LiveEmulator, acquire_token

TENANT = "contoso"
State = dict[str, dict[str, dict[str, Any]]]
"""Type name -> object id -> stored document."""
TOP_COLLECTIONS = frozenset({"/users", "/groups", "/applications", "/servicePrincipals",
                             "/devices", "/directory/administrativeUnits"})
REVERSE: dict[str, tuple[tuple[str, str, str], ...]] = {
    # An object's reverse navigation -> (@odata.type of a source listed there, the source's
    # type, the source's relationship that points at the object).
    "memberOf": (("#microsoft.graph.group", "groups", "members"),
                 ("#microsoft.graph.directoryRole", "directoryRoles", "members"),
                 ("#microsoft.graph.administrativeUnit", "administrativeUnits", "members")),
    "ownedObjects": (("#microsoft.graph.group", "groups", "owners"),
                     ("#microsoft.graph.application", "applications", "owners"),
                     ("#microsoft.graph.servicePrincipal", "servicePrincipals", "owners")),
    "directReports": (("#microsoft.graph.user", "users", "manager"),),
    "ownedDevices": (("#microsoft.graph.device", "devices", "registeredOwners"),),
    "registeredDevices": (("#microsoft.graph.device", "devices", "registeredUsers"),),
}
PASSWORD = "Xk4!pz-Qr8-backup"


class LiveGraph:
    """Synchronous Graph calls to the emulator with an app's MSAL token (renewed on 401)."""

    def __init__(self, live: LiveEmulator, client_id: str | None = None,
                 secret: str | None = None) -> None:
        self.live = live
        self.client_id = client_id or live.client_id
        self.secret = secret or live.client_secret
        self._http = httpx.Client(base_url=live.graph_url + "/", verify=live.verify(),
                                  timeout=30)
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def _authorise(self) -> str:
        if self._token is None:
            result = acquire_token(self.live.authority, self.client_id, self.secret,
                                   self.live.ca_bundle)
            assert "access_token" in result, result
            self._token = str(result["access_token"])
        return self._token

    def request(self, method: str, path: str, *, json: Any = None,
                params: dict[str, str] | None = None) -> httpx.Response:
        """One request; a 401 (the emulator's clock moved past the token) renews once."""
        for _ in range(2):
            response = self._http.request(
                method, path.lstrip("/") if not path.startswith("https:") else path,
                json=json, params=params,
                headers={"Authorization": f"Bearer {self._authorise()}"})
            if response.status_code != 401:
                return response
            self._token = None
        return response

    def call(self, method: str, path: str, json: Any = None, *, expect: int) -> dict[str, Any]:
        """A write that must answer ``expect``; its JSON body (or {})."""
        response = self.request(method, path, json=json)
        assert response.status_code == expect, (method, path, response.text)
        return dict(response.json()) if response.content else {}

    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.request("GET", path, params=params)
        assert response.status_code == 200, (path, response.text)
        return dict(response.json())

    def get_or_none(self, path: str, params: dict[str, str] | None = None
                    ) -> dict[str, Any] | None:
        response = self.request("GET", path, params=params)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, (path, response.text)
        return dict(response.json())

    def iterate(self, path: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every item of a collection, following nextLinks."""
        body = self.get(path, params)
        items = list(body["value"])
        seen: set[str] = set()
        while isinstance(body.get("@odata.nextLink"), str):
            link = body["@odata.nextLink"]
            assert link not in seen, link
            seen.add(link)
            body = self.get(link)
            items.extend(body["value"])
        return items


PAGING = frozenset({"@odata.context", "@odata.nextLink", "@odata.deltaLink", "@odata.id"})
"""Response metadata, not part of an object: a listing of devices, for one, gives each its
``@odata.id`` (a URL of the service that answered), which delta does not."""


def _annotations_dropped(item: dict[str, Any]) -> dict[str, Any]:
    """The object as Graph gave it, without response metadata (``@odata.type`` stays)."""
    return {key: value for key, value in item.items() if key not in PAGING}


def edge(item: dict[str, Any]) -> dict[str, Any]:
    """A directory-object reference as a backup stores it."""
    return {"@odata.type": item["@odata.type"], "id": item["id"]}


@dataclass
class Tenant:
    """Writes to the emulated tenant, and its state read back through Graph."""

    graph: LiveGraph
    domain: str = ""
    ghost_edges: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = field(
        default_factory=dict)
    """(type, source id, relationship) -> edges to soft-deleted objects, by target id."""
    soft_deleted: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not self.domain:
            domains = self.graph.get("domains")["value"]
            self.domain = next(d["id"] for d in domains if d.get("isDefault"))

    # --- writes ----------------------------------------------------------------------

    def patch(self, path: str, body: dict[str, Any]) -> None:
        self.graph.call("PATCH", path, body, expect=204)

    def create_user(self, name: str, **extra: Any) -> str:
        body = {"accountEnabled": True, "displayName": name.title(), "mailNickname": name,
                "userPrincipalName": f"{name}@{self.domain}",
                "passwordProfile": {"password": PASSWORD,
                                    "forceChangePasswordNextSignIn": True}, **extra}
        return str(self.graph.call("POST", "users", body, expect=201)["id"])

    def create_group(self, name: str, *, members: Iterable[str] = (),
                     owners: Iterable[str] = ()) -> str:
        """A security group with assigned members and owners."""
        url = self.graph.live.graph_url + "/directoryObjects/"
        body: dict[str, Any] = {"displayName": name, "mailNickname": name,
                                "mailEnabled": False, "securityEnabled": True,
                                "groupTypes": []}
        if members:
            body["members@odata.bind"] = [url + m for m in members]
        if owners:
            body["owners@odata.bind"] = [url + o for o in owners]
        return str(self.graph.call("POST", "groups", body, expect=201)["id"])

    def add_link(self, path: str, target: str) -> None:
        """POST ``{path}/$ref`` (members, owners, registered owners ...)."""
        self.graph.call("POST", f"{path}/$ref",
                        {"@odata.id": f"{self.graph.live.graph_url}/directoryObjects/{target}"},
                        expect=204)

    def remove_link(self, path: str, target: str) -> None:
        self.graph.call("DELETE", f"{path}/{target}/$ref", expect=204)

    def set_manager(self, user: str, manager: str) -> None:
        self.graph.call("PUT", f"users/{user}/manager/$ref",
                        {"@odata.id": f"{self.graph.live.graph_url}/users/{manager}"},
                        expect=204)

    def soft_delete(self, path: str) -> None:
        """DELETE an object that goes to the recycle bin (see :meth:`remember_edges`)."""
        kind, object_id = path.strip("/").split("/")
        self.remember_edges(kind, object_id)
        self.graph.call("DELETE", path, expect=204)

    def remember_edges(self, kind: str, object_id: str) -> None:
        """Before ``object_id`` is soft-deleted: remember the edges pointing at it, which
        delta keeps reporting until the hard deletion."""
        me = self.graph.get(f"{kind}/{object_id}")
        reference = {"@odata.type": me.get("@odata.type", f"#microsoft.graph.{kind[:-1]}"),
                     "id": object_id}
        for navigation, sources in REVERSE.items():
            response = self.graph.request("GET", f"{kind}/{object_id}/{navigation}")
            if response.status_code in (400, 404):
                continue  # no such navigation for this kind of object
            assert response.status_code == 200, response.text
            for source in response.json()["value"]:
                for odata_type, type_name, relationship in sources:
                    if source.get("@odata.type") == odata_type:
                        key = (type_name, source["id"], relationship)
                        self.ghost_edges.setdefault(key, {})[object_id] = reference
        self.soft_deleted.add(object_id)

    def hard_delete(self, object_id: str) -> None:
        """Purge a soft-deleted object from the recycle bin."""
        self.graph.call("DELETE", f"directory/deletedItems/{object_id}", expect=204)
        self.soft_deleted.discard(object_id)
        for edges in self.ghost_edges.values():
            edges.pop(object_id, None)

    # --- reads -----------------------------------------------------------------------

    def state(self, types: Iterable[str] | None = None) -> State:
        """Every object of the types, as a backup of this moment should store it."""
        chosen = [by_name(name) for name in types] if types is not None else list(TYPES)
        return {object_type.name: self.objects(object_type) for object_type in chosen}

    def objects(self, object_type: ObjectType) -> dict[str, dict[str, Any]]:
        params = {"$select": ",".join(object_type.select)}
        if object_type.singleton:
            items = [self.graph.get(object_type.path, params)]
        else:
            if object_type.path in TOP_COLLECTIONS:
                params["$top"] = "999"
            items = self.graph.iterate(object_type.path, params)
        found = {}
        for item in items:
            document = _annotations_dropped(item)
            self._add_relationships(object_type, document)
            found[str(item["id"])] = document
        return found

    def _add_relationships(self, object_type: ObjectType, document: dict[str, Any]) -> None:
        object_id = document["id"]
        for relationship in object_type.relationships:
            path = relationship.path.format(id=object_id)
            if relationship.single_valued:
                target = self.graph.get_or_none(path, {"$select": "id"})
                edges = [] if target is None else [edge(target)]
            elif relationship.capture is Capture.PER_OBJECT:
                entities = [_annotations_dropped(item) for item in self.graph.iterate(path)]
                document[relationship.name] = sorted(entities, key=lambda e: e["id"])
                continue
            else:
                edges = [edge(item) for item in self.graph.iterate(path, {"$select": "id"})]
            ghosts = self.ghost_edges.get((object_type.name, object_id, relationship.name), {})
            by_id = {e["id"]: e for e in [*edges, *ghosts.values()]}
            listed = [by_id[key] for key in sorted(by_id)]
            if relationship.single_valued:
                document[relationship.name] = listed[-1] if listed else None
            else:
                document[relationship.name] = listed
        if object_type.per_object_select:
            single = self.graph.get(f"{object_type.path}/{object_id}",
                                    {"$select": ",".join(object_type.per_object_select)})
            for name in object_type.per_object_select:
                if name in single:
                    document[name] = single[name]


def snapshot_state(repo: Repository, snapshot: Snapshot,
                   types: Iterable[str] | None = None) -> State:
    """A snapshot's objects per type (types without a stored copy are left out)."""
    names = list(types) if types is not None else [t.name for t in TYPES]
    return {name: dict(repo.objects(snapshot, name)) for name in names
            if snapshot.types.get(name) is not None
            and snapshot.types[name].manifest is not None}


def differences(expected: State, actual: State) -> list[str]:
    """Readable differences between two states, object by object (empty when equal)."""
    found: list[str] = []
    for type_name in sorted(set(expected) | set(actual)):
        want, got = expected.get(type_name), actual.get(type_name)
        if want is None or got is None:
            found.append(f"{type_name}: expected {'absent' if want is None else 'present'}, "
                         f"snapshot {'absent' if got is None else 'present'}")
            continue
        for object_id in sorted(set(want) - set(got)):
            found.append(f"{type_name}/{object_id}: missing from the snapshot")
        for object_id in sorted(set(got) - set(want)):
            found.append(f"{type_name}/{object_id}: in the snapshot, not in the tenant")
        for object_id in sorted(set(want) & set(got)):
            a, b = want[object_id], got[object_id]
            for key in sorted(set(a) | set(b)):
                if a.get(key, "<absent>") != b.get(key, "<absent>"):
                    found.append(f"{type_name}/{object_id}.{key}: tenant "
                                 f"{a.get(key, '<absent>')!r} != snapshot "
                                 f"{b.get(key, '<absent>')!r}")
    return found


def state_changes(before: State, after: State) -> dict[tuple[str, str], str]:
    """(type, id) -> added, changed or removed, from one state to the next."""
    found: dict[tuple[str, str], str] = {}
    for type_name in sorted(set(before) | set(after)):
        old, new = before.get(type_name, {}), after.get(type_name, {})
        for object_id in set(old) | set(new):
            if object_id not in old:
                found[(type_name, object_id)] = "added"
            elif object_id not in new:
                found[(type_name, object_id)] = "removed"
            elif old[object_id] != new[object_id]:
                found[(type_name, object_id)] = "changed"
    return found


def assert_snapshot_matches(repo: Repository, snapshot: Snapshot, tenant: Tenant,
                            types: Iterable[str] | None = None) -> None:
    """The snapshot's content equals the live tenant's, object for object."""
    chosen = list(types) if types is not None else [t.name for t in TYPES]
    problems = differences(tenant.state(chosen), snapshot_state(repo, snapshot, chosen))
    assert not problems, "\n".join(problems[:40])


# --- running backups -----------------------------------------------------------------


def new_repo(path: Path) -> Repository:
    """A local-disk repository with cheap KDF parameters (see tests/store)."""
    return new_repository(LocalBackend(path))


@asynccontextmanager
async def graph_client(live: LiveEmulator, *, timeout: float = 10.0,
                       **changes: object) -> AsyncIterator[GraphClient]:
    """The engine's Graph client for the emulator; its waits advance the emulator's clock."""
    async with GraphClient.connect(connection(live, **changes), clock=EmulatorClock(live),
                                   timeout=timeout) as client:
        yield client


async def backup(live: LiveEmulator, repo: Repository, catalog: Catalog | None = None, *,
                 progress: BackupProgress | None = None, timeout: float = 10.0,
                 **changes: object) -> tuple[BackupSummary, Snapshot]:
    """One backup of the whole tenant with a fresh client; the summary and its snapshot."""
    async with graph_client(live, timeout=timeout, **changes) as client:
        summary = await run_backup(client, repo, TENANT, BackupScope(), catalog=catalog,
                                   progress=progress)
    return summary, repo.load_snapshot(summary.snapshot_id)


def modes(summary: BackupSummary) -> dict[str, str]:
    return {outcome.name: outcome.mode for outcome in summary.types}
