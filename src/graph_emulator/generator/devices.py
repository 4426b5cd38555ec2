"""Devices: company laptops (Entra joined, or hybrid joined in synced tenants), Macs and
phones, with their registered owners and users."""

from __future__ import annotations

import base64
from typing import Any

from graph_emulator.generator.ids import DAY, GENERATED_AT, TENANT_BORN, Rand, iso
from graph_emulator.generator.names import LAPTOPS, MACS, PHONES, WINDOWS_VERSIONS
from graph_emulator.generator.world import DISABLED, SYNCED, World

LAPTOP_SHARE = 0.6
MAC_SHARE = 0.08
PHONE_SHARE = 0.25
_PHONE_OS = {"IPhone": "iOS", "Android": "Android"}


def emit_devices(world: World) -> None:
    """Emit each staff member's devices, each followed by its owner and user links."""
    rand = world.rand("devices")
    people = world.people
    serial = 0
    for index in people.staff:
        draw = rand.rng.random()
        kinds = []
        if draw < LAPTOP_SHARE:
            kinds.append("laptop")
        elif draw < LAPTOP_SHARE + MAC_SHARE:
            kinds.append("mac")
        if rand.chance(PHONE_SHARE):
            kinds.append("phone")
        for kind in kinds:
            serial += 1
            device, owned = _device(world, rand, index, kind, serial)
            world.out.add("devices", device)
            if owned:
                world.out.link("registeredOwners", device["id"], people.ids[index])
                world.out.link("registeredUsers", device["id"], people.ids[index])


def _device(world: World, rand: Rand, index: int, kind: str,
            serial: int) -> tuple[dict[str, Any], bool]:
    """A device's Graph JSON, and whether it has a registered owner.

    Hybrid-joined laptops are registered by the machine, so they have no owner.
    """
    people = world.people
    hybrid_joined = kind == "laptop" and people.is_(index, SYNCED)
    registered = rand.moment(TENANT_BORN + 60 * DAY, GENERATED_AT - DAY)
    device_id = rand.uuid()
    if kind == "laptop":
        manufacturer, model = rand.pick(LAPTOPS)
        system, version = "Windows", rand.pick(WINDOWS_VERSIONS)
        name = f"{'CORP' if hybrid_joined else 'LT'}-{serial:06d}"
        trust = "ServerAd" if hybrid_joined else "AzureAd"
        ownership, enrollment = "Company", ("OnPremiseCoManaged" if hybrid_joined
                                            else "AzureDomainJoined")
    elif kind == "mac":
        manufacturer, model, system, version = rand.pick(MACS)
        name, trust, ownership, enrollment = f"MAC-{serial:06d}", "Workplace", "Company", \
            "AppleBulkWithUser"
    else:
        manufacturer, model, os_type, version = rand.pick(PHONES)
        system = _PHONE_OS[os_type]
        name, trust = f"{model.replace(' ', '')}_{serial}", "Workplace"
        ownership = "Personal" if rand.chance(0.5) else "Company"
        enrollment = "UserEnrollment"
    compliant = rand.chance(0.92)
    device = {
        "id": rand.uuid(), "deletedDateTime": None,
        "accountEnabled": not people.is_(index, DISABLED),
        "alternativeSecurityIds": [{"identityProvider": None, "key": base64.b64encode(
            b"X509:<SHA1-TP-PUBKEY>" + rand.raw(20).hex().upper().encode()).decode(), "type": 2}],
        "approximateLastSignInDateTime": iso(rand.moment(GENERATED_AT - 30 * DAY, GENERATED_AT)),
        "complianceExpirationDateTime": None, "deviceCategory": None, "deviceId": device_id,
        "deviceMetadata": None, "deviceOwnership": ownership, "deviceVersion": 2,
        "displayName": name, "enrollmentProfileName": None, "enrollmentType": enrollment,
        "isCompliant": compliant, "isManaged": True, "isRooted": False,
        "managementType": "MDM", "manufacturer": manufacturer, "model": model,
        "mdmAppId": "0000000a-0000-0000-c000-000000000000",
        "onPremisesLastSyncDateTime": iso(GENERATED_AT - 3600) if hybrid_joined else None,
        "onPremisesSecurityIdentifier": None, "onPremisesSyncEnabled": True if hybrid_joined
        else None,
        "operatingSystem": system, "operatingSystemVersion": version,
        "physicalIds": [f"[USER-GID]:{people.ids[index]}:{rand.between(10**12, 10**13)}",
                        f"[GID]:g:{rand.between(10**15, 10**16)}"],
        "profileType": "RegisteredDevice", "registrationDateTime": iso(registered),
        "systemLabels": [], "trustType": trust,
    }
    return device, not hybrid_joined
