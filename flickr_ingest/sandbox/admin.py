"""Control endpoints under `/sandbox/`, apart from Flickr's paths (as moto's `/moto-api/`).

Tests, benchmarks and the demo use them to change faults and limits while the sandbox
runs, to read the request log and to see what is stored.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flickr_ingest.numbers import parse_count, parse_seconds
from flickr_ingest.sandbox import errors
from flickr_ingest.sandbox.accounts import PRIVACY_FLAGS, AccountLimits
from flickr_ingest.sandbox.photos import Behaviour

if TYPE_CHECKING:
    from flickr_ingest.sandbox.http import SandboxApp


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _non_negative(value: object) -> float:
    """A JSON number, or a decimal string as `numbers.parse_seconds` reads one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value) and value >= 0:
            return float(value)
    elif isinstance(value, str) and (parsed := parse_seconds(value)) is not None:
        return parsed
    raise ValueError(f"{value!r} is not a non-negative number")


def admin_routes(app: SandboxApp) -> list[Route]:
    state, traffic = app.state, app.traffic

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def reset(request: Request) -> Response:
        await run_in_threadpool(state.reset)
        traffic.reset()
        return JSONResponse({"ok": True})

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            changes = await _json_body(request)
            behaviour = {
                name: changes.pop(name)
                for name in (field.name for field in dataclasses.fields(Behaviour))
                if name in changes
            }
            try:
                traffic.update(**changes)
                for name, value in behaviour.items():
                    setattr(state.photos.behaviour, name, _non_negative(value))
            except (TypeError, ValueError) as error:
                return _bad_request(str(error))
        return JSONResponse(
            {**traffic.settings.to_dict(), **dataclasses.asdict(state.photos.behaviour)}
        )

    async def requests_log(request: Request) -> Response:
        since = parse_count(request.query_params.get("since") or "0")
        if since is None:
            return _bad_request("since is a whole number (ASCII digits)")
        return JSONResponse(
            {"requests": traffic.entries_since(since), "counters": traffic.counters}
        )

    async def accounts(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"accounts": await run_in_threadpool(state.accounts.accounts)})
        body = await _json_body(request)
        plan, perms = body.get("plan", "pro"), body.get("perms", "delete")
        if plan not in ("pro", "free") or perms not in ("read", "write", "delete"):
            return _bad_request("plan is pro or free; perms is read, write or delete")
        api_key = body.get("api_key") or app.demo_api_key
        nsid = await run_in_threadpool(
            lambda: state.accounts.create_account(body.get("username", "someone"), plan=plan)
        )
        token = await run_in_threadpool(state.accounts.issue_access_token, api_key, nsid, perms)
        return JSONResponse(
            {
                "user_nsid": nsid,
                "oauth_token": token.token,
                "oauth_token_secret": token.secret,
                "perms": perms,
            }
        )

    async def limits(request: Request) -> Response:
        nsid = request.path_params["nsid"]
        known = {f.name for f in dataclasses.fields(AccountLimits)}
        changes = await _json_body(request)
        if not set(changes) <= known:
            return _bad_request(
                f"unknown limits {sorted(set(changes) - known)}; known: {sorted(known)}"
            )
        result = await run_in_threadpool(lambda: state.accounts.set_limits(nsid, **changes))
        return JSONResponse(dataclasses.asdict(result))

    async def prefs(request: Request) -> Response:
        """An account's preferences: `{"privacy": 1-5}`, its default for new uploads."""
        nsid = request.path_params["nsid"]
        try:
            await run_in_threadpool(state.accounts.account, nsid)
        except errors.InvalidToken:
            return JSONResponse({"error": "no such account"}, status_code=404)
        if request.method == "POST":
            privacy = (await _json_body(request)).get("privacy")
            if type(privacy) is not int or privacy not in PRIVACY_FLAGS:  # not True, 1.0
                return _bad_request(f"privacy is one of {sorted(PRIVACY_FLAGS)}")
            await run_in_threadpool(state.accounts.set_privacy, nsid, privacy)
        return JSONResponse({"privacy": await run_in_threadpool(state.accounts.privacy, nsid)})

    async def revoke(request: Request) -> Response:
        revoked = await run_in_threadpool(state.accounts.revoke_token, request.path_params["token"])
        return JSONResponse({"revoked": revoked})

    async def photos(request: Request) -> Response:
        return JSONResponse(
            {
                "photos": await run_in_threadpool(state.photos.all_photos),
                "counts": await run_in_threadpool(state.photos.counts),
            }
        )

    async def albums(request: Request) -> Response:
        return JSONResponse({"albums": await run_in_threadpool(state.albums.all_albums)})

    return [
        Route("/sandbox/health", health),
        Route("/sandbox/reset", reset, methods=["POST"]),
        Route("/sandbox/faults", faults, methods=["GET", "POST"]),
        Route("/sandbox/requests", requests_log),
        Route("/sandbox/accounts", accounts, methods=["GET", "POST"]),
        Route("/sandbox/accounts/{nsid}/limits", limits, methods=["POST"]),
        Route("/sandbox/accounts/{nsid}/prefs", prefs, methods=["GET", "POST"]),
        Route("/sandbox/tokens/{token}/revoke", revoke, methods=["POST"]),
        Route("/sandbox/photos", photos),
        Route("/sandbox/albums", albums),
    ]
