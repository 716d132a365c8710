"""The local Prefect server in the active Prefect profile, so that plain `prefect`
commands (and `flickr-ingest setup`) reach it, with its auth, instead of starting a
temporary server of their own on the same database.

It is what `prefect config set PREFECT_API_URL=… PREFECT_API_AUTH_STRING=…` does, done
only while the active profile names no Prefect API of its own: a profile that does is
the user's choice and is left alone. The entry is told apart by its auth string, the
local server's secret; `flickr-ingest server stop` takes it out again (`prefect config
unset`), and a later start writes the server's new address. The profiles file holds the
secret, so it is made owner-only.
"""

from __future__ import annotations

import os
import secrets

import prefect.context
from prefect.settings import get_current_settings
from prefect.settings.profiles import load_profiles, update_current_profile

API_URL = "PREFECT_API_URL"
AUTH_STRING = "PREFECT_API_AUTH_STRING"


def point_profile_at(api_url: str, auth_string: str) -> str | None:
    """Point the active profile at the local server at `api_url`; the profile's name, or
    None when it names a Prefect API of its own (then it is not touched)."""
    name = prefect.context.get_settings_context().profile.name
    profiles = load_profiles()
    settings = profiles[name].settings if name in profiles else {}
    if settings.get(API_URL) and not _ours(settings, auth_string):
        return None
    if settings.get(API_URL) == api_url and settings.get(AUTH_STRING) == auth_string:
        return name
    update_current_profile({API_URL: api_url, AUTH_STRING: auth_string})
    _owner_only_profiles()
    return name


def forget_in_profile(auth_string: str) -> None:
    """Take the local server out of the active profile, if the entry there is its own."""
    name = prefect.context.get_settings_context().profile.name
    profiles = load_profiles()
    if name in profiles and _ours(profiles[name].settings, auth_string):
        update_current_profile({API_URL: None, AUTH_STRING: None})


def _ours(settings: dict, auth_string: str) -> bool:
    written = str(settings.get(AUTH_STRING) or "")
    return bool(written) and secrets.compare_digest(written, auth_string)


def _owner_only_profiles() -> None:
    path = get_current_settings().profiles_path
    if path is not None and path.exists():
        os.chmod(path, 0o600)
