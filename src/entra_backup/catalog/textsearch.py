"""Which versions' display name, UPN, mail or appId match a text query, per backend.

Prefix queries use the btree on ``search_terms.term``. Substring queries of three or
more characters use the FTS5 trigram table on SQLite and the ``pg_trgm`` GIN index on
PostgreSQL; shorter ones scan the terms, which is what any index would do for them.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Select, literal_column, select, text
from sqlalchemy.engine import Dialect

from entra_backup.catalog.models import search_terms

Mode = Literal["prefix", "substring"]
_TRIGRAM = 3
_MAX_CHAR = "\U0010ffff"


def escape_like(value: str) -> str:
    """``value`` as a literal inside a ``LIKE`` pattern with ``\\`` as the escape."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matching_versions(query: str, mode: Mode, dialect: Dialect,
                      *, deleted_only: bool = False) -> Select[Any]:
    """A subquery of version ids whose searchable fields match ``query`` (lowercased).

    ``deleted_only`` lets SQLite use the trigram index of deleted versions, which holds a
    small share of them.
    """
    term = search_terms.c.term
    if mode == "prefix":
        if dialect.name == "postgresql":
            pattern = escape_like(query) + "%"
            return select(search_terms.c.version_id).where(term.like(pattern, escape="\\"))
        return select(search_terms.c.version_id).where(term >= query,
                                                       term < query + _MAX_CHAR)
    if dialect.name == "sqlite" and len(query) >= _TRIGRAM:
        phrase = '"' + query.replace('"', '""') + '"'
        table = "deleted_fts" if deleted_only else "search_fts"
        return (select(literal_column("rowid"))
                .select_from(text(table))
                .where(text(f"{table} MATCH :phrase").bindparams(phrase=phrase)))
    pattern = "%" + escape_like(query) + "%"
    return select(search_terms.c.version_id).where(term.like(pattern, escape="\\"))
