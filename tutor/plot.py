"""Loss curves as data: the loss per step and per epoch of one run, and several
runs on one plot (`compare`). Spelled by `render.svg.plot_svg` (a file) and
`render.textplot.text_plot` (the terminal); PNG through headless Chromium.

The numbers are the runs' own: `Step.loss`, the batch loss before each update
(and, with full batches, the final loss as the point after the last step); an
epoch's point is the mean of its steps' losses, as the worked solution's epoch
table has it. A value that is not finite (a diverged run) is left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import TutorError
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # the type only: the printers that read these figures never import the engine
    from .train import Run

SHOWN_IN_EXPORTS = 6   # an export shows the loss curve of a training with at least this many steps


@dataclass(frozen=True)
class Series:
    label: str
    points: tuple[tuple[float, float], ...]   # (x, loss)
    final: float | None = None                # a compared run's final loss, for the legend
    diverged: bool = False


@dataclass(frozen=True)
class Plot:
    title: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)


def step_losses(run: Run) -> tuple[tuple[float, float], ...]:
    """The batch loss before each step; with full batches also the final loss, the
    same quantity "before step n + 1", so that a curve shows where training ended."""
    to_float = run.domain.to_float
    points = [(float(s.step), to_float(s.loss)) for s in run.steps]
    if run.problem.training.batch_size >= len(run.problem.samples) and run.final_loss is not None:
        points.append((float(len(run.steps) + 1), to_float(run.final_loss)))
    return tuple((x, y) for x, y in points if _finite(y))


def epoch_losses(run: Run) -> tuple[tuple[float, float], ...]:
    to_float = run.domain.to_float
    per_epoch: dict[int, list[float]] = {}
    for s in run.steps:
        per_epoch.setdefault(s.epoch, []).append(to_float(s.loss))
    return tuple((float(epoch), sum(v) / len(v)) for epoch, v in per_epoch.items()
                 if all(_finite(x) for x in v))


def _finite(x) -> bool:
    return isinstance(x, float) and math.isfinite(x)


def by_epoch(run: Run) -> bool:
    """Whether a curve reads better per epoch: several epochs of several steps each."""
    return run.problem.training.epochs > 1 and len(run.steps) > run.problem.training.epochs


def loss_plot(run: Run, per: str = "step") -> Plot:
    """The loss of ``run`` per step (every update) or per epoch (the mean over its steps)."""
    points = epoch_losses(run) if per == "epoch" else step_losses(run)
    label = "mean loss per epoch" if per == "epoch" else "loss per step"
    return Plot(run.problem.title, per, "loss", (Series(label, points),))


def shown_in_export(run: Run) -> Plot | None:
    """The loss curve an export shows, for a training of several steps: per step, and
    when epochs hold several steps also each epoch's mean, drawn at the epoch's last step."""
    if len(run.steps) < SHOWN_IN_EXPORTS:
        return None
    plot = loss_plot(run)
    if not by_epoch(run):
        return plot
    last = {s.epoch: float(s.step) for s in run.steps}
    means = tuple((last[int(epoch)], loss) for epoch, loss in epoch_losses(run))
    return Plot(plot.title, plot.x_label, plot.y_label,
                plot.series + (Series("mean loss of each epoch, at its last step", means),))


def png_of(svg: str) -> bytes:
    """An SVG of tutor's rasterized to PNG by headless Chromium (a tool, like pdflatex
    for PDF; no Python package). The SVG is byte-identical on every run; the PNG is
    whatever this Chromium draws of it."""
    import re
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise TutorError("error: PNG output needs Chromium (headless), which is not installed; "
                         ".ci/install-export-deps.sh installs it. SVG needs nothing: write to a .svg file instead")
    size = re.search(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"', svg)
    width, height = (math.ceil(float(v)) for v in size.groups())
    with tempfile.TemporaryDirectory(prefix="tutor-png-") as tmp:
        page, png = Path(tmp) / "picture.html", Path(tmp) / "picture.png"
        page.write_text('<!DOCTYPE html><html><body style="margin:0;background:#fff">' + svg + "</body></html>",
                        encoding="utf-8")
        try:
            subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
                            f"--user-data-dir={Path(tmp) / 'profile'}", f"--screenshot={png}",
                            f"--window-size={width},{height}", page.as_uri()],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                           timeout=120, check=True)
            return png.read_bytes()
        except (OSError, subprocess.SubprocessError):
            raise TutorError("error: Chromium could not draw the PNG; write to a .svg file instead") from None


__all__ = ["Plot", "Series", "by_epoch", "epoch_losses", "loss_plot", "png_of", "shown_in_export", "step_losses"]
