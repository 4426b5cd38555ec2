"""The live progress of a restore on stderr: one bar for the whole plan, with the counts
per outcome and the time left, and a line for every step that fails as it fails.

A restore of 10,000 users is 10,000 steps: a line per step would bury the failures, which
are what an administrator must see (their reasons follow in the report at the end).
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from entra_backup.domain.restore.plan import PlanItem
from entra_backup.services.restore.report import DONE, FAILED, SKIPPED


class RestoreBar:
    """``progress(item, outcome)`` for ``execute_plan``, drawn as one Rich bar."""

    def __init__(self, console: Console, total: int, already: int = 0) -> None:
        self.console = console
        self.counts = {DONE: 0, SKIPPED: 0, FAILED: 0}
        self.progress = Progress(TextColumn("restoring"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[counts]}"), TimeElapsedColumn(),
                                 TextColumn("left"), TimeRemainingColumn(),
                                 console=console, transient=False)
        self.task = self.progress.add_task("restore", total=total, completed=already,
                                           counts=self._counts())

    def __call__(self, item: PlanItem, outcome: str) -> None:
        if not self.progress.live.is_started:
            # Drawn from the first finished step on: a run refused before it writes
            # anything leaves its one error line alone.
            self.progress.start()
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        if outcome == FAILED:
            self.progress.console.print(f"failed   {item.action.value} {item.type} "
                                        f"{item.display_name or item.object_id}")
        self.progress.update(self.task, advance=1, counts=self._counts())

    def _counts(self) -> str:
        return ", ".join(f"{count:,} {name}" for name, count in self.counts.items())

    def __enter__(self) -> RestoreBar:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.progress.stop()
