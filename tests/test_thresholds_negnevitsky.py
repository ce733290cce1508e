"""Thresholds (net_j = Σ w_ji·s_i − θ_j) against the published numbers of
Negnevitsky's XOR example (Artificial Intelligence, 3rd ed., section 6.4),
which are rounded to 4 decimals in the book."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.api import solve_file

PROBLEM = Path(__file__).resolve().parent.parent / "problems" / "negnevitsky-xor-thresholds.yaml"


def test_negnevitsky_xor_one_step_reproduces_the_book():
    step = solve_file(PROBLEM)["steps"][0]
    values = step["samples"][0]["values"]
    assert values["y3"] == pytest.approx(0.5250, abs=5e-5)
    assert values["y4"] == pytest.approx(0.8808, abs=5e-5)
    assert values["y5"] == pytest.approx(0.5097, abs=5e-5)
    # δ5 = y5(1 − y5)·e with e = 0 − y5; on ½e² with net5 = … − θ5, ∂E/∂θ5 = δ5.
    assert step["gradients"]["theta5"] == pytest.approx(-0.1274, abs=5e-5)
    published_after = {"w35": -1.2067, "w45": 1.0888, "theta5": 0.3127, "w13": 0.5038, "w14": 0.8985,
                       "w23": 0.4038, "w24": 0.9985, "theta3": 0.7962, "theta4": -0.0985}
    for name, value in published_after.items():
        assert step["parameters"][name] == pytest.approx(value, abs=5e-5), name
