"""Which S3 endpoints a repository is reached at: HTTPS, or plain HTTP to a loopback server
only when asked for.

Over plain HTTP anyone on the path sees which files a repository holds and when it is
written, can replay the signed requests within their validity, and can answer with old or
missing files; only a test server on this machine (an S3 emulator on 127.0.0.1) has no
such path. So an ``http://`` endpoint is refused unless its host is a loopback address
(``127.0.0.0/8``, ``::1``, ``localhost``) and :data:`ALLOW_HTTP_VARIABLE` is set to
``loopback``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from entra_backup.domain.errors import EntraBackupError

ALLOW_HTTP_VARIABLE = "ENTRA_BACKUP_S3_ALLOW_HTTP"
ALLOW_LOOPBACK = "loopback"
"""The one value of :data:`ALLOW_HTTP_VARIABLE` that allows plain HTTP (to loopback)."""


class InsecureEndpoint(EntraBackupError):
    """An S3 endpoint that is not HTTPS (plain HTTP only to a loopback test server, and
    only when ``ENTRA_BACKUP_S3_ALLOW_HTTP=loopback`` asks for it)."""

    exit_code = 38


def check_endpoint(endpoint: str | None, environ: Mapping[str, str] | None = None) -> None:
    """Raise InsecureEndpoint unless ``endpoint`` (None: AWS's own) may be used."""
    if endpoint is None:
        return
    parts = urlsplit(endpoint)
    scheme = parts.scheme.lower()
    if scheme == "https" and parts.hostname:
        return
    if scheme != "http" or not parts.hostname:
        raise InsecureEndpoint(f"the S3 endpoint {endpoint!r} is not an https:// URL")
    if not is_loopback(parts.hostname):
        raise InsecureEndpoint(
            f"refused the S3 endpoint {endpoint}: plain http:// lets anyone on the way read "
            "and change the repository's traffic; use https://")
    allowed = (os.environ if environ is None else environ).get(ALLOW_HTTP_VARIABLE)
    if allowed != ALLOW_LOOPBACK:
        raise InsecureEndpoint(
            f"refused the S3 endpoint {endpoint}: plain http:// is used only for a test "
            f"server on this machine, and only with {ALLOW_HTTP_VARIABLE}={ALLOW_LOOPBACK}")


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine: ``localhost``, ``127.0.0.0/8`` or ``::1``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
