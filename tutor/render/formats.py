"""The output formats of `tutor export` and `tutor key`, found in the backend modules.

Each backend module of this package declares the formats it writes: a module-level
``FORMATS`` tuple of `OutputFormat` (markdown.py: md; latex.py: tex and pdf;
html.py: html; json.py: json). `output_formats` imports the package's modules and
collects them, so a new format is one new module here, and nothing else names it.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, Sequence

Sources = Sequence[tuple[int, str]]   # (first line, problem file) of each problem's part of a document


def _utf8(text: str, sources: Sources) -> bytes:
    return text.encode("utf-8")


@dataclass(frozen=True)
class OutputFormat:
    """What a format writes, each a function of the backend module (None: not in this format).

    solution    Solution -> text: one problem's worked solution
    run         Run -> text: written from the run itself (JSON: every number of every step)
    derivation  (SymbolicSolution, show_all) -> text: a symbolic problem's derivation
    key         (blocks, digits, title) -> (text, sources): an answer key or a sheet, from
                ``blocks(title_level)``, the walk's blocks with the key's title at that level
    finish      (text, sources) -> the file's bytes (PDF: typeset); UTF-8 by default
    """

    name: str                          # --format's value and the file's suffix
    rank: int                          # its place where formats are listed (help, messages)
    solution: Callable[[Any], str] | None = None
    run: Callable[[Any], str] | None = None
    derivation: Callable[[Any, bool], str] | None = None
    key: Callable[[Callable[[int], list], int, str], tuple[str, Sources]] | None = None
    finish: Callable[[str, Sources], bytes] = _utf8
    binary: bool = False               # bytes, not text (written as is, never to a terminal)
    suffixes: tuple[str, ...] = ()     # other file suffixes that mean this format (.markdown)


@functools.lru_cache(maxsize=1)
def output_formats() -> dict[str, OutputFormat]:
    """Every format the backend modules declare, in their rank order."""
    found: dict[str, tuple[OutputFormat, str]] = {}
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        if not _may_declare_formats(module):
            continue
        for f in getattr(importlib.import_module(f"{__package__}.{module.name}"), "FORMATS", ()):
            if f.name in found:   # two modules would write one suffix: a bug, said once and plainly
                raise RuntimeError(f"the format {f.name!r} is declared by both {found[f.name][1]} and {module.name}")
            found[f.name] = (f, module.name)
    return {f.name: f for f, _ in sorted(found.values(), key=lambda pair: pair[0].rank)}


def _may_declare_formats(module: pkgutil.ModuleInfo) -> bool:
    """Whether a module of the package may declare ``FORMATS``: read from its source, so that a
    command importing the formats does not import every module of the package with them (the
    terminal's rich, the checker) only to find none there. A module without readable source is
    imported and asked."""
    spec = module.module_finder.find_spec(module.name, None)
    origin = getattr(spec, "origin", None)
    if not origin or not origin.endswith(".py"):
        return True
    try:
        return "\nFORMATS" in Path(origin).read_text(encoding="utf-8")
    except OSError:
        return True
