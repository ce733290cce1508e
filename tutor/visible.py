"""Text from a problem file, made safe to show on a terminal.

A problem file passes from hand to hand. Its title, statement, names and tags
reach the reader's terminal (the worked solution, `validate`, `check`, every
error message, file names included), and a terminal obeys control characters:
ESC starts sequences that recolour or clear the screen, move the cursor, write
the clipboard (OSC 52) or hide a link (OSC 8). `visible` is the one function
that every such text goes through: each control character is shown as its
escape (ESC as ``\\x1b``), so the reader sees that it is there and the terminal
does nothing with it.

Which characters: the C0 controls except newline and tab (which only lay out
text), DEL, and the C1 controls U+0080-U+009F (some terminals read U+009B as
CSI). Also the bidirectional embeddings, overrides and isolates U+202A-U+202E
and U+2066-U+2069: they reorder how the rest of a line is displayed, so a title
could show text in an order other than it was written ("Trojan Source").
Right-to-left letters are shown as written (the course is taught in Persian),
and so are the marks LRM, RLM and ALM (U+200E, U+200F, U+061C) that Persian
text uses: a mark only sets the direction of the characters next to it.
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_NEWLINE = re.compile(_CONTROL.pattern[:-1] + "\n\t]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, one_line: bool = False) -> str:
    """``text`` with every control character shown as its escape (``\\x1b``,
    ``\\u202e``). ``one_line`` escapes newlines and tabs too, for texts that must
    stay on one line (a title in a message, a file name)."""
    return (_CONTROL_OR_NEWLINE if one_line else _CONTROL).sub(_escape, text)


_COLOUR = re.compile("\x1b\\[[0-9;]*m")


def visible_keeping_colours(rendered: str) -> str:
    """Output that a printer rendered in colour, with every control character
    escaped except the colour sequences (ESC [ ... m) and line breaks: the last
    guard of the terminal printers, for a text that reached them unescaped."""
    kept = _COLOUR.split(rendered)
    colours = _COLOUR.findall(rendered)
    out = [visible(kept[0])]
    for colour, text in zip(colours, kept[1:]):
        out += [colour, visible(text)]
    return "".join(out)


def json_visible(document: str) -> str:
    """A JSON document with the controls that JSON leaves raw (DEL, C1, the bidi
    marks) written as ``\\uXXXX`` escapes: the same data, safe on a terminal. JSON
    writes these characters only inside strings, where the escape means the same."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
