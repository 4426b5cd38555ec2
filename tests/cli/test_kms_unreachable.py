"""A repository whose master key is wrapped by AWS KMS: when KMS stops answering, every
command that opens the repository says so in one line naming the endpoint (exit 15),
and nothing in the home or the repository changes. KMS is a real KMS protocol server
(moto) on loopback; "gone" is a port nothing listens on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from entra_backup.config import PASSPHRASE_VARIABLE
from entra_backup.domain.errors import KeyServiceUnreachable
from tests.cli.conftest_workspace import Cli, assert_one_line_error, closed_port, tree
from tests.support.moto_server import MotoServer, running_moto_server


@pytest.fixture(scope="module")
def kms_server() -> Iterator[MotoServer]:
    with running_moto_server() as server:
        yield server


def _with_kms(cli: Cli, server: MotoServer, endpoint: str) -> Cli:
    return cli.with_env(AWS_ENDPOINT_URL_KMS=endpoint, AWS_ACCESS_KEY_ID=server.access_key_id,
                        AWS_SECRET_ACCESS_KEY=server.secret_access_key,
                        AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
                        **{PASSPHRASE_VARIABLE: None})


@pytest.mark.slow
def test_a_kms_that_stops_answering_is_one_line_naming_it(
        kms_server: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_id = kms_server.client("kms").create_key()["KeyMetadata"]["KeyId"]
    cli = _with_kms(Cli.for_home(tmp_path / "home", capsys=capsys), kms_server,
                    kms_server.endpoint_url)
    created = cli.run("init", "--key-provider", "aws-kms", "--kms-key-id", key_id,
                      "--s3-region", kms_server.region)
    assert created.code == 0, str(created)
    assert cli.json("check")["ok"]
    home = tree(cli.home)
    gone = f"http://127.0.0.1:{closed_port()}"
    down = _with_kms(cli, kms_server, gone)
    assert down.run("tenant", "list", "--json").code == 0  # needs no key
    for command in (["check"], ["reindex"]):
        line = assert_one_line_error(down.run(*command), KeyServiceUnreachable.exit_code,
                                     contains=(gone, "unreachable"))
        assert "Traceback" not in line
    assert tree(cli.home) == home
