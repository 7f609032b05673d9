"""Write a finished fpdf2 document so that readers never see half a file, and write it lean.

fpdf2 serialises each PDF object by listing every attribute of it (``dir``), keeping the ones
that are PDF keys in a dictionary and formatting that; a label file has two such objects a page
(the page and its content stream), and listing alone took a tenth of a label's time. While our
documents are written, those two kinds list their keys once per kind and are written in one step,
names and all (a content stream as bytes, where fpdf2 decodes and encodes it again): the same
bytes (tests/test_pdf_file.py compares the two). Page contents are deflated by ISA-L (``isal``,
Intel's deflate, which writes the same zlib format) at its level 1 rather than by zlib at 6: on
label pages 16 µs a page against zlib's 66 µs at level 6 and 49 µs at level 1, and no larger
than zlib's level 1 (1,410 bytes a page against 1,464).

``form_xobject`` adds a form XObject: operators stored once in the document, which its pages
invoke wherever they draw them (the parts of a label that recur from label to label).
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import fpdf.syntax
from fpdf.output import PDFPage
from fpdf.syntax import Name, PDFContentStream, PDFObject, camel_case
from isal import isal_zlib

CONTENT_LEVEL = 1
DEFLATE = isal_zlib         # the zlib module fpdf2's content streams are compressed with meanwhile
_UNSET = object()
_lean = threading.Lock()        # fpdf2's classes and module are changed while one document is written


def save_pdf(pdf, path: Path) -> None:
    """Write to a temporary name beside ``path``, then rename into place."""
    tmp = path.with_suffix(".tmp")
    try:
        with lean_output():
            pdf.output(str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


_KEYS: dict[type, tuple[str, ...]] = {}


def _keys(obj: PDFObject) -> tuple[str, ...]:
    """What fpdf2's own listing keeps of an object of this kind: public, not a method, not its id."""
    keys = _KEYS.get(type(obj))
    if keys is None:
        keys = _KEYS[type(obj)] = tuple(k for k in dir(obj) if not k.startswith("_") and k not in ("id", "ref")
                                        and not callable(getattr(obj, k)))
    return keys


_NAMES: dict[str, str] = {}


def _fields(self: PDFObject) -> list[str]:
    """The object's "/Key value" lines: what fpdf2's build_obj_dict and create_dictionary_string make
    of it (keys without a value left out)."""
    fields = []
    for key in _keys(self):
        value = getattr(self, key)
        if value is None:
            continue
        if hasattr(value, "value"):
            value = value.value
        if isinstance(value, PDFObject):
            value = value.ref
        elif hasattr(value, "serialize"):
            value = value.serialize(_security_handler=None, _obj_id=self.id)
        elif isinstance(value, bool):
            value = str(value).lower()
        name = _NAMES.get(key) or _NAMES.setdefault(key, f"/{camel_case(key)}")
        fields.append(f"{name} {value}")
    return fields or [""]


_PLAIN = {PDFPage: PDFPage.serialize, PDFContentStream: PDFContentStream.serialize}


def _page_written(self: PDFPage, obj_dict=None, _security_handler=None) -> str:
    if obj_dict or _security_handler is not None:
        return _PLAIN[PDFPage](self, obj_dict, _security_handler)
    return "\n".join((f"{self.id} 0 obj\n<<", *_fields(self), ">>\nendobj"))


def _stream_written(self: PDFContentStream, obj_dict=None, _security_handler=None) -> str | bytes:
    if obj_dict or _security_handler is not None:
        return _PLAIN[PDFContentStream](self, obj_dict, _security_handler)
    head = "\n".join((f"{self.id} 0 obj\n<<", *_fields(self), ">>\nstream\n"))
    return b"".join((head.encode("latin-1"), self._contents, b"\nendstream\nendobj"))


class _Form(PDFContentStream):
    """A form XObject: operators drawn wherever a page invokes it (``Do``), in page coordinates,
    with the page's own resources (the document's one /Resources)."""

    def __init__(self, operators: str, pdf) -> None:
        super().__init__(contents=operators.encode("latin-1"), compress=True)
        self.type = Name("XObject")
        self.subtype = Name("Form")
        self.b_box = f"[0 0 {pdf.w_pt:.2f} {pdf.h_pt:.2f}]"
        self.resources = _PageResources(pdf)
        self._registered = False        # fpdf2 adds a form it finds unregistered to the document


class _PageResources:
    """A reference to the /Resources of the document's pages, which exists once it is written."""

    def __init__(self, pdf) -> None:
        self._pdf = pdf

    def serialize(self, _security_handler=None, _obj_id=None) -> str:
        return self._pdf.pages[1].resources.ref


def form_xobject(pdf, operators: str) -> str:
    """The name a page invokes the new form of ``operators`` by (``/I3 Do``). The document must have
    one /Resources for all its pages (``single_resources_object``): the form uses it too."""
    if not pdf.single_resources_object:
        raise ValueError("a form shares its pages' resources: the document needs single_resources_object")
    catalog = pdf._resource_catalog
    index = catalog.next_xobject_index
    catalog.next_xobject_index += 1
    catalog.form_xobjects.append((index, _Form(operators, pdf)))
    return f"/I{index}"


@contextmanager
def lean_output() -> Iterator[None]:
    changes = [(PDFPage, "serialize", _page_written), (PDFContentStream, "serialize", _stream_written),
               (PDFContentStream, "_COMPRESSION_LEVEL", CONTENT_LEVEL), (fpdf.syntax, "zlib", DEFLATE)]
    with _lean:
        saved = [(owner, name, owner.__dict__.get(name, _UNSET)) for owner, name, _ in changes]
        for owner, name, value in changes:
            setattr(owner, name, value)
        try:
            yield
        finally:
            for owner, name, value in saved:
                if value is _UNSET:
                    delattr(owner, name)
                else:
                    setattr(owner, name, value)
