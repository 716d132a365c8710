"""The credentials file (Hardening #10): never written through a link, never left
readable by others."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from flickr_ingest.errors import ConfigurationError
from flickr_ingest.flickr.credentials import Credentials, load_file, save_file

SECRETS = Credentials("key", "consumer-secret", "token", "token-secret")


def test_a_link_planted_at_the_path_is_not_written_through(tmp_path: Path) -> None:
    elsewhere = tmp_path / "attacker-readable.json"
    elsewhere.write_text("{}")
    planted = tmp_path / "config" / "credentials.json"
    planted.parent.mkdir()
    planted.symlink_to(elsewhere)
    with pytest.raises(ConfigurationError, match="symbolic link"):
        save_file(SECRETS, planted)
    assert elsewhere.read_text() == "{}"


def test_a_file_others_can_read_is_made_owner_only_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = save_file(SECRETS, tmp_path / "credentials.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        assert load_file(path) == SECRETS
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "readable by others" in caplog.text
    assert "consumer-secret" not in caplog.text and "token-secret" not in caplog.text


@pytest.mark.parametrize(
    ("stored", "configured", "used"),
    [
        ("", None, True),  # made on flickr.com
        ("https://www.flickr.com", None, True),  # Flickr's own hosts need no FLICKR_BASE_URL
        ("http://127.0.0.1:8470", None, False),  # a sandbox's, alone: never followed
        ("http://127.0.0.1:8470", "http://127.0.0.1:8470/", True),  # said twice: used
        ("http://127.0.0.1:8470", "http://127.0.0.1:9999", False),  # another server
        ("https://www.flickr.com.evil.example", None, False),
        ("http://www.flickr.com", None, False),  # not over TLS: not Flickr's
    ],
)
def test_stored_credentials_go_only_where_flickr_base_url_agrees(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stored: str,
    configured: str | None,
    used: bool,
) -> None:
    """A store's base URL alone never sends the photos and secrets to another server:
    only with FLICKR_BASE_URL naming it too (a sandbox logged in to on purpose)."""
    if configured is None:
        monkeypatch.delenv("FLICKR_BASE_URL", raising=False)
    else:
        monkeypatch.setenv("FLICKR_BASE_URL", configured)
    credentials = Credentials("key", "consumer-secret", "token", "token-secret", stored)
    path = save_file(credentials, tmp_path / "credentials.json")
    if used:
        assert load_file(path) == credentials
    else:
        with pytest.raises(ConfigurationError, match="FLICKR_BASE_URL names that server") as error:
            load_file(path)
        assert repr(stored) in str(error.value)
        assert "consumer-secret" not in str(error.value) and "token-secret" not in str(error.value)
