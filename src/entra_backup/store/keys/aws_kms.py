"""A key provider that wraps the master key with an AWS KMS key (bring your own key).

``wrap`` calls KMS Encrypt on the master key with the repository id as encryption context
(``entra-backup:repository``); ``unwrap`` calls Decrypt with the same context and the
provider's key id, so a blob from another repository or another KMS key fails with
:class:`WrongKey`. The wrapped blob is JSON naming the key ARN KMS reported, so an error
can say which key the repository expects. The master key never leaves the process except
to KMS over TLS; KMS keeps the key material.
"""

from __future__ import annotations

import base64
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from entra_backup.store.keys import kms_blob
from entra_backup.store.keys.base import KeyProvider, KeyProviderError, KeyServiceDown, WrongKey

CONTEXT_KEY = "entra-backup:repository"
_WRONG_KEY_CODES = frozenset({
    "InvalidCiphertextException", "IncorrectKeyException", "AccessDeniedException",
})


class AwsKmsKeyProvider(KeyProvider):
    """Wraps master keys with one KMS key, named by id, ARN or alias."""

    kind = "aws-kms"

    def __init__(
        self,
        key_id: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: Any | None = None,
    ) -> None:
        if not key_id:
            raise KeyProviderError("an AWS KMS key id, ARN or alias is required")
        self.key_id = key_id
        if client is None:
            try:
                client = _make_client(region, endpoint_url)
            except BotoCoreError as exc:
                raise KeyProviderError(f"AWS KMS cannot be used: {exc}") from exc
        self._client = client

    def wrap(self, master_key: bytes, *, context: bytes) -> bytes:
        """Encrypt ``master_key`` under the KMS key, bound to ``context``."""
        try:
            response = self._client.encrypt(
                KeyId=self.key_id,
                Plaintext=master_key,
                EncryptionContext=_context(context),
            )
        except (BotoConnectionError, HTTPClientError) as exc:
            raise self._unreachable(exc) from exc
        except (ClientError, BotoCoreError) as exc:
            raise KeyProviderError(f"AWS KMS could not wrap with key {self.key_id}: {exc}") from exc
        return kms_blob.encode(str(response["KeyId"]), bytes(response["CiphertextBlob"]))

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        """Decrypt with KMS; raise WrongKey if this key or context does not open it."""
        key_arn, ciphertext = kms_blob.decode(wrapped)
        try:
            response = self._client.decrypt(
                KeyId=self.key_id,
                CiphertextBlob=ciphertext,
                EncryptionContext=_context(context),
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _WRONG_KEY_CODES:
                raise WrongKey(
                    f"KMS key {self.key_id} does not open this repository key "
                    f"(wrapped with {key_arn} for another repository or key): {code}"
                ) from exc
            raise KeyProviderError(f"AWS KMS could not unwrap with {self.key_id}: {exc}") from exc
        except (BotoConnectionError, HTTPClientError) as exc:
            raise self._unreachable(exc) from exc
        except BotoCoreError as exc:
            raise KeyProviderError(f"AWS KMS could not unwrap with {self.key_id}: {exc}") from exc
        return bytes(response["Plaintext"])

    def _unreachable(self, exc: Exception) -> KeyServiceDown:
        endpoint = getattr(getattr(self._client, "meta", None), "endpoint_url", None)
        return KeyServiceDown(f"AWS KMS at {endpoint or 'its default endpoint'} is "
                              f"unreachable: {exc}")


def _make_client(region: str | None, endpoint_url: str | None) -> Any:
    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10)
    return boto3.session.Session(region_name=region).client(
        "kms", endpoint_url=endpoint_url, config=config
    )


def _context(repository_id: bytes) -> dict[str, str]:
    """KMS contexts are strings: ASCII ids go in as they are, other bytes as base64."""
    if repository_id.isascii() and repository_id.decode("ascii").isprintable():
        return {CONTEXT_KEY: repository_id.decode("ascii")}
    return {CONTEXT_KEY: "b64:" + base64.b64encode(repository_id).decode("ascii")}

