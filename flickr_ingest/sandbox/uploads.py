"""An upload's multipart form, read in the order it arrives.

Flickr signs every form field of an upload but `photo`. A client may carry its OAuth
parameters in the `Authorization` header (python-flickrapi, this project's client) or as
form fields ahead of the file (Flickr's JavaScript SDK, `flickr-sdk` `src/services/
upload.ts` and `replace.ts`; OAuth libraries' default for form posts). For the second kind,
the fields that precede the file part go to a checkpoint the moment the file part's
headers have arrived, before any byte of the file is kept: a refusal there reads no more
of the body. The file itself is spooled (memory, then disk), never held whole in memory.
"""

from __future__ import annotations

import codecs
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from typing import TYPE_CHECKING, BinaryIO, cast

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers, UploadFile
from starlette.requests import Request

if TYPE_CHECKING:  # python-multipart declares it for type checkers only
    from python_multipart.multipart import MultipartCallbacks

#: Fields are small (a title, tags, the OAuth parameters); files are the photo and at most
#: one other part, which is read and dropped.
MAX_FIELDS = 200
MAX_FIELD_BYTES = 1024 * 1024
MAX_FILES = 2
_SPOOL_BYTES = 1024 * 1024

Fields = list[tuple[str, str]]
#: Called with the fields that precede the file part; raises to refuse the upload.
Checkpoint = Callable[[Fields], Awaitable[None]]


class MalformedForm(Exception):
    """Not a multipart form the sandbox can read (Flickr's answer is "no photo")."""


@dataclass
class UploadForm:
    """Every text field in order, the `photo` part once it ended (None if there was none),
    and how many fields preceded the first file part (None if no file part came)."""

    fields: Fields = field(default_factory=list)
    photo: UploadFile | None = None
    fields_before_file: int | None = None
    spools: list[UploadFile] = field(default_factory=list)

    async def close(self) -> None:
        for spool in self.spools:
            await spool.close()


@dataclass
class _Part:
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    name: str = ""
    data: bytearray = field(default_factory=bytearray)
    file: UploadFile | None = None  # the photo's spool
    is_file: bool = False


class _FormReader:
    """python-multipart's callbacks, collecting into an `UploadForm`. File bytes wait in
    `pending` until `flush`, so that the checkpoint runs before any is kept."""

    def __init__(self, charset: str) -> None:
        self.form = UploadForm()
        self.pending: list[tuple[UploadFile, bytes]] = []
        self._charset = charset
        self._part = _Part()
        self._header_name = b""
        self._header_value = b""
        self._files = 0

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_field_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _decode(self, raw: bytes) -> str:
        try:
            return raw.decode(self._charset)
        except UnicodeDecodeError:
            return raw.decode("latin-1")

    def _begin(self) -> None:
        self._part = _Part()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_field_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._part.headers.append((self._header_name.lower(), self._header_value))
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        part = self._part
        disposition = dict(part.headers).get(b"content-disposition", b"")
        _, options = parse_options_header(disposition)
        if b"name" not in options:
            raise MalformedForm("a part without a name")
        part.name = self._decode(options[b"name"])
        if b"filename" not in options:
            if len(self.form.fields) >= MAX_FIELDS:
                raise MalformedForm("too many fields")
            return
        part.is_file = True
        self._files += 1
        if self._files > MAX_FILES:
            raise MalformedForm("too many files")
        if self.form.fields_before_file is None:
            self.form.fields_before_file = len(self.form.fields)
        if part.name == "photo" and not self.form.spools:
            # Memory, then disk; the form closes it when the request is done.
            spool = SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
            part.file = UploadFile(
                # A binary file in all but the stubs' name for it (as in Starlette's own parser).
                file=cast(BinaryIO, spool),
                size=0,
                filename=self._decode(options[b"filename"]),
                headers=Headers(raw=part.headers),
            )
            self.form.spools.append(part.file)

    def _data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part.file is not None:
            self.pending.append((part.file, data[start:end]))
        elif not part.is_file:
            if len(part.data) + end - start > MAX_FIELD_BYTES:
                raise MalformedForm("a field past its size limit")
            part.data += data[start:end]
        # any other file part is read and dropped

    def _end(self) -> None:
        part = self._part
        if part.file is not None:
            self.form.photo = part.file  # complete: its closing boundary came
        elif not part.is_file:
            self.form.fields.append((part.name, self._decode(bytes(part.data))))

    async def flush(self) -> None:
        for spool, data in self.pending:
            await spool.write(data)  # to a thread once the spool is on disk
        self.pending.clear()


def _charset(content_type: str) -> str:
    _, options = parse_options_header(content_type)
    charset = options.get(b"charset", b"utf-8").decode("latin-1")
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return "latin-1"


async def read_upload_form(request: Request, checkpoint: Checkpoint) -> UploadForm:
    """Read a `multipart/form-data` body, calling `checkpoint` with the fields before the
    first file part as soon as that part begins. MalformedForm for a broken form; the
    body's own errors (too large, timed out, disconnected) and the checkpoint's pass on."""
    content_type = request.headers.get("content-type", "")
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedForm("no boundary")
    reader = _FormReader(_charset(content_type))
    form = reader.form
    checked = False
    try:
        parser = MultipartParser(boundary, reader.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
            if not checked and form.fields_before_file is not None:
                checked = True
                await checkpoint(form.fields[: form.fields_before_file])
            await reader.flush()
        parser.finalize()
        if form.photo is not None:
            await form.photo.seek(0)
    except FormParserError as error:
        await form.close()
        raise MalformedForm(str(error)) from None
    except BaseException:
        await form.close()
        raise
    return form
