"""A screenshot-like check: `tutor solve` in a real 80-column terminal (tmux)
wraps no line — every table row fits, in colour and without."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTOR = Path(sys.executable).parent / "tutor"
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def capture(problem: str, no_color: bool, width: int = 80) -> tuple[str, str]:
    """Run tutor in a detached tmux session; return the pane's history as shown
    (wrapped lines split) and joined (wrapped lines re-joined)."""
    session = f"tutor-{uuid.uuid4().hex[:8]}"
    env = "NO_COLOR=1 " if no_color else ""
    done = ROOT / f".tmux-{session}.done"
    command = f"{env}{TUTOR} solve {ROOT / 'problems' / problem}; touch {done}; sleep 30"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", str(width), "-y", "50",
                    "-e", "TERM=xterm-256color", command], check=True)
    try:
        subprocess.run(["tmux", "set-option", "-t", session, "history-limit", "20000"], check=False)
        deadline = time.monotonic() + 120  # generous: a loaded machine starts Python slowly
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert done.exists(), "tutor did not finish in tmux"
        shown = subprocess.run(["tmux", "capture-pane", "-p", "-S", "-", "-t", session],
                               capture_output=True, text=True, check=True).stdout
        joined = subprocess.run(["tmux", "capture-pane", "-p", "-J", "-S", "-", "-t", session],
                                capture_output=True, text=True, check=True).stdout
        return shown, joined
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
        done.unlink(missing_ok=True)


@pytest.mark.parametrize("no_color", [True, False], ids=["NO_COLOR", "colour"])
@pytest.mark.parametrize("problem", ["relu-2-2-2-one-step.yaml", "xor-bce-adam-minibatch.yaml",
                                     "softmax-cce-2-3-3.yaml"])
def test_no_wrapped_lines_at_80_columns(problem, no_color):
    shown, joined = capture(problem, no_color)
    assert "Step 1" in shown
    # capture-pane -J joins lines the terminal wrapped: with nothing wrapped, the two agree.
    lines = lambda text: [line.rstrip() for line in text.rstrip("\n").splitlines()]  # noqa: E731
    assert lines(shown) == lines(joined)
