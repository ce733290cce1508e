"""The staged v2 problems (tests/oracle/pending/) against their oracle.

Re-runs tests/oracle/pending_oracle.py and checks that every stored expected
JSON is current, that the oracle reproduces the published figures, that the
twins agree, and that its gradients agree with central differences. It never
runs tutor: these problems use features tutor does not have yet.
Needs torch (in float64); skips without it.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sympy")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
_DTYPE_BEFORE = torch.get_default_dtype()
import pending_oracle as oracle  # noqa: E402  (sets torch's default dtype to float64)

torch.set_default_dtype(_DTYPE_BEFORE)     # not for the rest of the session


@pytest.fixture(autouse=True)
def float64_default():
    """The oracle relies on float64 as torch's default; only while these tests run."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)

PENDING = HERE / "pending"
SHIPPED = HERE.parent.parent / "problems"
# Staged problems whose feature has landed: moved to problems/ (and expected/ beside them),
# where tests/test_problems.py runs tutor on them; their oracle is still checked here.
LANDED = {
    "cs231n-norm-matrix", "sigmoid-2-2-1-matrix", "sigmoid-2-2-1-network-matrix", "sigmoid-2-2-1-scalar",  # issue 14
    "rnn-unroll-3-steps", "rnn-unroll-3-steps-by-hand", "lstm-one-step", "dropout-inverted-masks",  # issue 15
    "conv-relu-maxpool-cmput328", "maxpool-tie-split", "conv1d-stride-padding-avgpool",
    "conv2d-padding-avgpool", "batchnorm-batch-of-3", "gru-two-steps",
}
PROBLEMS = sorted([*PENDING.glob("*.yaml"), *(SHIPPED / f"{stem}.yaml" for stem in sorted(LANDED))],
                  key=lambda p: p.stem)


def staged(stem: str) -> Path:
    """Where a staged problem is now: pending/, or problems/ once its feature landed."""
    return (SHIPPED if stem in LANDED else PENDING) / f"{stem}.yaml"


def load_expected(stem: str) -> dict:
    return json.loads((staged(stem).parent / "expected" / f"{stem}.json").read_text())


def differences(expected, got, where=""):
    """Same keys in the same order, same lists, numbers equal to 1e-12 relative."""
    if isinstance(expected, dict):
        if not isinstance(got, dict) or list(expected) != list(got):
            return [f"{where}: keys {list(expected)[:6]} vs {list(got)[:6] if isinstance(got, dict) else got!r}"]
        return [d for k in expected for d in differences(expected[k], got[k], f"{where}.{k}")]
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return [f"{where}: {len(expected)} items vs {got!r:.60}"]
        return [d for i, (e, g) in enumerate(zip(expected, got)) for d in differences(e, g, f"{where}[{i}]")]
    if isinstance(expected, float):
        ok = isinstance(got, float) and math.isclose(expected, got, rel_tol=1e-12, abs_tol=1e-15)
        return [] if ok else [f"{where}: stored {expected!r}, oracle {got!r}"]
    return [] if expected == got else [f"{where}: stored {expected!r}, oracle {got!r}"]


def test_every_pending_problem_has_its_expected_json_and_no_other():
    stems = {p.stem for p in PROBLEMS}
    stored = {p.stem for p in (PENDING / "expected").glob("*.json")} | LANDED
    assert all((SHIPPED / "expected" / f"{stem}.json").is_file() for stem in LANDED)
    assert stems == stored
    assert len(PROBLEMS) >= 10


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_stored_expected_json_is_current(path: Path):
    bad = differences(load_expected(path.stem), json.loads(oracle.dumps(oracle.solve_file(path))))
    assert not bad, "\n".join(bad[:20])


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_first_step_gradients_match_central_differences(path: Path):
    solver = oracle.Solver(oracle.load(path))
    params = dict(solver.prob.params.initial)
    step = oracle.Solver(oracle.load(path)).solve()["steps"][0]
    batch = [i - 1 for i in step["batch"]]
    eps = 1e-6
    for name, analytic in step["gradients"].items():
        up, down = dict(params), dict(params)
        up[name] += eps
        down[name] -= eps
        numeric = (solver.evaluate(up, batch)[1].item() - solver.evaluate(down, batch)[1].item()) / (2 * eps)
        assert math.isclose(numeric, analytic, rel_tol=1e-6, abs_tol=1e-8), (name, numeric, analytic)


def first_sample(stem):
    step = load_expected(stem)["steps"][0]
    return step, step["samples"][0]


def test_cmput328_published_figures():
    step, sample = first_sample("conv-relu-maxpool-cmput328")
    J = [[sample["values"][f"J{i}{j}"] for j in range(1, 5)] for i in (1, 2)]
    assert J == [[2, -4, 6, -1], [-1, -9, 9, -2]]
    assert [sample["values"]["O11"], sample["values"]["O12"]] == [2, 9]
    assert step["loss"] == 13
    # dE/dW_ab = dE/dJ11 * I[a][b] + dE/dJ23 * I[1+a][2+b]: only the two maxima pass gradient
    I = [[1, 3, 2, 4, 6, 4], [4, 8, 3, 1, 0, 2], [2, 1, 4, 3, 9, 1], [4, 7, 2, 3, 9, 2]]
    for a in range(3):
        for b in range(3):
            assert step["gradients"][f"W{a + 1}{b + 1}"] == -5 * I[a][b] - 1 * I[a + 1][b + 2]


def test_rnn_published_figures_and_twin():
    step, _ = first_sample("rnn-unroll-3-steps")
    assert round(step["loss"], 6) == 6.313215
    assert round(step["gradients"]["Wxh"], 6) == -0.529891
    unrolled, by_hand = load_expected("rnn-unroll-3-steps"), load_expected("rnn-unroll-3-steps-by-hand")
    unrolled.pop("title"), by_hand.pop("title")
    assert unrolled == by_hand


def test_matrix_twin_equals_scalar_twin():
    matrix, scalar = load_expected("sigmoid-2-2-1-matrix"), load_expected("sigmoid-2-2-1-scalar")
    matrix.pop("title"), scalar.pop("title")
    assert matrix == scalar


def test_cs231n_closed_forms():
    step, sample = first_sample("cs231n-norm-matrix")
    W, x = [[0.1, 0.5], [-0.3, 0.8]], [0.2, 0.4]
    q = [W[0][0] * x[0] + W[0][1] * x[1], W[1][0] * x[0] + W[1][1] * x[1]]
    assert math.isclose(step["loss"], q[0] ** 2 + q[1] ** 2, rel_tol=1e-15)
    for i in range(2):
        for j in range(2):    # df/dW = 2 q x^T
            assert math.isclose(step["gradients"][f"W{i + 1}{j + 1}"], 2 * q[i] * x[j], rel_tol=1e-15)
        # df/dx = 2 W^T q, df/dq = 2q
        assert math.isclose(sample["derivatives"][f"x{i + 1}"], 2 * (W[0][i] * q[0] + W[1][i] * q[1]), rel_tol=1e-14)
        assert math.isclose(sample["derivatives"][f"q{i + 1}"], 2 * q[i], rel_tol=1e-15)


def test_batchnorm_input_gradients_sum_to_zero():
    solver = oracle.Solver(oracle.load(staged("batchnorm-batch-of-3")))
    solver.evaluate(dict(solver.prob.params.initial), [0, 1, 2])
    rows = solver.batchnorm_input_gradients
    assert len(rows) == 3
    for unit in range(2):
        column = [row[unit] for row in rows]
        assert abs(sum(column)) <= 1e-14 * sum(map(abs, column))
        assert max(map(abs, column)) > 0.01     # not trivially zero


def test_lstm_matches_the_equations_written_out():
    """A second opinion on nn.LSTMCell: the textbook equations in plain floats."""
    _, sample = first_sample("lstm-one-step")
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    x1, x2, h0, c0 = 1, -2, 0.1, 0.2
    pre = {k: w[0] * x1 + w[1] * x2 + w[2] * h0 + b for k, (w, b) in {
        "i": ([0.5, -0.3, 0.2], 0.1), "f": ([0.4, 0.1, -0.5], 0.5),
        "g": ([-0.2, 0.6, 0.3], -0.1), "o": ([0.3, -0.1, 0.7], 0.2)}.items()}
    c1 = sig(pre["f"]) * c0 + sig(pre["i"]) * math.tanh(pre["g"])
    h1 = sig(pre["o"]) * math.tanh(c1)
    assert math.isclose(sample["values"]["h"], h1, rel_tol=1e-14)
    assert math.isclose(sample["values"]["y"], 1.2 * h1 + 0.1, rel_tol=1e-14)


def test_dropped_units_pass_no_gradient():
    step, _ = first_sample("dropout-inverted-masks")
    s1, s2 = step["samples"]                          # masks [1, 0, 1] and [0, 1, 1]
    assert s1["values"]["h2"] > 0 and s1["values"]["d2"] == 0
    assert s1["derivatives"]["d2"] != 0 and s1["derivatives"]["h2"] == 0
    assert s2["values"]["d1"] == 0
    assert s1["values"]["d1"] == 2 * s1["values"]["h1"]       # inverted: kept units doubled
    assert s1["derivatives"]["h1"] == 2 * s1["derivatives"]["d1"]


def test_conv1d_stride_padding_and_avgpool_by_hand():
    _, sample = first_sample("conv1d-stride-padding-avgpool")
    x = [0, 0.5, -1, 2, 0, 1.5, -0.5, 1, 0]                   # padded by one zero each side
    k = [1, -2, 0.5]
    z = [sum(k[j] * x[2 * i + j] for j in range(3)) for i in range(4)]   # stride 2
    a = [math.tanh(v) for v in z]
    for i in range(4):
        assert math.isclose(sample["values"][f"z{i + 1}"], z[i], rel_tol=1e-15)
    for i in range(2):
        assert math.isclose(sample["values"][f"p{i + 1}"], (a[2 * i] + a[2 * i + 1]) / 2, rel_tol=1e-15)


def test_conv2d_padding_and_avgpool_by_hand():
    _, sample = first_sample("conv2d-padding-avgpool")
    image = [[1, 2, 0.5], [-1, 3, 1], [2, -0.5, -2]]
    padded = [[0] * 5] + [[0] + row + [0] for row in image] + [[0] * 5]
    W = [[0.5, -1], [1, 0.25]]
    J = [[sum(W[a][b] * padded[i + a][j + b] for a in range(2) for b in range(2)) for j in range(4)]
         for i in range(4)]
    K = [[max(v, 0) for v in row] for row in J]
    for i in range(4):
        for j in range(4):
            assert sample["values"][f"J{i + 1}{j + 1}"] == J[i][j]
    for i in range(2):
        for j in range(2):
            window = [K[2 * i + a][2 * j + b] for a in range(2) for b in range(2)]
            assert math.isclose(sample["values"][f"P{i + 1}{j + 1}"], sum(window) / 4, rel_tol=1e-15)


SCALAR_FORMS = ["rnn-unroll-3-steps-by-hand", "sigmoid-2-2-1-scalar", "sigmoid-2-2-1-network-matrix"]


@pytest.mark.parametrize("stem", SCALAR_FORMS)
def test_scalar_forms_agree_with_the_first_oracle(stem: str):
    """make_expected.py (scalar graphs, written before) gives the same steps and final values."""
    import make_expected
    bad = make_expected.compare(make_expected.solve_file(staged(stem)), load_expected(stem))
    assert not bad, "\n".join(bad[:20])


def test_maxpool_tie_shares_the_gradient_equally():
    step, sample = first_sample("maxpool-tie-split")
    d = sample["derivatives"]
    assert (d["O11"], d["O12"]) == (-0.5, 1.0)
    assert d["K12"] == d["K21"] == -0.25 and d["K11"] == d["K22"] == 0          # two maxima of 1.5
    assert d["K13"] == d["K14"] == d["K23"] == 1 / 3 and d["K24"] == 0        # three maxima of 1.0
    assert math.isclose(step["gradients"]["W11"], -0.5 * 3 + 1.0 * 2, rel_tol=1e-15)
