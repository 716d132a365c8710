"""Credentials kept in Prefect blocks (encrypted at rest on the server): Flickr's in a
Secret block, AWS's in an AwsCredentials block (prefect-aws).

Loaded inside flow code, never passed as a parameter: parameters are shown in the UI.
A Secret block is a source of Flickr credentials only on a Prefect server the user chose
(`PREFECT_API_URL` in the environment or a profile of theirs), or when they named the
block: never just because it is on the local server flickr-ingest started by itself,
whose database may hold blocks written by anyone on the machine before it had auth.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from prefect.blocks.system import Secret

from flickr_ingest.flickr.credentials import Credentials, checked_destination
from flickr_ingest.settings import ENV_PREFIX
from flows.local_server import chosen_api_url, configured_api_url

SECRET_BLOCK_VARIABLE = ENV_PREFIX + "SECRET_BLOCK"

logger = logging.getLogger(__name__)


def secret_blocks_trusted(*, block_named: bool = False) -> bool:
    """Whether Flickr credentials may be kept in and read from a Secret block: a Prefect
    API is configured, and the user chose it, or named the block (`block_named`, as
    `auth login --block-name` does, or `FLICKR_INGEST_SECRET_BLOCK`)."""
    if not configured_api_url():
        return False
    named = block_named or bool(os.environ.get(SECRET_BLOCK_VARIABLE, "").strip())
    return named or chosen_api_url() is not None


def load_secret_credentials(block_name: str) -> Credentials | None:
    """The credentials stored by `flickr-ingest auth login`, or None if there are none
    (or no Prefect API that may hold them, see `secret_blocks_trusted`). Credentials for
    another server than Flickr are refused unless FLICKR_BASE_URL names it too."""
    if not secret_blocks_trusted():
        return None
    try:
        value = Secret.load(block_name).get()
    except ValueError:  # no such block
        return None
    values = json.loads(value) if isinstance(value, str) else value
    return checked_destination(
        Credentials.from_dict(values), f"the Prefect Secret block {block_name!r}"
    )


def save_secret_credentials(credentials: Credentials, block_name: str) -> None:
    Secret(value=json.dumps(credentials.to_dict())).save(block_name, overwrite=True)


def s3_client_from_block(block_name: str | None) -> Any:
    """An S3 client from a Prefect AwsCredentials block (its keys, region, endpoint), or
    None to use boto3's standard chain."""
    if not block_name:
        return None
    from prefect_aws import AwsCredentials

    return AwsCredentials.load(block_name).get_client("s3")
