"""Float runs are computed by generated Python functions (one per problem for a
sample's forward pass and reverse sweep, one for an optimizer's update) once a few
batches are done. They must give the numbers of the compiled closures bit for bit,
and leave every failure to the checked path, which names what failed."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tutor import evaluate, train as train_module
from tutor.arith import FloatSource, generated_source
from tutor.problem import load_problem, parse_problem
from tutor.render.json import render_json, write_json
from tutor.train import train, training

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("**/*.yaml"))


def solved(problem, generate: bool, details: bool = True):
    """The run with the generated code used from the first batch and plain steps
    taking their short way (train._plain_step), or neither."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evaluate, "GENERATE_AFTER_BATCHES", 0 if generate else -1)
        mp.setattr(train_module, "GENERATE_AFTER_STEPS", 0 if generate else -1)
        mp.setattr(train_module, "PLAIN_STEPS", generate)
        return train(problem, details=details)


def everything(run) -> str:
    """Every number of a run, with its type and its last bit (repr of floats is exact)."""
    return repr((run.steps, run.final_samples, run.final_loss, run.final_gradients, run.gradient_check,
                 str(run.diverged) if run.diverged else None))


def longer(path: Path):
    """The problem trained for 20 times its epochs: the generated code meets more values."""
    text = re.sub(r"epochs: (\d+)", lambda m: f"epochs: {int(m.group(1)) * 20}", path.read_text())
    return parse_problem(text, str(path))


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_generated_code_gives_the_closures_numbers(path: Path):
    for problem in (load_problem(path), longer(path)):
        for details in (True, False):
            assert everything(solved(problem, True, details)) == everything(solved(problem, False, details))


DIVERGING = """
title: diverges
inputs: [x]
params: {w: 1}
model: {u: w*x, y: sqrt(u)}
outputs: [y]
targets: [t]
data: [{x: 1, t: 0}, {x: 0, t: 0}]
loss: sse
optimizer: {name: sgd, lr: 1}
training: {epochs: 50}
"""


@pytest.mark.parametrize("text", [
    DIVERGING,                                                   # ∂y/∂u = 1/(2√0): a partial fails
    DIVERGING.replace("x: 1,", "x: 10,").replace("sqrt(u)", "u").replace("epochs: 50", "epochs: 500"),  # past a double
    DIVERGING.replace("{name: sgd, lr: 1}", "{name: adam, lr: 1, eps: 0}").replace("sqrt(u)", "u*u")
    .replace("[{x: 1, t: 0}, {x: 0, t: 0}]", "{x: 0, t: 0}"),  # m̂/(√v̂ + ε) = 0/0 in the update
], ids=["partial", "overflow", "adam-eps-0"])
def test_a_failure_in_generated_code_is_named_by_the_checked_path(text: str):
    problem = parse_problem(text, "diverges.yaml")
    generated, checked = solved(problem, True), solved(problem, False)
    assert generated.diverged is not None
    assert everything(generated) == everything(checked)


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_streamed_json_of_a_longer_run_is_the_rendered_json(path: Path):
    """The JSON writes float steps from templates: the bytes are the encoder's."""
    problem = longer(path)
    out = io.StringIO()
    run, steps = training(problem)
    write_json(run, steps, out)
    assert out.getvalue() == render_json(train(problem, details=False))


def test_an_update_too_large_to_generate_runs_the_closures(monkeypatch):
    problem = longer(ROOT / "problems" / "xor-bce-adam-minibatch.yaml")
    monkeypatch.setattr(train_module, "GENERATED_UPDATE_LIMIT", 0)
    assert everything(solved(problem, True)) == everything(solved(problem, False))


@pytest.mark.parametrize("source", [
    "def sample(P):\n    return __import__('os')\n",      # a builtin, a string
    "def sample(P):\n    return w1\n",                      # a name from a problem file
    "def sample(P):\n    return v0.real\n",                 # an attribute
    "def sample(P):\n    return 2.5\n",                     # a number written into the code
    "def sample(P):\n    return [v0 for v0 in P]\n",        # a keyword other than def and return
])
def test_generated_code_holds_only_its_own_names_operators_and_0_and_1(source: str):
    with pytest.raises(ValueError, match="generated code holds"):
        generated_source(source)


def test_generated_code_sees_no_builtin_but_sum():
    source = FloatSource({})
    f = source.function_of("sample", "P", ["return sum(P)"])
    assert f((1.0, 2.0)) == 3.0 and set(f.__globals__["__builtins__"]) == {"sum"}


def test_sequential_updates_give_the_closures_numbers():
    """Sequential updates apply the optimizer at each node as its gradients complete:
    the generated update is made for one set of parameters, the others run the closures."""
    text = (ROOT / "problems" / "mazur-2-2-2.yaml").read_text()
    text = re.sub(r"training: \{epochs: \d+", "training: {update: sequential, epochs: 40", text)
    assert "update: sequential" in text
    problem = parse_problem(text, "mazur-sequential.yaml")
    for details in (True, False):
        assert everything(solved(problem, True, details)) == everything(solved(problem, False, details))
