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
