"""Render answers the way Flickr does: `rest` XML or `json` (optionally JSONP), and
OAuth refusals as plain form-encoded text.

Handlers return bodies in Flickr's JSON shape (attributes as members, text as
`{"_content": …}`, repeated elements as lists); XML is derived from the same shape, so the
two formats can never disagree.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

from flickr_ingest.sandbox.errors import FlickrFault, OAuthProblem

_XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8" ?>\n'


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def _fill(element: ElementTree.Element, body: dict[str, Any]) -> None:
    for name, value in body.items():
        if name == "_content":
            element.text = _scalar(value)
        elif isinstance(value, dict):
            _fill(ElementTree.SubElement(element, name), value)
        elif isinstance(value, list):
            for item in value:
                child = ElementTree.SubElement(element, name)
                if isinstance(item, dict):
                    _fill(child, item)
                else:
                    child.text = _scalar(item)
        elif value is not None:
            element.set(name, _scalar(value))


def xml_answer(body: dict[str, Any]) -> bytes:
    rsp = ElementTree.Element("rsp", stat="ok")
    _fill(rsp, body)
    return _document(rsp)


def xml_fault(fault: FlickrFault) -> bytes:
    rsp = ElementTree.Element("rsp", stat="fail")
    ElementTree.SubElement(rsp, "err", code=str(fault.code), msg=fault.msg)
    for name, value in fault.details.items():
        ElementTree.SubElement(rsp, name).text = value
    return _document(rsp)


def _document(rsp: ElementTree.Element) -> bytes:
    text: bytes = ElementTree.tostring(rsp, encoding="utf-8", xml_declaration=False)
    return _XML_DECLARATION + text


#: A JSONP callback name the sandbox echoes: a dotted JavaScript identifier. Anything else
#: (the name is reflected into a script) gets Flickr's default name instead.
_CALLBACK_NAME = re.compile(r"[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*")
DEFAULT_CALLBACK = "jsonFlickrApi"


def jsonp_callback(params: dict[str, str]) -> str | None:
    """The JSONP function to wrap a JSON answer in, or None for plain JSON. Flickr wraps
    unless `nojsoncallback=1`, in `jsoncallback=name` when given, else `jsonFlickrApi`."""
    if params.get("nojsoncallback") == "1":
        return None
    name = params.get("jsoncallback", "")
    return name if len(name) <= 100 and _CALLBACK_NAME.fullmatch(name) else DEFAULT_CALLBACK


def json_answer(body: dict[str, Any], *, callback: str | None = None) -> bytes:
    return _json({**body, "stat": "ok"}, callback)


def json_fault(fault: FlickrFault, *, callback: str | None = None) -> bytes:
    return _json(
        {"stat": "fail", "code": fault.code, "message": fault.msg, **fault.details}, callback
    )


def _json(document: dict[str, Any], callback: str | None) -> bytes:
    text = json.dumps(document, ensure_ascii=False)
    if callback:
        text = f"{callback}({text})"
    return text.encode("utf-8")


def oauth_refusal(problem: OAuthProblem) -> bytes:
    """`oauth_problem=…` as Flickr writes it: a form-encoded line, not XML or JSON."""
    return urlencode(problem.fields()).encode("utf-8")
