"""Look-ups behind ``show`` and names beside ids: objects by UPN, mail or appId, and the
display names of objects current in a snapshot."""

from __future__ import annotations

from entra_backup.catalog import Catalog, VersionRow
from tests.catalog.tenant_history import History, application, user
from tests.catalog.test_catalog_queries import APP_ID, record_all


def _history() -> History:
    history = History()
    alice = user("u1", "Alice Smith", "alice@contoso.com")
    payroll = application("a1", "Payroll Connector", APP_ID)
    principal = ("servicePrincipals", "s1", {"id": "s1", "displayName": "Payroll Connector",
                                             "appId": APP_ID})
    history.take("contoso", [alice, payroll, principal])
    history.take("contoso", [user("u1", "Alice Smyth", "alice.smyth@contoso.com"),
                             user("u2", "Alice Reuse", "alice@contoso.com"), payroll,
                             principal])
    history.take("fabrikam", [user("f1", "Alice Elsewhere", "alice@contoso.com")])
    return history


def _keys(rows: list[VersionRow]) -> list[tuple[str, str, str]]:
    return [(row.type, row.object_id, row.first_snapshot[:2]) for row in rows]


def test_a_key_is_matched_exactly_ignoring_case_within_one_tenant(catalog: Catalog) -> None:
    record_all(catalog, _history())
    assert _keys(catalog.with_key("contoso", "ALICE@Contoso.com")) == [
        ("users", "u1", "00"), ("users", "u2", "01")]
    assert catalog.with_key("contoso", "alice") == [], "a display-name word is no key"
    assert catalog.with_key("contoso", "alice smith") == [], "a display name is no key"
    assert _keys(catalog.with_key("contoso", APP_ID.upper())) == [
        ("applications", "a1", "00"), ("servicePrincipals", "s1", "00")]
    assert _keys(catalog.with_key("contoso", APP_ID, "servicePrincipals")) == [
        ("servicePrincipals", "s1", "00")]


def test_names_are_those_current_in_the_snapshot(catalog: Catalog) -> None:
    history = _history()
    record_all(catalog, history)
    first, second, _ = (info.id for info, _ in history.entries)
    assert catalog.names_at(first, ["u1", "u2", "a1", "missing"]) == {
        "u1": "Alice Smith", "a1": "Payroll Connector"}
    assert catalog.names_at(second, ["u1", "u2"]) == {"u1": "Alice Smyth",
                                                      "u2": "Alice Reuse"}
    many = [f"id{n}" for n in range(1200)] + ["u1"]
    assert catalog.names_at(second, many) == {"u1": "Alice Smyth"}
