"""Credentials kept in Prefect blocks (encrypted at rest on the server): Flickr's in a
Secret block, AWS's in an AwsCredentials block (prefect-aws).

Loaded inside flow code, never passed as a parameter: parameters are shown in the UI.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from prefect.blocks.system import Secret
from prefect.settings import PREFECT_API_URL

from flickr_ingest.flickr.credentials import Credentials

logger = logging.getLogger(__name__)


def prefect_api_configured() -> bool:
    return bool(PREFECT_API_URL.value())


def load_secret_credentials(block_name: str) -> Credentials | None:
    """The credentials stored by `flickr-ingest auth login`, or None if there are none
    (or no Prefect API is configured to hold them)."""
    if not prefect_api_configured():
        return None
    try:
        value = Secret.load(block_name).get()
    except ValueError:  # no such block
        return None
    values = json.loads(value) if isinstance(value, str) else value
    return Credentials.from_dict(values)


def save_secret_credentials(credentials: Credentials, block_name: str) -> None:
    Secret(value=json.dumps(credentials.to_dict())).save(block_name, overwrite=True)


def s3_client_from_block(block_name: str | None) -> Any:
    """An S3 client from a Prefect AwsCredentials block (its keys, region, endpoint), or
    None to use boto3's standard chain."""
    if not block_name:
        return None
    from prefect_aws import AwsCredentials

    return AwsCredentials.load(block_name).get_client("s3")
