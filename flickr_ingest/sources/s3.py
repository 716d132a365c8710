"""An S3 bucket (or MinIO, R2, moto) as a source, through boto3."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO
from urllib.parse import quote, unquote, urlsplit

from flickr_ingest.sources.base import PathFilter, SourceError, SourceItem, junk_kind


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/prefix` -> ("bucket", "prefix"). Only the "/" after the bucket goes:
    a key may itself start with "/" (`s3://bucket//cat.jpg` is the object "/cat.jpg",
    not "cat.jpg"), and "./" or "../" in a key are part of its name."""
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc:
        raise SourceError(f"not an S3 location: {uri!r} (expected s3://bucket/prefix)")
    return parts.netloc, unquote(parts.path.removeprefix("/"))


def object_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{quote(key, safe='/')}"


#: Tries of each S3 request (botocore's own retries, with backoff; the one retry layer
#: for S3: nothing above it retries a listing again).
S3_ATTEMPTS = 5


def make_client(endpoint_url: str | None = None, **session_options: Any) -> Any:
    """A boto3 S3 client from the standard credential chain; `endpoint_url` (or the
    environment's AWS_ENDPOINT_URL) points it at moto, MinIO or R2."""
    import boto3
    from botocore.config import Config

    endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    session = boto3.session.Session(**session_options)
    return session.client(
        "s3",
        endpoint_url=endpoint_url,
        config=Config(
            retries={"max_attempts": S3_ATTEMPTS, "mode": "adaptive"},
            connect_timeout=5,  # an endpoint that does not answer fails in seconds
            max_pool_connections=32,
        ),
    )


class _SizedBody:
    """A streaming object body that also knows its length, so multipart encoders can send
    a Content-Length without reading it into memory."""

    def __init__(self, body: Any, size: int, name: str, on_read: Callable[[int], None]) -> None:
        self._body, self._size, self.name, self._on_read = body, size, name, on_read

    def __len__(self) -> int:
        return self._size

    def read(self, amount: int | None = -1) -> bytes:
        data: bytes = self._body.read(amount if amount is not None and amount >= 0 else None)
        self._on_read(len(data))
        return data


class S3Source:
    def __init__(
        self,
        location: str,
        *,
        client: Any = None,
        keys: Sequence[str] | None = None,
        path_filter: PathFilter | None = None,
    ) -> None:
        self.bucket, self.prefix = parse_s3_uri(location)
        self.location = location
        self.keys = list(keys) if keys is not None else None
        self.ignored: Counter[str] = Counter()
        self.client = client or make_client()
        self.path_filter = path_filter or PathFilter()
        self.bytes_read = 0
        self.remote = True
        self.api_calls = 0

    def _relative(self, key: str) -> str:
        """The key below the prefix: "inbox/a.jpg" for "inbox/", and for "inbox" too (one
        "/" goes: "inbox//a.jpg" stays "/a.jpg", another object than "inbox/a.jpg")."""
        if self.prefix and key.startswith(self.prefix):
            rest = key[len(self.prefix) :]
            if not self.prefix.endswith("/"):
                rest = rest.removeprefix("/")
            return rest or key.rsplit("/", 1)[-1]
        return key

    def list(self) -> Iterator[SourceItem]:
        if self.keys is not None:
            yield from (self._stat(key) for key in self.keys)
            return
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                self.api_calls += 1
                for entry in page.get("Contents", []):
                    key = entry["Key"]
                    relative = self._relative(key)
                    kind = junk_kind(relative)
                    if kind is not None and not key.endswith("/"):
                        self.ignored[kind] += 1
                    if key.endswith("/") or kind or not self.path_filter.wants(relative):
                        continue
                    yield SourceItem(
                        object_uri(self.bucket, key),
                        relative,
                        int(entry["Size"]),
                        entry.get("ETag", "").strip('"'),
                    )
        except self.client.exceptions.NoSuchBucket:
            raise SourceError(f"no such bucket: {self.bucket}") from None
        except Exception as error:
            if _is_unreachable(error):
                raise SourceError(
                    f"cannot reach the S3 endpoint for {self.location} ({S3_ATTEMPTS} tries):"
                    f" {error}"
                ) from None
            if _is_client_error(error):
                raise SourceError(f"cannot list {self.location}: {_error_code(error)}") from None
            raise

    def _stat(self, key: str) -> SourceItem:
        relative = self._relative(key)
        try:
            self.api_calls += 1
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as error:
            if not _is_client_error(error):
                raise
            return SourceItem(
                object_uri(self.bucket, key),
                relative,
                0,
                "",
                f"cannot read object: {_error_code(error)}",
            )
        version = head.get("ETag", "").strip('"')
        if head.get("VersionId"):
            version += f"@{head['VersionId']}"
        return SourceItem(
            object_uri(self.bucket, key), relative, int(head["ContentLength"]), version
        )

    def _key(self, item: SourceItem) -> str:
        return parse_s3_uri(item.uri)[1]

    @property
    def root_uri(self) -> str:
        return object_uri(self.bucket, self.prefix)

    def holds(self, uri: str) -> bool | None:
        if not uri.startswith("s3://"):
            return None
        bucket, key = parse_s3_uri(uri)
        try:
            self.api_calls += 1
            self.client.head_object(Bucket=bucket, Key=key)
        except Exception as error:
            if _is_client_error(error) and _error_code(error) in ("404", "NoSuchKey", "NotFound"):
                return False
            return None  # no access, no connection: cannot tell
        return True

    def read_head(self, item: SourceItem, length: int) -> bytes:
        return self.read_range(item, 0, length)

    def read_range(self, item: SourceItem, start: int, length: int) -> bytes:
        if length <= 0 or start >= item.size:
            return b""
        end = min(start + length, item.size) - 1
        self.api_calls += 1
        answer = self.client.get_object(
            Bucket=self.bucket, Key=self._key(item), Range=f"bytes={start}-{end}"
        )
        data: bytes = answer["Body"].read()
        self.bytes_read += len(data)
        return data

    @contextmanager
    def open(self, item: SourceItem) -> Iterator[BinaryIO]:
        self.api_calls += 1
        answer = self.client.get_object(Bucket=self.bucket, Key=self._key(item))
        body = answer["Body"]
        try:
            # Reads as a binary file does, which is all its users ask (Source.open says
            # BinaryIO for the local source's real files).
            yield _SizedBody(body, item.size, item.name, self._count)  # type: ignore[misc]
        finally:
            body.close()

    def _count(self, amount: int) -> None:
        self.bytes_read += amount


def _is_client_error(error: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(error, (ClientError, BotoCoreError))


def _is_unreachable(error: Exception) -> bool:
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

    return isinstance(error, (EndpointConnectionError, ConnectTimeoutError))


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") or type(error).__name__
