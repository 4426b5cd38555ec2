"""Where the identity platform and Graph live: the public cloud, the national clouds, or
any custom pair of URLs (the project's emulator, a proxy).

Hosts are those of https://learn.microsoft.com/graph/deployments ("App registration and
token service root endpoints" and "Microsoft Graph and Graph Explorer service root
endpoints").
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from entra_backup.domain.errors import ConfigurationError

GRAPH_VERSION = "v1.0"


@dataclass(frozen=True)
class Cloud:
    """A sovereign cloud: its token service host and its Graph host."""

    name: str
    login_host: str
    graph_host: str

    def authority(self, tenant_id: str) -> str:
        """The MSAL authority URL for a tenant in this cloud."""
        return f"https://{self.login_host}/{tenant_id}"

    def graph_url(self, version: str = GRAPH_VERSION) -> str:
        """The Graph base URL including the API version."""
        return f"https://{self.graph_host}/{version}"

    @property
    def scope(self) -> str:
        """The client-credentials scope: this cloud's Graph resource with ``/.default``."""
        return f"https://{self.graph_host}/.default"


PUBLIC = Cloud("public", "login.microsoftonline.com", "graph.microsoft.com")
US_GOV = Cloud("usgov", "login.microsoftonline.us", "graph.microsoft.us")
US_GOV_DOD = Cloud("usgov-dod", "login.microsoftonline.us", "dod-graph.microsoft.us")
CHINA = Cloud("china", "login.chinacloudapi.cn", "microsoftgraph.chinacloudapi.cn")

CLOUDS: dict[str, Cloud] = {cloud.name: cloud for cloud in (PUBLIC, US_GOV, US_GOV_DOD, CHINA)}


def cloud_named(name: str) -> Cloud:
    """The preset called ``name``; a clear error lists the valid names."""
    try:
        return CLOUDS[name.lower()]
    except KeyError:
        names = ", ".join(sorted(CLOUDS))
        raise ConfigurationError(f"Unknown cloud {name!r}; choose one of: {names}.") from None


@dataclass(frozen=True)
class Endpoints:
    """The URLs one tenant connection uses, resolved from a preset and overrides.

    ``instance_discovery`` is off for every authority that is not the public cloud's:
    MSAL's instance discovery asks the public cloud to vouch for the host, which national
    clouds and private authorities do not need and cannot pass.
    """

    authority: str
    graph_url: str
    scope: str
    instance_discovery: bool


def resolve_endpoints(tenant_id: str, *, cloud: str = "public", authority: str | None = None,
                      graph_url: str | None = None, scope: str | None = None) -> Endpoints:
    """Endpoints for a tenant: a cloud preset, with the authority or Graph URL overridden."""
    preset = cloud_named(cloud)
    resolved_authority = (authority or preset.authority(tenant_id)).rstrip("/")
    resolved_graph = (graph_url or preset.graph_url()).rstrip("/")
    for label, url in (("authority", resolved_authority), ("Graph URL", resolved_graph)):
        _check_https(label, url)
    return Endpoints(
        authority=resolved_authority,
        graph_url=resolved_graph,
        scope=scope or _scope_for(resolved_graph, preset),
        instance_discovery=urlsplit(resolved_authority).hostname == PUBLIC.login_host,
    )


def _scope_for(graph_url: str, preset: Cloud) -> str:
    """The scope matching a Graph URL's host; a custom host keeps its cloud's Graph resource.

    A Graph-compatible service at another address (a proxy, the emulator) still accepts
    tokens for the Graph resource, so the preset's resource is the right audience.
    """
    host = urlsplit(graph_url).hostname
    for known in CLOUDS.values():
        if known.graph_host == host:
            return known.scope
    return preset.scope


def _check_https(label: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigurationError(
            f"The {label} must be an https:// URL, not {url!r}; Graph and its token service "
            "are only served over HTTPS.")
