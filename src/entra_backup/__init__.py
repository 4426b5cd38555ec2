"""Entra Backup: backup and recovery for Microsoft Entra ID tenants."""

__version__ = "0.1.0"
