"""An S3 endpoint is HTTPS; plain HTTP only to a loopback test server, and only when
``ENTRA_BACKUP_S3_ALLOW_HTTP=loopback`` asks for it. Checked when the location is parsed,
before anything is sent."""

from __future__ import annotations

import pytest

from entra_backup.store.backends import s3_settings_from_url
from entra_backup.store.backends.endpoint import (
    ALLOW_HTTP_VARIABLE,
    ALLOW_LOOPBACK,
    InsecureEndpoint,
    check_endpoint,
)
from entra_backup.store.backends.s3 import S3Backend
from tests.store.backends.conftest import BucketMaker
from tests.support.moto_server import MotoServer

REMOTE = ["http://s3.example.net", "http://s3.example.net:9000/", "http://10.0.0.5:9000",
          "http://127.0.0.1.example.net", "HTTP://s3.example.net"]
LOOPBACK = ["http://127.0.0.1:9000", "http://127.3.2.1", "http://localhost:9000",
            "http://[::1]:9000"]
NOT_URLS = ["s3.example.net", "ftp://s3.example.net", "https://", "http://"]


def _location(endpoint: str) -> str:
    return f"s3://backups/repo?endpoint={endpoint}&region=sto1"


@pytest.fixture(autouse=True)
def _no_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_HTTP_VARIABLE, raising=False)


@pytest.mark.parametrize("endpoint", REMOTE)
@pytest.mark.parametrize("allowed", [None, ALLOW_LOOPBACK])
def test_plain_http_to_another_machine_is_refused_even_with_the_opt_in(
        endpoint: str, allowed: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if allowed is not None:
        monkeypatch.setenv(ALLOW_HTTP_VARIABLE, allowed)
    with pytest.raises(InsecureEndpoint, match="use https://") as refused:
        s3_settings_from_url(_location(endpoint))
    assert refused.value.exit_code == 38
    assert "\n" not in refused.value.message


@pytest.mark.parametrize("endpoint", LOOPBACK)
@pytest.mark.parametrize("allowed", [None, "", "yes", "1", "LOOPBACK"])
def test_plain_http_to_loopback_without_the_opt_in_is_refused(
        endpoint: str, allowed: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if allowed is not None:
        monkeypatch.setenv(ALLOW_HTTP_VARIABLE, allowed)
    with pytest.raises(InsecureEndpoint, match=f"{ALLOW_HTTP_VARIABLE}=loopback"):
        s3_settings_from_url(_location(endpoint))


@pytest.mark.parametrize("endpoint", LOOPBACK)
def test_plain_http_to_loopback_with_the_opt_in_is_accepted(
        endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_HTTP_VARIABLE, ALLOW_LOOPBACK)
    assert s3_settings_from_url(_location(endpoint)).endpoint_url == endpoint


@pytest.mark.parametrize("endpoint", ["https://s3.example.net:9000", "https://127.0.0.1:9000",
                                      None])
def test_https_and_aws_itself_are_untouched(endpoint: str | None) -> None:
    location = _location(endpoint) if endpoint else "s3://backups/repo"
    assert s3_settings_from_url(location).endpoint_url == endpoint
    check_endpoint(endpoint, {})


@pytest.mark.parametrize("endpoint", NOT_URLS)
def test_an_endpoint_that_is_no_https_url_is_refused(endpoint: str) -> None:
    with pytest.raises(InsecureEndpoint):
        check_endpoint(endpoint, {ALLOW_HTTP_VARIABLE: ALLOW_LOOPBACK})


def test_the_opt_in_reaches_the_loopback_test_server(
        moto_server: MotoServer, make_bucket: BucketMaker,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_HTTP_VARIABLE, ALLOW_LOOPBACK)
    settings = s3_settings_from_url(f"s3://{make_bucket()}/repo?endpoint="
                                    f"{moto_server.endpoint_url}&region={moto_server.region}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_server.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_server.secret_access_key)
    backend = S3Backend(settings)
    backend.create("config", b"settings")
    assert backend.read("config") == b"settings"
    backend.close()
