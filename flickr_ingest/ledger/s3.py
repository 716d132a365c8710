"""The upload ledger in an S3 prefix: shared by every worker on every machine.

Atomicity comes from S3's conditional writes: a record or a claim is created with
`If-None-Match: *` (the first writer wins), and a stale claim is taken over with
`If-Match: <its ETag>` (a compare-and-swap). Keys under the prefix:

    uploads/<account>/<sha256>          the record: {"photo_id", "source", "recorded"}
    index/<account>/<sha256>/<photo_id> the same, readable from a listing alone
    seen/<hash of source and version>/<sha256>   what a source file's bytes hash to
    paths/<account>/<URI, %-quoted>     {"uri", "photo_id", "sha256", "replacing_…",
                                        "taken", "picture"}: the photo a source file was
                                        last sent as, and what it showed
    paths-hashed/<account>/<hash of URI>  the same, for a URI too long for a key
    claims/<account>/<sha256>           {"holder", "claimed"} while a task uploads them
    albums/<account>/<hash of title>    {"title", "album_id"}: the album made for a title
    claims/<account>/album-<hash>       while a task finds or creates that album

Listings of `index/` and `seen/` are read once and cached, so discovering 10,000 files
costs a few dozen requests, not 10,000.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import asdict, replace
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from flickr_ingest import shallow_json
from flickr_ingest.ledger.base import (
    BUSY,
    CLAIMED,
    RECLAIMED,
    PathRecord,
    Upload,
    holder_id,
    may_take_over,
)
from flickr_ingest.sources.s3 import parse_s3_uri

_MAX_KEY_BYTES = 1024


def _slug(account: str) -> str:
    return quote(account, safe="")


def _precondition_failed(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    return code in ("PreconditionFailed", "412", "ConditionalRequestConflict")


class S3Ledger:
    def __init__(self, location: str, client: Any, *, claim_timeout: float = 900.0) -> None:
        self.bucket, prefix = parse_s3_uri(location)
        self.prefix = prefix.strip("/")
        self.client = client
        self.claim_timeout = claim_timeout
        self._lock = threading.Lock()
        self._seen: dict[str, str] | None = None
        self._index: dict[tuple[str, str], str] = {}
        self._indexed_accounts: set[str] = set()

    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def _list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            keys += [entry["Key"] for entry in page.get("Contents", [])]
        return keys

    def _read_json(self, key: str) -> dict[str, Any] | None:
        """The JSON object at `key`, or None if there is none."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        record: dict[str, Any] = _loads(answer["Body"].read())  # as the ledger wrote it
        return record

    def close(self) -> None:
        """Nothing to close: the client belongs to the run."""

    # -- what source files hash to -------------------------------------------------------

    @staticmethod
    def _source_hash(source: str, version: str) -> str:
        return hashlib.sha256(f"{source}\n{version}".encode()).hexdigest()

    def known_hash(self, source: str, version: str) -> str | None:
        if not version:
            return None
        with self._lock:
            if self._seen is None:
                base = self._key("seen") + "/"
                self._seen = {}
                for key in self._list(base):
                    source_hash, _, sha256 = key[len(base) :].partition("/")
                    self._seen[source_hash] = sha256
            return self._seen.get(self._source_hash(source, version))

    def remember_hash(self, source: str, version: str, sha256: str) -> None:
        if not version:
            return
        source_hash = self._source_hash(source, version)
        self.client.put_object(
            Bucket=self.bucket, Key=self._key("seen", source_hash, sha256), Body=b""
        )
        with self._lock:
            if self._seen is not None:
                self._seen[source_hash] = sha256

    # -- uploads -------------------------------------------------------------------------

    def known_photo_id(self, account: str, sha256: str) -> str | None:
        """From a listing read once per account: cheap, for planning."""
        with self._lock:
            if account not in self._indexed_accounts:
                base = self._key("index", _slug(account)) + "/"
                for key in self._list(base):
                    found, _, photo_id = key[len(base) :].partition("/")
                    self._index[(account, found)] = photo_id
                self._indexed_accounts.add(account)
            return self._index.get((account, sha256))

    def upload_for(self, account: str, sha256: str) -> Upload | None:
        """The authoritative record (one GET)."""
        record = self._read_json(self._key("uploads", _slug(account), sha256))
        return Upload(sha256, record["photo_id"], record["source"]) if record else None

    def record_upload(
        self,
        account: str,
        sha256: str,
        photo_id: str,
        source: str,
        taken: str | None = None,
        picture: str | None = None,
    ) -> Upload:
        """The path first: a run killed before the upload's record finds the file's photo
        by its path, with these very bytes, and records the upload then."""
        self.record_path(account, source, photo_id, sha256, taken, picture)
        body = json.dumps({"photo_id": photo_id, "source": source, "recorded": time.time()})
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key("uploads", _slug(account), sha256),
                Body=body.encode(),
                IfNoneMatch="*",
            )
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key("index", _slug(account), sha256, photo_id),
                Body=b"",
            )
        except ClientError as error:
            if not _precondition_failed(error):
                raise
        self.client.delete_object(
            Bucket=self.bucket, Key=self._key("claims", _slug(account), sha256)
        )
        upload = self.upload_for(account, sha256)
        assert upload is not None  # it was just written, by us or by the first writer
        if upload.photo_id != photo_id:  # another task recorded these bytes first
            self.record_path(account, source, upload.photo_id, sha256, taken, picture)
        return upload

    def forget_upload(self, account: str, sha256: str, photo_id: str) -> None:
        upload = self.upload_for(account, sha256)
        if upload is None or upload.photo_id != photo_id:
            return
        for key in (
            self._key("uploads", _slug(account), sha256),
            self._key("index", _slug(account), sha256, photo_id),
        ):
            self.client.delete_object(Bucket=self.bucket, Key=key)
        with self._lock:
            self._index.pop((account, sha256), None)

    # -- paths ---------------------------------------------------------------------------

    def _path_key(self, account: str, uri: str) -> str:
        """Keys keep the URI readable and listable by prefix (URIs are %-encoded already:
        anything else is encoded here); S3 keys end at 1,024 bytes."""
        key = self._key("paths", _slug(account), quote(uri, safe="/%:"))
        if len(key.encode()) <= _MAX_KEY_BYTES:
            return key
        return self._key("paths-hashed", _slug(account), hashlib.sha256(uri.encode()).hexdigest())

    def photo_at(self, account: str, uri: str) -> PathRecord | None:
        """The record, or None; a record that does not parse (the bucket is shared) is
        taken for none, so that the file is sent as new rather than the run failing."""
        record = self._read_json(self._path_key(account, uri))
        try:
            return _path_record(record) if record is not None else None
        except (KeyError, TypeError):
            return None

    def record_path(
        self,
        account: str,
        uri: str,
        photo_id: str,
        sha256: str,
        taken: str | None = None,
        picture: str | None = None,
    ) -> None:
        self._put_path(account, PathRecord(uri, photo_id, sha256, taken=taken, picture=picture))

    def forget_path(self, account: str, uri: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._path_key(account, uri))

    def begin_replace(self, account: str, uri: str, sha256: str, originalsecret: str) -> None:
        current = self.photo_at(account, uri)
        if current is not None:
            self._put_path(
                account,
                replace(current, replacing_sha256=sha256, replacing_secret=originalsecret),
            )

    def uris_under(self, account: str, prefix: str) -> list[str]:
        """From one listing of the prefix, and of the (few) URIs too long for a key."""
        base = self._key("paths", _slug(account)) + "/"
        # Sources' URIs are %-encoded already, so a key holds its URI unchanged.
        uris = [key[len(base) :] for key in self._list(base + quote(prefix, safe="/%:"))]
        for key in self._list(self._key("paths-hashed", _slug(account)) + "/"):
            record = self._read_json(key) or {}
            uri = record.get("uri")
            if isinstance(uri, str) and uri.startswith(prefix):
                uris.append(uri)
        return uris

    def _put_path(self, account: str, record: PathRecord) -> None:
        body = json.dumps(asdict(record)).encode()
        key = self._path_key(account, record.uri)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body)

    # -- claims --------------------------------------------------------------------------

    def claim(self, account: str, sha256: str, key: str) -> str:
        claim_key = self._key("claims", _slug(account), sha256)
        body = json.dumps({"holder": holder_id(key), "claimed": time.time()}).encode()
        try:
            self.client.put_object(Bucket=self.bucket, Key=claim_key, Body=body, IfNoneMatch="*")
            return CLAIMED
        except ClientError as error:
            if not _precondition_failed(error):
                raise
        try:
            current = self.client.get_object(Bucket=self.bucket, Key=claim_key)
        except ClientError:
            return BUSY  # released between our two requests: the next try will tell
        try:
            held = _loads(current["Body"].read())
        except ValueError:  # not a claim this ledger wrote: none worth keeping
            held = {}
        held = held if isinstance(held, dict) else {}
        if not may_take_over(
            held.get("holder"), held.get("claimed"), key, time.time(), self.claim_timeout
        ):
            return BUSY
        try:  # compare-and-swap: only if nobody else took it over meanwhile
            self.client.put_object(
                Bucket=self.bucket, Key=claim_key, Body=body, IfMatch=current["ETag"]
            )
        except ClientError as error:
            if _precondition_failed(error):
                return BUSY
            raise
        return RECLAIMED

    def release(self, account: str, sha256: str, key: str) -> None:
        claim_key = self._key("claims", _slug(account), sha256)
        try:
            held = _loads(self.client.get_object(Bucket=self.bucket, Key=claim_key)["Body"].read())
        except ClientError:
            return
        if held.get("holder") == holder_id(key):
            self.client.delete_object(Bucket=self.bucket, Key=claim_key)

    # -- albums --------------------------------------------------------------------------

    def _album_key(self, account: str, title: str) -> str:
        return self._key("albums", _slug(account), hashlib.sha256(title.encode()).hexdigest())

    def album_id(self, account: str, title: str) -> str | None:
        record = self._read_json(self._album_key(account, title))
        return record["album_id"] if record else None

    def record_album(self, account: str, title: str, album_id: str) -> str:
        body = json.dumps({"title": title, "album_id": album_id}).encode()
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._album_key(account, title), Body=body, IfNoneMatch="*"
            )
        except ClientError as error:
            if not _precondition_failed(error):
                raise
        recorded = self.album_id(account, title)
        assert recorded is not None  # it was just written, by us or by the first writer
        return recorded

    def forget_album(self, account: str, title: str, album_id: str) -> None:
        key = self._album_key(account, title)
        try:
            current = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return
        if _loads(current["Body"].read())["album_id"] == album_id:
            self.client.delete_object(Bucket=self.bucket, Key=key)


#: The ledger's records nest two levels deep; a deeper one was not written by a ledger.
_MAX_DEPTH = 8


def _loads(body: bytes) -> Any:
    """A record from the bucket, which anyone who may write it can have planted: nesting
    too deep for Python's parser is refused (a ValueError) before it is parsed."""
    return shallow_json.loads(body, max_depth=_MAX_DEPTH)


def _path_record(record: dict[str, Any]) -> PathRecord:
    return PathRecord(
        uri=str(record["uri"]),
        photo_id=str(record["photo_id"]),
        sha256=str(record["sha256"]),
        replacing_sha256=record.get("replacing_sha256"),
        replacing_secret=record.get("replacing_secret"),
        taken=record.get("taken"),
        picture=_text(record.get("picture")),  # records from before prints have none
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
