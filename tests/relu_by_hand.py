"""The 2-2-2 ReLU network of relu-2-2-2-one-step.yaml (and its variants) worked
by hand in fractions: the independent oracle the class-workflow tests share."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

from ruamel.yaml import YAML


def relu_forward(path: Path) -> SimpleNamespace:
    """The file's weights, biases, inputs and targets, and the forward pass:
    z = W·i + b, h = relu(z), o = W'·h + b' (linear outputs)."""
    doc = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    f = lambda x: Fraction(str(x))  # noqa: E731
    (l1, l2) = doc["network"]["layers"]
    (w11, w21), (w12, w22) = [[f(x) for x in row] for row in l1["weights"]]
    b1, b2 = map(f, l1["bias"])
    (w31, w41), (w32, w42) = [[f(x) for x in row] for row in l2["weights"]]
    b3, b4 = map(f, l2["bias"])
    i1, i2, t1, t2 = (f(doc["data"][k]) for k in ("i1", "i2", "t1", "t2"))
    z1, z2 = w11 * i1 + w21 * i2 + b1, w12 * i1 + w22 * i2 + b2
    h1, h2 = max(z1, 0), max(z2, 0)
    o1, o2 = w31 * h1 + w41 * h2 + b3, w32 * h1 + w42 * h2 + b4
    return SimpleNamespace(**{k: v for k, v in locals().items() if k not in ("doc", "f", "l1", "l2", "path")})
