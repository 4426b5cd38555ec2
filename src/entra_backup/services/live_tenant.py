"""The live tenant in the stored document shape, for comparing it with a snapshot.

``diff ... live`` and the restore planner both need the tenant as a backup would store it
now, so they run the backup engine into a throwaway repository, under the snapshot's own
scope (a tenant's user and group filter applies to both sides alike). The repository is
on disk, in a temporary folder removed when the repository is dropped (or the process
ends), so a tenant of a million objects is compared in bounded memory (design principle
5), at the price of writing its encrypted copy once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterable
from dataclasses import replace

from entra_backup.domain.errors import EntraBackupError
from entra_backup.graph.client import GraphClient
from entra_backup.services.backup.engine import run_backup
from entra_backup.services.backup.scope import BackupScope
from entra_backup.services.leftovers import LIVE_PREFIX, scratch_prefix
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.keys.keyfile import KeyFileProvider
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot


class LiveTenantUnreadable(EntraBackupError):
    """Some object type of the live tenant could not be read."""

    exit_code = 4


async def read_live_tenant(client: GraphClient, snapshot: Snapshot,
                           type_names: Iterable[str]) -> tuple[Repository, Snapshot]:
    """A repository holding one snapshot of the live tenant's ``type_names``."""
    scope = BackupScope.from_json(snapshot.state.get("scope") or {})
    scope = replace(scope, types=tuple(type_names))
    folder = tempfile.mkdtemp(prefix=scratch_prefix(LIVE_PREFIX))
    try:
        live_repo = Repository.init(LocalBackend(folder), KeyFileProvider(os.urandom(32)))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    weakref.finalize(live_repo, shutil.rmtree, folder, ignore_errors=True)
    summary = await run_backup(client, live_repo, snapshot.tenant, scope)
    failed = [o for o in summary.types if o.status != "ok"]
    if failed:
        raise LiveTenantUnreadable(
            "could not read the live tenant's " + "; ".join(
                f"{o.name} ({o.status}: {o.message or 'no detail'})" for o in failed))
    return live_repo, live_repo.load_snapshot(summary.snapshot_id)
