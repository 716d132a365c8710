"""The sandbox's Flickr REST methods: one small handler each, from request parameters to
the answer's body, and the table that routes a method name to its handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flickr_ingest.numbers import parse_count
from flickr_ingest.sandbox import errors
from flickr_ingest.sandbox.accounts import Principal, require
from flickr_ingest.sandbox.state import SandboxState

Params = dict[str, str]
RestHandler = Callable[[SandboxState, Principal, Params], dict[str, Any]]


def required_arg(params: Params, name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise errors.MissingArgument(name)
    return value


def _int_arg(params: Params, name: str, default: int) -> int:
    value = parse_count(params.get(name, "").strip(), max_digits=9)
    return default if value is None else value


def test_echo(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    return {name: {"_content": value} for name, value in params.items() if name != "format"}


def test_login(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    nsid = require(principal, "read")
    account = state.accounts.account(nsid)
    return {"user": {"id": nsid, "username": {"_content": account["username"]}}}


def check_token(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    nsid = require(principal, "read")
    account = state.accounts.account(nsid)
    return {
        "oauth": {
            "token": {"_content": required_arg(params, "oauth_token")},
            "perms": {"_content": principal.perms},
            "user": {
                "nsid": nsid,
                "username": account["username"],
                "fullname": account["fullname"],
            },
        }
    }


def get_privacy(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    """`<person nsid="…" privacy="1"/>`: 1 public, 2 friends, 3 family, 4 friends and
    family, 5 private (the reference's §12, as every flickr.prefs.* answer)."""
    nsid = require(principal, "read")
    return {"person": {"nsid": nsid, "privacy": state.accounts.privacy(nsid)}}


def get_upload_status(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    return state.photos.upload_status(principal)


def get_photos(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    return state.photos.search(
        principal,
        user_id=required_arg(params, "user_id"),
        page=_int_arg(params, "page", 1),
        per_page=_int_arg(params, "per_page", 100),
    )


def search(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    return state.photos.search(
        principal,
        user_id=params.get("user_id", "me") or "me",
        tags=params.get("tags", ""),
        tag_mode=params.get("tag_mode", "any"),
        machine_tags=params.get("machine_tags", ""),
        page=_int_arg(params, "page", 1),
        per_page=_int_arg(params, "per_page", 100),
    )


def get_info(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    return state.photos.photo_info(principal, required_arg(params, "photo_id"), state.site_url)


def add_tags(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    return state.edits.add_tags(
        principal, required_arg(params, "photo_id"), required_arg(params, "tags")
    )


def remove_tag(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    state.edits.remove_tag(principal, required_arg(params, "tag_id"))
    return {}


def set_tags(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    state.edits.set_tags(principal, required_arg(params, "photo_id"), params.get("tags", ""))
    return {}


def set_meta(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    return state.edits.set_meta(
        principal, required_arg(params, "photo_id"), params.get("title"), params.get("description")
    )


def delete_photo(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    state.delete_photo(principal, required_arg(params, "photo_id"))
    return {}


def check_tickets(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    ids = [
        ticket.strip() for ticket in required_arg(params, "tickets").split(",") if ticket.strip()
    ]
    return {"uploader": {"ticket": state.photos.check_tickets(ids)}}


def create_album(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    return state.albums.create(
        principal,
        params.get("title", ""),
        params.get("description", ""),
        required_arg(params, "primary_photo_id"),
    )


def add_to_album(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    state.albums.add_photo(
        principal, required_arg(params, "photoset_id"), required_arg(params, "photo_id")
    )
    return {}


def list_albums(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    return state.albums.listing(
        principal,
        params.get("user_id", ""),
        page=_int_arg(params, "page", 0),
        per_page=_int_arg(params, "per_page", 500),
    )


def album_photos(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    extras = {extra.strip() for extra in params.get("extras", "").split(",") if extra.strip()}
    return state.albums.photos(
        principal,
        required_arg(params, "photoset_id"),
        extras,
        page=_int_arg(params, "page", 1),
        per_page=_int_arg(params, "per_page", 500),
    )


def reorder_album(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    ids = [photo_id.strip() for photo_id in required_arg(params, "photo_ids").split(",")]
    state.albums.reorder(principal, required_arg(params, "photoset_id"), [i for i in ids if i])
    return {}


def edit_album_photos(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    """Missing arguments get the method's own codes (1, 3, 5) from the model."""
    ids = [photo_id.strip() for photo_id in params.get("photo_ids", "").split(",")]
    state.albums.edit_photos(
        principal,
        params.get("photoset_id", "").strip(),
        params.get("primary_photo_id", "").strip(),
        [i for i in ids if i],
    )
    return {}


def delete_album(state: SandboxState, principal: Principal, params: Params) -> dict[str, Any]:
    state.albums.delete(principal, required_arg(params, "photoset_id"))
    return {}


#: Flickr method -> (handler, needs POST)
REST_METHODS: dict[str, tuple[RestHandler, bool]] = {
    "flickr.test.echo": (test_echo, False),
    "flickr.test.login": (test_login, False),
    "flickr.auth.oauth.checkToken": (check_token, False),
    "flickr.people.getUploadStatus": (get_upload_status, False),
    "flickr.prefs.getPrivacy": (get_privacy, False),
    "flickr.people.getPhotos": (get_photos, False),
    "flickr.photos.search": (search, False),
    "flickr.photos.getInfo": (get_info, False),
    "flickr.photos.delete": (delete_photo, True),
    "flickr.photos.addTags": (add_tags, True),
    "flickr.photos.removeTag": (remove_tag, True),
    "flickr.photos.setTags": (set_tags, True),
    "flickr.photos.setMeta": (set_meta, True),
    "flickr.photos.upload.checkTickets": (check_tickets, False),
    "flickr.photosets.create": (create_album, True),
    "flickr.photosets.addPhoto": (add_to_album, True),
    "flickr.photosets.getList": (list_albums, False),
    "flickr.photosets.getPhotos": (album_photos, False),
    "flickr.photosets.reorderPhotos": (reorder_album, True),
    "flickr.photosets.editPhotos": (edit_album_photos, True),
    "flickr.photosets.delete": (delete_album, True),
}
