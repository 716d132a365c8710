"""The client's error taxonomy: one class per thing the pipeline does about an error.

| class               | what the pipeline does                     | Flickr codes               |
|---------------------|--------------------------------------------|----------------------------|
| TransientError      | retry with backoff (honour `retry_after`)  | 3, 14, 105, 106, transport |
| NotAcceptedError    | skip the file: Flickr's rules refuse it    | 4, 5, 8, 15                |
| PermanentFileError  | fail the file (the user has something to   | 2, 10-13, 116              |
|                     | fix, then a run sends it); one attempt     |                            |
| QuotaError          | stop uploading, defer the rest             | 0, 6, 7 (0, 7: videos)     |
| AuthError           | stop the batch, fail the file              | 95-100, OAuth problems     |
| DuplicatePhotoError | success-equivalent: the photo is there     | 9                          |
| FlickrAPIError      | a REST method's own error (not retried);   | everything else            |
|                     | the file failed                            |                            |
| WaitTooLong         | not waited: defer the rest, say why        | a wait past the maximum    |

Codes are the upload and replace endpoints' (`upload_error`); a REST method's codes below
95 are its own (`api_error`: FlickrAPIError, whatever the number). What a file's record
says of each is decided by class, in `file_records.refused_record`.
`is_retryable(exc)` is the single predicate the one retry layer (the Prefect task) asks.
"""

from __future__ import annotations

from flickr_ingest.errors import FlickrIngestError
from flickr_ingest.numbers import parse_seconds

#: The longest wait a server may ask of a run: a `Retry-After`, Flickr's
#: `non_pro_desktop_upload_wait_time`, the end of the shared upload throttle. Flickr asks
#: for seconds to minutes; a longer ask comes from a broken or hostile server (or a
#: planted throttle) and is not waited: the run defers what is left and says why.
MAX_WAIT_SECONDS = 15 * 60


class FlickrError(FlickrIngestError):
    """An error from talking to Flickr. `code` is Flickr's, or None for transport errors."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(f"Flickr error {code}: {message}" if code is not None else message)
        self.code = code
        self.flickr_message = message


class TransientError(FlickrError):
    """Worth retrying; `retry_after` is the wait the server asked for, if it named one."""

    def __init__(
        self, message: str, *, code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class TransportError(TransientError):
    """The request or its answer was lost: timeout, reset, HTTP 5xx or 429, a non-XML page.
    An upload that failed this way may have landed: retry with dedup_check.
    `unreachable`: no connection could be made at all (refused, no such host)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status  # the HTTP status, when there was an answer
        self.unreachable = unreachable


class PermanentFileError(FlickrError):
    """Flickr will not accept this file as it is sent: the file fails, for the user to
    fix (no or a damaged upload, 2 and 10-13; a URL Flickr refuses in the title,
    description or tags, 116)."""


class NotAcceptedError(PermanentFileError):
    """Flickr's rules refuse this file whatever the user does: empty (4), a file type
    Flickr does not take (5), too large (8), or a safety level the account may not use
    (15). The file is skipped, not failed."""


class QuotaError(FlickrError):
    """The account is out of quota; `videos_only` when only videos are refused."""

    def __init__(self, message: str, *, code: int | None = None, videos_only: bool = False) -> None:
        super().__init__(message, code=code)
        self.videos_only = videos_only


class AuthError(FlickrError):
    """Credentials are wrong, revoked or lack permission: nothing more will work.
    `oauth_problem` is set when Flickr refused the request at the OAuth layer."""

    def __init__(
        self, message: str, *, code: int | None = None, oauth_problem: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.oauth_problem = oauth_problem


class DuplicatePhotoError(FlickrError):
    """With dedup_check, Flickr already holds these bytes as `photo_id`."""

    def __init__(
        self, message: str, *, code: int | None = 9, photo_id: str, status: str = ""
    ) -> None:
        super().__init__(message, code=code)
        self.photo_id = photo_id
        self.status = status


class FlickrAPIError(FlickrError):
    """A REST method's own error, such as 1 "Photo not found"."""


class ProtocolError(FlickrError):
    """The answer could not be read safely: hostile or malformed XML, too big, nested too
    deep, or a redirect (API calls are never followed elsewhere)."""


class WaitTooLong(FlickrError):
    """A server (or the shared throttle) asked for a wait past MAX_WAIT_SECONDS: not
    waited and not retried; the run defers what is left with this as the reason."""

    def __init__(self, message: str, *, code: int | None = None, wait: float) -> None:
        minutes = MAX_WAIT_SECONDS // 60
        super().__init__(
            f"{message}; asked to wait {_duration(wait)}, more than the {minutes}-minute"
            " maximum: not waited",
            code=code,
        )
        self.wait = wait


def _duration(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}s"
    return f"{seconds:,.0f} s"


def transient(
    message: str,
    *,
    code: int | None = None,
    retry_after: float | None = None,
    status: int | None = None,
) -> FlickrError:
    """The error for a failure worth retrying (a TransportError when `status` is an HTTP
    status), or WaitTooLong when the wait it names is past MAX_WAIT_SECONDS."""
    if retry_after is not None and retry_after > MAX_WAIT_SECONDS:
        return WaitTooLong(message, code=code, wait=retry_after)
    if status is not None:
        return TransportError(message, retry_after=retry_after, status=status)
    return TransientError(message, code=code, retry_after=retry_after)


_UPLOAD_TRANSIENT = {3, 14, 105, 106}
_UPLOAD_NOT_ACCEPTED = {4, 5, 8, 15}
_UPLOAD_PERMANENT = {2, 10, 11, 12, 13, 116}
_AUTH = {95, 96, 97, 98, 99, 100}
_GENERAL_TRANSIENT = {105, 106}


def upload_error(code: int, message: str, details: dict[str, str]) -> FlickrError:
    """The exception for an error answer of the upload or replace endpoint."""
    if code == 9:
        return DuplicatePhotoError(
            message,
            photo_id=details.get("duplicate_photo_id", ""),
            status=details.get("duplicate_photo_status", ""),
        )
    if code in _UPLOAD_TRANSIENT:
        wait = parse_seconds(details.get("non_pro_desktop_upload_wait_time"))
        return transient(message, code=code, retry_after=wait)
    if code in _UPLOAD_NOT_ACCEPTED:
        return NotAcceptedError(message, code=code)
    if code in _UPLOAD_PERMANENT:
        return PermanentFileError(message, code=code)
    if code in (0, 6, 7):
        return QuotaError(message, code=code, videos_only=code in (0, 7))
    if code in _AUTH:
        return auth_error(code, message)
    return FlickrAPIError(message, code=code)


def api_error(code: int, message: str) -> FlickrError:
    """The exception for an error answer of a REST method (codes below 95 are the method's)."""
    if code in _AUTH:
        return auth_error(code, message)
    if code in _GENERAL_TRANSIENT:
        return TransientError(message, code=code)
    return FlickrAPIError(message, code=code)


def is_retryable(exc: BaseException) -> bool:
    """True for errors a retry can cure. The one predicate every retry decision uses."""
    return isinstance(exc, TransientError)


def retry_after(exc: BaseException) -> float | None:
    """The wait the server asked for, if any."""
    return exc.retry_after if isinstance(exc, TransientError) else None


#: What each OAuth 1.0a problem (the problem-reporting extension's names) asks the user to
#: do. Flickr names one in an HTTP 400/401 answer with a plain-text body.
_RELOGIN = "run `flickr-ingest auth login` for a new token"
_OAUTH_ADVICE = {
    "signature_invalid": "the request's signature is wrong: check the API secret and the"
    f" token secret (FLICKR_API_SECRET, FLICKR_OAUTH_TOKEN_SECRET), or {_RELOGIN}",
    "timestamp_refused": "the request's time is too far from Flickr's: set this machine's"
    " clock right (e.g. turn on NTP) and run again",
    "token_rejected": f"Flickr does not accept the access token (unknown or withdrawn): {_RELOGIN}",
    "token_revoked": f"the access token was revoked on Flickr: {_RELOGIN}",
    "token_expired": f"the access token has expired: {_RELOGIN}",
    "consumer_key_unknown": "Flickr does not know the API key: check FLICKR_API_KEY",
    "consumer_key_rejected": "Flickr refuses the API key: check it in your Flickr app garden",
    "permission_denied": f"the token lacks the permission needed: {_RELOGIN} with write access",
    "version_rejected": "Flickr refused the OAuth version (flickr-ingest sends 1.0): please report",
    "signature_method_rejected": "Flickr refused the signature method (flickr-ingest sends"
    " HMAC-SHA1): please report",
}


#: What each in-band auth error asks the user to do (older answers, and the checks Flickr
#: makes as API checks: a revoked token is error 98, a bad key error 100).
_AUTH_ADVICE = {
    95: "Flickr requires HTTPS: check FLICKR_BASE_URL",
    96: _OAUTH_ADVICE["signature_invalid"],
    97: f"the request was not signed: the credentials are incomplete; {_RELOGIN}",
    98: f"the access token is unknown, revoked or expired (OAuth's token_rejected): {_RELOGIN}",
    99: f"the token lacks the permission needed: {_RELOGIN} with write access",
    100: _OAUTH_ADVICE["consumer_key_unknown"],
}


def auth_error(code: int, message: str) -> AuthError:
    """The exception for an in-band auth error (codes 95-100), with what to do."""
    return AuthError(f"{message}: {_AUTH_ADVICE[code]}", code=code)


def oauth_refusal(where: str, problem: str, absent: str = "") -> FlickrError:
    """The exception for an HTTP 400/401 answer naming `oauth_problem`. A used nonce is
    worth a retry (each retry is signed anew, with a new nonce); every other problem stops
    the run with what to do."""
    if problem == "nonce_used":
        return TransientError(f"{where} saw this request's nonce before (oauth_problem=nonce_used)")
    if problem == "parameter_absent":
        missing = absent or "some"
        advice = (
            f"the request lacked OAuth parameter(s) {missing}: the credentials are incomplete;"
            f" {_RELOGIN}"
        )
    else:
        advice = _OAUTH_ADVICE.get(problem, f"the credentials were refused; {_RELOGIN}")
    return AuthError(
        f"{where} refused the request (oauth_problem={problem}): {advice}", oauth_problem=problem
    )
