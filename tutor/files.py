"""Writing output files, so that no run of tutor ever loses a file.

The rules, each for a way a file was lost:
- Only regular files are written. A directory, device node (``-o /dev/null``
  as root would replace the device), FIFO or socket at the output path is
  refused, with or without --force.
- A symbolic link is refused, with or without --force: writing through it would
  write wherever it points (a dangling link can point anywhere), and replacing it
  would break a link someone made on purpose (``-o /dev/stdout --force`` as root
  would replace /dev/stdout). The message names the target, to write there.
- The output is never one of the command's input files (``tutor check
  --template p.yaml -o p.yaml --force`` would replace the problem with its
  template), whatever path names it.
- A new file is created exclusively: the data goes to a temporary file in the
  same directory, which is then hard-linked to the output name; the link fails
  if the name exists, so of two runs creating the same file, one is refused.
  With --force an existing regular file is replaced by rename, atomically.
- The temporary file is removed on every way out: an error, Ctrl-C, SIGTERM.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Iterator

from .errors import TutorError


class OutputError(TutorError):
    """A file could not be written; nothing was left behind."""

    def __init__(self, path: Path | str, message: str):
        super().__init__(f"{path}: error: {message}")


# Filesystems without hard links (FAT, some network mounts) answer link() with one of these.
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}


def write_output(path: Path | str, data: str | bytes, *, force: bool = False,
                 inputs: Iterable[Path | str] = ()) -> None:
    """Write ``data`` to ``path`` atomically: a reader sees the old file or the whole
    new one, and a failure or an interrupt leaves nothing behind. ``inputs`` are the
    files the command read, which the output must not replace."""
    path = Path(path)
    _refuse_inputs(path, inputs)
    existing = _existing_kind(path)
    if existing == "link":
        raise OutputError(path, f"is a symbolic link (to {os.readlink(path)}); tutor neither writes through "
                                f"links nor replaces them: name the file itself")
    if existing not in (None, "regular"):
        raise OutputError(path, f"is {existing}; tutor writes only regular files (-o - writes to stdout)")
    if existing is not None and not force:
        raise OutputError(path, "file exists (use --force to replace it)")
    directory = path.parent
    if not directory.is_dir():
        raise OutputError(path, f"no such directory: {directory}")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with _terminate_as_exit():
        temp = _write_temporary(path, raw)
        try:
            if existing is None:
                _link_new(temp, path)
            else:
                os.replace(temp, path)
        except OSError as exc:
            raise OutputError(path, f"cannot write: {exc.strerror}") from None
        finally:
            _remove(temp)


def _refuse_inputs(path: Path, inputs: Iterable[Path | str]) -> None:
    for source in inputs:
        source = Path(source)
        try:
            same = os.path.samefile(path, source)
        except OSError:  # one of them does not exist: compare where they would be
            same = os.path.realpath(path) == os.path.realpath(source)
        if same:
            raise OutputError(path, f"is the input file {source}; choose another output file")


def _existing_kind(path: Path) -> str | None:
    """What is at ``path`` now, without following a symbolic link."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(path, f"cannot write here: {exc.strerror}") from None
    if stat.S_ISREG(mode):
        return "regular"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    return "not a regular file"


def _write_temporary(path: Path, raw: bytes) -> str:
    """The data in a new hidden file next to ``path`` (created with O_EXCL), on disk."""
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(path, f"cannot write here: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o666 & ~_umask())
    except BaseException as exc:
        _remove(temp)
        if isinstance(exc, OSError):
            raise OutputError(path, f"cannot write: {exc.strerror}") from None
        raise
    return temp


def _link_new(temp: str, path: Path) -> None:
    """Give ``temp`` the name ``path``, which must not exist: of two runs creating
    the same file, the second one fails here."""
    try:
        os.link(temp, path)
        return
    except FileExistsError:
        raise OutputError(path, "file exists (use --force to replace it)") from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
    # No hard links here: reserve the name exclusively, then rename over the reservation.
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise OutputError(path, "file exists (use --force to replace it)") from None
    try:
        os.replace(temp, path)
    except BaseException:
        _remove(str(path))
        raise


def _remove(name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name)


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM during a write raises SystemExit (like Ctrl-C raises KeyboardInterrupt),
    so the temporary file is removed on the way out. Only the main thread can set
    signal handlers; elsewhere SIGTERM keeps its default."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def scratch_directory(prefix: str) -> Iterator[str]:
    """A temporary directory for a tool's work (pdflatex), removed afterwards. A full or
    unwritable TMPDIR is a located error naming the directory, not a crash."""
    base = os.environ.get("TMPDIR") or "TMPDIR"
    try:
        base = tempfile.gettempdir()
        with tempfile.TemporaryDirectory(prefix=prefix) as directory:
            yield directory
    except OSError as exc:
        raise TutorError(f"{base}: error: cannot use the temporary directory: {exc.strerror or exc}; "
                         f"set TMPDIR to a directory with free space") from None
