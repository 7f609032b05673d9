"""Names batchship derives from input names ("<name> (2).csv", "<name>.errors.xlsx",
"<name>.partial") must fit where input names only just fit: most file systems cap one
name at 255 bytes, and a name that fails to be created after a commit would fail again
on every later run."""
from __future__ import annotations

import hashlib

MAX_NAME_BYTES = 255


def fitting_name(name: str, tag: str = "", tail: str = "") -> str:
    """``stem + tag + suffix + tail`` within MAX_NAME_BYTES: a stem that would make it longer is
    cut and given a short hash of the whole name, so two long names stay two names."""
    dot = name.rfind(".")
    stem, suffix = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    if len(suffix.encode()) > 16:
        stem, suffix = name, ""
    whole = stem + tag + suffix + tail
    if len(whole.encode()) <= MAX_NAME_BYTES:
        return whole
    digest = "~" + hashlib.sha256(name.encode()).hexdigest()[:8]
    room = MAX_NAME_BYTES - len((digest + tag + suffix + tail).encode())
    cut = stem.encode()[:room].decode("utf-8", errors="ignore")
    return cut + digest + tag + suffix + tail
