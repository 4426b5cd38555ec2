"""``entra-backup emulator serve``: the first line is the connection contract, then it serves."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.live_emulator import acquire_token

CONTRACT_KEYS = {"graph_url", "authority", "tenant_id", "client_id", "client_secret",
                 "ca_bundle", "control_url"}


def test_serve_prints_the_contract_line_then_serves_until_interrupted(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "entra_backup.cli.main", "emulator", "serve", "--users", "60",
         "--seed", "5", "--state-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        assert set(info) == CONTRACT_KEYS
        assert info["graph_url"].startswith("https://127.0.0.1:")
        assert info["graph_url"].endswith("/v1.0")
        assert info["authority"] == info["graph_url"][: -len("/v1.0")] + "/" + info["tenant_id"]
        assert Path(info["ca_bundle"]).is_file()
        token = acquire_token(info["authority"], info["client_id"], info["client_secret"],
                              info["ca_bundle"])["access_token"]
        context = ssl.create_default_context(cafile=info["ca_bundle"])
        with httpx.Client(verify=context) as client:
            response = client.get(info["graph_url"] + "/users/$count",
                                  headers={"Authorization": f"Bearer {token}",
                                           "ConsistencyLevel": "eventual"})
        assert response.status_code == 200
        assert response.text == "60"
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
