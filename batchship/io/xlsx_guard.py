"""Checks an .xlsx/.xlsm container before any spreadsheet parser touches it.

Only the zip central directory is trusted for the first checks (entry count,
declared sizes, compression ratios). The XML parts are then inflated by us, with
the declared size enforced, because the parser's zip reader does not stop at the
declared size: an entry that lies about its size would otherwise inflate freely.
"""
from __future__ import annotations

import posixpath
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as SafeET

from ..config import Limits
from ..errors import BatchshipError, FileRejected, Problem
from .sizes import human_size

# Small entries are skipped by the ratio check: a 40 KB styles part that
# deflates 300:1 is harmless, a bomb needs volume.
RATIO_CHECK_MIN_BYTES = 1024 * 1024
PROLOG_SCAN_BYTES = 64 * 1024
READ_CHUNK = 1024 * 1024

_REL_OFFICE_DOCUMENT = "/officeDocument"
_REL_WORKSHEET = "/worksheet"

_BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol4;</lolz>"""


class UnsafeXmlParser(BatchshipError):
    code = "unsafe_xml"


def verify_xml_safety() -> None:
    """Fail loudly at start-up if XML entity expansion is not being refused."""
    try:
        SafeET.fromstring(_BILLION_LAUGHS)
    except (defusedxml.EntitiesForbidden, defusedxml.DTDForbidden):
        return
    except Exception as exc:  # any other failure still means the guard is not what we expect
        raise UnsafeXmlParser(f"XML safety check failed: defusedxml raised {exc.__class__.__name__}: {exc}")
    raise UnsafeXmlParser("XML safety check failed: defusedxml expanded an entity bomb instead of refusing it")


@dataclass(frozen=True)
class WorkbookParts:
    entries: dict[str, zipfile.ZipInfo]
    sheet_parts: dict[str, str]      # sheet name -> worksheet part name, as the workbook declares them


def _reject(path: Path, message: str) -> FileRejected:
    return FileRejected(path.name, [Problem(message)])


def open_central_directory(path: Path, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    """Read the zip table of contents and apply the size/entry/ratio caps."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise _reject(path, f"the workbook is damaged or incomplete: {_zip_reason(exc)}")
    except (OSError, EOFError, ValueError, struct.error, NotImplementedError) as exc:
        raise _reject(path, f"the workbook is damaged or incomplete: {exc}")
    if len(infos) > limits.max_zip_entries:
        raise _reject(path, f"the workbook has {len(infos):,} parts inside; the limit is "
                            f"{limits.max_zip_entries:,} (limits.max_zip_entries)")
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        raise _reject(path, f"the workbook unpacks to {human_size(total)}; the limit is "
                            f"{human_size(limits.max_uncompressed_bytes)} (limits.max_uncompressed_bytes)")
    for info in infos:
        if info.file_size >= RATIO_CHECK_MIN_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise _reject(path, f"the workbook part {info.filename} unpacks {ratio:,.0f} times larger than "
                                    f"it is stored ({human_size(info.compress_size)} to {human_size(info.file_size)}); the "
                                    f"limit is {limits.max_compression_ratio} (limits.max_compression_ratio): "
                                    f"this looks like a zip bomb")
        if info.flag_bits & 0x1:
            raise _reject(path, "the workbook is password-protected: remove the password and save it again")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _reject(path, f"the workbook part {info.filename} uses a compression method Excel does not "
                                f"write; open the file in Excel and save it again as .xlsx")
    entries = {i.filename: i for i in infos}
    if len(entries) != len(infos):
        raise _reject(path, "the workbook is damaged: it contains the same part twice")
    return entries


def _zip_reason(exc: Exception) -> str:
    text = str(exc)
    if "not a zip file" in text.lower():
        return "its table of contents is missing (was the download or copy cut short?)"
    return text


def iter_part(path: Path, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """Yield the inflated bytes of one entry, refusing to produce more than its declared size."""
    declared = info.file_size
    problem = f"the workbook is damaged or incomplete: part {info.filename} "
    produced = 0
    crc = 0

    def checked(piece: bytes) -> bytes:
        nonlocal produced, crc
        produced += len(piece)
        if produced > declared:
            raise _reject(path, problem + "unpacks to more than its declared size: this looks like a zip bomb")
        crc = zlib.crc32(piece, crc)
        return piece

    try:
        fh = open(path, "rb")
        size = fh.seek(0, 2)
    except OSError as exc:
        raise _reject(path, f"the workbook could not be read ({exc.strerror or exc})")
    if not 0 <= info.header_offset <= size - 30 or info.compress_size > size:
        fh.close()
        raise _reject(path, problem + "cannot be found where the table of contents says")
    with fh:
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise _reject(path, problem + "cannot be found where the table of contents says")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        fh.seek(info.header_offset + 30 + name_len + extra_len)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type == zipfile.ZIP_DEFLATED else None
        left = info.compress_size
        while left > 0:
            raw = fh.read(min(READ_CHUNK, left))
            if not raw:
                raise _reject(path, problem + "is cut short")
            left -= len(raw)
            if inflater is None:
                yield checked(raw)
                continue
            data = raw
            while data and not inflater.eof:
                try:
                    out = inflater.decompress(data, declared - produced + 1)
                except zlib.error:
                    # zlib's own words ("invalid distance too far back") mean nothing to staff
                    raise _reject(path, problem + "is corrupt: its packed data cannot be unpacked")
                if out:
                    yield checked(out)
                data = inflater.unconsumed_tail
        if inflater is not None:
            tail = inflater.flush()
            if tail:
                yield checked(tail)
            if not inflater.eof:
                raise _reject(path, problem + "is cut short or corrupt")
    if produced != declared or crc != info.CRC:
        raise _reject(path, problem + "does not match its checksum")


def check_prolog(path: Path, part: str, head: bytes) -> None:
    """Reject a part that declares a DOCTYPE or entities; cheap: only the prolog is looked at."""
    text = _prolog_text(head)
    lowered = text.upper()
    for marker in ("<!DOCTYPE", "<!ENTITY"):
        pos = lowered.find(marker)
        if pos != -1 and pos < _root_start(text):
            raise _reject(path, f"the workbook part {part} contains a {marker[2:]} declaration, which Excel "
                                f"never writes; the file may be crafted to attack the reader, so it is not read")
    if _root_start(text) == len(text) and len(head) >= PROLOG_SCAN_BYTES:
        raise _reject(path, f"the workbook part {part} does not start like an Excel XML part")


def _prolog_text(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
    if len(head) >= 2 and (head[0] == 0 or head[1] == 0):
        return head[: len(head) // 2 * 2].decode("utf-16-be" if head[0] == 0 else "utf-16-le", errors="replace")
    return head.decode("utf-8", errors="replace")


def _root_start(text: str) -> int:
    """Index of the first element tag, skipping the XML declaration, comments and DOCTYPE."""
    pos = 0
    while True:
        pos = text.find("<", pos)
        if pos == -1:
            return len(text)
        nxt = text[pos + 1: pos + 2]
        if nxt and (nxt.isalpha() or nxt in "_:"):
            return pos
        if text.startswith("<!--", pos):
            end = text.find("-->", pos + 4)
            if end == -1:
                return len(text)
            pos = end + 3
        else:
            pos += 1


def read_small_part(path: Path, info: zipfile.ZipInfo, cap: int = 16 * 1024 * 1024):
    """Inflate and parse a small XML part (workbook, relationships) with defusedxml."""
    if info.file_size > cap:
        raise _reject(path, f"the workbook part {info.filename} is unusually large ({human_size(info.file_size)})")
    data = b"".join(iter_part(path, info))
    check_prolog(path, info.filename, data[:PROLOG_SCAN_BYTES])
    try:
        return SafeET.fromstring(data)
    except (defusedxml.DefusedXmlException, SafeET.ParseError) as exc:
        raise _reject(path, f"the workbook is damaged: part {info.filename} is not valid XML ({exc})")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _relationships(path: Path, entries: dict[str, zipfile.ZipInfo], part: str) -> list[tuple[str, str, str]]:
    """(Id, Type, resolved target part) of one part's relationships ("" = package root)."""
    rels = _rels_name(part) if part else "_rels/.rels"
    info = entries.get(rels)
    if info is None:
        return []
    base = posixpath.dirname(part)
    found = []
    for rel in read_small_part(path, info):
        if _local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        found.append((rel.get("Id", ""), rel.get("Type", ""), resolved))
    return found


def describe_zip(entries: dict[str, zipfile.ZipInfo]) -> str:
    """What a zip that is not an Excel workbook looks like, for the rejection message."""
    names = set(entries)
    if "xl/workbook.bin" in names:
        return "an Excel binary workbook (.xlsb): save it as .xlsx"
    if "word/document.xml" in names:
        return "a Word document"
    if any(n.startswith("ppt/") for n in names):
        return "a PowerPoint presentation"
    if "mimetype" in names or "content.xml" in names:
        return "an OpenDocument file: save it as .xlsx"
    return "a ZIP archive"


def locate_parts(path: Path, entries: dict[str, zipfile.ZipInfo]) -> WorkbookParts:
    """Find the workbook part and each worksheet's part the way a spreadsheet reader does."""
    workbook = next((t for _, typ, t in _relationships(path, entries, "")
                     if typ.endswith(_REL_OFFICE_DOCUMENT) and t in entries), None)
    if workbook is None and "xl/workbook.xml" in entries:
        workbook = "xl/workbook.xml"
    if workbook is None:
        raise _reject(path, f"this is not a spreadsheet or text table (looks like {describe_zip(entries)})")
    targets = {rid: t for rid, typ, t in _relationships(path, entries, workbook) if typ.endswith(_REL_WORKSHEET)}
    sheet_parts: dict[str, str] = {}
    for el in read_small_part(path, entries[workbook]).iter():
        if _local(el.tag) != "sheet":
            continue
        rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
        if rid in targets:
            sheet_parts[el.get("name", "")] = targets[rid]
    return WorkbookParts(entries=entries, sheet_parts=sheet_parts)
