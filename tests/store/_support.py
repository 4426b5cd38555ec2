"""Helpers shared by the repository tests."""

from __future__ import annotations

from typing import Any

from entra_backup.store.backends.base import Backend
from entra_backup.store.keys.passphrase import WEAK_FOR_TESTS, PassphraseKeyProvider
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot

PASSPHRASE = "correct horse battery staple"
SMALL_PACK = 16 * 1024


def passphrase_provider(passphrase: str = PASSPHRASE) -> PassphraseKeyProvider:
    """A passphrase provider with test-only cheap KDF parameters."""
    return PassphraseKeyProvider(passphrase, params=WEAK_FOR_TESTS)


def new_repository(backend: Backend) -> Repository:
    """A repository with small packs and frequent index files, so little data spans many."""
    repo = Repository.init(backend, passphrase_provider(), pack_size=SMALL_PACK)
    repo.index_every = 2
    return repo


def reopen(backend: Backend) -> Repository:
    """Open the repository again from storage alone."""
    repo = Repository.open(backend, passphrase_provider())
    repo.index_every = 2
    return repo


def user(number: int, version: int = 0) -> dict[str, Any]:
    """A small user document."""
    return {
        "id": f"user-{number:05d}",
        "displayName": f"User {number}",
        "userPrincipalName": f"user{number}@contoso.example",
        "department": ["Sales", "Finance", "Engineering"][number % 3],
        "version": version,
        "notes": "text that compresses " * 8,
    }


def group(number: int) -> dict[str, Any]:
    """A small group document."""
    return {"id": f"group-{number:04d}", "displayName": f"Group {number}", "members": number}


def write_tenant(
    repo: Repository, users: int = 300, groups: int = 40, *, changed: frozenset[int] = frozenset(),
    tenant: str = "contoso",
) -> Snapshot:
    """Commit a snapshot of users and groups; ``changed`` users get version 1."""
    with repo.writer(tenant) as writer:
        for number in range(users):
            writer.add("users", f"user-{number:05d}", user(number, int(number in changed)))
        for number in range(groups):
            writer.add("groups", f"group-{number:04d}", group(number))
        return writer.commit()
