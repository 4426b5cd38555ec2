"""Verify an entra-backup export (format version 2) without entra-backup.

Usage: python3 verify-export.py EXPORT.zip PUBLIC-KEY.pem
Needs Python 3.11+ and the 'cryptography' package. Exit code 0: verified, 1: not.
"""
import base64
import collections
import hashlib
import json
import sys
import zipfile

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import load_pem_public_key

PREFIX = b"entra-backup-export manifest.json sha256:"


def sha256_and_size(archive, name):
    with archive.open(name) as stream:  # streamed; zipfile checks the CRC at the end
        return hashlib.file_digest(stream, "sha256").hexdigest(), archive.getinfo(name).file_size


def check_signature(archive, manifest_sha256, key):
    if "manifest.sig" not in archive.namelist():
        return ["signature: missing"]
    envelope = json.loads(archive.read("manifest.sig"))
    if envelope["algorithm"] != "Ed25519" or envelope["manifest_sha256"] != manifest_sha256:
        return ["signature: invalid (manifest.json is not the signed manifest)"]
    try:
        key.verify(base64.b64decode(envelope["signature"]), PREFIX + manifest_sha256.encode())
    except InvalidSignature:
        return ["signature: invalid (not made by this key for this manifest)"]
    return []


def verify(path, key_file):
    with open(key_file, "rb") as handle:
        key = load_pem_public_key(handle.read())
    with zipfile.ZipFile(path) as archive:
        data = archive.read("manifest.json")
        problems = check_signature(archive, hashlib.sha256(data).hexdigest(), key)
        manifest = json.loads(data)
        listed = {"manifest.json", "manifest.sig"}
        for item in [manifest["readme"], *manifest["files"]]:
            listed.add(item["path"])
            if item["path"] not in archive.namelist():
                problems.append(item["path"] + ": missing")
            elif sha256_and_size(archive, item["path"]) != (item["sha256"], item["size"]):
                problems.append(item["path"] + ": altered")
        for name, count in collections.Counter(archive.namelist()).items():
            if name not in listed or count > 1:
                problems.append(name + ": not listed in the manifest, or present twice")
    print("\n".join(problems) or f"verified: {len(listed) - 2} files, signature valid")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(verify(sys.argv[1], sys.argv[2]))
