"""The AWS KMS key provider against a KMS protocol server on loopback."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from entra_backup.store.keys.aws_kms import AwsKmsKeyProvider
from entra_backup.store.keys.base import KeyProviderError, WrongKey
from tests.support.moto_server import MotoServer

REPOSITORY = b"5d0c9a3e7f2b4c1d"


@pytest.fixture(scope="module")
def kms(moto_server: MotoServer) -> Iterator[Any]:
    client = moto_server.client("kms")
    yield client
    client.close()


@pytest.fixture
def key_id(kms: Any) -> str:
    return str(kms.create_key(Description="repository key")["KeyMetadata"]["KeyId"])


def test_wrap_then_unwrap_returns_the_master_key(kms: Any, key_id: str) -> None:
    provider = AwsKmsKeyProvider(key_id, client=kms)
    master = os.urandom(32)
    wrapped = provider.wrap(master, context=REPOSITORY)
    assert master not in wrapped
    assert provider.unwrap(wrapped, context=REPOSITORY) == master
    assert provider.kind == "aws-kms"


def test_an_alias_works_like_the_key_id(kms: Any, key_id: str) -> None:
    kms.create_alias(AliasName=f"alias/entra-backup-{key_id[:8]}", TargetKeyId=key_id)
    by_alias = AwsKmsKeyProvider(f"alias/entra-backup-{key_id[:8]}", client=kms)
    wrapped = by_alias.wrap(b"k" * 32, context=REPOSITORY)
    assert AwsKmsKeyProvider(key_id, client=kms).unwrap(wrapped, context=REPOSITORY) == b"k" * 32
    assert json.loads(wrapped)["key_arn"].endswith(key_id)


def test_another_repository_cannot_unwrap(kms: Any, key_id: str) -> None:
    provider = AwsKmsKeyProvider(key_id, client=kms)
    wrapped = provider.wrap(os.urandom(32), context=REPOSITORY)
    with pytest.raises(WrongKey, match="does not open"):
        provider.unwrap(wrapped, context=b"another-repository")


def test_another_kms_key_cannot_unwrap(kms: Any, key_id: str) -> None:
    wrapped = AwsKmsKeyProvider(key_id, client=kms).wrap(os.urandom(32), context=REPOSITORY)
    other = str(kms.create_key()["KeyMetadata"]["KeyId"])
    with pytest.raises(WrongKey, match=key_id):
        AwsKmsKeyProvider(other, client=kms).unwrap(wrapped, context=REPOSITORY)


def test_binary_repository_ids_are_bound_too(kms: Any, key_id: str) -> None:
    provider = AwsKmsKeyProvider(key_id, client=kms)
    wrapped = provider.wrap(b"m" * 32, context=b"\x00\x01\xff")
    assert provider.unwrap(wrapped, context=b"\x00\x01\xff") == b"m" * 32
    with pytest.raises(WrongKey):
        provider.unwrap(wrapped, context=b"\x00\x01\xfe")


def test_a_missing_key_is_a_clear_error(kms: Any) -> None:
    provider = AwsKmsKeyProvider("alias/does-not-exist", client=kms)
    with pytest.raises(KeyProviderError, match="could not wrap with key alias/does-not-exist"):
        provider.wrap(os.urandom(32), context=REPOSITORY)


def test_a_damaged_blob_is_reported_as_malformed(kms: Any, key_id: str) -> None:
    provider = AwsKmsKeyProvider(key_id, client=kms)
    with pytest.raises(KeyProviderError, match="malformed"):
        provider.unwrap(b"{not json", context=REPOSITORY)


def test_the_provider_builds_its_own_client(moto_server: MotoServer, key_id: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_server.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_server.secret_access_key)
    provider = AwsKmsKeyProvider(
        key_id, region=moto_server.region, endpoint_url=moto_server.endpoint_url
    )
    assert provider.unwrap(provider.wrap(b"z" * 32, context=REPOSITORY), context=REPOSITORY) == (
        b"z" * 32
    )
