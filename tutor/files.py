"""Writing output files: atomically, and never over an existing file without force."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import TutorError


class OutputError(TutorError):
    """A file could not be written; nothing was left behind."""

    def __init__(self, path: Path | str, message: str):
        super().__init__(f"{path}: error: {message}")


def write_output(path: Path | str, data: str | bytes, *, force: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory,
    renamed into place, so a reader never sees half a file and a failure leaves
    nothing partial behind."""
    path = Path(path)
    if path.exists() and not force:
        raise OutputError(path, "file exists (use --force to overwrite it)")
    if path.is_dir():
        raise OutputError(path, "is a directory")
    directory = path.parent
    if not directory.is_dir():
        raise OutputError(path, f"no such directory: {directory}")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(path, f"cannot write here: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        mode = 0o666 & ~_umask()
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise OutputError(path, f"cannot write: {exc.strerror}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
