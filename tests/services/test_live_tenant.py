"""The live tenant read for ``diff ... live`` and restore plans: stored shape, on disk in
a temporary folder that goes with the repository (emulator over HTTPS)."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from entra_backup.services.live_tenant import read_live_tenant
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from tests.services._backup_support import backup, graph_client, new_repo
from tests.support.live_emulator import LiveEmulator

allow_weak_kdf_for_tests()


def test_the_live_copy_is_on_disk_shaped_like_the_snapshot_and_removed_after_use(
        tmp_path: Path) -> None:
    live = LiveEmulator.start(tmp_path / "emulator", users=12, seed=5, throttle="off")
    try:
        repo = new_repo(tmp_path / "repo")
        _, snapshot = asyncio.run(backup(live, repo))

        async def read() -> tuple[Path, dict[str, dict[str, object]]]:
            async with graph_client(live) as client:
                live_repo, live_snapshot = await read_live_tenant(client, snapshot,
                                                                  ["users", "groups"])
            backend = live_repo.backend
            assert isinstance(backend, LocalBackend)
            assert any(backend.root.rglob("*")), "the copy is written to its folder"
            users = dict(live_repo.objects(live_snapshot, "users"))
            return backend.root, users

        folder, users = asyncio.run(read())
        gc.collect()

        assert users == dict(repo.objects(snapshot, "users")), "nothing changed since"
        assert not folder.exists(), "the temporary folder went with the repository"
    finally:
        live.stop()
