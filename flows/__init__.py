"""Prefect flows: thin tables of contents over the `flickr_ingest` core."""
