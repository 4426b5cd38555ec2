"""``POST /_control/<token>/throttle/reset``: every throttling budget full again.

Benchmarks set a tenant up through Graph and then measure a run against the write quota;
the reset gives the measured run the full bucket a new app would find.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.live_emulator import LiveEmulator

BATCH = 20
MOST_BATCHES = 400
"""3,000 writes are 150 batches of 20, plus what the bucket refills meanwhile (20/s); the
3,500 resource units of a small tenant are 88 batches of 20 listings."""
PASSWORD = "Throttle!Reset-2026"


@pytest.fixture
def throttled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("throttle-reset"), users=5, seed=11,
                              throttle="real") as live:
        yield live


def a_cloud_user(client: httpx.Client) -> str:
    domain = next(d["id"] for d in client.get("domains").json()["value"] if d["isDefault"])
    created = client.post("users", json={
        "accountEnabled": True, "displayName": "Throttle Reset", "mailNickname": "reset",
        "userPrincipalName": f"throttle.reset@{domain}",
        "passwordProfile": {"password": PASSWORD, "forceChangePasswordNextSignIn": True}})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def batch(client: httpx.Client, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ``$batch``; the inner answers."""
    response = client.post("$batch", json={"requests": requests})
    assert response.status_code == 200, response.text
    return list(response.json()["responses"])


def writes(user: str, round_: int) -> list[dict[str, Any]]:
    """20 PATCHes of one user."""
    return [{"id": str(n), "method": "PATCH", "url": f"/users/{user}",
             "headers": {"Content-Type": "application/json"},
             "body": {"jobTitle": f"Round {round_} write {n}"}} for n in range(BATCH)]


def reads(_: str, __: int) -> list[dict[str, Any]]:
    """20 listings of users at 2 resource units each."""
    return [{"id": str(n), "method": "GET", "url": "/users"} for n in range(BATCH)]


def first_refusal(client: httpx.Client, user: str,
                  requests: Callable[[str, int], list[dict[str, Any]]]) -> dict[str, Any]:
    """Send batches until one is throttled; its first 429 answer."""
    for round_ in range(MOST_BATCHES):
        refused = [a for a in batch(client, requests(user, round_)) if a["status"] == 429]
        if refused:
            return refused[0]
    raise AssertionError(f"never throttled after {MOST_BATCHES} batches")


@pytest.mark.parametrize(("requests", "limit", "ok"), [
    (writes, "WriteLimitExceeded", 204),
    (reads, "ResourceUnitLimitExceeded", 200),
])
def test_a_reset_refills_the_budget(throttled: LiveEmulator,
                                    requests: Callable[[str, int], list[dict[str, Any]]],
                                    limit: str, ok: int) -> None:
    with throttled.http() as client:
        user = a_cloud_user(client)
        refusal = first_refusal(client, user, requests)
        assert refusal["headers"]["x-ms-throttle-information"] == limit
        assert 429 in [a["status"] for a in batch(client, requests(user, -1))]

        settings = throttled.control("POST", "/throttle/reset")
        answers = batch(client, requests(user, -2))

    assert [a["status"] for a in answers] == [ok] * BATCH
    assert settings["throttle"] == "real"
    assert sum(settings["throttled"].values()) > 0, "the 429 counters are kept"


def test_a_reset_leaves_the_mode_as_it_is(throttled: LiveEmulator) -> None:
    throttled.control("POST", "/settings", {"throttle": "off"})

    assert throttled.control("POST", "/throttle/reset")["throttle"] == "off"
