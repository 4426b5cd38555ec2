"""Applications and service principals: Microsoft's first-party ones and the tenant's own
(web apps, daemons, APIs and single-page apps), with owners, credentials, app role
assignments and delegated permission grants."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graph_emulator.generator import wellknown as wk
from graph_emulator.generator.certs import certificates
from graph_emulator.generator.ids import DAY, GENERATED_AT, TENANT_BORN, Rand, b64url, guid_le, iso
from graph_emulator.generator.names import APP_NAMES, APP_ROLE_SETS, IT_DEPARTMENT
from graph_emulator.generator.people import display_name
from graph_emulator.generator.world import World

DEFAULT_ACCESS = "00000000-0000-0000-0000-000000000000"
"""The app role id of 'Default Access' assignments to apps that define no roles."""
ARCHETYPES = ("web", "daemon", "api", "spa")
_DAEMON_PERMISSIONS = (("User.Read.All", "Group.Read.All"), ("Directory.Read.All",),
                       ("Application.Read.All", "Policy.Read.All", "AuditLog.Read.All"),
                       ("User.ReadWrite.All", "Group.ReadWrite.All"))
_ROLES = {p.value: p for p in wk.GRAPH_APP_ROLES}
_SCOPES = {p.value: p for p in wk.GRAPH_SCOPES}
_SIGN_IN = ("User.Read", "openid", "profile", "offline_access")


def app_count(users: int) -> int:
    """How many applications a tenant of ``users`` users registers."""
    return min(400, 3 + users // 250)


def emit_apps(world: World) -> None:
    """Emit first-party service principals, then each app with its service principal."""
    rand = world.rand("apps")
    _emit_first_party(world, rand)
    owners = _owner_pool(world)
    for position in range(app_count(world.spec.users)):
        _emit_app(world, rand, position, owners)


def _owner_pool(world: World) -> Sequence[int]:
    departments = world.people.departments
    it = departments[IT_DEPARTMENT] if len(departments) > IT_DEPARTMENT else ()
    return it[:50] if it else [world.people.admin]


def _emit_first_party(world: World, rand: Rand) -> None:
    for app_id, name in wk.FIRST_PARTY_APPS:
        sp_id = rand.uuid()
        graph = app_id == wk.GRAPH_APP_ID
        world.out.add("servicePrincipals", _service_principal(
            sp_id, app_id, name, wk.MICROSOFT_SERVICES_TENANT,
            app_roles=[_graph_role(p) for p in wk.GRAPH_APP_ROLES] if graph else [],
            scopes=[_graph_scope(p) for p in wk.GRAPH_SCOPES] if graph else [],
            names=[app_id, "https://graph.microsoft.com"] if graph else [app_id],
            audience="AzureADMultipleOrgs", tags=[]))
        world.apps.first_party[app_id] = sp_id
        if graph:
            world.apps.graph_sp = sp_id


def _emit_app(world: World, rand: Rand, position: int, owners: Sequence[int]) -> None:
    archetype = ARCHETYPES[position % len(ARCHETYPES)]
    name = APP_NAMES[position % len(APP_NAMES)]
    if position >= len(APP_NAMES):
        name = f"{name} {position // len(APP_NAMES) + 1}"
    object_id, app_id, sp_id = rand.uuid(), rand.uuid(), rand.uuid()
    roles = _app_roles(rand, position) if archetype == "api" else []
    permissions = _permissions(archetype, rand)
    application = _application(world, rand, (object_id, app_id, name), archetype,
                               roles=roles, permissions=permissions)
    world.out.add("applications", application)
    app_owners = rand.sample(owners, rand.between(1, 2))
    for owner in app_owners:
        world.out.link("owners", object_id, world.people.ids[owner])
    world.out.add("servicePrincipals", _service_principal(
        sp_id, app_id, name, world.tenant_id, app_roles=roles,
        scopes=application["api"]["oauth2PermissionScopes"],
        names=[app_id, *application["identifierUris"]], audience="AzureADMyOrg",
        tags=["WindowsAzureActiveDirectoryIntegratedApp"],
        required=archetype in ("api", "web"), reply=application["web"]["redirectUris"]))
    world.out.link("owners", sp_id, world.people.ids[app_owners[0]])
    world.apps.custom_app_ids.append(app_id)
    world.apps.custom_sp_ids.append(sp_id)
    if archetype == "daemon" and not world.apps.sample_application:
        world.apps.sample_application = object_id
    _grant_access(world, rand, archetype, (sp_id, name), roles=roles, permissions=permissions)


def _application(world: World, rand: Rand, identity: tuple[str, str, str], archetype: str,
                 *, roles: list[dict[str, Any]],
                 permissions: list[wk.GraphPermission]) -> dict[str, Any]:
    object_id, app_id, name = identity
    created = rand.moment(TENANT_BORN + 90 * DAY, GENERATED_AT - 7 * DAY)
    slug = name.lower().replace(" ", "-")
    base_url = f"https://{slug}.{world.default_domain}"
    web = archetype == "web"
    return {
        "id": object_id, "deletedDateTime": None, "addIns": [],
        "api": {"acceptMappedClaims": None, "knownClientApplications": [],
                "oauth2PermissionScopes": _api_scopes(rand, name) if archetype == "api" else [],
                "preAuthorizedApplications": [], "requestedAccessTokenVersion": 2},
        "appId": app_id, "applicationTemplateId": None, "appRoles": roles,
        "certification": None, "createdDateTime": iso(created), "defaultRedirectUri": None,
        "description": f"{name} ({archetype})", "disabledByMicrosoftStatus": None,
        "displayName": name, "groupMembershipClaims": "SecurityGroup" if web else None,
        "identifierUris": [f"api://{app_id}"] if archetype == "api" else [],
        "info": {"logoUrl": None, "marketingUrl": None, "privacyStatementUrl": None,
                 "supportUrl": None, "termsOfServiceUrl": None},
        "isDeviceOnlyAuthSupported": None, "isFallbackPublicClient": archetype == "spa" or None,
        "keyCredentials": _key_credentials(rand) if archetype == "daemon" else [],
        "notes": None, "optionalClaims": None,
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "passwordCredentials": _secrets(rand, created) if archetype in ("web", "daemon") else [],
        "publicClient": {"redirectUris": []}, "publisherDomain": world.default_domain,
        "requiredResourceAccess": [{
            "resourceAppId": wk.GRAPH_APP_ID,
            "resourceAccess": [{"id": p.id, "type": p.kind} for p in permissions]}],
        "samlMetadataUrl": None, "serviceManagementReference": None,
        "signInAudience": "AzureADMyOrg",
        "spa": {"redirectUris": [f"{base_url}/"] if archetype == "spa" else []},
        "tags": [], "tokenEncryptionKeyId": None,
        "verifiedPublisher": {"addedDateTime": None, "displayName": None,
                              "verifiedPublisherId": None},
        "web": {"homePageUrl": base_url if web else None,
                "implicitGrantSettings": {"enableAccessTokenIssuance": False,
                                          "enableIdTokenIssuance": web},
                "logoutUrl": None, "redirectUriSettings": [],
                "redirectUris": [f"{base_url}/signin-oidc"] if web else []},
    }


def _service_principal(sp_id: str, app_id: str, name: str, owner_tenant: str, *,
                       app_roles: list[dict[str, Any]], scopes: list[dict[str, Any]],
                       names: list[str], audience: str, tags: list[str],
                       required: bool = False, reply: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "id": sp_id, "deletedDateTime": None, "accountEnabled": True, "addIns": [],
        "alternativeNames": [], "appDescription": None, "appDisplayName": name,
        "appId": app_id, "applicationTemplateId": None, "appOwnerOrganizationId": owner_tenant,
        "appRoleAssignmentRequired": required, "appRoles": [dict(r) for r in app_roles],
        "description": None, "disabledByMicrosoftStatus": None, "displayName": name,
        "homepage": None,
        "info": {"logoUrl": None, "marketingUrl": None, "privacyStatementUrl": None,
                 "supportUrl": None, "termsOfServiceUrl": None},
        "keyCredentials": [], "loginUrl": None, "logoutUrl": None, "notes": None,
        "notificationEmailAddresses": [], "oauth2PermissionScopes": [dict(s) for s in scopes],
        "passwordCredentials": [], "preferredSingleSignOnMode": None,
        "preferredTokenSigningKeyThumbprint": None, "replyUrls": list(reply),
        "resourceSpecificApplicationPermissions": [], "samlSingleSignOnSettings": None,
        "servicePrincipalNames": names, "servicePrincipalType": "Application",
        "signInAudience": audience, "tags": tags, "tokenEncryptionKeyId": None,
        "verifiedPublisher": {"addedDateTime": None, "displayName": None,
                              "verifiedPublisherId": None},
    }


def _graph_role(permission: wk.GraphPermission) -> dict[str, Any]:
    return {"allowedMemberTypes": ["Application"], "description": f"Allows the app to "
            f"{permission.display[0].lower()}{permission.display[1:]} without a signed-in user.",
            "displayName": permission.display, "id": permission.id, "isEnabled": True,
            "origin": "Application", "value": permission.value}


def _graph_scope(permission: wk.GraphPermission) -> dict[str, Any]:
    admin = permission.value == "Directory.Read.All"
    return {"adminConsentDescription": f"Allows the app to {permission.display.lower()}.",
            "adminConsentDisplayName": permission.display, "id": permission.id,
            "isEnabled": True, "type": "Admin" if admin else "User",
            "userConsentDescription": None if admin else f"Allows the app to "
            f"{permission.display.lower()}.",
            "userConsentDisplayName": None if admin else permission.display,
            "value": permission.value}


def _app_roles(rand: Rand, position: int) -> list[dict[str, Any]]:
    return [{"allowedMemberTypes": ["User"], "description": f"{role} access.",
             "displayName": role, "id": rand.uuid(), "isEnabled": True,
             "origin": "Application", "value": role}
            for role in APP_ROLE_SETS[position % len(APP_ROLE_SETS)]]


def _api_scopes(rand: Rand, name: str) -> list[dict[str, Any]]:
    text = f"Access {name} on behalf of the signed-in user."
    return [{"adminConsentDescription": text, "adminConsentDisplayName": f"Access {name}",
             "id": rand.uuid(), "isEnabled": True, "type": "User",
             "userConsentDescription": text, "userConsentDisplayName": f"Access {name}",
             "value": "access_as_user"}]


def _permissions(archetype: str, rand: Rand) -> list[wk.GraphPermission]:
    """The Microsoft Graph permissions an app requests: app roles for daemons."""
    if archetype == "daemon":
        return [_ROLES[value] for value in rand.pick(_DAEMON_PERMISSIONS)]
    return [_SCOPES[value] for value in _SIGN_IN]


def _key_credentials(rand: Rand) -> list[dict[str, Any]]:
    certificate = rand.pick(certificates())
    return [{"customKeyIdentifier": certificate.thumbprint_base64,
             "displayName": certificate.subject,
             "endDateTime": certificate.not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "key": certificate.der_base64, "keyId": rand.uuid(),
             "startDateTime": certificate.not_before.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "type": "AsymmetricX509Cert", "usage": "Verify"}]


def _secrets(rand: Rand, created: float) -> list[dict[str, Any]]:
    start = rand.moment(max(created, GENERATED_AT - 300 * DAY), GENERATED_AT - DAY)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-"
    return [{"customKeyIdentifier": None, "displayName": "Production secret",
             "endDateTime": iso(start + 365 * DAY),
             "hint": "".join(rand.pick(alphabet) for _ in range(3)), "keyId": rand.uuid(),
             "secretText": None, "startDateTime": iso(start)}]


def _grant_access(world: World, rand: Rand, archetype: str, sp: tuple[str, str], *,
                  roles: list[dict[str, Any]], permissions: list[wk.GraphPermission]) -> None:
    """App role assignments and delegated grants that make the app usable."""
    graph = world.apps.graph_sp
    sp_id, name = sp
    if archetype == "daemon":
        for permission in permissions:
            _assign(world, rand, (sp_id, name, "ServicePrincipal"), (graph, "Microsoft Graph"),
                    permission.id)
    elif archetype == "api":
        _assign_people(world, rand, sp_id, name, [r["id"] for r in roles])
    elif archetype == "web":
        if world.groups.all_staff is not None:
            group = world.groups.all_staff
            _assign(world, rand, (world.groups.ids[group], world.groups.names[group], "Group"),
                    (sp_id, name), DEFAULT_ACCESS)
        _grant(world, (sp_id, graph), "AllPrincipals", None, " ".join(_SIGN_IN))
    else:
        for user in rand.sample(world.people.staff, 3):
            _grant(world, (sp_id, graph), "Principal", world.people.ids[user],
                   "User.Read offline_access")


def _assign_people(world: World, rand: Rand, sp_id: str, name: str, role_ids: list[str]) -> None:
    groups = world.groups
    for group in rand.sample(groups.security, rand.between(1, 3)):
        _assign(world, rand, (groups.ids[group], groups.names[group], "Group"), (sp_id, name),
                rand.pick(role_ids))
    for user in rand.sample(world.people.staff, rand.between(2, 20)):
        _assign(world, rand, (world.people.ids[user], display_name(world.people, user), "User"),
                (sp_id, name), rand.pick(role_ids))


def _assign(world: World, rand: Rand, principal_of: tuple[str, str, str],
            resource_of: tuple[str, str], role: str) -> None:
    """An app role assignment of a principal (id, name, type) to a resource (id, name)."""
    principal, principal_name, principal_type = principal_of
    resource, resource_name = resource_of
    world.out.add("appRoleAssignments", {
        "id": b64url(guid_le(principal) + rand.raw(16)), "deletedDateTime": None,
        "appRoleId": role, "createdDateTime": iso(rand.moment(GENERATED_AT - 700 * DAY,
                                                              GENERATED_AT - DAY)),
        "principalDisplayName": principal_name, "principalId": principal,
        "principalType": principal_type, "resourceDisplayName": resource_name,
        "resourceId": resource,
    })


def _grant(world: World, client_and_resource: tuple[str, str], consent: str,
           principal: str | None, scope: str) -> None:
    client, resource = client_and_resource
    raw = guid_le(client) + guid_le(resource) + (guid_le(principal) if principal else b"")
    world.out.add("oauth2PermissionGrants", {
        "id": b64url(raw), "clientId": client, "consentType": consent,
        "principalId": principal, "resourceId": resource, "scope": scope,
    })
