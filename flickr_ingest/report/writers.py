"""Write the audit report as report.json (for programs), report.md and report.html
(for people). Every value from outside is escaped for its medium (report/escaping.py)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from flickr_ingest.outcomes import Status
from flickr_ingest.private_files import private_folder, write_private_text
from flickr_ingest.report.escaping import html_text, markdown_text, markdown_url
from flickr_ingest.report.model import SANDBOX_NOTICE, AlbumRecord, FileRecord, RunReport
from flickr_ingest.report.records import QUIET
from flickr_ingest.tags import is_machine_tag

#: report.json lists every file up to this many; above, the list is in records.jsonl
#: (one JSON record a line, in the same shape) and report.json says so ("records").
INLINE_RECORDS = 10_000
RECORDS_FILE = "records.jsonl"
_COLOURS = {
    "uploaded": "#2e7d32",
    "replaced": "#00838f",
    "duplicate": "#1565c0",
    "already_uploaded": "#546e7a",
    "changed": "#ad1457",
    "missing": "#6d4c41",
    "skipped": "#8d6e63",
    "deferred": "#ef6c00",
    "failed": "#c62828",
    "planned": "#6a1b9a",
}


#: The report's files, by kind.
REPORT_FILES = {"json": "report.json", "markdown": "report.md", "html": "report.html"}


def write_report(report: RunReport, folder: Path) -> dict[str, Path]:
    private_folder(folder)
    paths = {kind: folder / name for kind, name in REPORT_FILES.items()}
    inline = len(report.files) <= INLINE_RECORDS
    data = report.to_json(with_files=inline)
    if not inline:  # the run's own records file moves in: never the whole list in memory
        report.files.move_to(folder / RECORDS_FILE)
        data["records"] = RECORDS_FILE
    # A lone surrogate (a name's byte that is not UTF-8, in some message) is written as
    # its escape: "\udcf6" inside a JSON string is still valid JSON, and reads back.
    write_private_text(paths["json"], json.dumps(data, indent=2, ensure_ascii=False))
    write_private_text(paths["markdown"], to_markdown(report))
    write_private_text(paths["html"], to_html(report))
    return paths


def listed_files(report: RunReport) -> tuple[list[FileRecord], str | None]:
    """The files report.md and report.html list, and what they leave out, if anything:
    every file of a small run; of a big one, the files that need a look, then the first
    of the others, LISTED_FILES in all (a browser opens them at once; every file is in
    report.json or records.jsonl)."""
    listing, left_out = report.files.listing()
    if not left_out:
        return listing, None
    attention = sum(1 for record in listing if record.status not in QUIET)
    where = RECORDS_FILE if len(report.files) > INLINE_RECORDS else REPORT_FILES["json"]
    note = (
        f"{len(report.files):,} files: listed here are {attention:,} that need a look"
        f" and {len(listing) - attention:,} of the others; every file is in {where}."
    )
    return listing, note


def organize_links(report: RunReport) -> list[tuple[str, str]]:
    """Each organize URL with a short label ("photos 101–200"): a big run has a thousand
    of them, each a hundred ids long, and their text twice over made most of report.html."""
    links, first = [], 1
    for url in report.organize_urls:
        count = urlsplit(url).query.count(",") + 1
        last = first + count - 1
        links.append((f"photos {first:,}–{last:,}" if count > 1 else f"photo {first:,}", url))
        first += count
    return links


def summary_line(report: RunReport) -> str:
    totals = ", ".join(
        f"{count} {status.replace('_', ' ')}" for status, count in report.totals.items() if count
    )
    return f"{len(report.files)} file(s): {totals or 'nothing to do'}"


def calls_line(report: RunReport) -> str:
    """How many requests the run made to Flickr: REST calls by method, uploads apart."""
    sends = {name: n for name, n in report.api_calls.items() if name in ("upload", "replace")}
    rest = {name: n for name, n in report.api_calls.items() if name not in sends}
    by_method = ", ".join(f"{name} {n}" for name, n in sorted(rest.items()))
    sent = ", ".join(f"{n} {name}(s)" for name, n in sorted(sends.items())) or "no uploads"
    return f"Flickr requests: {sent}; {sum(rest.values())} REST call(s)" + (
        f" ({by_method})" if by_method else ""
    )


def sandbox_banner(report: RunReport) -> tuple[str | None, list[str]]:
    """The run's sandbox notice, said once (the run's own note names where the sandbox
    keeps its photos), and the other notes."""
    if not report.sandbox:
        return None, list(report.notes)
    ours = [note for note in report.notes if note.startswith(SANDBOX_NOTICE)]
    others = [note for note in report.notes if not note.startswith(SANDBOX_NOTICE)]
    return (ours[0] if ours else SANDBOX_NOTICE), others


def album_words(album: AlbumRecord) -> str:
    """How many photos an album holds and what this run did to it, in plain words."""
    photos = f"{album.photo_count:,} photo{'' if album.photo_count == 1 else 's'}"
    if album.created:
        return f"{photos}, a new album"
    if album.added:
        return f"{photos}, {album.added:,} of them put in by this run"
    return f"{photos}, none put in by this run"


def to_markdown(report: RunReport) -> str:
    banner, notes = sandbox_banner(report)
    lines = [
        f"# flickr-ingest report: {report.run_id}",
        "",
        *([f"> **{markdown_text(banner[0].upper() + banner[1:])}**", ""] if banner else []),
        f"- source: {markdown_text(report.source)}",
        f"- account: {markdown_text(report.account)}",
        f"- started {report.started_at}, finished {report.finished_at}",
        f"- {summary_line(report)}"
        + (" (dry run: nothing was uploaded)" if report.dry_run else ""),
        f"- {calls_line(report)}",
        "",
        "| status | files |",
        "|---|---|",
        *[f"| {status} | {count} |" for status, count in report.totals.items()],
        "",
    ]
    lines += [f"> {markdown_text(note)}" for note in notes] + ([""] if notes else [])
    if report.organize_urls:
        lines += ["## Organize on Flickr", ""]
        links = organize_links(report)
        lines += [f"- [{label}]({markdown_url(url)})" for label, url in links] + [""]
    if report.albums:
        lines += ["## Albums", ""]
        lines += [
            f"- [{markdown_text(a.title)}]({markdown_url(a.url)}): {album_words(a)}"
            for a in sorted(report.albums, key=lambda album: album.title.casefold())
        ] + [""]
        lines += [
            f"> album {markdown_text(a.title)}: {markdown_text(p)}"
            for a in report.albums
            for p in a.problems
        ]
    listing, left_out = listed_files(report)
    lines += ["## Files", ""] + ([f"> {markdown_text(left_out)}", ""] if left_out else [])
    lines += ["| file | status | photo | album | reason |", "|---|---|---|---|---|"]
    for record in listing:
        photo = record.photo_id or record.duplicate_of or ""
        lines.append(
            f"| {markdown_text(record.relative_path)} | {record.status} | {markdown_text(photo)}"
            f" | {markdown_text(record.album)}"
            f" | {markdown_text(record.reason)} |"
        )
    return "\n".join(lines) + "\n"


def _row(record: FileRecord) -> str:
    e = html_text
    thumb = f"<img src='{e(record.thumbnail)}' alt='' loading='lazy'>" if record.thumbnail else ""
    colour = _COLOURS.get(record.status, "#000")
    warnings = "".join(f"<li>{e(w)}</li>" for w in record.warnings)
    machine_tags = [t for t in record.tags if is_machine_tag(t)]
    words = [t for t in record.tags if t not in machine_tags]
    tags = " ".join(f"<span class='tag'>{e(t)}</span>" for t in words)
    if machine_tags:  # the checksum tag is long and for machines: folded away
        spans = " ".join(f"<span class='tag'>{e(t)}</span>" for t in machine_tags)
        tags += (
            f"<details class='machine'><summary>{len(machine_tags)} machine tag(s)</summary>"
            f"{spans}</details>"
        )
    warning_list = f"<ul class='warnings'>{warnings}</ul>" if warnings else ""
    code = f" (code {record.error_code})" if record.error_code is not None else ""
    return (
        f"<tr class='{e(record.status)}'><td class='thumb'>{thumb}</td>"
        f"<td><div class='path'>{e(record.relative_path)}</div>"
        f"<div class='title'>{e(record.title or '')}</div>"
        f"<div class='tags'>{tags}</div>{warning_list}</td>"
        f"<td class='nowrap' style='color:{colour}'>{e(record.status)}</td>"
        f"<td class='nowrap'>{e(record.photo_id or record.duplicate_of or '')}</td>"
        f"<td class='album'>{e(record.album or '')}</td>"
        f"<td class='reason'>{e(record.reason or '')}{code}</td>"
        f"<td class='nowrap'>{record.size:,}</td><td class='nowrap'>{record.attempts}</td></tr>"
    )


def to_html(report: RunReport) -> str:
    e = html_text
    totals = "".join(
        f"<li style='color:{_COLOURS[s]}'>{e(s.replace('_', ' '))}: <b>{report.totals[s]}</b></li>"
        for s in report.totals
    )
    links = "".join(
        f"<li><a href='{e(url)}'>{e(label)}</a></li>" for label, url in organize_links(report)
    )
    banner, other_notes = sandbox_banner(report)
    notes = "".join(f"<p class='note'>{e(n)}</p>" for n in other_notes)
    albums = "".join(
        f"<li><a href='{e(a.url)}'>{e(a.title)}</a>: {e(album_words(a))}"
        f"{''.join('; ' + e(p) for p in a.problems)}</li>"
        for a in sorted(report.albums, key=lambda album: album.title.casefold())
    )
    album_section = f"<h2>Albums</h2><ul class='albums'>{albums}</ul>" if albums else ""
    sandbox = f"<p class='sandbox'>{e(banner[0].upper() + banner[1:])}</p>" if banner else ""
    failed = report.files.totals[Status.FAILED]
    listing, left_out = listed_files(report)
    left_out_note = f"<p class='note'>{e(left_out)}</p>" if left_out else ""
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>flickr-ingest report {e(report.run_id)}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
        "td,th{border-bottom:1px solid #ddd;padding:4px;vertical-align:top;text-align:left}"
        ".thumb img{max-width:96px;max-height:96px}"
        ".tag{background:#eef;margin-right:3px;padding:0 3px;display:inline-block;"
        "max-width:100%}.path,.reason,.tags,.organize a{overflow-wrap:anywhere}"
        ".nowrap{white-space:nowrap}"
        "details.machine summary{color:#777;cursor:pointer}"
        ".path{font-family:monospace}.warnings{color:#8d6e63;margin:0}"
        ".sandbox{background:#ffe8a3;padding:.5em}"
        ".note{background:#fdecea;padding:.5em}</style></head><body>"
        f"<h1>flickr-ingest report</h1>{sandbox}{notes}"
        f"<p>Run <code>{e(report.run_id)}</code> of <code>{e(report.source)}</code>"
        f" to {e(report.account)}, {e(report.started_at)} – {e(report.finished_at)}."
        f" {failed} failed.</p><p class='calls'>{e(calls_line(report))}</p>"
        f"<ul class='totals'>{totals}</ul>"
        "<h2>Organize on Flickr</h2>"
        f"<ul class='organize'>{links or '<li>nothing uploaded</li>'}</ul>{album_section}"
        f"<h2>Files</h2>{left_out_note}<table><tr><th></th><th>file</th><th>status</th>"
        "<th>photo</th><th>album</th><th>reason</th>"
        "<th>bytes</th><th>attempts</th></tr>"
        + "".join(_row(record) for record in listing)
        + "</table></body></html>"
    )
