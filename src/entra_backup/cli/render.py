"""How the CLI words and lays out what it prints: counts, durations, rates and tables.

Every command renders through these helpers so that the same things read the same way
everywhere: "1 object", never "1 objects"; "under 1 s", never "0 s"; no rate before there
is one; and tables as wide as the terminal whose id columns are never cut, since ids are
what a user copies into the next command.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.console import Console
from rich.table import Table

# Words whose plural is not the word plus "s".
IRREGULAR = {"policy": "policies", "property": "properties", "entry": "entries",
             "match": "matches", "difference": "differences"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 object``, ``2 objects``, ``1,234 objects``; ``many`` when the plural is irregular
    and not in :data:`IRREGULAR`."""
    word = noun if count == 1 else (many or IRREGULAR.get(noun, noun + "s"))
    return f"{count:,} {word}"


def duration(seconds: float) -> str:
    """A duration for a reader: ``under 1 s``, ``42 s``, ``3 min 5 s``, ``2 h 10 min``."""
    if seconds < 1:
        return "under 1 s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def elapsed(seconds: float) -> str:
    """A measured time for a table cell, short: ``<0.1 s``, ``0.4 s``, ``7.2 s``, ``42 s``."""
    if seconds < 0.1:
        return "<0.1 s"
    if seconds < 10:
        return f"{seconds:.1f} s"
    return duration(seconds)


def rate(count: float, seconds: float, unit: str = "/s") -> str:
    """``1,234 objects/s``-style rate, or "" while there is nothing to divide yet: a rate
    of 0 at the start of a run says nothing true."""
    if count <= 0 or seconds <= 0:
        return ""
    per_second = count / seconds
    figure = f"{per_second:,.0f}" if per_second >= 10 else f"{per_second:.1f}"
    return f"{figure} {unit}".replace(" /", "/")


@dataclass(frozen=True)
class Column:
    """A table column: ``ident`` columns hold ids and are never cut or wrapped."""

    header: str
    ident: bool = False
    right: bool = False


def table(columns: Sequence[Column | str], title: str | None = None) -> Table:
    """A Rich table with the given columns (a plain string is an ordinary column): a rule
    under the header and one space between columns, so that more fits a terminal."""
    made = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                 padding=(0, 0))
    for spec in columns:
        column = Column(spec) if isinstance(spec, str) else spec
        made.add_column(column.header, justify="right" if column.right else "left",
                        no_wrap=column.ident, overflow="fold")
    return made


def print_table(console: Console, shown: Table) -> None:
    """Print a table as wide as the console; when its id columns alone do not fit, wider
    (the terminal wraps the lines) rather than cut an id."""
    for column in shown.columns:
        # A header is one word or two: folding it mid-word reads badly and saves little.
        column.min_width = max(len(word) for word in f"{column.header} ".split(" "))
        if column.no_wrap:
            longest = max((len(str(cell)) for cell in column.cells), default=0)
            column.min_width = max(longest, len(str(column.header)))
    needed = shown.__rich_measure__(console, console.options).minimum
    if needed <= console.width:
        console.print(shown)
        return
    wide = Console(file=console.file, width=needed, no_color=console.no_color,
                   force_terminal=console.is_terminal)
    wide.print(shown)
