"""A tenant as the emulator holds it: its directory and its throttling size class."""

from __future__ import annotations

from dataclasses import dataclass, field

from graph_emulator.model.directory import Directory


@dataclass
class Tenant:
    """One emulated tenant."""

    tenant_id: str
    name: str
    directory: Directory = field(init=False)

    def __post_init__(self) -> None:
        self.directory = Directory(self.tenant_id)

    @property
    def initial_domain(self) -> str:
        return f"{self.name}.onmicrosoft.com"

    def size_class(self) -> str:
        """S, M or L by user count, as the identity service's throttling sizes tenants."""
        users = self.directory.count("users")
        if users < 50:
            return "S"
        return "M" if users <= 500 else "L"

    def verified_domains(self) -> set[str]:
        """Lower-cased names of the tenant's verified domains."""
        names = {
            entry.id.lower()
            for entry in self.directory.entries("domains")
            if entry.data.get("isVerified")
        }
        return names | {self.initial_domain.lower()}
