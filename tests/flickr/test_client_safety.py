"""What the client must never do: leak a secret, or hold a whole upload in memory."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap

import pytest
import requests

from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient, errors
from flickr_ingest.sandbox import SandboxServer
from tests.photos import jpeg_bytes


def test_no_secret_in_logs_exceptions_or_reprs(
    sandbox: SandboxServer, credentials, caplog, capsys
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = [repr(credentials), str(credentials)]
    with FlickrClient(credentials, endpoints=Endpoints.at(sandbox.url)) as api:
        seen.append(repr(api))
        api.upload(io.BytesIO(jpeg_bytes(1)), filename="ok.jpg", title="fine")
        api.upload_status()
        for fault in ("503=1", "lost=1", "14=1"):
            requests.post(
                f"{sandbox.url}/sandbox/faults",
                headers=sandbox.admin_headers,
                json={"faults": fault},
                timeout=5,
            )
            with pytest.raises(errors.FlickrError) as raised:
                api.upload(io.BytesIO(jpeg_bytes(2)), filename="x.jpg")
            seen += _exception_texts(raised.value)
        requests.post(
            f"{sandbox.url}/sandbox/faults",
            headers=sandbox.admin_headers,
            json={"faults": ""},
            timeout=5,
        )
    wrong = Credentials(
        credentials.api_key,
        credentials.api_secret[::-1],
        credentials.oauth_token,
        credentials.oauth_token_secret,
    )
    with FlickrClient(wrong, endpoints=Endpoints.at(sandbox.url)) as api:
        with pytest.raises(errors.AuthError) as raised:
            api.test_login()
        seen += _exception_texts(raised.value)
    captured = capsys.readouterr()
    everything = "\n".join([*seen, caplog.text, captured.out, captured.err])
    assert "oauthlib" in caplog.text or "urllib3" in caplog.text  # debug logging was captured
    for secret in (*credentials.secrets, *wrong.secrets):
        assert secret not in everything


def _exception_texts(error: BaseException | None) -> list[str]:
    texts = []
    while error is not None:
        texts += [str(error), repr(error)]
        error = error.__cause__ or error.__context__
    return texts


_MEASURE = textwrap.dedent(
    """
    import json, os, resource, sys, tempfile
    from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient
    url, size_mb = sys.argv[1], int(sys.argv[2])
    account = json.loads(sys.argv[3])
    path = os.path.join(tempfile.mkdtemp(), "big.mp4")
    with open(path, "wb") as out:  # an MP4 header, then a sparse hole up to the size
        out.write(b"\\x00\\x00\\x00\\x18ftypmp42\\x00\\x00\\x00\\x00mp42isom")
        out.truncate(size_mb * 1024 * 1024)
    credentials = Credentials(**account)
    with FlickrClient(credentials, endpoints=Endpoints.at(url), timeout=(10, 300)) as api:
        api.test_login()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = api.upload(path)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    os.remove(path)
    print(json.dumps({"photo_id": result.photo_id, "peak_kb": after, "before_kb": before}))
    """
)


def _peak_rss_kb(sandbox: SandboxServer, credentials, size_mb: int) -> dict:
    account = {
        name: getattr(credentials, name)
        for name in ("api_key", "api_secret", "oauth_token", "oauth_token_secret")
    }
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, sandbox.url, str(size_mb), json.dumps(account)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.integration  # measures memory in a Python process of its own
def test_streaming_upload_memory_does_not_grow_with_file_size(sandbox, credentials) -> None:
    small = _peak_rss_kb(sandbox, credentials, 16)
    large = _peak_rss_kb(sandbox, credentials, 400)
    growth_kb = large["peak_kb"] - small["peak_kb"]
    print(f"peak RSS: 16 MB upload {small['peak_kb']} kB, 400 MB upload {large['peak_kb']} kB")
    assert sandbox.state.photos.photo_row(large["photo_id"])["size"] == 400 * 1024 * 1024
    # 384 MB more file may not cost more than a few MB of memory.
    assert growth_kb < 16 * 1024
