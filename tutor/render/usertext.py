"""Text a user writes (titles, statements), as the document printers need it: which
way it runs, and a form every format can show.

The course this tool was made for is taught in Persian. A piece of text whose
first letter (its first "strong" character in Unicode's bidirectional algorithm)
is right-to-left is set right to left: the HTML element gets ``dir="rtl"`` and,
for Arabic script, ``lang="fa"``; LaTeX sets it in babel's Persian. Mathematics
is never part of such text (every format keeps formulas apart from words), so it
stays left to right. Decided here once, for every format.
"""

from __future__ import annotations

import re
import unicodedata

# Control characters (NUL, ESC, DEL, the C1 block) have no glyph and break TeX, and
# a lone surrogate (a YAML "\ud83d" escape) cannot even be written as UTF-8; a
# document shows each as the replacement character instead. Tabs and line breaks
# are white space.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def printable(text: str) -> str:
    """``text`` with every control character and lone surrogate replaced by U+FFFD."""
    return _CONTROL.sub(REPLACEMENT, text)


def one_line(text: str) -> str:
    """``text`` on one line: a title with line breaks cannot start a new block."""
    return " ".join(text.split())


def _first_strong(text: str) -> str | None:
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("L", "R", "AL"):
            return kind
    return None


def is_rtl(text: str) -> bool:
    """Whether ``text`` runs right to left (its first letter is Arabic, Persian, Hebrew, ...)."""
    return _first_strong(text) in ("R", "AL")


def leading_text(pieces) -> str:
    """Of a block's pieces of text (mathematics left out), the one that decides its
    direction: the first with a letter in it."""
    return next((p for p in pieces if _first_strong(p)), "")


def rtl_language(text: str) -> str | None:
    """The language tag of right-to-left ``text`` in Arabic script ("fa": the course's
    Persian), else None. Hebrew and other right-to-left scripts get a direction only."""
    return "fa" if _first_strong(text) == "AL" else None


_ARABIC = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefe"
# Words in Arabic script with the spaces, digits and punctuation between them.
_ARABIC_RUN = re.compile(f"[{_ARABIC}](?:[{_ARABIC}0-9\\s.,:;!?()«»-]*[{_ARABIC}])?")


def arabic_runs(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into pieces, each with whether it is a run of Arabic-script words."""
    pieces, start = [], 0
    for run in _ARABIC_RUN.finditer(text):
        if run.start() > start:
            pieces.append((text[start:run.start()], False))
        pieces.append((run.group(), True))
        start = run.end()
    if start < len(text):
        pieces.append((text[start:], False))
    return pieces
