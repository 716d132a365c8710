"""Flickr credentials kept in a Prefect Secret block: stored, loaded, used by the flow."""

from __future__ import annotations

from pathlib import Path

import requests

from flickr_ingest.flickr import Credentials
from flows.credentials import load_secret_credentials, save_secret_credentials
from flows.ingest import ingest
from tests.photos import jpeg_bytes


def test_secret_block_round_trip_and_a_run_that_uses_it(
    flow_env: Path, sandbox, monkeypatch
) -> None:
    account = sandbox.account
    credentials = Credentials(
        account.api_key, account.api_secret, account.oauth_token, account.oauth_token_secret
    )
    save_secret_credentials(credentials, "test-flickr")
    assert load_secret_credentials("test-flickr") == credentials
    assert load_secret_credentials("no-such-block") is None
    for name in (
        "FLICKR_API_KEY",
        "FLICKR_API_SECRET",
        "FLICKR_OAUTH_TOKEN",
        "FLICKR_OAUTH_TOKEN_SECRET",
    ):
        monkeypatch.delenv(name)
    monkeypatch.setenv("FLICKR_INGEST_SECRET_BLOCK", "test-flickr")
    monkeypatch.setenv("FLICKR_INGEST_CREDENTIALS_FILE", str(flow_env / "no-file.json"))
    folder = flow_env / "one"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg_bytes(77))
    summary = ingest({"source": str(folder)})
    assert summary["totals"]["uploaded"] == 1 and not summary["sandbox"]
    photos = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=5
    ).json()["photos"]
    assert [p["owner"] for p in photos] == [account.user_nsid]
