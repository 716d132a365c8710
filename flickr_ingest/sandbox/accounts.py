"""Apps, accounts and tokens: the OAuth 1.0a dance and checking signed requests.

Credentials (keys, secrets, tokens, verifiers) always come from `secrets`: a seed makes ids
and faults reproducible, never a secret predictable.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import sqlite3
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypedDict, Unpack

from flickr_ingest.numbers import parse_count
from flickr_ingest.sandbox import errors, oauth
from flickr_ingest.sandbox.store import Store

PERMS_RANK = {"read": 1, "write": 2, "delete": 3}
#: Flickr's API keys: 32 hex digits. An unknown key of another shape is "invalid format".
_API_KEY_FORMAT = re.compile(r"[0-9a-f]{32}")
#: How far an OAuth timestamp may be from the sandbox's clock.
TIMESTAMP_TOLERANCE_SECONDS = 600
MB = 1024 * 1024
#: flickr.prefs.getPrivacy's values (the reference's §12) and the upload flags each stands
#: for: (is_public, is_friend, is_family). A new account's default is 1, public, as Flickr's.
PRIVACY_FLAGS: dict[int, tuple[int, int, int]] = {
    1: (1, 0, 0),  # public
    2: (0, 1, 0),  # friends only
    3: (0, 0, 1),  # family only
    4: (0, 1, 1),  # friends and family
    5: (0, 0, 0),  # private
}
DEFAULT_PRIVACY = 1


@dataclass(frozen=True)
class AccountLimits:
    """What an account may upload. None means no limit."""

    max_photo_bytes: int = 200 * MB
    max_video_bytes: int = 1024 * MB
    monthly_bandwidth_bytes: int | None = None
    max_items: int | None = None
    max_non_public: int | None = None
    max_videos: int | None = None
    safe_only: bool = False

    @classmethod
    def for_plan(cls, plan: str) -> AccountLimits:
        if plan == "free":  # Flickr's free account since 2019
            return cls(max_items=1000, max_non_public=50, safe_only=True)
        return cls()


class LimitChanges(TypedDict, total=False):
    """Some of AccountLimits' fields, as `Accounts.set_limits` takes them."""

    max_photo_bytes: int
    max_video_bytes: int
    monthly_bandwidth_bytes: int | None
    max_items: int | None
    max_non_public: int | None
    max_videos: int | None
    safe_only: bool


@dataclass(frozen=True)
class Principal:
    """Who is calling: the app always, the account and its perms when a token was used."""

    api_key: str
    nsid: str | None = None
    perms: str | None = None
    signed: bool = False  # an OAuth signature checked out, with or without a token


@dataclass(frozen=True)
class Token:
    token: str
    secret: str = field(repr=False)
    nsid: str
    perms: str


def _secret_hex(length: int) -> str:
    return secrets.token_hex((length + 1) // 2)[:length]


def _token_string() -> str:
    """Flickr's shape: 17 digits, a dash, 16 hex digits."""
    return f"{10**16 + secrets.randbelow(9 * 10**16)}-{_secret_hex(16)}"


def _seeded_app(seed: int) -> tuple[str, str]:
    """The app key and secret a seeded sandbox made before credentials came from
    `secrets` (its first two draws): anyone who knows the seed can recompute them."""
    draw = random.Random(seed)
    key, secret = ("".join(draw.choice("0123456789abcdef") for _ in range(n)) for n in (32, 16))
    return key, secret


def require(principal: Principal, perms: str) -> str:
    """The caller's nsid if it holds at least `perms`. Else: a signed call without a
    token is refused at the OAuth layer (400 parameter_absent, as Flickr does); any other
    caller gets fault 99."""
    if principal.nsid is None and principal.signed:
        raise errors.OAuthProblem("parameter_absent", "oauth_token")
    granted = principal.perms or "none"
    if principal.nsid is None or PERMS_RANK.get(granted, 0) < PERMS_RANK[perms]:
        raise errors.InsufficientPermissions(perms, granted)
    return principal.nsid


class Accounts:
    def __init__(self, store: Store) -> None:
        self._store = store

    def create_app(
        self, api_key: str | None = None, api_secret: str | None = None
    ) -> tuple[str, str]:
        with self._store.transaction() as db:
            api_key = api_key or _secret_hex(32)
            api_secret = api_secret or _secret_hex(16)
            db.execute(
                "INSERT OR REPLACE INTO apps (api_key, api_secret) VALUES (?, ?)",
                (api_key, api_secret),
            )
        return api_key, api_secret

    def create_account(self, username: str, *, plan: str = "pro", fullname: str = "") -> str:
        with self._store.transaction() as db:
            number = self._store.new_photo_or_account_number(db)
            nsid = f"{number}@N0{self._store.number(1)}"
            db.execute(
                "INSERT INTO accounts (nsid, username, fullname, is_pro, limits)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    nsid,
                    username,
                    fullname or username,
                    int(plan == "pro"),
                    json.dumps(asdict(AccountLimits.for_plan(plan))),
                ),
            )
        return nsid

    def account(self, nsid: str) -> sqlite3.Row:
        rows = self._store.query("SELECT * FROM accounts WHERE nsid = ?", (nsid,))
        if not rows:
            raise errors.InvalidToken()
        return rows[0]

    def accounts(self) -> list[dict[str, Any]]:
        return [
            {
                "nsid": row["nsid"],
                "username": row["username"],
                "is_pro": bool(row["is_pro"]),
                "limits": json.loads(row["limits"]),
                "privacy": row["privacy"] or DEFAULT_PRIVACY,
            }
            for row in self._store.query(
                "SELECT accounts.*, prefs.privacy FROM accounts"
                " LEFT JOIN prefs USING (nsid) ORDER BY accounts.rowid"
            )
        ]

    def privacy(self, nsid: str) -> int:
        """The account's default privacy for new uploads (flickr.prefs.getPrivacy)."""
        rows = self._store.query("SELECT privacy FROM prefs WHERE nsid = ?", (nsid,))
        return rows[0]["privacy"] if rows else DEFAULT_PRIVACY

    def set_privacy(self, nsid: str, privacy: int) -> None:
        """Change the default privacy (on Flickr a web setting; here the control API)."""
        if privacy not in PRIVACY_FLAGS:
            raise ValueError(f"privacy is one of {sorted(PRIVACY_FLAGS)}")
        with self._store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO prefs VALUES (?, ?)", (nsid, privacy))

    def limits(self, nsid: str) -> AccountLimits:
        return AccountLimits(**json.loads(self.account(nsid)["limits"]))

    def set_limits(self, nsid: str, **changes: Unpack[LimitChanges]) -> AccountLimits:
        limits = replace(self.limits(nsid), **changes)
        with self._store.transaction() as db:
            db.execute(
                "UPDATE accounts SET limits = ? WHERE nsid = ?", (json.dumps(asdict(limits)), nsid)
            )
        return limits

    def issue_access_token(self, api_key: str, nsid: str, perms: str) -> Token:
        """Mint an access token directly (the demo account; tests that skip the dance)."""
        with self._store.transaction() as db:
            token = Token(_token_string(), _secret_hex(16), nsid, perms)
            db.execute(
                "INSERT INTO tokens (token, secret, api_key, kind, nsid, perms, created)"
                " VALUES (?, ?, ?, 'access', ?, ?, ?)",
                (token.token, token.secret, api_key, nsid, perms, self._store.clock()),
            )
        return token

    def ensure_demo_account(
        self, api_key: str | None, api_secret: str | None, *, plan: str, username: str = "demo"
    ) -> tuple[str, str, str, Token]:
        """The app, account and access token the sandbox hands out on start: reused from a
        kept state folder, else made. Returns (api_key, api_secret, nsid, token)."""
        apps = self._store.query("SELECT * FROM apps ORDER BY rowid LIMIT 1")
        if apps and not api_key and self._predictable(apps[0]):
            self._forget_app(apps[0]["api_key"])
            apps = []
        if api_key or not apps:
            api_key, api_secret = self.create_app(api_key, api_secret)
        else:
            api_key, api_secret = apps[0]["api_key"], apps[0]["api_secret"]
        rows = self._store.query("SELECT nsid FROM accounts ORDER BY rowid LIMIT 1")
        nsid = rows[0]["nsid"] if rows else self.create_account(username, plan=plan)
        tokens = self._store.query(
            "SELECT * FROM tokens WHERE kind = 'access' AND api_key = ? AND nsid = ?"
            " AND perms = 'delete' ORDER BY created LIMIT 1",
            (api_key, nsid),
        )
        if tokens:
            token = Token(tokens[0]["token"], tokens[0]["secret"], nsid, "delete")
        else:
            token = self.issue_access_token(api_key, nsid, "delete")
        return api_key, api_secret, nsid, token

    def _predictable(self, app: sqlite3.Row) -> bool:
        seed = self._store.seed
        return seed is not None and _seeded_app(seed) == (app["api_key"], app["api_secret"])

    def _forget_app(self, api_key: str) -> None:
        """Drop an app and every token issued to it (a state kept from a seeded sandbox of
        an older version: its credentials are public knowledge). Accounts and photos stay."""
        with self._store.transaction() as db:
            db.execute("DELETE FROM tokens WHERE api_key = ?", (api_key,))
            db.execute("DELETE FROM apps WHERE api_key = ?", (api_key,))

    def revoke_token(self, token: str) -> bool:
        with self._store.transaction() as db:
            return db.execute("DELETE FROM tokens WHERE token = ?", (token,)).rowcount > 0

    def create_request_token(self, principal: Principal, callback: str) -> tuple[str, str]:
        if not callback:
            raise errors.OAuthProblem("parameter_absent", "oauth_callback")
        with self._store.transaction() as db:
            token, secret = _token_string(), _secret_hex(16)
            db.execute(
                "INSERT INTO tokens (token, secret, api_key, kind, callback, created)"
                " VALUES (?, ?, ?, 'request', ?, ?)",
                (token, secret, principal.api_key, callback, self._store.clock()),
            )
        return token, secret

    def request_token(self, token: str) -> sqlite3.Row:
        rows = self._store.query(
            "SELECT * FROM tokens WHERE token = ? AND kind = 'request'", (token,)
        )
        if not rows:
            raise errors.OAuthProblem("token_rejected")
        return rows[0]

    def authorize(self, token: str, nsid: str, perms: str) -> tuple[str, str]:
        """Approve a request token for an account; returns (verifier, callback). One
        verifier per token until it is exchanged: a page reload or a browser's prefetch
        shows the same code again instead of cancelling the one the user is typing."""
        if perms not in PERMS_RANK:
            raise errors.OAuthProblem("permission_denied", perms)
        row = self.request_token(token)
        verifier = row["verifier"] or _secret_hex(16)
        with self._store.transaction() as db:
            db.execute(
                "UPDATE tokens SET nsid = ?, perms = ?, verifier = ? WHERE token = ?",
                (nsid, perms, verifier, token),
            )
        return verifier, row["callback"]

    def exchange_request_token(
        self, principal: Principal, token: str, verifier: str
    ) -> dict[str, str]:
        row = self.request_token(token)
        if row["verifier"] is None or row["nsid"] is None:
            raise errors.OAuthProblem("permission_denied", "the request token was not authorized")
        if verifier != row["verifier"]:
            raise errors.OAuthProblem("verifier_invalid")
        access = self.issue_access_token(principal.api_key, row["nsid"], row["perms"])
        with self._store.transaction() as db:
            db.execute("DELETE FROM tokens WHERE token = ?", (token,))
        account = self.account(row["nsid"])
        return {
            "fullname": account["fullname"],
            "oauth_token": access.token,
            "oauth_token_secret": access.secret,
            "user_nsid": account["nsid"],
            "username": account["username"],
        }

    def authenticate(
        self,
        http_method: str,
        request_url: str,
        params: list[tuple[str, str]],
        *,
        request_token: bool = False,
    ) -> Principal:
        """Check an OAuth 1.0a request; returns who is calling or raises OAuthProblem.

        `params` holds every parameter of the request (header, query and form) except the
        file part. Requests without any signature pass with their api_key alone, so that
        methods like flickr.test.echo work; the caller decides what such a Principal may do.
        `request_token` is for the access-token step, which is signed with a request token.
        """
        kind = "request" if request_token else "access"
        values = dict(params)
        api_key, api_secret = self._app(values)
        if "oauth_signature" not in values:
            if "oauth_token" in values:
                raise errors.OAuthProblem("parameter_absent", "oauth_signature")
            return Principal(api_key)
        token_row = self._signed_token(values, api_key, kind)
        if not oauth.signature_matches(
            values["oauth_signature"],
            http_method,
            request_url,
            params,
            api_secret,
            token_row["secret"] if token_row else "",
        ):
            url = oauth.candidate_urls(request_url)[0]  # Flickr shows what it signed
            raise errors.OAuthProblem(
                "signature_invalid", oauth.base_string(http_method, url, params)
            )
        self._use_nonce(api_key, values.get("oauth_nonce", ""))
        if token_row is None or request_token:
            return Principal(api_key, signed=True)
        return Principal(api_key, token_row["nsid"], token_row["perms"], signed=True)

    def screen_upload(self, params: list[tuple[str, str]]) -> None:
        """Refuse an upload on what its header and query string show, before its body is
        read: an unknown key or token, no signature, a stale timestamp. The answers are
        `authenticate`'s, in its order; the signature itself waits for the body, because
        the form fields are signed too."""
        values = dict(params)
        api_key, _ = self._app(values)
        if "oauth_signature" not in values:
            if "oauth_token" in values:
                raise errors.OAuthProblem("parameter_absent", "oauth_signature")
            require(Principal(api_key), "write")  # unsigned: no account, and uploads write
        self._signed_token(values, api_key, "access")

    def _app(self, values: dict[str, str]) -> tuple[str, str]:
        """(api_key, api_secret) of the calling app, or consumer_key_unknown."""
        api_key = values.get("oauth_consumer_key") or values.get("api_key", "")
        app = self._store.query("SELECT api_secret FROM apps WHERE api_key = ?", (api_key,))
        if not app:
            malformed = not _API_KEY_FORMAT.fullmatch(api_key)
            raise errors.OAuthProblem(
                "consumer_key_unknown", errors.InvalidApiKey.MALFORMED if malformed else ""
            )
        return api_key, app[0]["api_secret"]

    def _signed_token(self, values: dict[str, str], api_key: str, kind: str) -> sqlite3.Row | None:
        """A signed request's method, timestamp and token, checked; its token's row."""
        if values.get("oauth_signature_method") != "HMAC-SHA1":
            raise errors.OAuthProblem("signature_method_rejected")
        timestamp = parse_count(values.get("oauth_timestamp"), max_digits=12)
        if timestamp is None or abs(self._store.clock() - timestamp) > TIMESTAMP_TOLERANCE_SECONDS:
            raise errors.OAuthProblem("timestamp_refused")
        if "oauth_token" in values:
            rows = self._store.query(
                "SELECT * FROM tokens WHERE token = ? AND kind = ? AND api_key = ?",
                (values["oauth_token"], kind, api_key),
            )
            if not rows:
                raise errors.OAuthProblem("token_rejected")
            return rows[0]
        if kind == "request":
            raise errors.OAuthProblem("parameter_absent", "oauth_token")
        return None

    def _use_nonce(self, api_key: str, nonce: str) -> None:
        if not nonce:
            raise errors.OAuthProblem("parameter_absent", "oauth_nonce")
        now = self._store.clock()
        with self._store.transaction() as db:
            db.execute(
                "DELETE FROM nonces WHERE seen < ?", (now - 2 * TIMESTAMP_TOLERANCE_SECONDS,)
            )
            try:
                db.execute("INSERT INTO nonces VALUES (?, ?, ?)", (api_key, nonce, now))
            except sqlite3.IntegrityError:
                raise errors.OAuthProblem("nonce_used") from None
