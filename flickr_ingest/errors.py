"""The one exception root of flickr-ingest.

Every error the package raises on purpose derives from `FlickrIngestError`, so callers
(the CLI, the Prefect tasks) can tell our own, explained failures from bugs.
"""


class FlickrIngestError(Exception):
    """Root of every error flickr-ingest raises on purpose."""


class ConfigurationError(FlickrIngestError):
    """Settings or credentials are missing or contradictory; nothing was attempted."""
