"""Work out the encoding of a text table: BOM first, then strict UTF-8, then a short
list of encodings real exports use (Chinese tools: GB18030/GBK; Japanese Excel:
Shift_JIS as cp932; Taiwan/HK: Big5; Korean: EUC-KR; Western Excel: cp1252)."""
from __future__ import annotations

import unicodedata

import charset_normalizer

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
CANDIDATES = ("gb18030", "cp932", "big5", "euc_kr", "cp1252")
_MAX_CONTROL_SHARE = 0.01
_MAX_CHAOS = 0.2
# Hanja share of the Korean reading above which it is taken for Chinese read wrongly:
# GBK text gives about 40%, present-day Korean text close to 0%.
_MIN_HANJA_SHARE = 0.05


class NotText(ValueError):
    """The bytes are not text in any encoding we accept; the message says why."""


def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text, encoding name). Raises NotText."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(encoding.replace("-sig", ""))
            except UnicodeDecodeError:
                raise NotText(f"the file starts with a {encoding.upper()} marker but its text is damaged")
            return text, encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        guess = _utf16_without_bom(data)
        if guess:
            return guess
        raise NotText("binary data")
    for encoding in _ranked_candidates(data):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if _looks_like_text(text):
            return text, encoding
    raise NotText("could not work out the text encoding: save the file as UTF-8 (Excel: "
                  "\"CSV UTF-8\") and try again")


def other_readings(data: bytes, chosen: str) -> list[str]:
    """Other encodings that read the bytes as plausible text too, best first.

    Short Chinese headers over ASCII data are ambiguous between GBK, Big5 and
    EUC-KR; only the header row tells which reading is the real one, so the
    importer tries these when the chosen reading's header is not recognised."""
    if chosen not in CANDIDATES:
        return []   # a BOM, UTF-8 or UTF-16 reading is not a guess
    out = []
    for encoding in dict.fromkeys([*_ranked_candidates(data), *CANDIDATES]):
        if encoding == chosen:
            continue
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if _looks_like_text(text):
            out.append(encoding)
    return out


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    # ASCII-heavy UTF-16 puts a zero byte in every other position.
    sample = data[:4096]
    even_zeros = sample[0::2].count(0)
    odd_zeros = sample[1::2].count(0)
    half = max(len(sample) // 2, 1)
    if odd_zeros > 0.3 * half and even_zeros < 0.05 * half:
        encoding = "utf-16-le"
    elif even_zeros > 0.3 * half and odd_zeros < 0.05 * half:
        encoding = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    return (text, encoding) if _looks_like_text(text) else None


def _ranked_candidates(data: bytes) -> list[str]:
    matches = charset_normalizer.from_bytes(data, cp_isolation=list(CANDIDATES))
    ranked = [m.encoding for m in matches if m.chaos <= _MAX_CHAOS]
    return _chinese_before_korean(data, [e for e in ranked if e in CANDIDATES])


def _chinese_before_korean(data: bytes, ranked: list[str]) -> list[str]:
    """Put GB18030 ahead of EUC-KR when the bytes are Chinese read as Korean.

    Both encodings pair bytes 0xA1-0xFE, so Chinese Excel's default GBK "CSV"
    also decodes as EUC-KR; with ASCII data rows charset_normalizer often rates
    that Korean reading first. It is told apart by what it reads as: GBK
    hanzi land on Hangul and Hanja in about a 3:2 mix, while Korean text
    (which almost never uses Hanja today) reads as Hangul alone."""
    if "euc_kr" not in ranked:
        return ranked
    if "gb18030" in ranked and ranked.index("gb18030") < ranked.index("euc_kr"):
        return ranked
    if not _chinese_not_korean(data):
        return ranked
    reordered = [e for e in ranked if e != "gb18030"]
    reordered.insert(reordered.index("euc_kr"), "gb18030")
    return reordered


def _chinese_not_korean(data: bytes) -> bool:
    try:
        chinese = data.decode("gb18030")
        korean = data.decode("euc_kr")
    except UnicodeDecodeError:
        return False
    if not any(_is_han(ch) for ch in chinese) or not _looks_like_text(chinese):
        return False
    hangul = sum(1 for ch in korean if "\uac00" <= ch <= "\ud7a3")
    hanja = sum(1 for ch in korean if _is_han(ch))
    return hanja > 0 and hanja >= _MIN_HANJA_SHARE * (hangul + hanja)


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def _looks_like_text(text: str) -> bool:
    if "\ufffd" in text:
        return False
    sample = text[:200_000]
    if not sample:
        return True
    controls = sum(1 for ch in sample if ch not in "\t\r\n" and unicodedata.category(ch) in ("Cc", "Co", "Cn"))
    return controls <= _MAX_CONTROL_SHARE * len(sample)
