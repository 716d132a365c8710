"""Names from outside reach report.md, report.html and the dashboard's artifacts as text,
never as links, images, HTML or terminal escape sequences (Hardening #3)."""

from __future__ import annotations

import re

import pytest

from flickr_ingest.report.escaping import markdown_text, visible
from flickr_ingest.report.model import AlbumRecord, FileRecord, RunReport
from flickr_ingest.report.records import RecordLog
from flickr_ingest.report.writers import to_html, to_markdown

HOSTILE = [
    "[x](javascript:alert(1))",
    "![t](https://attacker.example/p.png)",
    "<img src=x onerror=alert(1)>",
    "a|b\nc",
    "bell\x07 esc\x1b[31mred",
    "\u202egpj.exe",
    "`code` *em* _u_ # h",
]
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def _report() -> RunReport:
    files = tuple(
        FileRecord(
            source=f"file:///in/{name}",
            relative_path=name,
            size=1,
            kind="photo",
            status="failed",
            reason=f"because {name}",
            title=name,
            album=name,
        )
        for name in HOSTILE
    )
    album = AlbumRecord(
        HOSTILE[0],
        "72157",
        "https://www.flickr.com/photos/x/albums/72157",
        1,
        1,
        False,
        (HOSTILE[1],),
    )
    return RunReport(
        run_id="r1",
        started_at="t0",
        finished_at="t1",
        source="s3://b/" + HOSTILE[1],
        sandbox=False,
        account=HOSTILE[2],
        files=RecordLog.of(files),
        notes=(f"note {HOSTILE[0]}",),
        albums=(album,),
    )


def _live_markdown(text: str) -> list[str]:
    """Links, images and HTML tags that a Markdown renderer would make live, other than
    the links to Flickr's pages the report makes itself."""
    unescaped = re.sub(r"\\.", "", text)  # drop every backslash-escaped character
    ours = re.sub(r"\]\(https://www\.flickr\.com/[^)\s]*\)", "", unescaped)
    return re.findall(r"\]\(|<[a-zA-Z]|!\[", ours)


def test_report_md_has_no_live_links_images_html_or_controls() -> None:
    markdown = to_markdown(_report())
    assert _live_markdown(markdown) == [], markdown
    assert not RAW_CONTROLS.search(markdown)
    assert "\\\\x1b" in markdown and "U+202E" in markdown  # shown, not sent


def test_report_html_shows_controls_visibly() -> None:
    page = to_html(_report())
    assert not RAW_CONTROLS.search(page)
    assert "\\x1b" in page and "U+202E" in page and "&lt;img src=x" in page


def test_the_dashboard_table_cells_are_escaped() -> None:
    from flows.artifacts import table_rows

    for row in table_rows(_report()):
        for value in row.values():
            if isinstance(value, str):
                assert _live_markdown(value) == [] and "\n" not in value
                assert not RAW_CONTROLS.search(value)


@pytest.mark.parametrize("name", HOSTILE)
def test_escaping_keeps_the_text_readable(name: str) -> None:
    shown = re.sub(r"\\(.)", r"\1", markdown_text(name))  # what a renderer displays
    assert shown == visible(name).replace("\n", " ")


@pytest.mark.parametrize(
    "name",
    [
        "flickr-ingest-demo",
        "demo (62187499831@N09) on the sandbox",
        "IMG_1234.jpg",
        "2019-06-12 14.03.22.jpg",
        "Tom & Jerry, 12:03 (copy).jpg",
        "011499.jpg",
    ],
)
def test_plain_names_stay_plain_in_markdown(name: str) -> None:
    """report.md is read in terminals: only what Markdown could make live is escaped."""
    assert markdown_text(name) == name


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("https://attacker.example/x", "https\\://attacker.example/x"),  # GitHub autolinks
        ("www.attacker.example", "www\\.attacker.example"),
        ("me@attacker.example", "me\\@attacker.example"),
        ("&lt;img&gt;", "\\&lt;img\\&gt;"),  # an entity would turn into "<"
        ("1975. Summer", "1975\\. Summer"),  # an ordered list where it starts a line
        ("# Holidays", "\\# Holidays"),
        ("_u_ a*b*", "\\_u\\_ a\\*b\\*"),
    ],
)
def test_what_markdown_would_make_live_is_escaped(name: str, escaped: str) -> None:
    assert markdown_text(name) == escaped
