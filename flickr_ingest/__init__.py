"""flickr-ingest: move a photo archive onto Flickr exactly once, with an account of every file.

This package is the product as a plain library: the Flickr client, the Flickr sandbox,
sources, metadata, planning and reports. It never imports Prefect; `flows/` and `tasks/`
are the thin Prefect shell around it.
"""

__version__ = "0.1.0"
