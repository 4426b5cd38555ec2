"""Wiring: from the home folder's configuration to an opened repository, catalog and Graph
connection. The CLI (and later the API) build everything they use through a Workspace."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from entra_backup.config import (
    CONFIG_NAME,
    PASSPHRASE_VARIABLE,
    AppConfig,
    TenantRecord,
    load_config,
    load_tenants,
    save_tenants,
    write_atomically,
)
from entra_backup.domain.errors import (
    CatalogPasswordMissing,
    CertificatePassphraseError,
    ConfigurationError,
    EmptyPassphrase,
    EntraBackupError,
    KeyServiceUnreachable,
    UsageError,
)
from entra_backup.home import check_folder, make_private, readable_by_others, tighten
from entra_backup.store.backends.base import Backend, BackendError
from entra_backup.store.backends.endpoint import check_endpoint
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.errors import IntegrityError, RepositoryError
from entra_backup.store.keys.base import KeyProvider, KeyProviderError, KeyServiceDown
from entra_backup.store.keys.keyfile import KeyFileProvider
from entra_backup.store.keys.master import key_set_fingerprint
from entra_backup.store.keys.passphrase import KdfTooCostly, PassphraseKeyProvider
from entra_backup.store.repository import Repository
from entra_backup.store.seen import SeenSnapshots

SEEN_FOLDER = "seen"
CERTIFICATE_FILE = "certificate file (with its private key)"
PIN_HINT = ("if that was done on purpose, run 'entra-backup pin' to accept the repository "
            "as it is now")

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from entra_backup.catalog import Catalog

    # The Graph client (httpx, MSAL) is imported by the commands that connect to a tenant
    # only: reading a snapshot never pays for it (docs/decisions.md, D17).
    from entra_backup.graph.auth import Credential
    from entra_backup.graph.budget import TenantSize
    from entra_backup.graph.client import TenantConnection


class KeyUnavailable(ConfigurationError):
    """The repository key cannot be obtained (no passphrase given, unreadable key file)."""


class RepositoryMismatch(EntraBackupError):
    """The configured location holds another repository than the one this home pinned."""

    exit_code = 32


class KeySetChanged(EntraBackupError):
    """The repository's key files differ from those this home pinned."""

    exit_code = 33


class KdfLimitExceeded(EntraBackupError):
    """A passphrase key file asks for argon2 costs above the accepted maximum."""

    exit_code = 34


def _quiet(_message: str) -> None:
    """The default for warnings: a workspace used as a library prints nothing."""


@dataclass
class Workspace:
    """The home folder and what it configures.

    The catalog and the files of the home hold tenant data in clear, so they are only
    handed out once the repository key has opened: :meth:`open_catalog` and
    :meth:`private_home` unlock the repository first, and no command can skip that.
    """

    home: Path
    passphrase_file: Path | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    warn: Callable[[str], None] = field(default_factory=lambda: _quiet)
    accept_missing_snapshots: bool = False
    """Accept (and stop expecting) snapshots this home saw that are now gone."""
    _config: AppConfig | None = None
    _repository: Repository | None = None
    _warned: set[str] = field(default_factory=set)

    @property
    def config(self) -> AppConfig:
        """``config.toml``, read once."""
        if self._config is None:
            self._config = load_config(self.home)
        return self._config

    def catalog_url(self) -> str:
        """The catalog database (SQLite in the home folder by default)."""
        return self.config.catalog_url or f"sqlite:///{(self.home / 'catalog.db').resolve()}"

    def catalog_connection(self) -> str | URL:
        """The catalog URL to connect with: when config.toml names the variable holding the
        database password, the URL with it added from the environment (in memory only)."""
        from entra_backup.catalog.engine import parse_url  # noqa: PLC0415 - SQLAlchemy when needed

        url = self.catalog_url()
        variable = self.config.catalog_password_env
        if "@" in url and parse_url(url).password is not None:
            # Written by an earlier version, which accepted one in --catalog-url.
            self.warn_once("config.toml holds the catalog database's password in clear; "
                           "remove it from [catalog] url and add password_env = \"VARIABLE\" "
                           "naming an environment variable that holds it (or use PGPASSWORD "
                           "or ~/.pgpass)")
        if not variable:
            return url
        return parse_url(url).set(password=catalog_password(self.environ, variable))

    def secure_home(self) -> None:
        """Refuse a home that is a file; make private one that others can read, once."""
        check_folder(self.home)
        if not (self.home / CONFIG_NAME).is_file():
            return  # not a home (yet): a folder named by mistake is left as it is
        changed = tighten(self.home, self._catalog_files())
        if changed:
            self.warn(f"{self.home} was readable by other users; made it private (folder "
                      f"0700, files 0600; {len(changed)} path(s) changed)")

    def open_catalog(self, *, catch_up: bool = True) -> Catalog:
        """Open (creating or upgrading) the catalog, after the repository key opened.

        It first records what the repository holds and it lacks (``catch_up``; ``reindex``,
        which rebuilds everything anyway, turns it off). A SQLite file that is no longer a
        database is moved aside and a new catalog is built.
        """
        repo = self.open_repository()
        from entra_backup.catalog import CatalogDamaged  # noqa: PLC0415 - SQLAlchemy when needed

        try:
            catalog, note = self._open_caught_up(repo, catch_up)
        except CatalogDamaged as exc:
            # The catalog is only an index: a file that is no longer a database is kept
            # aside for inspection and a new one is built from the repository.
            moved = self._set_catalog_aside()
            if moved is None:
                raise
            self.warn(f"{exc.message}; moved it aside to {moved.name} and "
                      f"{'rebuilt' if catch_up else 'rebuilding'} the catalog from the "
                      "repository")
            catalog, note = self._open_caught_up(repo, catch_up)
        else:
            if note:
                self.warn(note)
        for path in self._catalog_files():
            make_private(path)
        return catalog

    def _open_caught_up(self, repo: Repository,
                        catch_up: bool) -> tuple[Catalog, str | None]:
        """Open the catalog and record what the repository holds and it lacks."""
        from entra_backup.catalog import Catalog  # noqa: PLC0415 - SQLAlchemy when needed
        from entra_backup.services.catalog_sync import catch_up as level  # noqa: PLC0415

        catalog = Catalog.open(self.catalog_connection())
        try:
            return catalog, level(catalog, repo) if catch_up else None
        except IntegrityError as exc:
            # Damage in the repository must not stop a backup, nor hide what the catalog
            # already knows: answer from it, saying it is behind.
            return catalog, (f"the catalog is behind the repository and cannot catch up "
                             f"({exc}); its answers may miss the newest snapshots; "
                             "'entra-backup check' has details")
        except BaseException:
            catalog.close()
            raise

    def _set_catalog_aside(self) -> Path | None:
        """Move a SQLite catalog and its companions aside; None when there is no file."""
        from entra_backup.catalog.sqlite_files import set_aside  # noqa: PLC0415

        files = self._catalog_files()
        if not files or not files[0].exists():
            return None
        return set_aside(files[0])

    def private_home(self) -> Path:
        """The home folder, for reading its tenant data (restore runs), once unlocked."""
        self.open_repository()
        return self.home

    def _catalog_files(self) -> list[Path]:
        """A SQLite catalog's file and its WAL companions (none for PostgreSQL)."""
        try:
            url = self.catalog_url()
        except ConfigurationError:
            return []
        if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
            return []
        database = Path(url.removeprefix("sqlite:///").partition("?")[0])
        return [database, Path(f"{database}-wal"), Path(f"{database}-shm")]

    def backend(self, location: str | None = None) -> Backend:
        """The storage backend of the repository location."""
        return make_backend(location or self.config.repository, self.config)

    def passphrase(self) -> str:
        """The repository passphrase: ``--passphrase-file`` or ENTRA_BACKUP_PASSPHRASE."""
        if self.passphrase_file is not None:
            try:
                text = self.passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                raise KeyUnavailable(f"cannot read the passphrase file: {exc}") from exc
            if not text:
                raise EmptyPassphrase(f"the passphrase file {self.passphrase_file} is empty")
            if text.strip():  # a blank one is refused in one line; no warning before it
                self.warn_if_shared(self.passphrase_file, "passphrase file")
        else:
            text = self.environ.get(PASSPHRASE_VARIABLE, "")
        if not text:
            raise KeyUnavailable(f"no passphrase: the repository passphrase is needed; set "
                                 f"{PASSPHRASE_VARIABLE} or pass --passphrase-file")
        return text

    def key_provider(self, config: AppConfig | None = None) -> KeyProvider:
        """The key provider the configuration names."""
        config = config or self.config
        try:
            if config.key_provider == "keyfile":
                if not config.key_file:
                    raise KeyUnavailable("config.toml names no key_file")
                provider = KeyFileProvider.from_file(Path(config.key_file))
                self.warn_if_shared(Path(config.key_file), "repository key file")
                return provider
            if config.key_provider == "aws-kms":
                from entra_backup.store.keys.aws_kms import (  # noqa: PLC0415 - boto3 is optional
                    AwsKmsKeyProvider,
                )

                return AwsKmsKeyProvider(config.kms_key_id or "", region=config.s3_region)
        except KeyProviderError as exc:
            raise KeyUnavailable(str(exc)) from exc
        return PassphraseKeyProvider(self.passphrase())

    def open_repository(self) -> Repository:
        """Open the configured repository with its key (once per workspace), after checking
        that it is the one this home pinned: same id, same key files."""
        if self._repository is None:
            backend = self.backend()
            self.check_pin(backend)
            self._repository = self._open(backend)
        return self._repository

    def create_repository(self, config: AppConfig) -> Repository:
        """Create the repository ``config`` names, with a new master key (``init``)."""
        with key_errors():
            created = Repository.init(make_backend(config.repository, config),
                                      self.key_provider(config), warn=self.warn)
        self._repository = self._watched(created)
        return self._repository

    def check_pin(self, backend: Backend) -> None:
        """Refuse a repository whose id or key files differ from the pinned ones.

        Runs before any key file is parsed or unwrapped, so a key slot added behind the
        home's back is never tried (nor its KDF parameters evaluated)."""
        config = self.config
        if config.pinned_id is None:
            return  # a home made before pinning existed: pinned at its next 'tenant add'
        found = Repository.read_config(backend)[0].repo_id.hex()
        if found != config.pinned_id:
            raise RepositoryMismatch(
                f"the repository at {config.repository} is not the one this home was set up "
                f"with (its id is {found[:8]}, this home's is {config.pinned_id[:8]}): it "
                f"may have been swapped; {PIN_HINT}")
        if config.pinned_key_set:
            self.verify_key_set(key_set_fingerprint(backend))

    def verify_key_set(self, fingerprint: str) -> None:
        """Refuse key files whose fingerprint is not the pinned one (if one is pinned)."""
        config = self.config
        if config.pinned_key_set and fingerprint != config.pinned_key_set:
            raise KeySetChanged(
                f"the key files of the repository at {config.repository} changed since this "
                "home pinned them (a key slot was added, removed or altered outside this "
                f"home); {PIN_HINT}")

    def pin(self, repo: Repository, key_set: str | None = None) -> AppConfig:
        """Record the repository's id and key set as this home's (init, key changes):
        ``key_set`` when the caller knows which key files it wrote, otherwise the
        fingerprint of those the repository holds now."""
        config = replace(self.config, pinned_id=repo.id,
                         pinned_key_set=key_set or key_set_fingerprint(repo.backend))
        write_atomically(self.home / CONFIG_NAME, config.to_toml())
        self._config = config
        return config

    def record_key_set(self, repo: Repository, fingerprint: str) -> None:
        """Pin the key set a key change wrote (``services.keys``)."""
        self.pin(repo, fingerprint)

    def repin(self) -> tuple[AppConfig, Repository]:
        """Open the repository with the key, whatever the pin says, and pin it (``pin``);
        return the configuration before and the repository."""
        before = self.config
        repo = self._open(self.backend())
        self._repository = repo
        self.pin(repo)
        return before, repo

    def add_key(self, provider: KeyProvider) -> str:
        """Add a wrapped copy of the master key through this home, which re-pins the key
        set: only key slots added with the current key are accepted. Returns its id."""
        from entra_backup.services import keys  # noqa: PLC0415 - the lock, when needed

        repo = self.open_repository()
        with key_errors():
            return keys.add_key(repo, provider, self).id

    def new_key(self, kind: str, *, key_file: Path | None = None,
                kms_key_id: str | None = None) -> KeyProvider:
        """A key provider for a new key file (created now, owner-only, never over an
        existing file) or KMS key (in the region the configuration names)."""
        if kind == "keyfile" and key_file is not None:
            try:
                return KeyFileProvider.generate(key_file)
            except KeyProviderError as exc:
                raise UsageError(str(exc)) from exc
        config = replace(self.config, key_provider=kind, kms_key_id=kms_key_id)
        return self.key_provider(config)

    def new_passphrase_key(self, passphrase: str) -> KeyProvider:
        """A key provider for a new passphrase (``key add``, ``key passwd``)."""
        with key_errors():
            return PassphraseKeyProvider(passphrase)

    def _open(self, backend: Backend) -> Repository:
        with key_errors():
            repo = Repository.open(backend, self.key_provider(), warn=self.warn)
        return self._watched(repo)

    def _watched(self, repo: Repository) -> Repository:
        """Attach the home's record of the snapshots it has seen in ``repo``."""
        repo.seen = SeenSnapshots(self.home / SEEN_FOLDER / f"{repo.id}.json",
                                  accept_missing=self.accept_missing_snapshots,
                                  warn=self.warn)
        return repo

    def _pin_unopened(self) -> None:
        """Pin a home made before pinning existed, from what the repository shows without
        the key (its id and key files): trust on first use."""
        if not (self.home / CONFIG_NAME).is_file() or self.config.pinned_id is not None:
            return
        try:
            backend = self.backend()
            repo_id = Repository.read_config(backend)[0].repo_id.hex()
            fingerprint = key_set_fingerprint(backend)
        except (RepositoryError, BackendError) as exc:
            self.warn(f"the repository could not be pinned now ({exc}); "
                      "run 'entra-backup pin' later")
            return
        config = replace(self.config, pinned_id=repo_id, pinned_key_set=fingerprint)
        write_atomically(self.home / CONFIG_NAME, config.to_toml())
        self._config = config

    def tenants(self) -> dict[str, TenantRecord]:
        """Registered tenants by name."""
        return load_tenants(self.home)

    def tenant(self, name: str) -> TenantRecord:
        """One registered tenant; a UsageError naming the known ones otherwise."""
        tenants = self.tenants()
        if name not in tenants:
            known = ", ".join(sorted(tenants)) or "none yet"
            raise UsageError(f"no tenant named {name!r} (registered: {known}); add it with "
                             "'entra-backup tenant add'")
        return tenants[name]

    def save_tenant(self, record: TenantRecord) -> None:
        """Add or replace a tenant in the registry."""
        tenants = self.tenants()
        tenants[record.name] = record
        save_tenants(self.home, tenants)
        self._pin_unopened()

    def connection(self, record: TenantRecord) -> TenantConnection:
        """How to reach the tenant's Graph, with its credential resolved now."""
        from entra_backup.graph.client import TenantConnection  # noqa: PLC0415 - see above

        return TenantConnection(
            tenant_id=record.tenant_id, client_id=record.client_id,
            credential=self.credential(record), cloud=record.cloud,
            authority=record.authority, graph_url=record.graph_url,
            ca_bundle=record.ca_bundle, size=_size(record.size),
        )

    def credential(self, record: TenantRecord) -> Credential:
        """The client secret from its environment variable, or the certificate file."""
        from entra_backup.graph.auth import CertificateCredential  # noqa: PLC0415 - see above

        if record.certificate:
            path = Path(record.certificate)
            credential = CertificateCredential.from_file(path, self._passphrase_of(record))
            self.warn_if_shared(path, CERTIFICATE_FILE)
            return credential
        variable = record.secret_env or ""
        secret = self.environ.get(variable, "")
        if not secret:
            raise ConfigurationError(
                f"tenant {record.name!r} reads its client secret from the environment "
                f"variable {variable}, which is not set")
        return secret

    def _passphrase_of(self, record: TenantRecord) -> bytes | None:
        """The certificate key's passphrase from its variable (None when none is set up)."""
        variable = record.certificate_passphrase_env
        if not variable:
            return None
        value = self.environ.get(variable, "")
        if not value:
            raise CertificatePassphraseError(
                f"tenant {record.name!r} reads its certificate's passphrase from the "
                f"environment variable {variable}, which is not set")
        return value.encode()

    def warn_if_shared(self, path: Path, what: str) -> None:
        """Warn once per command about a secret file its group or others can read."""
        mode = readable_by_others(path)
        if mode is not None:
            self.warn_once(f"the {what} {path} can be read by other users (mode "
                           f"{mode:04o}); run: chmod 600 {path}")

    def warn_once(self, message: str) -> None:
        """A warning said at most once by this workspace (one command)."""
        if message not in self._warned:
            self._warned.add(message)
            self.warn(message)


def catalog_password(environ: Mapping[str, str], variable: str) -> str:
    """The catalog database's password from the variable config.toml names."""
    password = environ.get(variable, "")
    if not password:
        raise CatalogPasswordMissing(
            f"the catalog database's password is read from the environment variable "
            f"{variable}, which is not set")
    return password


OBJECT_LOCK_MODES = ("governance", "compliance")


@contextmanager
def key_errors() -> Iterator[None]:
    """Key provider failures met while wrapping or unwrapping, as the CLI reports them."""
    try:
        yield
    except KeyServiceDown as exc:
        raise KeyServiceUnreachable(str(exc)) from exc
    except KdfTooCostly as exc:
        raise KdfLimitExceeded(str(exc)) from exc
    except KeyProviderError as exc:
        raise KeyUnavailable(str(exc)) from exc


def make_backend(location: str, config: AppConfig | None = None) -> Backend:
    """A backend for a path or an ``s3://bucket/prefix`` URL (with its Object Lock policy)."""
    lock_days = None if config is None else config.object_lock_days
    if location.startswith("s3://"):
        return _s3_backend(location, config)
    if "://" in location:
        raise UsageError(f"unsupported repository location {location!r}: give a path or "
                         "s3://bucket/prefix")
    if lock_days is not None:
        raise UsageError("Object Lock (--object-lock-days) needs an S3 repository "
                         "(s3://bucket/prefix); a local folder cannot retain files")
    return LocalBackend(Path(location).expanduser())


def _s3_backend(location: str, config: AppConfig | None) -> Backend:
    from entra_backup.store.backends.s3 import (  # noqa: PLC0415 - boto3 is optional
        ObjectLockPolicy,
        S3Backend,
        S3Settings,
    )

    parsed = urlparse(location)
    if not parsed.netloc:
        raise UsageError(f"{location!r} names no bucket; use s3://bucket/prefix")
    endpoint = None if config is None else config.s3_endpoint_url
    check_endpoint(endpoint)
    region = None if config is None else config.s3_region
    lock = None
    if config is not None and config.object_lock_days is not None:
        days, mode = object_lock_settings(config.object_lock_days, config.object_lock_mode)
        lock = ObjectLockPolicy(timedelta(days=days), "COMPLIANCE" if mode == "compliance"
                                else "GOVERNANCE")
    return S3Backend(S3Settings(parsed.netloc, parsed.path.strip("/"),
                                endpoint_url=endpoint, region=region,
                                path_style=endpoint is not None, object_lock=lock))


def require_object_lock(backend: Backend, location: str) -> None:
    """Refuse a bucket created without Object Lock (its objects cannot be retained)."""
    from entra_backup.store.backends.s3 import S3Backend  # noqa: PLC0415 - boto3 is optional

    try:
        enabled = isinstance(backend, S3Backend) and backend.object_lock_enabled()
    except BackendError as exc:
        raise ConfigurationError(f"cannot read the Object Lock setting of the bucket of "
                                 f"{location}: {exc}") from exc
    if not enabled:
        raise UsageError(f"the bucket of {location} was not created with Object Lock "
                         "enabled, so --object-lock-days cannot be applied")


def object_lock_settings(days: int | None, mode: str | None) -> tuple[int, str]:
    """Validated Object Lock days and mode (S3's names, lower case); UsageError otherwise."""
    if days is None:
        raise UsageError("--object-lock-mode needs --object-lock-days")
    if days < 1:
        raise UsageError(f"--object-lock-days must be at least 1, not {days}")
    chosen = (mode or "governance").lower()
    if chosen not in OBJECT_LOCK_MODES:
        raise UsageError(f"--object-lock-mode must be governance or compliance, not {mode!r}")
    return days, chosen


def _size(name: str) -> TenantSize:
    from entra_backup.graph.budget import TenantSize  # noqa: PLC0415 - see the imports

    try:
        return TenantSize[name.upper()]
    except KeyError:
        choices = ", ".join(size.name.lower() for size in TenantSize)
        raise ConfigurationError(f"tenant size must be one of {choices}, not {name!r}"
                                 ) from None
