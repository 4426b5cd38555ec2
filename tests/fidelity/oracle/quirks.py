"""Documentation examples that Microsoft's own v1.0 schema rejects, and why.

Each entry is an example's index in ``graph-v1.0-doc-examples.json`` (its position in
``mocks``), the reason, and a pattern every problem the schema oracle reports for that
example must match. Found by validating every directory example against the CSDL; each
was read by hand and is a fault of the example, not of the oracle.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Quirk:
    """Why one documentation example departs from the schema."""

    reason: str
    problems: str
    """A regular expression that every reported problem matches."""


_UNTYPED = Quirk(
    "directoryObject items without @odata.type, so their user or group properties are "
    "unknown to directoryObject; 21 of the 30 such items in other examples carry it",
    r"microsoft\.graph\.directoryObject has no property")
_WRAPPED = Quirk(
    "generated example wraps a single entity in {\"value\": ...}",
    r"has no property 'value'")
_CAPITALISED = Quirk(
    "'Manufacturer' and 'Model' capitalised; the v1.0 properties are manufacturer, model",
    r"device\.(Manufacturer|Model):")

DOC_QUIRKS: dict[int, Quirk] = {
    207: _CAPITALISED,
    481: Quirk("shows resourceScope, a beta-only property of unifiedRoleAssignment",
               r"has no property 'resourceScope'"),
    555: _UNTYPED,
    733: Quirk("signInActivity.lastSuccessfulSignInDateTime is '' (the service sends null)",
               r"lastSuccessfulSignInDateTime: '' is not a valid Edm\.DateTimeOffset"),
    1547: _CAPITALISED,
    1798: Quirk("creates a group inside an administrative unit; the response omits the "
                "@odata.type that says the new directoryObject is a group",
                r"microsoft\.graph\.directoryObject has no property"),
    2122: Quirk("shows createdDateTime and extensionAttributes, absent from the v1.0 device "
                "type, and a key elided with '...' that is no longer base64",
                r"(has no property '(createdDateTime|extensionAttributes)'"
                r"|alternativeSecurityIds\[0\]\.key: .* Edm\.Binary)"),
    2656: _UNTYPED,
    2657: _UNTYPED,
    2741: Quirk("placeholder values ('id-value', 'appOwnerOrganizationId-value') for GUIDs",
                r"'[A-Za-z]+-value' is not a valid Edm\.Guid"),
    2896: Quirk("shows publisherName, a beta-only property of servicePrincipal",
                r"has no property 'publisherName'"),
    2977: Quirk("shows publisherName, a beta-only property of servicePrincipal",
                r"has no property 'publisherName'"),
    2907: Quirk("an old beta payload: beta-only properties and 'datetime-value' placeholders",
                r"(has no property|'datetime-value' is not a valid)"),
    2966: _UNTYPED,
    3002: _UNTYPED,
    3077: _UNTYPED,
    3088: _WRAPPED,
    3117: Quirk("shows createdDateTime, absent from the v1.0 device type",
                r"has no property 'createdDateTime'"),
    3210: _CAPITALISED,
    3216: _WRAPPED,
    3229: _WRAPPED,
}
