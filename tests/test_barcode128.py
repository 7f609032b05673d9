"""Code 128 symbols for tracking numbers: they read back as the text, their check symbol holds, and
the mix of code sets B and C is the shortest there is (on a tie, code set B)."""
from __future__ import annotations

import random
from collections import deque

import pytest

from batchship.writers.barcode128 import CODE_B, CODE_C, START_B, START_C, STOP, NotEncodable, encode, modules


def _read(values: list[int]) -> str:
    """What a scanner reads from the symbol values, after checking start, check symbol and stop."""
    assert values[-1] == STOP
    *body, check = values[:-1]
    assert check == (body[0] + sum(pos * v for pos, v in enumerate(body[1:], start=1))) % 103
    assert body[0] in (START_B, START_C)
    in_c, text = body[0] == START_C, []
    for v in body[1:]:
        if (in_c and v == CODE_B) or (not in_c and v == CODE_C):
            in_c = not in_c
        elif in_c:
            assert 0 <= v <= 99
            text.append(f"{v:02d}")
        else:
            text.append(chr(v + 32))
    return "".join(text)


def _fewest(text: str) -> int:
    """Fewest symbols between start and check symbol, searched breadth first over (position, code
    set): each step is one symbol (a character in B, a digit pair in C, or a switch)."""
    seen = {(0, False), (0, True)}
    queue = deque([(0, False, 0), (0, True, 0)])
    while queue:
        i, in_c, used = queue.popleft()
        if i == len(text):
            return used
        steps = [(i, not in_c)]
        if in_c and text[i:i + 2].isdigit() and len(text[i:i + 2]) == 2:
            steps.append((i + 2, True))
        elif not in_c:
            steps.append((i + 1, False))
        for state in steps:
            if state not in seen:
                seen.add(state)
                queue.append((*state, used + 1))
    raise AssertionError("unreachable")


@pytest.mark.parametrize("text", ["0", "00", "000", "0000", "A", "A0", "0A", "A00", "00A", "A0000B",
                                  "12345678901234", "LY123456780CN", "RR123456785CN", " ~", "1Z999AA10123456784",
                                  "9400111899223197428490"])
def test_symbols_read_back_as_the_text_in_the_fewest_symbols(text):
    values = encode(text)
    assert _read(values) == text
    assert len(values) - 3 == _fewest(text)      # less start, check symbol and stop


def test_random_texts_read_back_in_the_fewest_symbols():
    rng = random.Random(128)
    for _ in range(3000):
        alphabet = rng.choice(["0123456789", "0123456789AB", " ~!09azAZ", "01"])
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24)))
        values = encode(text)
        assert _read(values) == text, text
        assert len(values) - 3 == _fewest(text), text


@pytest.mark.parametrize("text, values", [
    ("A00", [START_B, 33, 16, 16]),                  # B all along ties with a switch to C: B
    ("00", [START_C, 0]),
    ("0", [START_B, 16]),
    ("A0000", [START_B, 33, CODE_C, 0, 0]),          # strictly shorter with the switch
])
def test_ties_stay_in_code_set_b(text, values):
    assert encode(text)[:-2] == values


@pytest.mark.parametrize("text, named", [("", "empty"), ("é", "'é'"), ("a\tb", "'\\t'"), ("\x7f", "'\\x7f'"),
                                         ("ü0€", "'ü€'")])
def test_text_outside_printable_ascii_is_refused_naming_the_characters(text, named):
    with pytest.raises(NotEncodable, match=named.replace("\\", "\\\\") if named != "empty" else "empty"):
        encode(text)


@pytest.mark.parametrize("text", ["0", "LY123456780CN", "1Z999AA10123456784", "A0000B", "9400111899223197428490"])
def test_the_pdf_path_fills_exactly_the_bars(text):
    bars = modules(text)
    rects = bars.pdf_path.split(" re")
    assert rects[-1] == ""
    drawn = [tuple(map(int, r.split())) for r in rects[:-1]]
    assert drawn == [(start, 0, width, 1) for start, width in bars.bars]
    # The stop symbol ends in a bar: the last bar ends where the right quiet zone begins.
    last_start, last_width = bars.bars[-1]
    assert last_start + last_width == bars.total_modules - 10


def _encoded_step_by_step(text: str) -> list[int]:
    """The shortest B/C mix worked out for this very text (as encode did before it kept one plan per
    shape of text): the reference encode's plans are held to."""
    n = len(text)
    never = n * 4 + 8
    cost_b, cost_c = [0] * (n + 2), [0] * (n + 2)
    to_c, to_b = [False] * n, [False] * n
    digit = [c.isdigit() for c in text] + [False]
    for i in range(n - 1, -1, -1):
        in_b = 1 + cost_b[i + 1]
        in_c = 1 + cost_c[i + 2] if digit[i] and digit[i + 1] else never
        cost_b[i], to_c[i] = (in_c + 1, True) if in_c + 1 < in_b else (in_b, False)
        cost_c[i], to_b[i] = (in_b + 1, True) if in_b + 1 < in_c else (in_c, False)
    in_c_now = cost_c[0] < cost_b[0]
    values, i = [START_C if in_c_now else START_B], 0
    while i < n:
        if in_c_now and to_b[i]:
            values.append(CODE_B)
            in_c_now = False
        elif not in_c_now and to_c[i]:
            values.append(CODE_C)
            in_c_now = True
        elif in_c_now:
            values.append(int(text[i:i + 2]))
            i += 2
        else:
            values.append(ord(text[i]) - 32)
            i += 1
    check = (values[0] + sum(pos * v for pos, v in enumerate(values[1:], start=1))) % 103
    return values + [check, STOP]


def test_texts_of_one_shape_share_a_plan_and_each_encodes_as_if_planned_alone():
    """Every mix of digits and other characters up to 10 long, and 2,000 longer random texts (tracking
    numbers, digit runs of odd and even length, punctuation), in the shortest symbols for that text."""
    import random
    rng = random.Random(128)
    texts = ["".join(rng.choice("0123456789") if bit == "1" else rng.choice("AZaz -/~")
                     for bit in f"{mask:0{n}b}") for n in range(1, 11) for mask in range(2 ** n)]
    texts += ["".join(rng.choice("0123456789" * 4 + "LYRRCN-/ ") for _ in range(rng.randint(11, 30)))
              for _ in range(2000)]
    texts += ["LY123456789CN", "RR000000005CN", "1Z999AA10123456784", "9400111899223197428490"]
    for text in texts:
        assert encode(text) == _encoded_step_by_step(text), text
