"""Repository locations turn into the right backend with the right settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from entra_backup.store.backends import BackendUrlError, open_backend, s3_settings_from_url
from entra_backup.store.backends.base import ReadOnlyBackend
from entra_backup.store.backends.endpoint import ALLOW_HTTP_VARIABLE, ALLOW_LOOPBACK
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.backends.s3 import ObjectLockPolicy
from entra_backup.store.backends.wrappers import ReadOnlyView, RetryingBackend
from tests.store.backends.conftest import BucketMaker
from tests.support.moto_server import MotoServer


def test_a_path_opens_a_retrying_local_backend(tmp_path: Path) -> None:
    backend = open_backend(str(tmp_path))
    assert isinstance(backend, RetryingBackend)
    assert isinstance(backend.inner, LocalBackend)
    assert backend.inner.root == tmp_path.resolve()


def test_file_url_and_memory(tmp_path: Path) -> None:
    local = open_backend(f"file://{tmp_path}", retry=False)
    assert isinstance(local, LocalBackend)
    assert local.root == tmp_path.resolve()
    assert isinstance(open_backend("memory://", retry=False), MemoryBackend)


def test_read_only_wraps_outermost(tmp_path: Path) -> None:
    backend = open_backend(str(tmp_path), read_only=True)
    assert isinstance(backend, ReadOnlyView)
    with pytest.raises(ReadOnlyBackend):
        backend.create("config", b"x")


def test_s3_url_with_custom_endpoint_defaults_to_path_style() -> None:
    settings = s3_settings_from_url(
        "s3://backups/tenants/contoso/?endpoint=https://s3.example.net:9000&region=sto1"
        "&object_lock_days=30&object_lock_mode=governance"
    )
    assert settings.bucket == "backups"
    assert settings.prefix == "tenants/contoso"
    assert settings.endpoint_url == "https://s3.example.net:9000"
    assert settings.region == "sto1"
    assert settings.path_style is True
    assert settings.conditional_create is True
    assert settings.object_lock == ObjectLockPolicy(timedelta(days=30), "GOVERNANCE")


def test_s3_url_on_aws_uses_virtual_hosts() -> None:
    settings = s3_settings_from_url("s3://backups?conditional_create=false")
    assert settings.path_style is False
    assert settings.conditional_create is False
    assert settings.object_lock is None


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("ftp://host/x", "unknown repository scheme"),
        ("s3:///prefix", "needs a bucket"),
        ("s3://b?endpont=x", "unknown S3 option"),
        ("s3://b?object_lock_days=0", "positive whole number"),
        ("s3://b?object_lock_days=5&object_lock_mode=forever", "COMPLIANCE or GOVERNANCE"),
        ("s3://b?path_style=maybe", "true or false"),
    ],
)
def test_bad_locations_are_explained(location: str, message: str) -> None:
    with pytest.raises(BackendUrlError, match=message):
        open_backend(location)


def test_an_s3_location_reaches_the_server(
    moto_server: MotoServer, make_bucket: BucketMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_server.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_server.secret_access_key)
    monkeypatch.setenv(ALLOW_HTTP_VARIABLE, ALLOW_LOOPBACK)  # the test server speaks http
    bucket = make_bucket()
    location = f"s3://{bucket}/repo?endpoint={moto_server.endpoint_url}&region={moto_server.region}"
    backend = open_backend(location)
    backend.create("config", b"settings")
    reader = open_backend(location, read_only=True)
    assert reader.read("config") == b"settings"
    reader.close()
    backend.close()
