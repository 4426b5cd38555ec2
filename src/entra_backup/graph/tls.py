"""TLS trust for Graph and the token service: the system's, or a custom CA bundle."""

from __future__ import annotations

import ssl

from entra_backup.domain.errors import ConfigurationError


def trust(ca_bundle: str | None) -> ssl.SSLContext | bool:
    """What httpx's ``verify`` takes: the default trust store, or exactly ``ca_bundle``."""
    if ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"The CA bundle {ca_bundle} cannot be used: {exc}. Give a PEM file of the "
            "certificate authorities to trust.") from exc
