"""Key changes (``services.keys``) against a repository on disk: a ``key passwd`` that dies
between adding the new copy and removing the old one leaves both copies, each opening the
repository, and a pin that matches them; a change refuses key files the pin does not
know, before writing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from entra_backup.bootstrap import KeySetChanged, Workspace
from entra_backup.config import PASSPHRASE_VARIABLE, AppConfig, write_atomically
from entra_backup.services import keys
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.keys import master
from entra_backup.store.keys.passphrase import (
    WEAK_FOR_TESTS,
    PassphraseKeyProvider,
    allow_weak_kdf_for_tests,
)
from entra_backup.store.repository import Repository

OLD, NEW = "the passphrase before", "the passphrase after"


class _WithdrawFails(LocalBackend):
    """A folder whose file system refuses the removal of a key file (a crash there)."""

    def withdraw(self, name: str) -> None:
        raise OSError(f"simulated crash before removing {name}")


def _weak(passphrase: str) -> PassphraseKeyProvider:
    allow_weak_kdf_for_tests()
    return PassphraseKeyProvider(passphrase, params=WEAK_FOR_TESTS)


def _home(tmp_path: Path) -> tuple[Workspace, Repository]:
    home = tmp_path / "home"
    home.mkdir()
    repository = tmp_path / "repository"
    created = Repository.init(LocalBackend(repository), _weak(OLD))
    write_atomically(home / "config.toml", AppConfig(str(repository)).to_toml())
    space = Workspace(home, environ={PASSPHRASE_VARIABLE: OLD})
    space.pin(created)
    return space, Repository.open(_WithdrawFails(repository), _weak(OLD))


def test_a_passwd_that_dies_half_way_leaves_both_keys_pinned(tmp_path: Path) -> None:
    space, repo = _home(tmp_path)
    with pytest.raises(OSError, match="simulated crash"):
        keys.replace_passphrase(repo, _weak(NEW), space)
    stored = master.stored_keys(repo.backend)
    assert len(stored) == 2
    space.check_pin(repo.backend)  # the pin names both copies: nothing is refused
    for passphrase in (OLD, NEW):
        assert Repository.open(repo.backend, _weak(passphrase)).id == repo.id


def test_a_change_refuses_key_files_the_pin_does_not_know(tmp_path: Path) -> None:
    space, repo = _home(tmp_path)
    repo.add_key(_weak("slipped in"))
    before = master.key_files(repo.backend)
    with pytest.raises(KeySetChanged):
        keys.add_key(repo, _weak(NEW), space)
    assert master.key_files(repo.backend) == before
