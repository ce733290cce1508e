"""Output files are written atomically and never overwritten without force."""

from __future__ import annotations

import errno
import os
import signal
import stat
import tempfile

import pytest

from tutor import files
from tutor.errors import TutorError
from tutor.files import OutputError, write_output


def test_writes_a_new_file(tmp_path):
    target = tmp_path / "out.md"
    write_output(target, "hello\n")
    assert target.read_text() == "hello\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.md"]


def test_refuses_to_overwrite_without_force(tmp_path):
    target = tmp_path / "out.md"
    target.write_text("precious")
    with pytest.raises(OutputError, match="file exists"):
        write_output(target, "new")
    assert target.read_text() == "precious"
    write_output(target, "new", force=True)
    assert target.read_text() == "new"


def test_missing_directory_is_an_error_and_leaves_nothing(tmp_path):
    with pytest.raises(OutputError, match="no such directory"):
        write_output(tmp_path / "missing" / "out.md", "x")
    assert list(tmp_path.iterdir()) == []


def test_parent_that_is_a_file_is_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError):
        write_output(blocker / "out.md", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def broken_link(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "link", broken_link)
    with pytest.raises(OutputError, match="No space left"):
        write_output(tmp_path / "out.md", "x")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------ only regular files

@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")
def test_a_device_node_is_never_replaced(tmp_path):
    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    with pytest.raises(OutputError, match="is a device; tutor writes only regular files"):
        write_output(device, "x", force=True)
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_a_fifo_or_directory_is_never_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="is a FIFO"):
        write_output(fifo, "x", force=True)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(OutputError, match="is a directory"):
        write_output(tmp_path, "x", force=True)


def test_a_dangling_symlink_is_neither_followed_nor_replaced(tmp_path):
    link = tmp_path / "out.md"
    link.symlink_to(tmp_path / "elsewhere.md")
    for force in (False, True):
        with pytest.raises(OutputError, match=f"is a symbolic link \\(to {tmp_path}/elsewhere.md\\)"):
            write_output(link, "x", force=force)
    assert link.is_symlink() and not (tmp_path / "elsewhere.md").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.md"]


def test_a_symlink_to_a_file_is_neither_written_through_nor_replaced(tmp_path):
    target = tmp_path / "precious.md"
    target.write_text("precious")
    link = tmp_path / "out.md"
    link.symlink_to(target)
    for force in (False, True):
        with pytest.raises(OutputError, match="symbolic link"):
            write_output(link, "x", force=force)
    assert target.read_text() == "precious" and link.is_symlink()


# ------------------------------------------------ never the input

def test_the_input_file_is_never_the_output(tmp_path, monkeypatch):
    problem = tmp_path / "p.yaml"
    problem.write_text("the problem")
    alias = tmp_path / "alias.yaml"
    alias.symlink_to(problem)
    monkeypatch.chdir(tmp_path)
    for output in (problem, "./p.yaml", tmp_path / "sub" / ".." / "p.yaml", alias):
        with pytest.raises(OutputError, match="is the input file"):
            write_output(output, "x", force=True, inputs=[problem])
    assert problem.read_text() == "the problem"


# ------------------------------------------------ concurrent creators, interrupts

def test_of_two_runs_creating_the_same_file_the_second_is_refused(tmp_path, monkeypatch):
    target = tmp_path / "out.md"
    write_temporary = files._write_temporary

    def other_run_wins(path, raw):  # another run creates the file while this one writes
        temp = write_temporary(path, raw)
        target.write_text("the other run")
        return temp

    monkeypatch.setattr(files, "_write_temporary", other_run_wins)
    with pytest.raises(OutputError, match="file exists"):
        write_output(target, "this run")
    assert target.read_text() == "the other run"
    assert [p.name for p in tmp_path.iterdir()] == ["out.md"]


def test_without_hard_links_a_new_file_is_still_created_exclusively(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    write_output(tmp_path / "new.md", "x")
    assert (tmp_path / "new.md").read_text() == "x"
    write_temporary = files._write_temporary

    def other_run_wins(path, raw):
        temp = write_temporary(path, raw)
        path.write_text("the other run")
        return temp

    monkeypatch.setattr(files, "_write_temporary", other_run_wins)
    with pytest.raises(OutputError, match="file exists"):
        write_output(tmp_path / "raced.md", "this run")
    assert (tmp_path / "raced.md").read_text() == "the other run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.md", "raced.md"]


@pytest.mark.parametrize("where", ["fsync", "link", "replace"])
def test_ctrl_c_during_a_write_leaves_nothing_behind(tmp_path, monkeypatch, where):
    existing = tmp_path / "out.md"
    if where == "replace":
        existing.write_text("old")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, where, interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_output(existing, "new", force=True)
    assert [p.name for p in tmp_path.iterdir()] == (["out.md"] if where == "replace" else [])
    if where == "replace":
        assert existing.read_text() == "old"


def test_sigterm_during_a_write_leaves_nothing_behind(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def terminated(fd):
        real_fsync(fd)
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(os, "fsync", terminated)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit):
        write_output(tmp_path / "out.md", "x")
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) == before


# ------------------------------------------------ the scratch directory of pdflatex

def test_a_full_tmpdir_is_a_clear_error(monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "mkdtemp", full)
    with pytest.raises(TutorError, match="cannot use the temporary directory: No space left on device; set TMPDIR"):
        with files.scratch_directory("tutor-test-"):
            pass


def test_a_tmpdir_that_fills_up_during_the_work_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    with pytest.raises(TutorError, match=f"^{tmp_path}: error: cannot use the temporary directory"):
        with files.scratch_directory("tutor-test-"):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []
