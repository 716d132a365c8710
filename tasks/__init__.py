"""Prefect tasks: each wraps one core operation and passes plain, serialisable values."""
