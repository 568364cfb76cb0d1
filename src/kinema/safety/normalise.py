"""Folding text into the canonical form the blocklist matches on.

Prompts that mean the same to a reader fold to the same tokens: case, accents, compatibility
forms (fullwidth, mathematical letters), Unicode confusables (Cyrillic and Greek look-alikes),
leetspeak digits and symbols, invisible characters, stretched letters (``seeexxx``) and letters
spelled out with separators (``s e x``, ``s.e.x``). The canonical form is for matching only and
is never shown: it folds ``l``, ``1`` and ``|`` together, for example, so that ``ki11`` and
``kill`` meet.
"""

# ruff: noqa: RUF001  (the look-alike letters below are the point of this module)
from __future__ import annotations

import re
import unicodedata

# Look-alikes that NFKC leaves alone: Cyrillic and Greek letters drawn like Latin ones, and a
# few symbols. The Unicode confusables table is larger; these are the ones used to dodge filters.
_CONFUSABLES = {
    "а": "a", "в": "b", "с": "c", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "т": "t", "у": "y", "х": "x", "ѕ": "s",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "г": "r", "п": "n", "ь": "b", "α": "a", "β": "b", "γ": "y",
    "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "ω": "w", "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ð": "d", "þ": "th",
    "ı": "i", "ł": "l", "đ": "d", "ħ": "h",
}  # fmt: skip

# Leetspeak, and the letters it makes ambiguous folded together (``1``, ``l``, ``|`` and ``i``).
_LEET = {
    "0": "o", "1": "i", "2": "z", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b",
    "9": "g", "@": "a", "$": "s", "!": "i", "|": "i", "+": "t", "€": "e", "£": "l", "l": "i",
}  # fmt: skip

_LOOKALIKES = str.maketrans(_CONFUSABLES)
_LEETSPEAK = str.maketrans(_LEET)

# Characters that render as nothing: zero-width spaces and joiners, soft hyphen, BOM, ...
_INVISIBLE = re.compile(r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f"
                        r"\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")  # fmt: skip
_TOKEN = re.compile(r"[a-z]+")
_STRETCHED = re.compile(r"([a-z])\1{2,}")
_ONE_LETTER_WORDS = ("a", "i")
_SPELLED_OUT = 3
"""A run of at least this many one-letter tokens (``s e x``) is read as one word."""


def fold(text: str) -> str:
    """The canonical text: lower case, Latin letters only where a look-alike was used."""
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LOOKALIKES)
    # Accents off: decompose, then drop the combining marks.
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    # Stretched letters before leetspeak, which folds l into i: "kill" must not shrink to "ki".
    return _STRETCHED.sub(r"\1", text).translate(_LEETSPEAK)


def tokens(text: str) -> list[str]:
    """The canonical words of ``text``; runs of single letters are joined into one word."""
    return readings(text)[0]


def readings(text: str) -> list[list[str]]:
    """Ways to read ``text`` as canonical words. The first joins each run of single letters
    (``s e x`` → ``sex``); when a run starts or ends with a one-letter word (``a n u d e``,
    ``n u d e a``), further readings keep that letter apart at the start, the end, or both."""
    words = _TOKEN.findall(fold(text))
    ways = ((False, False), (True, False), (False, True), (True, True))
    found: list[list[str]] = []
    for lead, trail in ways:
        reading = _read(words, lead, trail)
        if reading not in found:
            found.append(reading)
    return found


def _read(words: list[str], lead: bool, trail: bool) -> list[str]:
    out: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1:
            run.append(word)
            continue
        if len(run) >= _SPELLED_OUT:
            head = [run.pop(0)] if lead and run[0] in _ONE_LETTER_WORDS else []
            tail = [run.pop()] if trail and run[-1] in _ONE_LETTER_WORDS else []
            out += [*head, "".join(run), *tail] if len(run) > 1 else [*head, *run, *tail]
        else:
            out.extend(run)
        run = []
        if word:
            out.append(word)
    return out
