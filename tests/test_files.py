"""Output files are written atomically and never overwritten without force."""

from __future__ import annotations

import pytest

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
    import os

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OutputError, match="No space left"):
        write_output(tmp_path / "out.md", "x")
    assert list(tmp_path.iterdir()) == []
