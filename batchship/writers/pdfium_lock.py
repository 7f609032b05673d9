"""pdfium lets one thread at a time into it, whatever the documents: every use of pypdfium2 in the
run (the label joiner's thread, ZPL's text bitmaps) holds this lock."""
from __future__ import annotations

import threading

PDFIUM = threading.Lock()
