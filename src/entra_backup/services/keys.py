"""The repository's keys (``key list|add|remove|passwd``): the wrapped copies of its master
key, listed without writing, and changed only under the exclusive lock, then re-pinned.

A home accepts only the key files it pinned (docs/repository-format.md, section 9). Each
change here first checks, under the lock, that the key files are still the pinned ones,
then pins the key set it *wrote* (the files it found plus the one it added, minus the one
it removed), never what it reads back afterwards: a key file someone slips in meanwhile
is still refused by the next command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from entra_backup.domain.errors import UsageError
from entra_backup.services.repair import exclusive
from entra_backup.store.backends.base import BackendError
from entra_backup.store.keys import kms_blob, master
from entra_backup.store.keys.base import KeyProvider, KeyProviderError
from entra_backup.store.keys.master import StoredKey
from entra_backup.store.repository import Repository

RETENTION_ADVICE = ("anyone who can read those versions and knows the removed key's "
                    "passphrase or key file still opens the repository with them; if that "
                    "secret leaked, move the backups to a new repository "
                    "(docs/repository-format.md, section 3)")


class KeyPin(Protocol):
    """The home's pin of the key set (``Workspace`` implements it)."""

    def verify_key_set(self, fingerprint: str) -> None:
        """Raise KeySetChanged unless ``fingerprint`` is the pinned key set's."""

    def record_key_set(self, repo: Repository, fingerprint: str) -> None:
        """Pin ``fingerprint`` as the repository's key set."""


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One key file as ``key list`` shows it."""

    id: str
    kind: str
    created: str
    current: bool
    """Whether it is the copy that opened the repository in this run."""
    kms_key_arn: str | None = None
    """The KMS key that wrapped it, as the file records it (aws-kms only)."""

    @property
    def short_id(self) -> str:
        """The id's first characters (as restic shows them)."""
        return self.id[:master.SHORT_ID_LENGTH]

    def as_json(self) -> dict[str, Any]:
        """The entry for ``--json``."""
        document: dict[str, Any] = {"id": self.id, "short_id": self.short_id,
                                    "kind": self.kind, "created": self.created,
                                    "current": self.current}
        if self.kind == "aws-kms":
            document["kms_key_arn"] = self.kms_key_arn
        return document


@dataclass(frozen=True, slots=True)
class KeyRemoval:
    """A key file to remove (or removed), and why its bytes may outlive the removal."""

    key: KeyEntry
    old_versions_kept: str | None
    """Why the storage keeps the file's old version readable, or None."""

    def retention_warning(self) -> str | None:
        """The warning an operator needs when the old version stays readable."""
        if self.old_versions_kept is None:
            return None
        return (f"{self.old_versions_kept}: the removed key file keys/{self.key.id} stays "
                "readable there until its retention ends or its versions are deleted, and "
                + RETENTION_ADVICE)


def list_keys(repo: Repository) -> list[KeyEntry]:
    """Every key file of the repository, in name order (reads only)."""
    return [_entry(key, repo) for key in master.stored_keys(repo.backend)]


def add_key(repo: Repository, provider: KeyProvider, pin: KeyPin) -> KeyEntry:
    """Wrap the repository's current master key with ``provider`` and re-pin."""
    with _changing(repo, pin) as files:
        name, data = repo.store_key(provider)
        files[name] = data
    return _entry(master.parse_key(name, data), repo)


def plan_removal(repo: Repository, reference: str) -> KeyRemoval:
    """The key file ``reference`` names (an id or unique prefix), checked removable, with
    the storage's retention: what ``key remove`` shows before it asks."""
    key = master.find_key(repo.backend, reference)
    master.check_removable(repo.backend, key.name, in_use=repo.key_name)
    return KeyRemoval(_entry(key, repo), _old_versions_kept(repo))


def remove_key(repo: Repository, removal: KeyRemoval, pin: KeyPin) -> None:
    """Remove the planned key file (never the one in use nor the last) and re-pin."""
    name = master.KEYS_PREFIX + removal.key.id
    with _changing(repo, pin) as files:
        master.remove_key(repo.backend, name, in_use=repo.key_name,
                          delete=repo.backend.withdraw)
        files.pop(name, None)


def replace_passphrase(repo: Repository, provider: KeyProvider,
                       pin: KeyPin) -> tuple[KeyEntry, KeyRemoval]:
    """``key passwd``: add a copy under the new passphrase, then remove the copy that
    opened, in that order under one lock, so a crash never leaves the repository without
    a key (at worst both copies remain)."""
    opened = next((key for key in master.stored_keys(repo.backend)
                   if key.name == repo.key_name), None)
    if opened is None or opened.kind != "passphrase" or provider.kind != "passphrase":
        raise UsageError("'key passwd' changes a passphrase, and this home opens the "
                         "repository with a key of another kind: use 'key add' and "
                         "'key remove' instead")
    removal = KeyRemoval(_entry(opened, repo), _old_versions_kept(repo))
    with _changing(repo, pin) as files:
        name, data = repo.store_key(provider)
        files[name] = data
        master.remove_key(repo.backend, opened.name, in_use=name,
                          delete=repo.backend.withdraw)
        files.pop(opened.name, None)
    return _entry(master.parse_key(name, data), repo), removal


@contextmanager
def _changing(repo: Repository, pin: KeyPin) -> Iterator[dict[str, bytes]]:
    """Hold the exclusive lock, check the key files against the pin, and pin the set the
    caller leaves in the yielded mapping, even when its change failed half-way (an added
    copy is then pinned, a removal that did not happen is not)."""
    with exclusive(repo):
        files = master.key_files(repo.backend)
        pin.verify_key_set(master.fingerprint_of(files))
        try:
            yield files
        finally:
            pin.record_key_set(repo, master.fingerprint_of(files))


def key_file_exposure(key_file: Path, home: Path, repository: str) -> str | None:
    """Why keeping a key file at ``key_file`` is risky, or None: inside the repository
    folder (whoever copies the repository copies the key too) or inside the home folder
    (a copy of the home, which holds the repository by default, holds both)."""
    where = key_file.resolve()
    places = [] if "://" in repository else [("repository", Path(repository).expanduser())]
    places.append(("home", home))
    for label, folder in places:
        if where.is_relative_to(folder.expanduser().resolve()):
            return (f"the key file {where} is inside the {label} folder {folder}: a copy "
                    f"of that folder holds both the key and what it opens; keep the key "
                    "on another medium or in a secrets manager, or use aws-kms (see "
                    "'Where to keep the key' in docs/repository-format.md, section 3)")
    return None


def _old_versions_kept(repo: Repository) -> str | None:
    try:
        return repo.backend.old_versions_kept()
    except BackendError as exc:
        return f"the storage's versioning could not be read ({exc}); if it keeps versions"


def _entry(key: StoredKey, repo: Repository) -> KeyEntry:
    arn = None
    if key.kind == "aws-kms":
        try:
            arn = kms_blob.decode(key.wrapped)[0]
        except KeyProviderError:
            arn = None  # shown as unknown: the file does not record it readably
    return KeyEntry(key.id, key.kind, key.created, key.name == repo.key_name, arn)

