"""The JSON blob an AWS KMS key provider stores: which key wrapped it, and the ciphertext.

Kept apart from :mod:`.aws_kms` so that listing keys (which shows the ARN) does not load
boto3.
"""

from __future__ import annotations

import base64
import binascii
import json

from entra_backup.store.keys.base import KeyProviderError

FORMAT_VERSION = 1


def encode(key_arn: str, ciphertext: bytes) -> bytes:
    """The blob for a ciphertext KMS made with ``key_arn``."""
    blob = {
        "version": FORMAT_VERSION,
        "key_arn": key_arn,
        "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
    }
    return json.dumps(blob, sort_keys=True).encode()


def decode(wrapped: bytes) -> tuple[str, bytes]:
    """The key ARN and the ciphertext; KeyProviderError if the blob is malformed."""
    try:
        blob = json.loads(wrapped)
        if blob["version"] != FORMAT_VERSION:
            raise KeyProviderError(f"unknown aws-kms wrapped key version {blob['version']}")
        return str(blob["key_arn"]), base64.b64decode(blob["ciphertext"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise KeyProviderError(f"the aws-kms wrapped key is malformed: {exc}") from exc
