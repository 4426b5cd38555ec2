"""Where the product keeps its files, and the configuration it reads from them.

``ENTRA_BACKUP_HOME`` (default ``~/.entra-backup``) holds ``config.toml`` (repository
location and key provider, catalog URL), ``tenants.json`` (registered tenants; secrets are
never stored, only the name of the environment variable that holds one, or the path of a
certificate) and, by default, the repository and the catalog database.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from entra_backup.domain.errors import ConfigurationError

HOME_VARIABLE = "ENTRA_BACKUP_HOME"
PASSPHRASE_VARIABLE = "ENTRA_BACKUP_PASSPHRASE"
CONFIG_NAME = "config.toml"
TENANTS_NAME = "tenants.json"
KEY_PROVIDERS = ("passphrase", "keyfile", "aws-kms")


def home_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The product's home folder."""
    value = environ.get(HOME_VARIABLE)
    return Path(value).expanduser() if value else Path.home() / ".entra-backup"


@dataclass(frozen=True)
class AppConfig:
    """The contents of ``config.toml``."""

    repository: str
    key_provider: str = "passphrase"
    key_file: str | None = None
    kms_key_id: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    catalog_url: str | None = None
    object_lock_days: int | None = None
    object_lock_mode: str | None = None
    pinned_id: str | None = None
    """The repository id this home was set up with (``[pin] repository_id``)."""
    pinned_key_set: str | None = None
    """The fingerprint of the repository's key files when this home last changed or
    accepted them (``[pin] key_set``)."""
    catalog_password_env: str | None = None
    """The variable holding the catalog database's password (its name, never the value)."""

    def to_toml(self) -> str:
        """The file's text (strings and whole numbers only, so no TOML writer is needed)."""
        repository = {"location": self.repository, "key_provider": self.key_provider,
                      "key_file": self.key_file, "kms_key_id": self.kms_key_id,
                      "s3_endpoint_url": self.s3_endpoint_url, "s3_region": self.s3_region,
                      "object_lock_days": self.object_lock_days,
                      "object_lock_mode": self.object_lock_mode}
        lines = ["# Written by 'entra-backup init'.", "[repository]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in repository.items()
                  if value is not None]
        if self.catalog_url is not None:
            lines += ["", "[catalog]", f"url = {json.dumps(self.catalog_url)}"]
            if self.catalog_password_env is not None:
                lines += [f"password_env = {json.dumps(self.catalog_password_env)}"]
        if self.pinned_id is not None:
            lines += ["", "# The repository this home uses; 'entra-backup pin' changes it.",
                      "[pin]", f"repository_id = {json.dumps(self.pinned_id)}",
                      f"key_set = {json.dumps(self.pinned_key_set or '')}"]
        return "\n".join(lines) + "\n"


def load_config(home: Path) -> AppConfig:
    """Read ``config.toml``; a missing or malformed file is a ConfigurationError."""
    path = home / CONFIG_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"no configuration at {path}; run 'entra-backup init' first (or set "
            f"{HOME_VARIABLE})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ConfigurationError(f"{path} is not a readable TOML file: {exc}") from exc
    repository = data.get("repository")
    if not isinstance(repository, dict) or not isinstance(repository.get("location"), str):
        raise ConfigurationError(f"{path} has no [repository] location")
    provider = repository.get("key_provider", "passphrase")
    if provider not in KEY_PROVIDERS:
        raise ConfigurationError(f"{path}: key_provider must be one of "
                                 f"{', '.join(KEY_PROVIDERS)}, not {provider!r}")
    catalog = data.get("catalog", {})
    catalog = catalog if isinstance(catalog, dict) else {}
    lock_days = repository.get("object_lock_days")
    if lock_days is not None and (not isinstance(lock_days, int) or isinstance(lock_days, bool)):
        raise ConfigurationError(f"{path}: object_lock_days must be a whole number")
    pinned_id, pinned_key_set = _pin(path, data.get("pin"))
    return AppConfig(
        repository=repository["location"], key_provider=provider,
        key_file=repository.get("key_file"), kms_key_id=repository.get("kms_key_id"),
        s3_endpoint_url=repository.get("s3_endpoint_url"),
        s3_region=repository.get("s3_region"),
        catalog_url=catalog.get("url"), catalog_password_env=catalog.get("password_env"),
        object_lock_days=lock_days, object_lock_mode=repository.get("object_lock_mode"),
        pinned_id=pinned_id, pinned_key_set=pinned_key_set,
    )


def _pin(path: Path, pin: Any) -> tuple[str | None, str | None]:
    """The ``[pin]`` section: absent in homes made before pinning existed."""
    if pin is None:
        return None, None
    if (not isinstance(pin, dict) or not isinstance(pin.get("repository_id"), str)
            or not isinstance(pin.get("key_set", ""), str)):
        raise ConfigurationError(f"{path}: [pin] needs repository_id and key_set strings")
    return pin["repository_id"], pin.get("key_set") or None


def write_atomically(path: Path, text: str) -> None:
    """Replace a small file so a crash leaves the old or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class TenantRecord:
    """One registered tenant: how to reach it and what its backups cover."""

    name: str
    tenant_id: str
    client_id: str
    secret_env: str | None = None
    certificate: str | None = None
    certificate_passphrase_env: str | None = None
    """The variable holding the certificate key's passphrase (its name; never the value)."""
    authority: str | None = None
    graph_url: str | None = None
    ca_bundle: str | None = None
    cloud: str = "public"
    size: str = "medium"
    scope: dict[str, Any] = field(default_factory=dict)
    retention: dict[str, Any] = field(default_factory=dict)
    """The tenant's retention rules (``RetentionPolicy.to_json``); empty keeps forever."""

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> TenantRecord:
        """Parse a stored record; unknown keys are a ConfigurationError."""
        try:
            return cls(**value)
        except TypeError as exc:
            raise ConfigurationError(f"{TENANTS_NAME} has a malformed tenant: {exc}") from exc


def load_tenants(home: Path) -> dict[str, TenantRecord]:
    """Registered tenants by name (none when the file does not exist yet)."""
    path = home / TENANTS_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, OSError) as exc:
        raise ConfigurationError(f"{path} is not readable JSON: {exc}") from exc
    tenants = data.get("tenants", {}) if isinstance(data, dict) else None
    if not isinstance(tenants, dict):
        raise ConfigurationError(f"{path} has no 'tenants' object")
    return {name: TenantRecord.from_json(value) for name, value in tenants.items()}


def save_tenants(home: Path, tenants: Mapping[str, TenantRecord]) -> None:
    """Write the tenant registry."""
    body = {"tenants": {name: asdict(record) for name, record in sorted(tenants.items())}}
    write_atomically(home / TENANTS_NAME, json.dumps(body, indent=2) + "\n")
