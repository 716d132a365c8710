"""The Flickr client: OAuth 1.0a, streaming uploads, typed answers, an error taxonomy."""

from flickr_ingest.flickr.client import FlickrClient, Login
from flickr_ingest.flickr.credentials import Credentials
from flickr_ingest.flickr.endpoints import Endpoints
from flickr_ingest.flickr.responses import TicketStatus, UploadResult, UploadStatus

__all__ = [
    "Credentials",
    "Endpoints",
    "FlickrClient",
    "Login",
    "TicketStatus",
    "UploadResult",
    "UploadStatus",
]
