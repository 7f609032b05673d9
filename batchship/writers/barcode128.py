"""Code 128 symbols for tracking numbers (code sets B and C only).

Code set B covers printable ASCII; code set C packs two digits into one
symbol. Tracking numbers are mostly digits, so picking the cheapest mix of B
and C keeps the barcode narrow enough to print with wide modules, which is
what makes it scan reliably on 203 dpi thermal printers.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from itertools import chain
from operator import mul

# Widths of bar, space, bar, space, bar, space (stop: one more bar), in modules,
# indexed by symbol value (ISO/IEC 15417).
PATTERNS: tuple[str, ...] = (
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312",
    "132212", "221213", "221312", "231212", "112232", "122132", "122231", "113222",
    "123122", "123221", "223211", "221132", "221231", "213212", "223112", "312131",
    "311222", "321122", "321221", "312212", "322112", "322211", "212123", "212321",
    "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
    "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121",
    "313121", "211331", "231131", "213113", "213311", "213131", "311123", "311321",
    "331121", "312113", "312311", "332111", "314111", "221411", "431111", "111224",
    "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
    "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112",
    "421211", "212141", "214121", "412121", "111143", "111341", "131141", "114113",
    "114311", "411113", "411311", "113141", "114131", "311141", "411131", "211412",
    "211214", "211232", "2331112",
)

CODE_C = 99         # switch to code set C (value in code set B)
CODE_B = 100        # switch to code set B (value in code set C)
START_B = 104
START_C = 105
STOP = 106
QUIET_ZONE_MODULES = 10


class NotEncodable(ValueError):
    """The text has a character outside printable ASCII (code set B)."""


def _is_b(ch: str) -> bool:
    return " " <= ch <= "~"


def encode(text: str) -> list[int]:
    """Symbol values from start code to stop code, with the mod-103 check symbol.

    The B/C mix is the shortest possible: a small dynamic programme over
    (position, code set). On equal length it stays in code set B, so the
    output is deterministic.
    """
    if not text:
        raise NotEncodable("empty text cannot be encoded in Code 128")
    if not (text.isascii() and text.isprintable()):
        bad = sorted({ch for ch in text if not _is_b(ch)})
        raise NotEncodable(f"cannot encode {''.join(bad)!r} in Code 128 code set B/C")
    values = [symbol if at < 0 else ord(text[at]) - 32 if width == 1 else int(text[at:at + 2])
              for symbol, at, width in _plan(text.translate(_DIGIT_MASK))]
    check = (values[0] + sum(map(mul, values, range(len(values))))) % 103
    return values + [check, STOP]


# Where the programme switches code sets depends only on which characters are digits: tracking
# numbers of one shape (two letters, nine digits, two letters) share one plan, worked out once.
_DIGIT_MASK = str.maketrans({chr(c): "1" if chr(c).isdigit() else "0" for c in range(32, 127)})


@functools.lru_cache(maxsize=1024)
def _plan(mask: str) -> tuple[tuple[int, int, int], ...]:
    """The symbols of a text whose characters are digits where ``mask`` has "1": (symbol, -1, 0) for a
    start or a switch of code set, (0, i, 1) for character i in code set B, (0, i, 2) for the digits
    i and i + 1 in code set C."""
    n = len(mask)
    # Plain lists of ints, not a table of pairs.
    # cost_b[i] / cost_c[i]: fewest symbols to encode text[i:] when code set B / C is active at i;
    # to_c[i]: from B, switch to C first; to_b[i]: from C, switch to B first (else encode a pair).
    never = n * 4 + 8
    cost_b, cost_c = [0] * (n + 2), [0] * (n + 2)
    to_c, to_b = [False] * n, [False] * n
    digit = [c == "1" for c in mask] + [False]
    for i in range(n - 1, -1, -1):
        in_b = 1 + cost_b[i + 1]
        in_c = 1 + cost_c[i + 2] if digit[i] and digit[i + 1] else never
        # Switching costs one symbol; only take it when strictly cheaper.
        if in_c + 1 < in_b:
            cost_b[i], to_c[i] = in_c + 1, True
        else:
            cost_b[i] = in_b
        if in_b + 1 < in_c:
            cost_c[i], to_b[i] = in_b + 1, True
        else:
            cost_c[i] = in_c
    in_c_now = cost_c[0] < cost_b[0]
    steps = [(START_C if in_c_now else START_B, -1, 0)]
    i = 0
    while i < n:
        if in_c_now and to_b[i]:
            steps.append((CODE_B, -1, 0))
            in_c_now = False
        elif not in_c_now and to_c[i]:
            steps.append((CODE_C, -1, 0))
            in_c_now = True
        elif in_c_now:
            steps.append((0, i, 2))
            i += 2
        else:
            steps.append((0, i, 1))
            i += 1
    return tuple(steps)


@dataclass(frozen=True)
class BarcodeModules:
    """A symbol's modules, measured from the left edge of the left quiet zone."""
    symbols: tuple[tuple[tuple[int, int], ...], ...]     # each symbol's bars as (start, width)
    total_modules: int      # including both quiet zones
    # The bars as one PDF path of "start 0 width 1 re" rectangles in module units, for a writer to
    # scale (cm) and fill: the same few symbols at the same few places recur on every label.
    pdf_path: str

    @functools.cached_property
    def bars(self) -> tuple[tuple[int, int], ...]:
        """(start, width) of every bar; only some writers need them one by one."""
        return tuple(chain.from_iterable(self.symbols))


def _symbol_bars(pattern: str) -> tuple[tuple[tuple[int, int], ...], int]:
    """Bars of one symbol as (offset, width) from its left edge, and its total width."""
    x, bars = 0, []
    for k, width in enumerate(map(int, pattern)):
        if k % 2 == 0:
            bars.append((x, width))
        x += width
    return tuple(bars), x


_SYMBOL_BARS = tuple(_symbol_bars(p) for p in PATTERNS)


@functools.lru_cache(maxsize=8192)
def _placed(value: int, x: int) -> tuple[tuple[tuple[int, int], ...], str]:
    """The bars of symbol ``value`` starting at module ``x``, and their PDF path."""
    bars = tuple((x + offset, width) for offset, width in _SYMBOL_BARS[value][0])
    return bars, " ".join([f"{start} 0 {width} 1 re" for start, width in bars])


def modules(text: str) -> BarcodeModules:
    x = QUIET_ZONE_MODULES
    placed = []
    for value in encode(text):
        placed.append(_placed(value, x))
        x += _SYMBOL_BARS[value][1]
    return BarcodeModules(tuple([bars for bars, _ in placed]), x + QUIET_ZONE_MODULES,
                          " ".join([path for _, path in placed]))
