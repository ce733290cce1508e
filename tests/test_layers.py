"""The layer types beyond dense (conv1d, conv2d, maxpool, avgpool, batchnorm, dropout,
rnn, lstm, gru) and `unroll`.

* The issue's published figures; the shipped problems themselves are checked against
  their torch-float64 expected JSON by tests/test_problems.py.
* Batch normalization: the gradients arriving at its inputs sum to zero over the batch.
* Property tests (hypothesis), one per layer type, with random shapes, strides,
  paddings, window sizes, steps and masks: every gradient of the batch loss against
  central finite differences of the same loss. Each random problem is read and
  compiled once; the probes re-run only its compiled forward pass.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from tutor.api import solve_file
from tutor.arith import make_domain
from tutor.batch import evaluator_for
from tutor.derive import derive
from tutor.graph import build_graph
from tutor.problem import parse_problem

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "problems"

def test_batchnorm_input_gradients_sum_to_zero_over_the_batch():
    step = solve_file(SHIPPED / "batchnorm-batch-of-3.yaml")["steps"][0]
    for name in ("z1", "z2"):
        column = [s["derivatives"][name] for s in step["samples"]]
        assert max(map(abs, column)) > 1e-3
        assert abs(math.fsum(column)) < 1e-12
    assert step["samples"][0]["values"]["mu1"] == step["samples"][2]["values"]["mu1"]


def test_cmput328_figures():
    """The published figures of the CMPUT 328 exercise (issue 15)."""
    out = solve_file(ROOT / "problems" / "conv-relu-maxpool-cmput328.yaml")
    values = out["steps"][0]["samples"][0]["values"]
    assert [[values[f"J{i}{j}"] for j in range(1, 5)] for i in (1, 2)] == [[2, -4, 6, -1], [-1, -9, 9, -2]]
    assert [values["O11"], values["O12"]] == [2, 9]
    assert out["steps"][0]["loss"] == 13


def test_unrolled_rnn_figures():
    """Issue 15: loss 6.313215 and ∂L/∂Wxh = −0.529891 with ½SSE."""
    step = solve_file(ROOT / "problems" / "rnn-unroll-3-steps.yaml")["steps"][0]
    assert round(step["loss"], 6) == 6.313215
    assert round(step["gradients"]["Wxh"], 6) == -0.529891
    twin = solve_file(ROOT / "problems" / "rnn-unroll-3-steps-by-hand.yaml")
    assert twin["steps"] == solve_file(ROOT / "problems" / "rnn-unroll-3-steps.yaml")["steps"]


def test_recurrent_layers_group_their_equations_by_time_step():
    problem = parse_problem((SHIPPED / "gru-two-steps.yaml").read_text(), "gru.yaml")
    assert [s.t for s in problem.time_steps] == [1, 2]
    assert problem.time_steps[0].names == ("r_h_1", "z_h_1", "n_h_1", "h_1")
    assert problem.time_steps[1].names == ("r_h_2", "z_h_2", "n_h_2", "h")
    unrolled = parse_problem((ROOT / "problems" / "rnn-unroll-3-steps.yaml").read_text(), "rnn.yaml")
    assert [s.names for s in unrolled.time_steps] == [("a1", "h1"), ("a2", "h2"), ("a3", "h3")]


def test_convolution_records_its_grids():
    problem = parse_problem((ROOT / "problems" / "conv-relu-maxpool-cmput328.yaml").read_text(), "c.yaml")
    grids = {g.name: g for g in problem.grids}
    assert grids["W"].role == "kernel" and grids["W"].rows()[0] == ("W11", "W12", "W13")
    assert grids["J"].shape == (2, 4) and grids["O"].components == ("O11", "O12")
    assert grids["I"].shape == (4, 6)


# ---------------------------------------------------------------- finite differences

H = 1e-6
REL, ABS = 1e-5, 1e-7


class Compiled:
    """A problem read and compiled once; the batch loss and gradients at any parameters."""

    def __init__(self, problem: dict):
        self.problem = parse_problem(json.dumps(problem), "fd.yaml")
        self.domain = make_domain("float", None)
        self.evaluator = evaluator_for(derive(build_graph(self.problem)), self.domain)
        self.samples = [(k, {**{n: s[n].value for n in self.problem.inputs + self.problem.targets},
                             **{n: c.value for n, c in self.problem.constants.items()}})
                        for k, s in enumerate(self.problem.samples, 1)]
        self.params = {n: v.value for n, v in self.problem.params.items()}

    def run(self, params):
        traces, grads = self.evaluator.run_batch(params, self.samples, self.problem.loss.reduction)
        return self.evaluator.batch_loss(traces, self.problem.loss.reduction), grads, traces


def pool_gaps(compiled: Compiled, traces) -> float:
    """How far every max-pool window is from a tie (max is not differentiable there)."""
    gaps = [math.inf]
    for eq in compiled.problem.equations or ():
        if eq.expr.func.__name__ == "max_":
            for trace in traces:
                vals = sorted((trace.values[a.name] for a in eq.expr.args), reverse=True)
                gaps.append(vals[0] - vals[1])
    return min(gaps)


def check_fd(problem: dict):
    compiled = Compiled(problem)
    loss, grads, traces = compiled.run(compiled.params)
    if pool_gaps(compiled, traces) < 1e-3:
        return  # too near a tie: the central difference would straddle a kink
    for p, value in compiled.params.items():
        plus = compiled.run({**compiled.params, p: value + H})[0]
        minus = compiled.run({**compiled.params, p: value - H})[0]
        numeric = (plus - minus) / (2 * H)
        assert math.isclose(grads[p], numeric, rel_tol=REL, abs_tol=ABS), (p, grads[p], numeric, problem)


numbers = st.floats(-1.5, 1.5, allow_nan=False).map(lambda x: round(x, 3))
smooth = st.sampled_from(["tanh", "sigmoid", "linear"])
FD = settings(max_examples=25, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def grid(draw, shape):
    if len(shape) == 1:
        return [draw(numbers) for _ in range(shape[0])]
    return [[draw(numbers) for _ in range(shape[1])] for _ in range(shape[0])]


def axis(draw, stride: int, padding: int) -> tuple[int, int]:
    """(input size, window) along one axis that tile: (n + 2p − k) a multiple of the stride."""
    k, out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    n = (out - 1) * stride + k - 2 * padding
    return (n, k) if n >= 1 else (k, k)


def dense_head(sources_count, draw):
    return {"units": ["y"], "activation": "linear",
            "weights": [[draw(numbers) for _ in range(sources_count)]], "bias": [draw(numbers)]}


@st.composite
def conv_problems(draw, dims):
    s, p = draw(st.integers(1, 2)), draw(st.integers(0, 1))
    axes = [axis(draw, s, p) for _ in range(dims)]
    shape, kshape = tuple(n for n, _ in axes), tuple(k for _, k in axes)
    kernels = draw(st.integers(1, 2))
    layer = {"type": f"conv{dims}d", "stride": s, "padding": p, "activation": draw(smooth), "units": "K"}
    if kernels == 1:
        layer["kernel"] = grid(draw, kshape)
    else:
        layer["kernels"] = [grid(draw, kshape) for _ in range(kernels)]
    if draw(st.booleans()):
        layer["bias"] = draw(numbers)
    out = [(a + 2 * p - b) // s + 1 for a, b in zip(shape, kshape)]
    layers = [layer]
    count = kernels * math.prod(out)
    if draw(st.booleans()):  # a pool whose window tiles the map
        size = draw(st.integers(1, min(out)))
        stride = draw(st.sampled_from([t for t in (1, 2, size) if all((o - size) % t == 0 for o in out)] or [1]))
        if all((o - size) % stride == 0 for o in out):
            layers.append({"type": draw(st.sampled_from(["maxpool", "avgpool"])), "size": size, "stride": stride,
                           "units": "P"})
            count = kernels * math.prod((o - size) // stride + 1 for o in out)
    layers.append(dense_head(count, draw))
    samples = [{"I": grid(draw, shape), "t": draw(numbers)} for _ in range(draw(st.integers(1, 2)))]
    return {"title": "fd", "network": {"inputs": {"I": list(shape)}, "layers": layers}, "targets": ["t"],
            "data": samples, "loss": "mse"}


@st.composite
def cell_problems(draw, kind):
    steps, units, per_step = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    inputs = [f"x{i}" for i in range(1, steps * per_step + 1)]
    gates = {"rnn": None, "lstm": "ifgo", "gru": "rzn"}[kind]
    rows = lambda: [[draw(numbers) for _ in range(per_step + units)] for _ in range(units)]  # noqa: E731
    vec = lambda: [draw(numbers) for _ in range(units)]  # noqa: E731
    layer = {"type": kind, "steps": steps, "units": [f"h{j}" for j in range(1, units + 1)],
             "weights": rows() if gates is None else {g: rows() for g in gates}}
    if draw(st.booleans()):
        layer["bias"] = vec() if gates is None else {g: vec() for g in gates}
        if kind == "gru" and draw(st.booleans()):
            layer["bias"]["hn"] = vec()
    state = {"h": vec()} | ({"c": vec()} if kind == "lstm" else {})
    if draw(st.booleans()):
        layer["state"] = state
    if kind == "rnn":
        layer["activation"] = draw(st.sampled_from(["tanh", "sigmoid"]))
    samples = [{**{x: draw(numbers) for x in inputs}, "t": draw(numbers)} for _ in range(draw(st.integers(1, 2)))]
    return {"title": "fd", "network": {"inputs": inputs, "layers": [layer, dense_head(units, draw)]},
            "targets": ["t"], "data": samples, "loss": "mse"}


@st.composite
def dropout_problems(draw):
    width, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    inputs = ["x1", "x2"]
    return {"title": "fd", "network": {"inputs": inputs, "layers": [
        {"units": [f"h{j}" for j in range(1, width + 1)], "activation": "tanh",
         "weights": [[draw(numbers) for _ in inputs] for _ in range(width)], "bias": [draw(numbers)] * width},
        {"type": "dropout", "p": draw(st.sampled_from([0.25, 0.5])), "inverted": draw(st.booleans()),
         "masks": [[draw(st.integers(0, 1)) for _ in range(width)] for _ in range(n)],
         "units": [f"d{j}" for j in range(1, width + 1)]},
        dense_head(width, draw)]},
        "targets": ["t"], "data": [{"x1": draw(numbers), "x2": draw(numbers), "t": draw(numbers)} for _ in range(n)],
        "loss": "mse"}


@st.composite
def batchnorm_problems(draw):
    width, n = draw(st.integers(1, 2)), draw(st.integers(2, 4))
    names = [f"n{j}" for j in range(1, width + 1)]
    layer = {"type": "batchnorm", "units": names}
    if draw(st.booleans()):
        layer["gamma"] = [draw(numbers) for _ in names]
        layer["beta"] = [draw(numbers) for _ in names]
    samples = [{"x1": draw(numbers), "x2": draw(numbers), "t": draw(numbers)} for _ in range(n)]
    if any(len({s[x] for s in samples}) < 2 for x in ("x1", "x2")):
        samples[0]["x1"], samples[0]["x2"] = samples[0]["x1"] + 0.7, samples[0]["x2"] - 0.9
    return {"title": "fd", "network": {"inputs": ["x1", "x2"], "layers": [
        {"units": [f"z{j}" for j in range(1, width + 1)], "activation": "linear",
         "weights": [[draw(numbers) + 0.01 for _ in range(2)] for _ in range(width)]},
        layer, dense_head(width, draw)]},
        "targets": ["t"], "data": samples, "loss": {"name": "mse", "reduction": draw(st.sampled_from(["mean", "sum"]))},
        "training": {"batch_size": n}}


@FD
@given(conv_problems(1))
def test_conv1d_and_pooling_gradients_match_finite_differences(problem):
    check_fd(problem)


@FD
@given(conv_problems(2))
def test_conv2d_and_pooling_gradients_match_finite_differences(problem):
    check_fd(problem)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@FD
@given(data=st.data())
def test_recurrent_gradients_match_finite_differences(kind, data):
    check_fd(data.draw(cell_problems(kind)))


@FD
@given(dropout_problems())
def test_dropout_gradients_match_finite_differences(problem):
    check_fd(problem)


@FD
@given(batchnorm_problems())
def test_batchnorm_gradients_match_finite_differences(problem):
    check_fd(problem)


BATCHNORM_TWO_TRAINED = """\
title: Batch norm with two trained parameters
network:
  inputs: [x1, x2]
  layers:
    - {units: [z1], activation: linear, weights: [[0.5, -0.4]], names: {weights: [[w1, w2]]}}
    - {type: batchnorm, units: [n1]}
    - {units: [o], activation: linear, weights: [[0.7]], bias: [0.2], names: {weights: [[v]], bias: [c]}}
targets: [y]
data:
  - {x1: 1, x2: 2, y: 1}
  - {x1: -1, x2: 0.5, y: 0}
  - {x1: 2, x2: -1, y: 2}
loss: mse
frozen: [w1, w2, gamma_n1, beta_n1]
training: {epochs: 3}
"""


def test_loss_surface_over_a_batchnorm_problem():
    """The surface's grid evaluates the batch as one computation, like training."""
    from tutor.surface import loss_surface
    from tutor.train import train

    problem = parse_problem(BATCHNORM_TWO_TRAINED, "bn.yaml")
    run = train(problem)
    surface = loss_surface(problem, [("sgd", run)])
    assert surface.names == ("v", "c") and surface.levels
    # at the initial parameters, the surface's loss is the run's first loss
    compiled = Compiled(YAML(typ="safe", pure=True).load(BATCHNORM_TWO_TRAINED))
    assert math.isclose(compiled.run(compiled.params)[0], run.steps[0].loss, rel_tol=1e-12)


def test_checking_answers_to_a_batchnorm_problem(tmp_path):
    """The checker sees the batch's values under the problem's names, sample by sample:
    right answers are right, and a slip early in sample 2 is carried into its later values."""
    from typer.testing import CliRunner

    from tutor.cli import app

    path = SHIPPED / "batchnorm-batch-of-3.yaml"
    step = solve_file(path)["steps"][0]
    right = step["samples"][1]["values"]
    slipped = {**right, "net_z1": right["net_z1"] + 0.5, "z1": right["z1"] + 0.5}
    lines = ["student: Ada", "answers:",
             "  - {step: 1, sample: 1, values: {" + ", ".join(
                 f"{n}: {step['samples'][0]['values'][n]!r}" for n in ("z1", "xhat1", "o")) + "}}",
             "  - {step: 1, sample: 2, values: {" + ", ".join(f"{n}: {slipped[n]!r}" for n in ("net_z1", "z1")) + "}}",
             f"  - {{step: 1, loss: {step['loss']!r}}}",
             "  - {step: 1, gradient: {" + ", ".join(f"{p}: {g!r}" for p, g in step["gradients"].items()) + "}}"]
    answers = tmp_path / "answers.yaml"
    answers.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["check", str(path), str(answers)])
    assert "15 correct, 1 wrong, 1 consistent with earlier answers" in result.stdout, result.stdout


def test_layer_grids_stand_for_their_components_in_ask_and_frozen():
    text = (ROOT / "problems" / "conv-relu-maxpool-cmput328.yaml").read_text()
    problem = parse_problem(text + "frozen: [W]\nask: [{gradient: [K, O]}]\n", "c.yaml")
    assert problem.frozen == tuple(f"W{i}{j}" for i in (1, 2, 3) for j in (1, 2, 3))
    asked = next(item for item in problem.ask if item.kind == "gradient").names
    assert asked == tuple(f"K{i}{j}" for i in (1, 2) for j in (1, 2, 3, 4)) + ("O11", "O12")


def test_batchnorm_backward_through_the_batch_statistics_is_recorded():
    """Each sample's trace holds δμ, δσ² and the edges through them, so that a worked
    solution can show δx_s = δx̂_s·∂x̂/∂x + δμ·∂μ/∂x + δσ²·∂σ²/∂x_s and δσ² = Σ_s δx̂_s·∂x̂_s/∂σ²."""
    from tutor.train import train

    run = train(parse_problem((SHIPPED / "batchnorm-batch-of-3.yaml").read_text(), "bn.yaml"))
    traces = run.steps[0].samples
    for stat in run.problem.batch_stats:
        x, xhat, mu, var = stat.source, stat.normalized, stat.mean, stat.var
        for t in traces:
            d, p = t.deltas, t.partials
            through = d[xhat] * p[(xhat, x)] + d[mu] * p[(mu, x)] + d[var] * p[(var, x)]
            assert math.isclose(d[x], through, rel_tol=1e-12, abs_tol=1e-15)
            assert p[(mu, x)] == 1 / 3
        assert math.isclose(traces[0].deltas[var], math.fsum(t.deltas[xhat] * t.partials[(xhat, var)] for t in traces),
                            rel_tol=1e-12)


def test_layers_after_a_grid_by_finite_differences():
    """conv2d → batchnorm over the map (units: B) → dropout with masks written as rows
    → dense, with per-axis strides and a [rows, columns] pool window."""
    check_fd(YAML(typ="safe", pure=True).load("""
network:
  inputs: {I: [3, 4]}
  layers:
    - {type: conv2d, kernel: [[1, -1], [0.5, 2]], stride: [1, 2], units: K, activation: tanh}
    - {type: batchnorm, units: B, gamma: [1.5, 0.5, -1, 2], beta: [0.1, 0.2, 0.3, -0.4]}
    - {type: dropout, p: 0.25, masks: [[[1, 0], [1, 1]], [[0, 1], [1, 1]], [[1, 1], [1, 0]]], units: D}
    - {type: avgpool, size: [2, 1], units: P}
    - {units: [y], activation: linear, weights: [[0.1, 0.2]], bias: [0]}
targets: [t]
data:
  - {I: [[1, 2, 3, 0.5], [0, 1, -1, 2], [2, 0, 1, -0.5]], t: 0.5}
  - {I: [[0, 1, 2, 1], [1, -1, 0, 0.25], [3, 1, 2, -1]], t: -0.5}
  - {I: [[2, 1, 0, 0], [1, 1, 0.5, 1], [-1, 2, 1, 3]], t: 0.25}
loss: mse
title: fd
"""))


def test_rnn_layer_equals_the_unrolled_model():
    """The spec's recurrence as a network layer (type: rnn, steps: 3) gives the unroll's numbers."""
    layered = YAML(typ="safe", pure=True).load("""
title: rnn layer
network:
  inputs: [x1, x2, x3]
  layers:
    - {type: rnn, steps: 3, units: [h], activation: sigmoid, state: {h: [0]}, weights: [[0.6, 0.4]],
       names: {weights: [[Wxh, Whh]]}}
    - {units: [y], activation: linear, weights: [[0.5]], names: {weights: [[Why]]}}
targets: [target]
data: {x1: 1, x2: 2, x3: 3, target: 4}
loss: half_sse
optimizer: {name: sgd, lr: 0.1}
""")
    from tutor.api import solve_text

    got = solve_text(json.dumps(layered), "rnn.yaml")["steps"][0]
    want = solve_file(ROOT / "problems" / "rnn-unroll-3-steps.yaml")["steps"][0]
    assert math.isclose(got["loss"], want["loss"], rel_tol=1e-12)
    for p in ("Wxh", "Whh", "Why"):
        assert math.isclose(got["gradients"][p], want["gradients"][p], rel_tol=1e-12)
    values = got["samples"][0]["values"]
    assert [values["h_1"], values["h_2"], values["h"]] == [want["samples"][0]["values"][f"h{t}"] for t in (1, 2, 3)]


def test_the_solution_marks_where_each_max_was_and_groups_grids_and_time_steps():
    from tutor.solution import build_solution
    from tutor.train import train

    tie = train(parse_problem((SHIPPED / "maxpool-tie-split.yaml").read_text(), "tie.yaml"))
    solution = build_solution(tie)
    assert solution.steps[0].forward[0].pooled_maxima == {"K12", "K21", "K13", "K14", "K23"}
    assert {name for name, *_ in solution.layout.grids} == {"I", "W", "J", "K", "O"}
    rnn = build_solution(train(parse_problem((SHIPPED / "rnn-unroll-3-steps.yaml").read_text(), "rnn.yaml")))
    assert rnn.layout.time_steps == ((1, ("a1", "h1")), (2, ("a2", "h2")), (3, ("a3", "h3")))
    assert rnn.steps[0].backward.form == "delta"   # backward through time, δ by δ


def test_a_pooled_maximum_s_local_derivative_says_why():
    from tutor.solution import build_solution
    from tutor.train import train

    tie = build_solution(train(parse_problem((SHIPPED / "maxpool-tie-split.yaml").read_text(), "tie.yaml")))
    notes = {c.lhs.wrt: c.note for c in tie.steps[0].backward.samples[0].locals if c.lhs.of in ("O11", "O12")}
    assert notes["K11"] == "K11 is not the maximum"
    assert notes["K12"] == "K12 is one of 2 equal maxima"
    assert notes["K13"] == "K13 is one of 3 equal maxima"
