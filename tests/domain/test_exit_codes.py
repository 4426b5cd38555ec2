"""Every failure has its own exit code: two error classes that declare the same code must
mean the same thing to a script (and are listed here with that meaning).

Subclasses that inherit a code share their parent's meaning; only classes that declare
``exit_code`` in their own body are compared. Importing every module finds them all.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import entra_backup
from entra_backup.domain.errors import (
    CatalogPasswordMissing,
    CertificatePassphraseError,
    EntraBackupError,
)

SHARED = {
    # code: the meaning and the classes that declare it
    2: ("bad usage", {"UsageError", "RetentionPolicyError"}),
    3: ("configuration or key unavailable", {"ConfigurationError", "KeyUnavailable"}),
    4: ("Graph failed or returned nothing usable",
        {"GraphClientError", "NothingBackedUp", "LiveTenantUnreadable"}),
    10: ("a document or table the code cannot read", {"ObjectTypeTableError",
                                                      "MalformedDocument"}),
    22: ("stored data is damaged", {"IntegrityError", "CheckFailed"}),
    23: ("no such snapshot or object", {"SnapshotNotFound", "AmbiguousSnapshotId",
                                        "ObjectNotFound"}),
    24: ("the repository is locked by another run",
         {"RepositoryLocked", "BackupLocked", "RepositoryBusy"}),
    29: ("a disk is full", {"DiskFull", "CatalogDiskFull"}),
}


def _declared() -> dict[int, set[str]]:
    for module in pkgutil.walk_packages(entra_backup.__path__, "entra_backup."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found: dict[int, set[str]] = {}
    pending = [EntraBackupError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "exit_code" in vars(cls):
            found.setdefault(cls.exit_code, set()).add(cls.__name__)
    return found


def test_no_two_failures_share_an_exit_code_by_accident() -> None:
    clashes = {code: names for code, names in _declared().items()
               if len(names) > 1 and names != SHARED.get(code, ("", set()))[1]}
    assert clashes == {}


def test_every_declared_code_is_in_the_exit_code_table() -> None:
    table = (Path(__file__).resolve().parents[2] / "docs" / "exit-codes.md").read_text()
    documented = {(int(code), name)
                  for code, name in re.findall(r"^\| (\d+) \| `(\w+)` \|", table, re.M)}
    declared = {(code, name) for code, names in _declared().items() for name in names}
    assert declared - documented == set(), "add these to docs/exit-codes.md"
    assert documented - declared == set(), "docs/exit-codes.md lists classes that are gone"


def test_certificate_passphrase_and_catalog_password_have_their_own_codes() -> None:
    assert CertificatePassphraseError.exit_code == 42
    assert CatalogPasswordMissing.exit_code == 43
    assert {"CertificatePassphraseError"} == _declared()[42]
    assert {"CatalogPasswordMissing"} == _declared()[43]
