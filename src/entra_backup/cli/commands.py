"""Every command of ``entra-backup``: its name, where it lives and its line of help.

The order is the order of ``entra-backup --help``. A command is imported only when it runs
(:mod:`entra_backup.cli.lazy`); its help line here must equal the first paragraph of its
own help, which ``tests/cli/test_lazy_commands.py`` checks.
"""

from __future__ import annotations

from entra_backup.cli.lazy import LazyCommand

_CLI = "entra_backup.cli"

COMMANDS: tuple[LazyCommand, ...] = (
    LazyCommand("demo", f"{_CLI}.demo_cmd:demo",
                "Back up an emulated tenant twice and show what changed (Ctrl+C stops "
                "serving)."),
    LazyCommand("init", f"{_CLI}.repo_cmd:init",
                "Create the repository (encrypted with a new master key) and the "
                "configuration."),
    LazyCommand("tenant", f"{_CLI}.tenant_cmd:app", "Register and check tenants."),
    LazyCommand("backup", f"{_CLI}.backup_cmd:backup",
                "Back the tenant up now: a new snapshot, incremental where Graph delta "
                "allows."),
    LazyCommand("snapshots", f"{_CLI}.browse_cmd:snapshots",
                "The tenant's snapshots, oldest first; partial ones are marked."),
    LazyCommand("ls", f"{_CLI}.browse_cmd:ls", "The objects of a snapshot, by type."),
    LazyCommand("show", f"{_CLI}.browse_cmd:show",
                "An object at a snapshot: properties, licences, relationships, memberships "
                "and version timeline."),
    LazyCommand("search", f"{_CLI}.browse_cmd:search",
                "Object versions across every snapshot of the tenant."),
    LazyCommand("diff", f"{_CLI}.compare_cmd:diff",
                "What changed between two snapshots, or between a snapshot and the live "
                "tenant."),
    LazyCommand("export", f"{_CLI}.compare_cmd:export",
                "A ZIP of plain Graph JSON with a manifest of counts and hashes."),
    LazyCommand("verify-export", f"{_CLI}.verify_cmd:verify_export",
                "Check an export ZIP: every file's hash, and the manifest's signature."),
    LazyCommand("restore", f"{_CLI}.restore_cmd:restore",
                "Restore the tenant to a snapshot: a plan first (--dry-run), then its "
                "execution."),
    LazyCommand("restore-report", f"{_CLI}.restore_cmd:restore_report",
                "The saved report of a restore run: every step done, skipped or failed, and "
                "why; with --list, the tenant's restore runs."),
    LazyCommand("forget", f"{_CLI}.retention_cmd:forget",
                "Delete the snapshots a retention policy does not keep (then run 'prune')."),
    LazyCommand("prune", f"{_CLI}.retention_cmd:prune",
                "Delete the data no snapshot references (after 'forget'); takes the "
                "exclusive lock."),
    LazyCommand("check", f"{_CLI}.repo_cmd:check",
                "Verify the repository's structure (and, with --read-data, every stored "
                "byte)."),
    LazyCommand("key", f"{_CLI}.key_cmd:app", "The repository's keys."),
    LazyCommand("copy", f"{_CLI}.copy_cmd:copy",
                "Copy every snapshot into another home's repository, re-encrypted under its "
                "keys."),
    LazyCommand("reindex", f"{_CLI}.repo_cmd:reindex",
                "Rebuild the catalog from the repository alone."),
    LazyCommand("pin", f"{_CLI}.repo_cmd:pin",
                "Accept the repository at the configured location as this home's: its id "
                "and key set."),
    LazyCommand("repair", f"{_CLI}.repair_cmd:app", "Repair a damaged repository (see 'check')."),
    LazyCommand("unlock", f"{_CLI}.repair_cmd:unlock",
                "Remove a stale repository lock (its holder died on this host, or its lease "
                "expired)."),
    LazyCommand("emulator", f"{_CLI}.emulator_cmd:app",
                "The Graph-compatible emulator of Entra ID."),
)
