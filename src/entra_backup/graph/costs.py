"""What a Graph request costs against the identity service limits, before it is sent.

Base costs and modifiers are those of https://learn.microsoft.com/graph/throttling-limits
("Identity and access service limits"): any path not listed costs 1 resource unit (RU);
``$select`` takes 1 off, ``$expand`` adds 1, ``$top`` below 20 takes 1 off; never below 1.
Writes cost 1 RU and 1 write. Conditional Access and identity protection calls go through
a serial lane of 1 request per second, audit and sign-in reports through a lane of 5
requests per 10 seconds; neither is charged in RU.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import parse_qsl, unquote, urlsplit


class Lane(Enum):
    """Which limit a request counts against."""

    READ = "read"
    WRITE = "write"
    SERIAL = "serial"
    REPORTS = "reports"


_ID_SEGMENT = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|@|^\(.*\)$|^[0-9]+$",
    re.IGNORECASE)
_VERSIONS = ("v1.0", "beta")
_USER_RELATIONS = r"(memberOf|ownedObjects|transitiveMemberOf|licenseDetails)"

_GET_COSTS: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(f"^{pattern}$", re.IGNORECASE), cost) for pattern, cost in (
        (r"users(/delta)?", 2),
        (r"applications(/delta)?", 2),
        (r"applications/\{id\}/extensionProperties", 2),
        (r"groups/\{id\}/members", 3),
        (r"groups/\{id\}/transitiveMembers", 5),
        (r"oauth2PermissionGrants(/delta|/\{id\})?", 2),
        (r"servicePrincipals/\{id\}/appRoleAssignments", 2),
        (r"subscribedSkus", 3),
        (r"contracts", 3),
        (r"domains/\{id\}/domainNameReferences", 4),
        (rf"(me|users/\{{id\}})/{_USER_RELATIONS}", 2),
    ))
_POST_COSTS: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(f"^{pattern}$", re.IGNORECASE), cost) for pattern, cost in (
        (r"directoryObjects/(getByIds|getObjectsById)", 5),
        (r".*/(isMemberOf|checkMemberGroups|checkMemberObjects)", 4),
    ))
_SERIAL = re.compile(
    r"^(identity/conditionalAccess/(policies|namedLocations)|"
    r"identityProtection/(riskDetections|riskyUsers))(/|$)", re.IGNORECASE)
_REPORTS = re.compile(r"^(auditLogs|reports)(/|$)", re.IGNORECASE)


@dataclass(frozen=True)
class RequestCost:
    """The estimated charge of one request, and the key its measured cost is learnt under."""

    lane: Lane
    resource_units: int
    writes: int
    key: tuple[str, str, frozenset[str]]


def graph_path(url: str) -> str:
    """The resource path of a Graph URL: no host, version or query; ids become ``{id}``."""
    path = unquote(urlsplit(url).path)
    segments = [segment for segment in path.split("/") if segment]
    for index, segment in enumerate(segments):
        if segment in _VERSIONS:
            segments = segments[index + 1:]
            break
    return "/".join("{id}" if _ID_SEGMENT.search(seg) else seg for seg in segments)


def modifiers(url: str) -> frozenset[str]:
    """The query options of a URL that change its cost: select, expand, smalltop."""
    found: set[str] = set()
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        option = name.lower().lstrip("$")
        if option in ("select", "expand"):
            found.add(option)
        elif option == "top" and value.isdigit() and int(value) < 20:
            found.add("smalltop")
    return frozenset(found)


def estimate(method: str, url: str) -> RequestCost:
    """The documented cost of ``method url`` (an absolute URL or a path with a query)."""
    verb = method.upper()
    path = graph_path(url)
    options = modifiers(url)
    key = (verb, path, options)
    if _SERIAL.search(path):
        return RequestCost(Lane.SERIAL, 0, 0, key)
    if _REPORTS.search(path):
        return RequestCost(Lane.REPORTS, 0, 0, key)
    if verb == "GET":
        return RequestCost(Lane.READ, _modified(_base(_GET_COSTS, path), options), 0, key)
    if verb == "POST" and (base := _base(_POST_COSTS, path)) > 1:
        # getByIds is documented as 5 RU, 2 with $select (not 5 - 1).
        select_cost = 2 if "getbyids" in path.lower() or "getobjectsbyid" in path.lower() else 0
        units = select_cost if select_cost and "select" in options else base
        return RequestCost(Lane.READ, units, 0, key)
    return RequestCost(Lane.WRITE, 1, 1, key)


def _base(table: tuple[tuple[re.Pattern[str], int], ...], path: str) -> int:
    for pattern, cost in table:
        if pattern.search(path):
            return cost
    return 1


def _modified(base: int, options: frozenset[str]) -> int:
    cost = base
    if "select" in options:
        cost -= 1
    if "expand" in options:
        cost += 1
    if "smalltop" in options:
        cost -= 1
    return max(cost, 1)
