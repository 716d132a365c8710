"""One class per Flickr error the sandbox can answer.

Faults carry Flickr's code and message as class attributes and optional details (such as
`duplicate_photo_id`) that are rendered as child elements of `<rsp>`. They are raised by
the state model and turned into a response in exactly one place, the HTTP dispatcher.
"""

from __future__ import annotations

from typing import ClassVar


class FlickrFault(Exception):
    """A Flickr `<err code=… msg=…>` answer."""

    code: ClassVar[int] = 0
    message: ClassVar[str] = ""

    def __init__(self, msg: str | None = None, **details: str | int) -> None:
        self.msg = msg or self.message
        super().__init__(f"{self.code}: {self.msg}")
        self.details = {name: str(value) for name, value in details.items()}


class PhotoNotFound(FlickrFault):
    code, message = 1, "Photo not found"


class TagNotFound(FlickrFault):
    """flickr.photos.removeTag: no such tag, or not the caller's (sandbox/edits.py)."""

    code, message = 1, "Tag not found"


class MaximumTagsReached(FlickrFault):
    """addTags and setTags: the photo would hold too many tags; nothing changed."""

    code, message = 2, "Maximum number of tags reached"


class NoTitleOrDescription(FlickrFault):
    """flickr.photos.setMeta with neither argument."""

    code, message = 2, "At least one of title or description must be set"


class NotProAccount(FlickrFault):
    """Replace is for Pro accounts (replace.api; recorded in janko/flickr-objects' 2012
    cassette `Flickr_UploadClient/replaces.yml`)."""

    code, message = 1, "Not a pro account"


class NoPhoto(FlickrFault):
    """Upload and replace without a file; the sandbox also answers a replace whose
    `photo_id` is missing or not the caller's photo with it (Flickr lists no code for
    that and no recording shows one)."""

    code, message = 2, "No photo specified"


class GeneralUploadFailure(FlickrFault):
    code, message = 3, "General upload failure"


class FilesizeZero(FlickrFault):
    code, message = 4, "Filesize was zero"


class FiletypeNotRecognised(FlickrFault):
    code, message = 5, "Filetype was not recognised"


class UploadLimitExceeded(FlickrFault):
    code, message = 6, "User exceeded upload limit"


class VideoLimitExceeded(FlickrFault):
    code, message = 7, "User exceeded video upload limit"


class FilesizeTooLarge(FlickrFault):
    code, message = 8, "Filesize was too large"


class VideoNotReplaceable(FlickrFault):
    """Replace is for photos only (Flickr Help Center "Replace a photo", flickrhelp.com
    4404058489108). Recorded answer, code and message: trickortweak/flickr-uploader #63
    (2016, a .mov replacing a video) and oPromessa/flickr-uploader #45 (2018)."""

    code, message = 8, "Videos can't be replaced"


class DuplicatePhoto(FlickrFault):
    code, message = 9, "Duplicate photo/video detected"


class PhotosetNotFound(FlickrFault):
    code, message = 1, "Photoset not found"


class NoTitle(FlickrFault):
    code, message = 1, "No title specified"


class PhotoNotFoundForSet(FlickrFault):
    """Photoset methods answer an unknown (or someone else's) photo with code 2."""

    code, message = 2, "Photo not found"


class PhotoAlreadyInSet(FlickrFault):
    code, message = 3, "Photo already in set"


class PrimaryPhotoNotFound(FlickrFault):
    """flickr.photosets.editPhotos: the primary is not a valid photo of the caller's."""

    code, message = 3, "Primary photo not found"


class PrimaryPhotoNotInList(FlickrFault):
    code, message = 4, "Primary photo not in list"


class EmptyPhotosList(FlickrFault):
    code, message = 5, "Empty photos list"


class ServerAtCapacity(FlickrFault):
    code, message = 14, "Server at capacity"


class NonSafeContent(FlickrFault):
    code, message = 15, "Non-safe content not allowed"


class InvalidToken(FlickrFault):
    code, message = 98, "Invalid auth token"


class InsufficientPermissions(FlickrFault):
    code, message = 99, "Insufficient permissions"

    def __init__(self, required: str, granted: str) -> None:
        super().__init__(
            f"Insufficient permissions. Method requires {required} privileges; {granted} granted."
        )


class InvalidApiKey(FlickrFault):
    """A well-formed key Flickr does not know; a key that is not 32 hex digits gets
    MALFORMED (recorded: janko/flickr-objects' Flickr_Middleware_CheckStatus cassettes)."""

    code, message = 100, "Invalid API Key (Key not found)"
    MALFORMED: ClassVar[str] = "Invalid API Key (Key has invalid format)"


class ServiceUnavailable(FlickrFault):
    code, message = 105, "Service currently unavailable"


class WriteFailed(FlickrFault):
    code, message = 106, "Write operation failed"


class FormatNotFound(FlickrFault):
    code, message = 111, "Format not found"

    def __init__(self, name: str) -> None:
        super().__init__(f'Format "{name}" not found')


class MethodNotFound(FlickrFault):
    code, message = 112, "Method not found"

    def __init__(self, name: str) -> None:
        super().__init__(f'Method "{name}" not found')


class BadUrl(FlickrFault):
    code, message = 116, "Bad URL found"


class PostRequired(FlickrFault):
    """A write method called with GET (the same code as upload's "Bad URL found")."""

    code, message = 116, "The POST method is now required for all setters"


class MissingArgument(FlickrFault):
    """Flickr answers a missing required argument with the method's own code 1 or 2;
    the sandbox uses 2 with the argument's name."""

    code, message = 2, "Required argument missing"

    def __init__(self, name: str) -> None:
        super().__init__(f"Required argument missing: {name}")


class OAuthProblem(Exception):
    """A request refused at the OAuth layer, before any Flickr method runs.

    Flickr answers these as HTTP errors with a plain-text, form-encoded body, on the OAuth
    endpoints and on REST, upload and replace alike, even with `format=json`: 401
    `oauth_problem=signature_invalid&debug_sbs=<base string>` for a bad signature, 400
    `oauth_problem=parameter_absent&oauth_parameters_absent=<names>` for a missing
    parameter (recorded real traffic: janko/flickr-objects' VCR cassettes; see
    ../shared/reference/flickr-api.md). Checks Flickr makes as API checks answer in-band
    as Flickr faults instead (`IN_BAND`).
    """

    IN_BAND: ClassVar[dict[str, type[FlickrFault]]] = {
        # Recorded: a bad key gets err 100 with HTTP 200 (janko/flickr-objects' cassettes);
        # reported: a revoked token gets err 98 (snarfed/granary#35, flickrapi#123). On the
        # OAuth endpoints these too are `oauth_problem`s (token_rejected: FlickrjApi4Android#23).
        "consumer_key_unknown": InvalidApiKey,
        "token_rejected": InvalidToken,
    }

    def __init__(self, problem: str, detail: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.detail = detail

    @property
    def http_status(self) -> int:
        return 400 if self.problem == "parameter_absent" else 401

    def fields(self) -> dict[str, str]:
        """The answer's form fields."""
        fields = {"oauth_problem": self.problem}
        if self.problem == "parameter_absent" and self.detail:
            fields["oauth_parameters_absent"] = self.detail
        if self.problem == "signature_invalid" and self.detail:
            fields["debug_sbs"] = self.detail
        return fields

    def in_band_fault(self) -> FlickrFault | None:
        """The in-band answer, if this problem has one; `detail` is then its message."""
        fault = self.IN_BAND.get(self.problem)
        return fault(self.detail or None) if fault else None
