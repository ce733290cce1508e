#!/usr/bin/env python3
"""Independent oracle for the tutor's solution JSON.

It shares no code with the `tutor` package: it reads a problem YAML, builds
the network or model directly, takes gradients with torch autograd in float64
(or with sympy for `arithmetic: exact`), runs the training loop of
shared/spec/problem-format.md, and writes the expected solution JSON in the
structure of shared/problems/expected/*.json.

    .venv/bin/python tests/oracle/make_expected.py problems/X.yaml [...] --out problems/expected
    .venv/bin/python tests/oracle/make_expected.py ../shared/problems/*.yaml --check ../shared/problems/expected

    .venv/bin/python tests/oracle/make_expected.py problems/*.yaml --tutor .venv/bin/tutor

`--check DIR` compares with DIR/<stem>.json (rel 1e-9, abs 1e-12, the shared
check-reference rule) instead of writing; `--tutor EXE` compares with the
engine's `solve --format json`. With neither option the JSON goes to
stdout. It supports what the project's problems use; it raises on the rest
(e.g. `arithmetic: {round: N}`, `training.update: sequential`).
"""
import argparse
import ast
import json
import math
import pathlib
import subprocess
import sys

import sympy as sp
import torch
import torch.nn.functional as tF
from ruamel.yaml import YAML

torch.set_default_dtype(torch.float64)

# ---------------------------------------------------------------- numbers

_NUM_FUNCS = {"sqrt": sp.sqrt, "exp": sp.exp, "log": sp.log}


def _num_ast(n):
    if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool):
        return sp.Integer(n.value) if isinstance(n.value, int) else sp.Rational(repr(n.value))
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
        v = _num_ast(n.operand)
        return -v if isinstance(n.op, ast.USub) else v
    if isinstance(n, ast.BinOp):
        a, b = _num_ast(n.left), _num_ast(n.right)
        op = type(n.op)
        if op is ast.Add: return a + b
        if op is ast.Sub: return a - b
        if op is ast.Mult: return a * b
        if op is ast.Div: return a / b
        if op is ast.Pow: return a ** b
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in _NUM_FUNCS and len(n.args) == 1:
        return _NUM_FUNCS[n.func.id](_num_ast(n.args[0]))
    raise ValueError(f"not a number expression: {ast.dump(n)}")


def exact_number(v):
    """YAML number or number string -> exact sympy value (decimals as written)."""
    if isinstance(v, bool):
        raise ValueError(f"not a number: {v!r}")
    if isinstance(v, int):
        return sp.Integer(v)
    if isinstance(v, float):
        return sp.Rational(repr(v))
    if isinstance(v, str):
        return _num_ast(ast.parse(v.replace("^", "**"), mode="eval").body)
    raise ValueError(f"not a number: {v!r}")


def to_float(x):
    return _to_float(x) + 0.0          # + 0.0 turns -0.0 into 0.0


def _to_float(x):
    if isinstance(x, float):
        return x
    if isinstance(x, torch.Tensor):
        return float(x.item())
    if isinstance(x, (int, sp.Integer)):
        return float(int(x))
    if isinstance(x, sp.Rational):
        from fractions import Fraction
        return float(Fraction(int(x.p), int(x.q)))       # correctly rounded
    return float(sp.N(x, 40))


# ---------------------------------------------------------------- backends

class TorchOps:
    """Float mode: values are float64 tensors, gradients by autograd."""
    exact = False

    @staticmethod
    def num(v):
        return torch.tensor(float(v))

    funcs = {
        "sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh,
        "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs,
        "softplus": lambda x: torch.log(1 + torch.exp(x)),
        "leaky_relu": lambda x, s: tF.leaky_relu(x, float(s)),
        "elu": lambda x, a: tF.elu(x, float(a)),
        "silu": tF.silu, "gelu": lambda x: tF.gelu(x, approximate="none"),
        "max": torch.maximum, "min": torch.minimum,
        "sin": torch.sin, "cos": torch.cos, "bipolar_sigmoid": lambda x: 2 * torch.sigmoid(x) - 1,
    }

    @staticmethod
    def softmax(xs):
        return list(torch.softmax(torch.stack(xs), 0).unbind())

    sqrt = staticmethod(math.sqrt)
    cos = staticmethod(math.cos)
    pi = math.pi


class ExactOps:
    """Exact mode: sympy values; gradients by sympy.diff of the batch loss."""
    exact = True

    @staticmethod
    def num(v):
        return exact_number(v)

    funcs = {
        "sigmoid": lambda x: 1 / (1 + sp.exp(-x)), "tanh": sp.tanh, "exp": sp.exp,
        "log": sp.log, "sqrt": sp.sqrt,
        "softplus": lambda x: sp.log(1 + sp.exp(x)),
    }

    @staticmethod
    def softmax(xs):
        e = [sp.exp(x) for x in xs]
        s = sum(e)
        return [v / s for v in e]

    sqrt = staticmethod(sp.sqrt)
    cos = staticmethod(sp.cos)
    pi = sp.pi


def evaluate(node, env, B):
    if isinstance(node, ast.Expression):
        node = node.body
    if isinstance(node, ast.Constant):
        return B.num(node.value)
    if isinstance(node, ast.Name):
        if node.id == "pi" and "pi" not in env:
            return B.pi if B.exact else B.num(B.pi)
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        v = evaluate(node.operand, env, B)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        a, b = evaluate(node.left, env, B), evaluate(node.right, env, B)
        op = type(node.op)
        if op is ast.Add: return a + b
        if op is ast.Sub: return a - b
        if op is ast.Mult: return a * b
        if op is ast.Div: return a / b
        if op is ast.Pow: return a ** b
    if isinstance(node, ast.Call):
        args = [evaluate(a, env, B) for a in node.args]
        return B.funcs[node.func.id](*args)
    raise ValueError(f"unsupported expression: {ast.dump(node)}")


def parse_expr(text):
    return ast.parse(str(text).replace("^", "**"), mode="eval")


# ---------------------------------------------------------------- problem -> graph

class Graph:
    """inputs, targets, constants, params (ordered initial values), nodes
    (ordered (name, fn(env, B) -> value) or a softmax group), outputs, and the
    incoming-weight names of every unit (for gradient centralization)."""

    def __init__(self):
        self.inputs, self.targets, self.outputs = [], [], []
        self.constants, self.params = {}, {}
        self.nodes = []            # ("eq", name, ast) | ("net", name, [(w, src)], b) | ("act", name, act, net) | ("softmax", [names], [nets])
        self.unit_weights = []     # list of lists of weight names


def build_graph(p):
    g = Graph()
    g.targets = list(p.get("targets") or [])
    for k, v in (p.get("constants") or {}).items():
        g.constants[k] = v
    if "network" in p:
        net = p["network"]
        g.inputs = list(net["inputs"])
        sources = g.inputs
        for layer in net["layers"]:
            units = list(layer["units"])
            nets = list(layer.get("net") or [f"net_{u}" for u in units])
            W = layer["weights"]
            names = layer.get("names") or {}
            wn = names.get("weights") or [[f"w_{u}_{s}" for s in sources] for u in units]
            # thresholds (Negnevitsky, Haykin): net_j = Σ w_ji·s_i − θ_j
            bkey = "thresholds" if "thresholds" in layer else "bias"
            sign = -1 if bkey == "thresholds" else 1
            has_bias = bkey in layer and layer[bkey] is not None
            bn = names.get(bkey) or [f"{'theta' if sign < 0 else 'b'}_{u}" for u in units]
            for j, u in enumerate(units):
                assert len(W[j]) == len(sources)
                for i, s in enumerate(sources):
                    g.params.setdefault(wn[j][i], W[j][i])
                if has_bias:
                    g.params.setdefault(bn[j], layer[bkey][j])
                g.nodes.append(("net", nets[j], [(wn[j][i], s) for i, s in enumerate(sources)],
                                (bn[j], sign) if has_bias else None))
                g.unit_weights.append([wn[j][i] for i in range(len(sources))])
            act = layer.get("activation", "linear")
            if act == "softmax":
                g.nodes.append(("softmax", units, nets))
            else:
                for j, u in enumerate(units):
                    g.nodes.append(("act", u, act, nets[j]))
            sources = units
        g.outputs = list(sources)
    else:
        g.inputs = list(p.get("inputs") or [])      # an objective may have no inputs
        g.params = dict(p.get("params") or {})      # ... or no parameters
        for name, rhs in p["model"].items():
            g.nodes.append(("eq", name, parse_expr(rhs)))
        g.outputs = list(p.get("outputs") or [])
    return g


def apply_activation(act, x, B):
    if isinstance(act, dict):
        name = act["name"]
        if name == "leaky_relu":
            return B.funcs["leaky_relu"](x, B.num(act.get("slope", 0.01)))
        if name == "elu":
            return B.funcs["elu"](x, B.num(act.get("alpha", 1)))
        return apply_activation(name, x, B)
    if act == "linear":
        return x
    if act == "leaky_relu":
        return B.funcs["leaky_relu"](x, B.num(0.01))
    if act == "elu":
        return B.funcs["elu"](x, B.num(1))
    return B.funcs[act](x)


def forward(g, params, sample, consts, B, fresh=False):
    """Ordered values of one sample: inputs, targets, constants, nodes. ``fresh``: every
    node is its own tensor (x + 0), so that autograd can differentiate by each one."""
    vals = {}
    for k in g.inputs + g.targets:
        vals[k] = sample[k]
    for k in g.constants:
        vals[k] = consts[k]
    env = dict(vals)
    env.update(params)
    for node in g.nodes:
        kind = node[0]
        if kind == "eq":
            v = evaluate(node[2], env, B)
            if fresh:
                v = v + 0.0
            vals[node[1]] = env[node[1]] = v
        elif kind == "net":
            _, name, terms, b = node
            v = None
            for w, s in terms:
                v = env[w] * env[s] if v is None else v + env[w] * env[s]
            if b is not None:
                b, sign = b
                v = v + env[b] if sign > 0 else v - env[b]
            vals[name] = env[name] = v
        elif kind == "act":
            _, name, act, netname = node
            v = apply_activation(act, env[netname], B)
            vals[name] = env[name] = v
        elif kind == "softmax":
            _, units, nets = node
            for u, v in zip(units, B.softmax([env[n] for n in nets])):
                vals[u] = env[u] = v
    return vals


def sample_loss(p, g, vals, B):
    if "objective" in p:             # E = f, or E = Σ g_k·Y_k with the upstream gradients given
        obj = p["objective"]
        if isinstance(obj, str):
            return vals[obj]
        terms = [B.num(exact_number(v)) * vals[k] if B.exact else float(exact_number(v)) * vals[k]
                 for k, v in obj["upstream"].items()]
        return sum(terms[1:], terms[0])
    spec = p["loss"]
    name = spec if isinstance(spec, str) else spec.get("name")
    o = [vals[k] for k in g.outputs]
    t = [vals[k] for k in g.targets]
    K = len(o)
    if name is None:
        return evaluate(parse_expr(spec["expr"]), vals, B)
    if name == "mse":
        return sum((a - b) ** 2 for a, b in zip(o, t)) / K
    if name == "sse":
        return sum((a - b) ** 2 for a, b in zip(o, t))
    if name == "half_sse":
        return sum((b - a) ** 2 for a, b in zip(o, t)) / 2
    if name == "mae":
        return sum(B.funcs["abs"](a - b) for a, b in zip(o, t)) / K
    if name == "bce":
        log = B.funcs["log"]
        return -sum(b * log(a) + (1 - b) * log(1 - a) for a, b in zip(o, t)) / K
    if name == "cce":
        log = B.funcs["log"]
        return -sum(b * log(a) for a, b in zip(o, t))
    if name == "hinge":   # relu: no gradient at a margin met exactly (PyTorch's MultiMarginLoss)
        relu = B.funcs["relu"]
        if K == 1:
            return relu(1 - t[0] * o[0])
        y = max(range(K), key=lambda k: float(t[k]))       # the one-hot target's class
        return sum(relu(o[k] - o[y] + 1) for k in range(K) if k != y)
    raise ValueError(f"unknown loss {name}")


def penalty_term(p, g, params, B, num):
    """The loss's penalty: (l2/2)·Σθ² + l1·Σ|θ| over `on` (default: a network's weights,
    a model's parameters), or None."""
    spec = p.get("loss")  # an objective has none
    pen = spec.get("penalty") if isinstance(spec, dict) else None
    if not pen:
        return None
    on = pen.get("on", "weights")
    if on == "weights":
        names = [w for ws in g.unit_weights for w in ws] if "network" in p else list(params)
    elif on == "all":
        names = list(params)
    else:
        names = list(on)
    names = list(dict.fromkeys(names))
    term = 0
    if "l2" in pen:
        term = term + num(pen["l2"]) / 2 * sum(params[k] * params[k] for k in names)
    if "l1" in pen:
        term = term + num(pen["l1"]) * sum(B.funcs["abs"](params[k]) for k in names)
    return term


def reduce_losses(p, losses):
    spec = p.get("loss", "mean")
    red = "mean" if isinstance(spec, str) else spec.get("reduction", "mean")
    s = sum(losses[1:], losses[0])
    return s if red == "sum" else s / len(losses)


# ---------------------------------------------------------------- optimizers

DEFAULTS = {
    "sgd": {}, "momentum": {"momentum": 0.9, "form": "classic"},
    "nesterov": {"momentum": 0.9, "form": "pytorch"},
    "adagrad": {"lr": 0.01, "eps": 1e-10, "initial_accumulator": 0, "eps_placement": "outside"},
    "rmsprop": {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "eps_placement": "outside"},
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
    "adam": {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-8, "eps_placement": "outside"},
    "adamw": {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-8, "eps_placement": "outside",
              "weight_decay": 0.01},
    "adabelief": {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-16, "eps_placement": "outside"},
}


def optimizer_config(p, num):
    o = dict(p.get("optimizer") or {"name": "sgd", "lr": 0.1})
    cfg = dict(DEFAULTS[o["name"]])
    cfg.update(o)
    cfg.setdefault("weight_decay", 0)
    out = {}
    for k, v in cfg.items():
        if k in ("name", "form", "eps_placement", "centralize", "schedule"):
            out[k] = v
        elif k == "state":   # {var: {param: value}, t: steps already taken}
            out[k] = {var: (int(x) if var == "t" else {p: num(y) for p, y in x.items()}) for var, x in v.items()}
        elif k == "betas":
            out[k] = [num(b) for b in v]
        else:
            out[k] = num(v)
    return out


def schedule_factor(opt, step, epoch, B, num):
    sched = opt.get("schedule")
    if not sched:
        return 1
    if isinstance(sched, dict):
        sched = [sched]
    f = 1
    for s in sched:
        n = epoch - 1 if s.get("unit", "step") == "epoch" else step - 1
        name = s["name"]
        if name == "step":
            f = f * num(s.get("gamma", 0.1)) ** (n // int(s.get("every", 1)))
        elif name == "exponential":
            f = f * num(s["gamma"]) ** n
        elif name == "inverse_time":
            f = f / (1 + num(s["decay"]) * n)
        elif name == "warmup_linear":
            st, start = int(s["steps"]), num(s.get("start", 0.1))
            f = f * (start + (1 - start) * min(n, st) / num(st))
        elif name == "cosine":
            tm, mf = int(s["t_max"]), num(s.get("min_factor", 0))
            f = f * (mf + (1 - mf) * (1 + B.cos(B.pi * min(n, tm) / num(tm))) / 2)
        else:
            raise ValueError(f"unknown schedule {name}")
    return f


def opt_update(opt, th, g, st, t, lr, B):
    """One parameter's update; returns the new value. `st` is its state dict."""
    name = opt["name"]
    sqrt = B.sqrt
    if name == "sgd":
        return th - lr * g
    if name == "momentum":
        mu, v = opt["momentum"], st.get("v", 0)
        form = opt["form"]
        if form == "classic":
            v = mu * v + g
            st["v"] = v
            return th - lr * v
        if form == "ema":
            v = mu * v + (1 - mu) * g
            st["v"] = v
            return th - lr * v
        if form == "sutskever":
            v = mu * v - lr * g
            st["v"] = v
            return th + v
    if name == "nesterov":
        mu, v = opt["momentum"], st.get("v", 0)
        if opt["form"] == "pytorch":
            v = mu * v + g
            st["v"] = v
            return th - lr * (g + mu * v)
        if opt["form"] == "lookahead":       # g was taken at th + mu*v_old
            v = mu * v - lr * g
            st["v"] = v
            return th + v
    if name == "adagrad":
        r = st.get("r", opt["initial_accumulator"]) + g * g
        st["r"] = r
        if opt["eps_placement"] == "inside":
            return th - lr * g / sqrt(r + opt["eps"])
        return th - lr * g / (sqrt(r) + opt["eps"])
    if name == "rmsprop":
        a = opt["alpha"]
        r = a * st.get("r", 0) + (1 - a) * g * g
        st["r"] = r
        if opt["eps_placement"] == "inside":
            return th - lr * g / sqrt(r + opt["eps"])
        return th - lr * g / (sqrt(r) + opt["eps"])
    if name == "adadelta":
        rho, eps = opt["rho"], opt["eps"]
        r = rho * st.get("r", 0) + (1 - rho) * g * g
        d = sqrt(st.get("u", 0) + eps) / sqrt(r + eps) * g
        st["r"] = r
        st["u"] = rho * st.get("u", 0) + (1 - rho) * d * d
        return th - lr * d
    if name in ("adam", "adamw", "adabelief"):
        b1, b2 = opt["betas"]
        eps = opt["eps"]
        if name == "adamw":
            th = th * (1 - lr * opt["weight_decay"])
        m = b1 * st.get("m", 0) + (1 - b1) * g
        if name == "adabelief":
            s = b2 * st.get("s", 0) + (1 - b2) * (g - m) ** 2 + eps
        else:
            s = b2 * st.get("s", 0) + (1 - b2) * g * g
        st["m"], st["s"] = m, s
        mh = m / (1 - b1 ** t)
        sh = s / (1 - b2 ** t)
        if opt["eps_placement"] == "inside":
            return th - lr * mh / sqrt(sh + eps)
        return th - lr * mh / (sqrt(sh) + eps)
    raise ValueError(f"unsupported optimizer {opt}")


# ---------------------------------------------------------------- training

class Solver:
    def __init__(self, p):
        self.p = p
        ar = p.get("arithmetic", "float")
        if ar not in ("float", "exact"):
            raise ValueError(f"arithmetic {ar!r} not supported by the oracle")
        if (p.get("training") or {}).get("update", "simultaneous") != "simultaneous":
            raise ValueError("only simultaneous updates are supported by the oracle")
        self.B = ExactOps if ar == "exact" else TorchOps
        self.num = exact_number if self.B.exact else (lambda v: to_float(exact_number(v)) if isinstance(v, str) else float(v))
        self.g = build_graph(p)
        self.consts = {k: self.B.num(v) if self.B.exact else torch.tensor(self.num(v))
                       for k, v in self.g.constants.items()}
        data = p.get("data", {})      # an objective without inputs: one empty sample
        self.data = [data] if isinstance(data, dict) else list(data)
        self.samples = [{k: (self.B.num(v) if self.B.exact else torch.tensor(self.num(v)))
                         for k, v in s.items()} for s in self.data]

    def values(self, params, idx):
        """Forward pass of samples idx with numeric params -> (vals list, losses, batch loss)."""
        B = self.B
        pv = {k: (v if B.exact else torch.tensor(v)) for k, v in params.items()}
        outs = []
        for i in idx:
            vals = forward(self.g, pv, self.samples[i], self.consts, B)
            outs.append((vals, sample_loss(self.p, self.g, vals, B)))
        L = reduce_losses(self.p, [l for _, l in outs])
        pen = penalty_term(self.p, self.g, pv, B, self.num)
        return outs, (L if pen is None else L + pen), pen

    def gradient(self, params, idx):
        B = self.B
        names = list(params)
        if not names:
            return {}
        if B.exact:
            syms = {k: sp.Symbol("θ_" + k) for k in names}
            losses = [sample_loss(self.p, self.g, forward(self.g, syms, self.samples[i], self.consts, B), B)
                      for i in idx]
            L = reduce_losses(self.p, losses)
            pen = penalty_term(self.p, self.g, syms, B, self.num)
            L = L if pen is None else L + pen
            sub = {syms[k]: params[k] for k in names}
            return {k: sp.diff(L, syms[k]).subs(sub) for k in names}
        leaves = {k: torch.tensor(params[k], requires_grad=True) for k in names}
        losses = [sample_loss(self.p, self.g, forward(self.g, leaves, self.samples[i], self.consts, B), B)
                  for i in idx]
        L = reduce_losses(self.p, losses)
        pen = penalty_term(self.p, self.g, leaves, B, self.num)
        L = L if pen is None else L + pen
        gr = torch.autograd.grad(L, [leaves[k] for k in names], allow_unused=True)
        return {k: (0.0 if v is None else float(v.item())) for k, v in zip(names, gr)}

    def derivatives(self, params, i):
        """∂E_i/∂name for every input, constant and node of sample i (float mode: autograd
        by every value at once; exact mode: not computed)."""
        if self.B.exact:
            return None
        pv = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        sample = {k: v.clone().requires_grad_(True) for k, v in self.samples[i].items()}
        consts = {k: v.clone().requires_grad_(True) for k, v in self.consts.items()}
        vals = forward(self.g, pv, sample, consts, self.B, fresh=True)
        loss = sample_loss(self.p, self.g, vals, self.B)
        names = [k for k in vals if k not in self.g.targets]
        grads = torch.autograd.grad(loss, [vals[k] for k in names], allow_unused=True)
        return {k: (0.0 if d is None else to_float(d)) for k, d in zip(names, grads)}

    def sample_record(self, params, i, vals, loss):
        out = {"index": i + 1, "values": {k: to_float(v) for k, v in vals.items()}, "loss": to_float(loss)}
        d = self.derivatives(params, i)
        if d is not None:
            out["derivatives"] = d
        return out

    def gradient_check(self, params):
        """ask: [{gradient_check: {eps}}]: central differences of the loss over every sample."""
        item = next((a["gradient_check"] for a in self.p.get("ask") or ()
                     if isinstance(a, dict) and "gradient_check" in a), None)
        if item is None:
            return None
        eps = self.num(item["eps"])
        every = list(range(len(self.data)))
        analytic = self.gradient(params, every)
        out = {}
        for k in item.get("parameters") or list(params):
            plus = self.values({**params, k: params[k] + eps}, every)[1]
            minus = self.values({**params, k: params[k] - eps}, every)[1]
            numeric = (plus - minus) / (2 * eps)
            n, a = to_float(numeric), to_float(analytic[k])
            # No rel_error: for a correct backward pass it is rounding noise (1e-13 here, 1e-12
            # there), which no two implementations share; tests check it against numeric and analytic.
            out[k] = {"plus": to_float(plus), "minus": to_float(minus), "numeric": n, "analytic": a}
        return {"eps": to_float(eps), "parameters": out}

    def solve(self):
        p, B, num = self.p, self.B, self.num
        params = {k: num(v) for k, v in self.g.params.items()}
        out = {"title": p["title"], "parameters": {k: to_float(v) for k, v in params.items()}, "steps": []}
        check = self.gradient_check(params)
        tr = p.get("training") or {}
        N = len(self.data)
        epochs = int(tr.get("epochs", 1))
        bs = int(tr.get("batch_size", N))
        cap = tr.get("steps")
        frozen = set(p.get("frozen") or [])
        opt = optimizer_config(p, num)
        state = {k: {} for k in params}
        given = dict(opt.get("state") or {})
        steps_done = given.pop("t", 0)
        for var, per_param in given.items():   # adam-like: the spec's v is this loop's s
            key = "s" if var == "v" and opt["name"] in ("adam", "adamw") else var
            for k, value in per_param.items():
                state[k][key] = value
        t = 0
        for epoch in range(1, epochs + 1):
            for start in range(0, N, bs):
                if cap is not None and t >= int(cap):
                    break
                t += 1
                idx = list(range(start, min(start + bs, N)))
                lr = opt["lr"] * schedule_factor(opt, t, epoch, B, num)
                outs, L, pen = self.values(params, idx)
                at = params
                if opt["name"] == "nesterov" and opt["form"] == "lookahead":
                    at = {k: params[k] + opt["momentum"] * state[k].get("v", 0) for k in params}
                grads = self.gradient(at, idx)
                wd = opt["weight_decay"]
                if wd and opt["name"] != "adamw":
                    grads = {k: grads[k] + wd * at[k] for k in grads}
                if opt.get("centralize"):
                    if "network" not in p:
                        raise ValueError("centralize needs a layered network")
                    for ws in self.g.unit_weights:
                        mean = sum(grads[w] for w in ws) / len(ws)
                        for w in ws:
                            grads[w] = grads[w] - mean
                new = {}
                for k in params:
                    if k in frozen:
                        new[k] = params[k]
                    else:
                        new[k] = opt_update(opt, params[k], grads[k], state[k], steps_done + t, lr, B)
                out["steps"].append({
                    "step": t, "epoch": epoch, "batch": [i + 1 for i in idx], "lr": to_float(lr),
                    "samples": [self.sample_record(params, i, vals, l) for i, (vals, l) in zip(idx, outs)],
                    "loss": to_float(L),
                    **({"penalty": to_float(pen)} if pen is not None else {}),
                    "gradients": {k: to_float(v) for k, v in grads.items()},
                    "parameters": {k: to_float(v) for k, v in new.items()},
                })
                params = new
        outs, L, pen = self.values(params, list(range(N)))
        out["final"] = {
            "parameters": {k: to_float(v) for k, v in params.items()},
            "samples": [self.sample_record(params, i, vals, l) for i, (vals, l) in enumerate(outs)],
            "loss": to_float(L),
            **({"penalty": to_float(pen)} if pen is not None else {}),
            "gradients": {k: to_float(v) for k, v in self.gradient(params, list(range(N))).items()},
        }
        if check is not None:
            out["gradient_check"] = check
        return out


def load(path):
    return YAML(typ="safe").load(pathlib.Path(path).read_text())


def solve_file(path):
    return Solver(load(path)).solve()


# ---------------------------------------------------------------- comparison (shared check-reference rule)

def close(a, b, rtol=1e-9, atol=1e-12):
    if a is None or b is None:
        return a is b
    return math.isclose(float(a), float(b), rel_tol=rtol, abs_tol=atol)


def compare(exp, got, v2=True):
    """Mismatches of ``got`` against ``exp``; ``v2``: also the keys of the contract's
    additions (derivatives, final gradients, gradient check), which older expected files lack."""
    bad = []

    def maps(where, e, g):
        if not isinstance(g, dict):
            bad.append(f"{where}: missing")
            return
        for k, v in e.items():
            if k not in g:
                bad.append(f"{where}.{k}: missing")
            elif not close(v, g[k]):
                bad.append(f"{where}.{k}: expected {v!r}, got {g[k]!r}")

    gs = got.get("steps", [])
    if len(gs) != len(exp["steps"]):
        bad.append(f"steps: expected {len(exp['steps'])}, got {len(gs)}")
    for e, g in zip(exp["steps"], gs):
        w = f"step {e['step']}"
        for key in ("step", "epoch", "batch"):
            if g.get(key) != e[key]:
                bad.append(f"{w}.{key}: expected {e[key]}, got {g.get(key)}")
        if not close(e["loss"], g.get("loss")):
            bad.append(f"{w}.loss: expected {e['loss']!r}, got {g.get('loss')!r}")
        if not close(e["lr"], g.get("lr")):
            bad.append(f"{w}.lr: expected {e['lr']!r}, got {g.get('lr')!r}")
        maps(w + ".gradients", e["gradients"], g.get("gradients"))
        maps(w + ".parameters", e["parameters"], g.get("parameters"))
        gsam = g.get("samples", [])
        if len(gsam) != len(e["samples"]):
            bad.append(f"{w}.samples: expected {len(e['samples'])}, got {len(gsam)}")
        for es, gs_ in zip(e["samples"], gsam):
            if not close(es["loss"], gs_.get("loss")):
                bad.append(f"{w}.sample {es['index']}.loss: expected {es['loss']!r}, got {gs_.get('loss')!r}")
            maps(f"{w}.sample {es['index']}.values", es["values"], gs_.get("values"))
            if v2 and "derivatives" in es:
                maps(f"{w}.sample {es['index']}.derivatives", es["derivatives"], gs_.get("derivatives"))
    f = got.get("final", {})
    maps("final.parameters", exp["final"]["parameters"], f.get("parameters"))
    maps("parameters", exp["parameters"], got.get("parameters"))
    if not close(exp["final"]["loss"], f.get("loss")):
        bad.append(f"final.loss: expected {exp['final']['loss']!r}, got {f.get('loss')!r}")
    for es, gs_ in zip(exp["final"]["samples"], f.get("samples", [])):
        if not close(es["loss"], gs_.get("loss")):
            bad.append(f"final.sample {es['index']}.loss: expected {es['loss']!r}, got {gs_.get('loss')!r}")
        maps(f"final.sample {es['index']}.values", es["values"], gs_.get("values"))
        if v2 and "derivatives" in es:
            maps(f"final.sample {es['index']}.derivatives", es["derivatives"], gs_.get("derivatives"))
    if v2 and "gradients" in exp["final"]:
        maps("final.gradients", exp["final"]["gradients"], f.get("gradients"))
    for k, e in (exp.get("gradient_check") or {} if v2 else {}).get("parameters", {}).items():
        maps(f"gradient_check.{k}", e,
             ((got.get("gradient_check") or {}).get("parameters") or {}).get(k))
    return bad


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("problems", nargs="+")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--out", help="write <stem>.json into this folder")
    g.add_argument("--check", help="compare with <stem>.json in this folder")
    g.add_argument("--tutor", help="compare with `TUTOR solve FILE --format json` (e.g. .venv/bin/tutor)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    failed = 0
    for path in a.problems:
        path = pathlib.Path(path)
        sol = solve_file(path)
        text = json.dumps(sol, indent=1, ensure_ascii=False) + "\n"
        if a.check or a.tutor:
            if a.check:
                exp = json.loads((pathlib.Path(a.check) / (path.stem + ".json")).read_text())
                bad = compare(exp, sol, v2=False) + [f"(reverse) {b}" for b in compare(sol, exp, v2=False)]
            else:
                run = subprocess.run([a.tutor, "solve", str(path), "--format", "json"],
                                     capture_output=True, text=True)
                if run.returncode != 0:
                    bad = [f"exit code {run.returncode}: {(run.stderr or run.stdout).strip()[-300:]}"]
                else:
                    bad = compare(sol, json.loads(run.stdout))
            failed += bool(bad)
            print(f"{'ok  ' if not bad else 'FAIL'} {path.name}" + (f"  ({len(bad)} mismatches)" if bad else ""))
            for line in bad if a.verbose else bad[:5]:
                print(f"       {line}")
        elif a.out:
            (pathlib.Path(a.out) / (path.stem + ".json")).write_text(text)
            print(f"wrote {pathlib.Path(a.out) / (path.stem + '.json')}")
        else:
            sys.stdout.write(text)
    if a.check or a.tutor:
        print(f"{len(a.problems) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
