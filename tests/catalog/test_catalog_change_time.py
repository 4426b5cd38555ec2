"""``search --from/--to`` means "changed in that range": users and groups carry only a
creation time, so a version's change time is when a snapshot first held it."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import create_engine

from entra_backup.catalog import Catalog
from entra_backup.catalog.engine import parse_url
from entra_backup.catalog.schema import alembic_config
from tests.catalog.tenant_history import START, History, user

LONG_AGO = "2020-05-01T09:00:00Z"


def _history() -> History:
    """Two snapshots a day apart: one old user retitled between them, one left alone,
    one created between them, one deleted between them."""
    history = History()
    tampered = user("u1", "Tampered User", "tampered@contoso.com", LONG_AGO, jobTitle="Clerk")
    steady = user("u2", "Steady User", "steady@contoso.com", LONG_AGO, jobTitle="Clerk")
    leaver = user("u3", "Leaving User", "leaver@contoso.com", LONG_AGO)
    history.take("contoso", [tampered, steady, leaver])
    retitled = user("u1", "Tampered User", "tampered@contoso.com", LONG_AGO,
                    jobTitle="Global Admin")
    newcomer = user("u4", "New User", "new@contoso.com",
                    (START + timedelta(hours=3)).isoformat())
    history.take("contoso", [retitled, steady, newcomer])
    return history


def _found(catalog: Catalog, history: History) -> list[tuple[str, str | None]]:
    first, second = (info.time for info, _ in history.entries)
    rows = catalog.search("", tenant="contoso", from_=first + timedelta(seconds=1), to=second)
    return [(row.object_id, row.display_name) for row in rows]


def test_a_user_changed_between_two_backups_is_found_and_an_unchanged_one_is_not(
        catalog: Catalog) -> None:
    history = _history()
    for info, versions in history.entries:
        catalog.record(info, versions)
    assert _found(catalog, history) == [
        ("u1", "Tampered User"), ("u3", "Leaving User"), ("u4", "New User")]
    tampered = catalog.timeline("u1", "contoso")
    assert [row.changed_at for row in tampered] == [
        tampered[0].modified_time, history.entries[1][0].time]


def test_a_real_modification_time_is_the_change_time(catalog: Catalog) -> None:
    history = History()
    moved = (START + timedelta(hours=5)).isoformat()
    history.take("contoso", [("namedLocations", "n1", {
        "id": "n1", "displayName": "Office", "createdDateTime": LONG_AGO,
        "modifiedDateTime": LONG_AGO})])
    history.take("contoso", [("namedLocations", "n1", {
        "id": "n1", "displayName": "Office (moved)", "createdDateTime": LONG_AGO,
        "modifiedDateTime": moved})])
    for info, versions in history.entries:
        catalog.record(info, versions)
    rows = catalog.timeline("n1", "contoso")
    assert [row.changed_at.isoformat() if row.changed_at else None for row in rows] == [
        "2020-05-01T09:00:00+00:00", "2026-03-01T07:00:00+00:00"]


def test_an_existing_catalog_is_filled_by_the_migration(catalog_url: str) -> None:
    history = _history()
    with Catalog.open(catalog_url) as catalog:
        for info, versions in history.entries:
            catalog.record(info, versions)
        expected = _found(catalog, history)
    engine = create_engine(parse_url(catalog_url))
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
        command.upgrade(config, "0003")
    # Opened as it stands: revision 0004 would empty it (keyed hashes need a rebuild).
    with Catalog(engine) as catalog:
        assert _found(catalog, history) == expected
