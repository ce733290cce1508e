#!/usr/bin/env bash
# Regenerates the README's two pictures (issue 16), both SVG, byte-identical on every run:
#   docs/mazur-2-2-2-network.svg           the drawing of Mazur's network, as every export shows it
#   docs/momentum-ema-3-2-1-optimizers.svg tutor compare of four optimizers on one problem
# Needs only tutor itself. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python - <<'PY'
from pathlib import Path

from tutor.api import solve_problem
from tutor.diagram import build_diagram
from tutor.render.svg import diagram_svg

Path("docs/mazur-2-2-2-network.svg").write_text(
    diagram_svg(build_diagram(solve_problem("problems/mazur-2-2-2.yaml"))), encoding="utf-8")
PY
.venv/bin/tutor compare problems/momentum-ema-3-2-1.yaml --optimizer sgd,momentum,rmsprop,adam \
    -o docs/momentum-ema-3-2-1-optimizers.svg --force > /dev/null
