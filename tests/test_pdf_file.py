"""Our PDFs are written with fpdf2's objects listing their keys once per kind, and page contents
deflated by ISA-L at its level 1: the same objects as fpdf2 writes itself, pages that read and scan
the same, and fpdf2 left as it was found."""
from __future__ import annotations

import contextlib
import re
import zlib

import fpdf
import fpdf.syntax
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from fpdf.output import PDFPage
from fpdf.syntax import PDFContentStream, PDFObject

from batchship.writers import pdf_file
from batchship.writers.labels import render_labels
from test_labels import RECIPIENTS, decode, label, page_text

# The creation time and the file id change from one writing to the next.
_DATED = re.compile(rb"/CreationDate \([^)]*\)|/ID \[<[0-9A-F]+><[0-9A-F]+>\]")


def _labels():
    return [label(i, recipient=RECIPIENTS[i % len(RECIPIENTS)]) for i in range(1, 13)]


def test_listing_keys_once_writes_the_bytes_fpdf2_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_file, "CONTENT_LEVEL", PDFContentStream._COMPRESSION_LEVEL)
    monkeypatch.setattr(pdf_file, "DEFLATE", zlib)
    for size in ("100x150", "A4x4"):
        render_labels(_labels(), tmp_path / "lean.pdf", size=size, cut_marks=True, workers=1)
        with monkeypatch.context() as plain:
            plain.setattr(pdf_file, "lean_output", contextlib.nullcontext)
            render_labels(_labels(), tmp_path / "plain.pdf", size=size, cut_marks=True, workers=1)
        lean, plain_bytes = ((tmp_path / name).read_bytes() for name in ("lean.pdf", "plain.pdf"))
        assert b"/Type /Page" in lean and len(_DATED.findall(lean)) == 2
        assert _DATED.sub(b"", lean) == _DATED.sub(b"", plain_bytes), size


def test_lean_pages_read_and_scan_as_before_and_fpdf2_is_restored(tmp_path, monkeypatch):
    labels = _labels()
    serializers = PDFPage.serialize, PDFContentStream.serialize
    render_labels(labels, tmp_path / "lean.pdf", workers=1)
    with monkeypatch.context() as plain:
        plain.setattr(pdf_file, "lean_output", contextlib.nullcontext)
        render_labels(labels, tmp_path / "plain.pdf", workers=1)
    lean, plain_pdf = pdfium.PdfDocument(tmp_path / "lean.pdf"), pdfium.PdfDocument(tmp_path / "plain.pdf")
    try:
        assert len(lean) == len(plain_pdf) == len(labels)
        for page, same, lb in zip(lean, plain_pdf, labels):
            assert decode(page) == [lb.tracking_number]
            assert page_text(page) == page_text(same)
    finally:
        lean.close()
        plain_pdf.close()
    assert PDFPage._build_obj_dict is PDFObject._build_obj_dict
    assert "_build_obj_dict" not in PDFContentStream.__dict__
    assert (PDFPage.serialize, PDFContentStream.serialize) == serializers and "serialize" not in PDFPage.__dict__
    assert PDFContentStream._COMPRESSION_LEVEL == -1 and fpdf.syntax.zlib is zlib


def test_page_contents_are_zlib_streams_no_larger_than_zlib_writes(tmp_path):
    """ISA-L's streams are the zlib format every PDF reader inflates, and smaller than zlib's level 1."""
    render_labels(_labels(), tmp_path / "labels.pdf", workers=1)
    for page in PdfReader(tmp_path / "labels.pdf").pages:
        stream = page["/Contents"].get_object()
        assert stream["/Filter"] == "/FlateDecode"
        deflated = stream._data
        raw = zlib.decompress(deflated)
        assert b" Tj" in raw and b" re" in raw          # text and the barcode's bars
        assert len(deflated) <= len(zlib.compress(raw, 1))


def test_a_document_that_fails_to_write_leaves_no_file_and_fpdf2_restored(tmp_path):
    class Failing:
        def output(self, name):
            with open(name, "wb") as f:
                f.write(b"%PDF-1.4 half")
            raise RuntimeError("disk full")
    target = tmp_path / "labels.pdf"
    try:
        pdf_file.save_pdf(Failing(), target)
    except RuntimeError:
        pass
    assert list(tmp_path.iterdir()) == []
    assert PDFPage._build_obj_dict is PDFObject._build_obj_dict and PDFContentStream._COMPRESSION_LEVEL == -1
    assert fpdf.syntax.zlib is zlib


def _varied_document(compress: bool) -> fpdf.FPDF:
    """Pages of two sizes and orientations, a link, a page duration and a transition, text in a core
    font: what fpdf2 writes into page objects beyond our labels' own keys."""
    pdf = fpdf.FPDF(unit="mm", format=(100, 150))
    pdf.set_compression(compress)
    pdf.set_font("helvetica", size=10)
    pdf.add_page()
    pdf.cell(40, 10, "first (page) \\ one", link="https://example.com/a?b=1")
    pdf.add_page(format="A4", orientation="L", duration=3, transition=fpdf.transitions.SplitTransition("V", "O"))
    pdf.cell(40, 10, "second")
    pdf.add_page()
    return pdf


def test_written_in_one_step_any_page_object_is_the_bytes_fpdf2_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_file, "CONTENT_LEVEL", PDFContentStream._COMPRESSION_LEVEL)
    monkeypatch.setattr(pdf_file, "DEFLATE", zlib)
    for compress in (True, False):
        pdf_file.save_pdf(_varied_document(compress), tmp_path / "lean.pdf")
        _varied_document(compress).output(str(tmp_path / "plain.pdf"))
        lean, plain_bytes = ((tmp_path / name).read_bytes() for name in ("lean.pdf", "plain.pdf"))
        assert b"/MediaBox" in lean and b"/Annots" in lean and b"/Dur 3" in lean and b"/Trans" in lean
        assert _DATED.sub(b"", lean) == _DATED.sub(b"", plain_bytes), compress


def test_recurring_parts_are_forms_every_reader_finds_with_their_fonts(tmp_path):
    # pdfium reads each label's box in test_labels.py; pypdf, strict, must find the forms, their
    # fonts through the pages' one /Resources, and their text on every page too.
    path = tmp_path / "labels.pdf"
    render_labels(_labels(), path, workers=1)
    reader = PdfReader(path, strict=True)
    for n, page in enumerate(reader.pages):
        xobjects = page["/Resources"]["/XObject"].values()
        assert sum(ref.get_object()["/Subtype"] == "/Form" for ref in xobjects) == 2
        text = page.extract_text()
        assert "CUSTOMS DECLARATION CN 22" in text and "I certify that the particulars" in text, n
        assert "From: Shenzhen Example Trading Co." in text, n
    assert sum(b" Do Q" in page.get_contents().get_data() for page in reader.pages) == len(reader.pages) - 1


def test_a_form_needs_the_document_s_one_resources(tmp_path):
    pdf = fpdf.FPDF()
    pdf.add_page()
    with pytest.raises(ValueError, match="single_resources_object"):
        pdf_file.form_xobject(pdf, "0 0 m 10 10 l S")
