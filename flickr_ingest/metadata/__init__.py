"""Photo metadata: read EXIF, XMP and IPTC from a file's first bytes, map it to Flickr."""

from flickr_ingest.metadata.mapping import FlickrFields, MappingOptions, map_to_flickr
from flickr_ingest.metadata.read import (
    HEAD_BYTES,
    PhotoMetadata,
    head_for_metadata,
    read_file_metadata,
    read_metadata,
)

__all__ = [
    "HEAD_BYTES",
    "FlickrFields",
    "MappingOptions",
    "PhotoMetadata",
    "head_for_metadata",
    "map_to_flickr",
    "read_file_metadata",
    "read_metadata",
]
