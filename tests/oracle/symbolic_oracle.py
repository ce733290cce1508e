"""Independent oracle for the expected files of the symbolic problems (no `tutor` import).

    /work/main/.venv/bin/python tests/oracle/symbolic_oracle.py      # needs torch

Each expected formula string of problems/symbolic/expected/{cs229-2-3-1,softmax-cce}-symbolic.json
is evaluated at random numbers (its own whitelist evaluator over Python's `ast`,
never `eval`) and compared with torch autograd (float64) on the network built
here from the problem statement: every gradient of the batch loss, every
per-sample derivative ∂E/∂name, the loss and the update θ − lr·g.
"""

from __future__ import annotations

import ast
import json
import math
import random
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
torch.set_default_dtype(torch.float64)


def value(text: str, env: dict[str, float], samples: list[dict[str, float]] | None = None) -> float:
    """A formula's value; sum_i(body) sums body over ``samples`` (names with suffix _i)."""
    def ev(node) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            operations = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                          ast.Div: lambda: a / b, ast.Pow: lambda: a ** b}
            return operations[type(node.op)]()
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1:
            if node.func.id == "log":
                return math.log(ev(node.args[0]))
            if node.func.id == "sum_i":
                return sum(value(ast.unparse(node.args[0]), env | {k + "_i": v for k, v in s.items()})
                           for s in samples)
        raise ValueError(f"not in the oracle's grammar: {ast.dump(node)}")
    return ev(ast.parse(text, mode="eval"))


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def check_cs229(expected: dict, rng: random.Random) -> int:
    m = 4
    names = [f"w1_{i}{j}" for j in (1, 2, 3) for i in (0, 1, 2)] + [f"w2_{j}" for j in range(4)]
    params = {n: torch.tensor(rng.uniform(-1, 1), requires_grad=True) for n in names}
    data = [{"x1": rng.uniform(-2, 2), "x2": rng.uniform(-2, 2), "y": float(rng.random() < 0.5)} for _ in range(m)]
    samples, losses, per_sample = [], [], []
    for s in data:
        x1 = torch.tensor(s["x1"], requires_grad=True)
        x2 = torch.tensor(s["x2"], requires_grad=True)
        h = {j: torch.sigmoid(params[f"w1_0{j}"] + params[f"w1_1{j}"] * x1 + params[f"w1_2{j}"] * x2)
             for j in (1, 2, 3)}
        for t in h.values():
            t.retain_grad()
        o = torch.sigmoid(params["w2_0"] + sum(params[f"w2_{j}"] * h[j] for j in (1, 2, 3)))
        o.retain_grad()
        e = (o - s["y"]) ** 2
        losses.append(e)
        samples.append({"x1": s["x1"], "x2": s["x2"], "y": s["y"], "o": o.item(),
                        **{f"h{j}": h[j].item() for j in (1, 2, 3)}})
        per_sample.append((x1, x2, h, o))
    # per-sample derivatives of the first sample's own loss
    losses[0].backward(retain_graph=True)
    x1, x2, h, o = per_sample[0]
    first = {"o": o.grad.item(), "x1": x1.grad.item(), "x2": x2.grad.item(), **{f"h{j}": h[j].grad.item() for j in h}}
    for p in params.values():
        p.grad = None
    loss = sum(losses) / m
    loss.backward()
    env = {n: p.item() for n, p in params.items()} | {"m": float(m), "lr": 0.3}
    step = expected["steps"][0]
    count = 0
    for n, text in step["gradients"].items():
        assert close(value(text, env, samples), params[n].grad.item()), n
        count += 1
    for n, text in step["samples"][0]["derivatives"].items():
        assert close(value(text, env | samples[0]), first[n]), n
        count += 1
    assert close(value(step["loss"], env, samples), loss.item())
    assert close(value(step["samples"][0]["loss"], env | samples[0]), losses[0].item())
    for n, text in step["parameters"].items():
        assert close(value(text, env, samples), env[n] - 0.3 * params[n].grad.item()), n
        count += 3
    return count


def check_softmax(expected: dict, rng: random.Random) -> int:
    names = [f"w{k}{j}" for k in (1, 2, 3) for j in (1, 2)]
    params = {n: torch.tensor(rng.uniform(-1, 1), requires_grad=True) for n in names}
    x = {j: torch.tensor(rng.uniform(-2, 2), requires_grad=True) for j in (1, 2)}
    label = rng.randrange(3)
    y = [float(k == label) for k in range(3)]
    z = [params[f"w{k}1"] * x[1] + params[f"w{k}2"] * x[2] for k in (1, 2, 3)]
    for t in z:
        t.retain_grad()
    p = torch.softmax(torch.stack(z), 0)
    p.retain_grad()
    loss = -sum(y[k] * torch.log(p[k]) for k in range(3))
    loss.backward()
    env = {n: t.item() for n, t in params.items()} | {"x1": x[1].item(), "x2": x[2].item(), "lr": 0.3}
    env |= {f"y{k + 1}": y[k] for k in range(3)} | {f"p{k + 1}": p[k].item() for k in range(3)}
    numeric = {f"z{k + 1}": z[k].grad.item() for k in range(3)} | {f"p{k + 1}": p.grad[k].item() for k in range(3)}
    numeric |= {"x1": x[1].grad.item(), "x2": x[2].grad.item()}
    step = expected["steps"][0]
    count = 0
    for n, text in step["gradients"].items():
        assert close(value(text, env), params[n].grad.item()), n
        count += 1
    for n, text in step["samples"][0]["derivatives"].items():
        assert close(value(text, env), numeric[n]), n
        count += 1
    assert close(value(step["loss"], env), loss.item())
    for n, text in step["parameters"].items():
        assert close(value(text, env), env[n] - 0.3 * params[n].grad.item()), n
        count += 1
    return count


def main() -> int:
    checks = {"cs229-2-3-1-symbolic": check_cs229, "softmax-cce-symbolic": check_softmax}
    for name, check in checks.items():
        expected = json.loads((ROOT / "problems/symbolic/expected" / f"{name}.json").read_text())
        count = sum(check(expected, random.Random(seed)) for seed in range(20))
        print(f"{name}: {count} formula values agree with torch autograd (20 random points, rel 1e-9)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
