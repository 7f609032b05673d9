"""Tell what a file really is from its first bytes, whatever its name says."""
from __future__ import annotations

from dataclasses import dataclass

HEAD_BYTES = 64 * 1024

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # old .xls, and password-protected .xlsx

# Signatures long enough that no real text table starts with them.
_NOT_A_TABLE = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program file"),
    (b"{\\rtf", "an RTF document"),
    (b"SQLite format 3\x00", "an SQLite database"),
)


@dataclass(frozen=True)
class Sniffed:
    kind: str            # "zip", "ole2", "text" or "other"
    description: str = ""  # for "other": what it looks like, e.g. "a PNG image"


def sniff(head: bytes) -> Sniffed:
    if head.startswith(ZIP_MAGICS):
        return Sniffed("zip")
    if head.startswith(OLE2_MAGIC):
        return Sniffed("ole2")
    for magic, what in _NOT_A_TABLE:
        if head.startswith(magic):
            return Sniffed("other", what)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("other", "a WebP image")
    if head[4:8] == b"ftyp":
        return Sniffed("other", "a video or photo file")
    markup = _markup_kind(head)
    if markup:
        return Sniffed("other", markup)
    return Sniffed("text")


def _markup_kind(head: bytes) -> str:
    # Some back-office tools save an HTML table or Excel 2003 XML under an .xls name.
    start = head[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")):
        return "a web page (HTML)"
    if start.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in head:
            return "an Excel 2003 XML spreadsheet"
        return "an XML document"
    return ""
