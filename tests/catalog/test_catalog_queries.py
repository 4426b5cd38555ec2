"""Recording snapshots and querying them: versions, search, timelines, changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from entra_backup.catalog import Catalog, CatalogError, VersionRow
from tests.catalog.tenant_history import History, application, group, user

APP_ID = "5f1c7a2e-0b9d-4c1e-9a7f-3d2b8e6c1a40"


def build_history() -> History:
    """Three snapshots: a rename, a deletion, a new user, a failed type, a re-creation."""
    history = History()
    alice = user("u1", "Alice Smith", "alice.smith@contoso.com")
    bob = user("u2", "Bob Jones", "bob.jones@contoso.com", "2026-02-20T09:00:00Z")
    carol = user("u3", "Carol Åström", "carol@contoso.com")
    sales = group("g1", "Sales Team", "sales@contoso.com")
    payroll = application("a1", "Payroll Connector", APP_ID)
    history.take("contoso", [alice, bob, carol, sales, payroll])
    renamed = user("u1", "Alice Smyth", "alice.smyth@contoso.com", "2026-03-01T12:00:00Z")
    dave = user("u4", "Dave Brown", "dave@contoso.com", "2026-03-01T13:00:00Z")
    history.take("contoso", [renamed, carol, dave, sales, payroll])
    history.take("contoso", [renamed, dave, bob, payroll], status={"groups": "failed"})
    history.take("fabrikam", [user("u1", "Alice Other", "alice@fabrikam.com")])
    return history


def record_all(catalog: Catalog, history: History) -> None:
    for info, versions in history.entries:
        assert catalog.record(info, versions)


@pytest.fixture
def history(catalog: Catalog) -> History:
    built = build_history()
    record_all(catalog, built)
    return built


def ids(rows: list[VersionRow]) -> list[tuple[str, str, str]]:
    return [(row.type, row.object_id, row.display_name or "") for row in rows]


def test_a_snapshot_lists_the_versions_current_in_it(catalog: Catalog, history: History) -> None:
    first, second, third, _ = (info.id for info, _ in history.entries)
    assert [(r.object_id, r.display_name) for r in catalog.versions_at(first, "users")] == [
        ("u1", "Alice Smith"), ("u2", "Bob Jones"), ("u3", "Carol Åström")]
    assert [(r.object_id, r.display_name) for r in catalog.versions_at(second, "users")] == [
        ("u1", "Alice Smyth"), ("u3", "Carol Åström"), ("u4", "Dave Brown")]
    third_rows = {(r.type, r.object_id) for r in catalog.versions_at(third)}
    assert ("groups", "g1") in third_rows, "a failed type is carried forward, not deleted"
    assert ("users", "u3") not in third_rows
    assert ("users", "u2") in third_rows, "a re-created object is current again"


def test_recording_the_same_snapshot_twice_changes_nothing(catalog: Catalog,
                                                           history: History) -> None:
    info, versions = history.entries[0]
    before = list(catalog.versions_at(info.id))
    assert catalog.record(info, versions) is False
    assert list(catalog.versions_at(info.id)) == before


def test_an_older_snapshot_after_a_newer_one_is_refused(catalog: Catalog) -> None:
    history = History()
    history.take("contoso", [user("u1", "A", "a@contoso.com")])
    history.take("contoso", [user("u1", "B", "a@contoso.com")])
    catalog.record(*history.entries[1])
    with pytest.raises(CatalogError, match="reindex"):
        catalog.record(*history.entries[0])


@pytest.mark.parametrize(("query", "expected"), [
    ("smit", [("users", "u1", "Alice Smith")]),
    ("SMY", [("users", "u1", "Alice Smyth")]),
    ("jones@contoso", [("users", "u2", "Bob Jones"), ("users", "u2", "Bob Jones")]),
    ("sales@", [("groups", "g1", "Sales Team")]),
    ("0b9d-4c1e", [("applications", "a1", "Payroll Connector")]),
    ("åström", [("users", "u3", "Carol Åström")]),
    ("TR", [("users", "u3", "Carol Åström")]),
    ("100%", []),
])
def test_substring_search_covers_name_upn_mail_and_app_id(
        catalog: Catalog, history: History, query: str, expected: list[tuple[str, str, str]]
) -> None:
    assert ids(catalog.search(query, tenant="contoso")) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ("alice s", [("users", "u1", "Alice Smith"), ("users", "u1", "Alice Smyth")]),
    ("alice.smy", [("users", "u1", "Alice Smyth")]),
    ("sales@", [("groups", "g1", "Sales Team")]),
    ("5F1C", [("applications", "a1", "Payroll Connector")]),
    ("smith", []),
])
def test_prefix_search_matches_the_start_of_a_field(
        catalog: Catalog, history: History, query: str, expected: list[tuple[str, str, str]]
) -> None:
    assert ids(catalog.search(query, mode="prefix", tenant="contoso")) == expected


def test_search_spans_tenants_unless_one_is_named(catalog: Catalog, history: History) -> None:
    assert {row.tenant for row in catalog.search("alice")} == {"contoso", "fabrikam"}
    assert {row.tenant for row in catalog.search("alice", tenant="fabrikam")} == {"fabrikam"}


def test_search_filters_by_type_and_modified_time(catalog: Catalog, history: History) -> None:
    assert ids(catalog.search("contoso.com", type="groups")) == [
        ("groups", "g1", "Sales Team")]
    march = catalog.search("", tenant="contoso", from_=datetime(2026, 3, 1, tzinfo=UTC),
                           to=datetime(2026, 3, 1, 12, 30, tzinfo=UTC))
    assert ids(march) == [("users", "u1", "Alice Smyth")]
    assert all(row.modified_time is not None for row in march)


def test_deleted_only_lists_objects_removed_between_snapshots(catalog: Catalog,
                                                              history: History) -> None:
    first, second, _third, _ = (info.id for info, _ in history.entries)
    rows = catalog.search("", deleted_only=True)
    assert [(r.object_id, r.last_snapshot, r.deleted) for r in rows] == [
        ("u2", first, True), ("u3", second, True)]
    assert rows[1].deleted_at == history.entries[2][0].time
    assert ids(catalog.search("carol", deleted_only=True)) == [("users", "u3", "Carol Åström")]
    assert catalog.search("alice", deleted_only=True) == []


def test_search_rows_carry_the_snapshot_range_they_are_current_in(catalog: Catalog,
                                                                  history: History) -> None:
    first, second, _third, _ = (info.id for info, _ in history.entries)
    old, new = catalog.search("alice", tenant="contoso")
    assert (old.first_snapshot, old.last_snapshot, old.deleted) == (first, first, False)
    assert (new.first_snapshot, new.last_snapshot, new.deleted) == (second, None, False)


def test_search_respects_the_limit(catalog: Catalog, history: History) -> None:
    assert len(catalog.search("contoso", limit=2)) == 2


def test_timeline_shows_every_version_of_an_object(catalog: Catalog, history: History) -> None:
    first, _second, third, _ = (info.id for info, _ in history.entries)
    bob = catalog.timeline("u2", tenant="contoso")
    assert [(r.first_snapshot, r.last_snapshot, r.deleted) for r in bob] == [
        (first, first, True), (third, None, False)]
    assert len(catalog.timeline("u1")) == 3, "both tenants' u1"


def test_changes_between_two_snapshots(catalog: Catalog, history: History) -> None:
    first, second, third, other = (info.id for info, _ in history.entries)
    changes = [(c.type, c.object_id, c.change) for c in catalog.changed_between(first, second)]
    assert changes == [("users", "u1", "changed"), ("users", "u2", "removed"),
                       ("users", "u4", "added")]
    assert catalog.changed_between(second, second) == []
    later = [(c.object_id, c.change) for c in catalog.changed_between(second, third)]
    assert later == [("u2", "added"), ("u3", "removed")]
    with pytest.raises(CatalogError, match="different tenants"):
        catalog.changed_between(first, other)


def test_an_unknown_snapshot_is_a_clear_error(catalog: Catalog, history: History) -> None:
    with pytest.raises(CatalogError, match="no snapshot 'feed'"):
        list(catalog.versions_at("feed"))


def test_snapshot_ids_are_listed_oldest_first(catalog: Catalog, history: History) -> None:
    assert catalog.snapshot_ids("contoso") == [info.id for info, _ in history.entries[:3]]


def test_large_snapshots_are_recorded_in_batches(catalog: Catalog) -> None:
    history = History()
    history.take("contoso", [user(f"u{i:04d}", f"User {i}", f"user{i}@contoso.com")
                             for i in range(1200)])
    catalog.record(*history.entries[0], batch=100)
    assert len(list(catalog.versions_at(history.entries[0][0].id))) == 1200
    assert ids(catalog.search("user1199@")) == [("users", "u1199", "User 1199")]


def test_a_search_matching_thousands_of_versions_returns_the_first_in_order(
        catalog: Catalog) -> None:
    # Past MANY_MATCHES the SQLite plan changes (an ordered walk instead of a lookup);
    # the answer must not.
    people = [user(f"u{n:05d}", f"Anna Number{n}", f"anna.n{n}@contoso.com")
              for n in range(2600)]
    others = [user(f"v{n:05d}", f"Bert Number{n}", f"bert.n{n}@contoso.com")
              for n in range(300)]
    history = History()
    history.take("contoso", people + others)
    history.take("contoso", people[::2] + others)
    record_all(catalog, history)
    found = catalog.search("anna", mode="prefix", limit=40)
    assert [row.object_id for row in found] == [f"u{n:05d}" for n in range(40)]
    deleted = catalog.search("anna", deleted_only=True, limit=30)
    assert [row.object_id for row in deleted] == [f"u{n:05d}" for n in range(1, 60, 2)]
    assert all(row.deleted for row in deleted)


def test_one_and_two_character_searches_match_like_longer_ones(
        catalog: Catalog, history: History) -> None:
    def ids(query: str) -> set[str]:
        return {row.object_id for row in catalog.search(query, tenant="contoso")}

    assert ids("ro") == {"u3", "u4", "a1"}    # Carol Åström, Dave Brown, Payroll Connector
    assert ids("RO") == ids("ro")
    assert ids("Ås") == {"u3"}                # not ASCII: matched through the terms
    assert ids("_") == set() and ids("%") == set()
    assert ids("y") == {"u1", "a1"}           # Alice Smyth (after the rename), Payroll
