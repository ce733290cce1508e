#!/usr/bin/env python3
"""Independent oracle for the v2 problems staged in tests/oracle/pending/.

Like make_expected.py it shares no code with the `tutor` package. It covers
what problem-format v2 adds and make_expected.py does not: vector, matrix and
grid names (`inputs: {I: [4, 6]}`, `W @ x`, `sum(...)`), `unroll`,
`objective`, and the layer kinds conv1d, conv2d, maxpool, avgpool,
batchnorm, dropout, lstm and gru. Every layer is computed with torch in float64
through torch.nn.functional (conv1d/conv2d, avg_pool, max_pool, batch_norm in
training mode) or torch.nn.LSTMCell / GRUCell with their weights set explicitly, and
every gradient is torch autograd. It also writes the v2 additions
`samples[].derivatives` (dE_s/d value) and `final.gradients`.

    /work/main/.venv/bin/python tests/oracle/pending_oracle.py tests/oracle/pending/*.yaml --out tests/oracle/pending/expected
    /work/main/.venv/bin/python tests/oracle/pending_oracle.py tests/oracle/pending/X.yaml      # JSON on stdout

The expected JSON holds only what the spec fixes (see pending/README.md):
names a problem leaves to the engine's choice (a conv bias without a name,
LSTM gate values, batch-norm mean and variance) are computed but not written.
"""
import argparse
import ast
import json
import pathlib
import sys

import torch
import torch.nn.functional as tF
from ruamel.yaml import YAML

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_expected import (TorchOps, exact_number, opt_update, optimizer_config,  # noqa: E402
                           schedule_factor, to_float)

torch.set_default_dtype(torch.float64)

# ---------------------------------------------------------------- names and numbers


def number(v):
    return to_float(exact_number(v)) if isinstance(v, str) else float(v)


def component_names(name, shape):
    """Scalar names of a vector/matrix/grid, row-major (spec: Vectors and grids)."""
    shape = list(shape)
    if not shape:
        return [name]
    sep = "_" if any(n >= 10 for n in shape) else ""
    idx = [[]]
    for n in shape:
        idx = [i + [k] for i in idx for k in range(1, n + 1)]
    return [name + "".join(sep + str(k) for k in i) for i in idx]


def nested(v):
    """YAML number / list / list of lists -> float tensor."""
    if isinstance(v, list):
        return torch.stack([nested(x) for x in v])
    return torch.tensor(number(v))


class Params:
    """Every parameter is one scalar leaf by its component name (repeated
    names share one leaf); layers and equations stack the leaves they use."""

    def __init__(self):
        self.initial = {}           # component name -> float, in order of first use
        self.hidden = set()         # parameters whose name the spec leaves open

    def declare(self, names, values, hidden=False):
        for n, v in zip(names, values):
            self.initial.setdefault(n, number(v))
            if hidden:
                self.hidden.add(n)

    @staticmethod
    def stack(leaves, names, shape):
        flat = torch.stack([leaves[n] for n in names])
        return flat.reshape(list(shape))


def flat_values(v):
    if isinstance(v, list):
        return [x for item in v for x in flat_values(item)]
    return [v]


def shape_of(v):
    return [len(v)] + shape_of(v[0]) if isinstance(v, list) else []


# ---------------------------------------------------------------- model equations

FUNCS = {
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "exp": torch.exp,
    "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs,
    "sum": torch.sum, "mean": torch.mean, "dot": torch.dot,
}


def evaluate(node, env):
    if isinstance(node, ast.Expression):
        node = node.body
    if isinstance(node, ast.Constant):
        return torch.tensor(float(node.value))
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return evaluate(node.value, env).T
    if isinstance(node, ast.UnaryOp):
        v = evaluate(node.operand, env)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        a, b = evaluate(node.left, env), evaluate(node.right, env)
        ops = {ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div,
               ast.Pow: torch.pow, ast.MatMult: torch.matmul}
        return ops[type(node.op)](a, b)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return FUNCS[node.func.id](*[evaluate(a, env) for a in node.args])
    raise ValueError(f"unsupported expression: {ast.dump(node)}")


def expand_unroll(model, unroll):
    """Consecutive keys holding {t} form one block, expanded for t = a..b in order."""
    if not unroll:
        return list(model.items())
    (var, (first, last)), = unroll.items()

    def at(text, t):
        return (str(text).replace("{%s}" % var, str(t)).replace("{%s-1}" % var, str(t - 1))
                .replace("{%s+1}" % var, str(t + 1)))

    out, block = [], []
    for key, rhs in list(model.items()) + [(None, None)]:
        if key is not None and "{" in key:
            block.append((key, rhs))
            continue
        for t in range(first, last + 1):
            out.extend((at(k, t), at(r, t)) for k, r in block)
        block = []
        if key is not None:
            out.append((key, str(rhs)))
    return out


def shapes_mapping(spec):
    """`[a, b]` (scalars) or `{x: 2, I: [4, 6]}` -> ordered {name: shape list}."""
    if isinstance(spec, list):
        return {n: [] for n in spec}
    return {n: ([s] if isinstance(s, int) else list(s)) for n, s in spec.items()}


class ModelProblem:
    """`model:` equations, evaluated one sample at a time (samples are independent)."""

    def __init__(self, p):
        self.p = p
        self.inputs = shapes_mapping(p.get("inputs") or [])
        self.targets = shapes_mapping(p.get("targets") or [])
        self.constants = {k: nested(v) for k, v in (p.get("constants") or {}).items()}
        self.params = Params()
        self.param_shapes = {}
        for k, v in p["params"].items():
            self.param_shapes[k] = shape_of(v)
            self.params.declare(component_names(k, shape_of(v)), flat_values(v))
        self.equations = [(k, ast.parse(r.replace("^", "**"), mode="eval"))
                          for k, r in expand_unroll(p["model"], p.get("unroll"))]

    def forward(self, leaves, batch, first_index):
        """-> per-sample [(name, tensor)] (inputs, targets, constants, nodes), and no batch context."""
        per_sample = []
        for s in batch:
            named = [(n, nested(s[n]).requires_grad_()) for n in self.inputs]
            named += [(n, nested(s[n])) for n in self.targets]
            named += [(n, c.clone().requires_grad_()) for n, c in self.constants.items()]
            env = dict(named)
            env.update({k: Params.stack(leaves, component_names(k, sh), sh) for k, sh in self.param_shapes.items()})
            for k, tree in self.equations:
                env[k] = evaluate(tree, env)
                named.append((k, env[k]))
            per_sample.append(named)
        return per_sample, None


# ---------------------------------------------------------------- layered networks

GATES = ("i", "f", "g", "o")          # PyTorch's order of the LSTM gates
GRU_GATES = ("r", "z", "n")           # PyTorch's order of the GRU gates


class NetworkProblem:
    """`network:` layers, evaluated on the whole batch at once (batch norm couples samples)."""

    def __init__(self, p):
        self.p = p
        net = p["network"]
        self.inputs = shapes_mapping(net["inputs"])
        self.targets = shapes_mapping(p["targets"])
        self.params = Params()
        self.layers = []
        if isinstance(net["inputs"], list):
            kind = ("units", list(net["inputs"]))
        else:
            (name, shape), = self.inputs.items()
            kind = ("grid", name, shape)
        for layer in net["layers"]:
            kind = self.add_layer(layer, kind)

    # each add_* returns the kind of its output: ("units", [names]) or ("grid", name, shape)

    def add_layer(self, layer, kind):
        t = layer.get("type", "dense")
        return getattr(self, "add_" + t)(layer, kind)

    @staticmethod
    def source_names(kind):
        return kind[1] if kind[0] == "units" else component_names(kind[1], kind[2])

    def add_dense(self, layer, kind):
        sources = self.source_names(kind)
        units = list(layer["units"])
        names = layer.get("names") or {}
        wn = names.get("weights") or [[f"w_{u}_{s}" for s in sources] for u in units]
        self.params.declare([n for row in wn for n in row], flat_values(layer["weights"]))
        bn = None
        if layer.get("bias") is not None:
            bn = names.get("bias") or [f"b_{u}" for u in units]
            self.params.declare(bn, layer["bias"])
        nets = list(layer.get("net") or [f"net_{u}" for u in units])
        act = layer.get("activation", "linear")

        def forward(x, leaves, ctx):
            W = torch.stack([torch.stack([leaves[n] for n in row]) for row in wn])
            z = x.reshape(x.shape[0], -1) @ W.T
            if bn:
                z = z + torch.stack([leaves[n] for n in bn])
            a = activation(act, z)
            return [(nets, z), (units, a)], a

        self.layers.append(forward)
        return ("units", units)

    def add_conv2d(self, layer, kind, dims=2):
        assert kind[0] == "grid" and len(kind[2]) == dims, "conv reads a grid of its dimension"
        names = layer.get("names") or {}
        kernel = layer["kernel"]
        kshape = shape_of(kernel)
        kname = names.get("kernel", "_kernel")
        kn = component_names(kname, kshape)
        self.params.declare(kn, flat_values(kernel), hidden="kernel" not in names)
        bias_name = None
        if layer.get("bias") is not None:
            bias_name = names.get("bias", "_conv_bias")
            self.params.declare([bias_name], [layer["bias"]], hidden="bias" not in names)
        stride, padding = int(layer.get("stride", 1)), int(layer.get("padding", 0))
        act = layer.get("activation", "linear")
        net_name, unit_name = names.get("net"), layer["units"]
        conv = tF.conv2d if dims == 2 else tF.conv1d
        out_shape = [(n + 2 * padding - k) // stride + 1 for n, k in zip(kind[2], kshape)]

        def forward(x, leaves, ctx):
            k = Params.stack(leaves, kn, kshape)
            b = leaves[bias_name].reshape(1) if bias_name else None
            z = conv(x.unsqueeze(1), k[None, None], b, stride=stride, padding=padding).squeeze(1)
            a = activation(act, z)
            return ([(net_name, z)] if net_name else []) + [(unit_name, a)], a

        self.layers.append(forward)
        return ("grid", unit_name, out_shape)

    def add_conv1d(self, layer, kind):
        return self.add_conv2d(layer, kind, dims=1)

    def add_pool(self, layer, kind, how):
        assert kind[0] == "grid"
        size, stride = int(layer["size"]), int(layer.get("stride", layer["size"]))
        dims = len(kind[2])
        out_shape = [(n - size) // stride + 1 for n in kind[2]]
        unit_name = layer["units"]

        def forward(x, leaves, ctx):
            if how == "avg":
                pool = tF.avg_pool2d if dims == 2 else tF.avg_pool1d
                a = pool(x.unsqueeze(1), size, stride).squeeze(1)
            else:
                a = max_pool_split_ties(x, size, stride)
                pool = tF.max_pool2d if dims == 2 else tF.max_pool1d
                assert torch.equal(a, pool(x.unsqueeze(1), size, stride).squeeze(1))
            return [(unit_name, a)], a

        self.layers.append(forward)
        return ("grid", unit_name, out_shape)

    def add_maxpool(self, layer, kind):
        return self.add_pool(layer, kind, "max")

    def add_avgpool(self, layer, kind):
        return self.add_pool(layer, kind, "avg")

    def add_batchnorm(self, layer, kind):
        assert kind[0] == "units"
        units = list(layer["units"])
        names = layer.get("names") or {}
        gn = names.get("gamma") or [f"gamma_{u}" for u in units]
        bn = names.get("beta") or [f"beta_{u}" for u in units]
        self.params.declare(gn, layer["gamma"], hidden="gamma" not in names)
        self.params.declare(bn, layer["beta"], hidden="beta" not in names)
        eps = number(layer.get("eps", 1e-5))
        xhat_names = names.get("xhat")

        def forward(x, leaves, ctx):
            gamma = torch.stack([leaves[n] for n in gn])
            beta = torch.stack([leaves[n] for n in bn])
            y = tF.batch_norm(x, None, None, weight=gamma, bias=beta, training=True, eps=eps)
            # the same by hand (biased variance), for the recorded x-hat
            mean = x.mean(0)
            var = ((x - mean) ** 2).mean(0)
            xhat = (x - mean) / torch.sqrt(var + eps)
            assert torch.allclose(y, gamma * xhat + beta, rtol=1e-13, atol=1e-13)
            ctx.setdefault("batchnorm_inputs", []).append(x)
            return ([(xhat_names, xhat)] if xhat_names else []) + [(units, y)], y

        self.layers.append(forward)
        return ("units", units)

    def add_dropout(self, layer, kind):
        assert kind[0] == "units"
        units = list(layer["units"])
        masks = torch.tensor([[float(m) for m in row] for row in layer["masks"]])
        p = number(layer["p"])
        scale = 1 / (1 - p) if layer.get("inverted", True) else 1.0

        def forward(x, leaves, ctx):
            m = masks[ctx["indices"]]
            a = x * m * scale
            return [(units, a)], a

        self.layers.append(forward)
        return ("units", units)

    def add_lstm(self, layer, kind):
        """One LSTM step (torch.nn.LSTMCell, gates i f g o). Each gate's weight
        row: the layer's sources, then the previous hidden units."""
        assert int(layer.get("steps", 1)) == 1, "the oracle does one LSTM step"
        sources = self.source_names(kind)
        units = list(layer["units"])
        n, H = len(sources), len(units)
        names = layer.get("names") or {}
        wn = dict(names.get("weights") or {})
        bnames = dict(names.get("bias") or {})
        for gk in GATES:
            wn.setdefault(gk, [[f"w_{gk}_{u}_{s}" for s in sources + units] for u in units])
            self.params.declare([x for row in wn[gk] for x in row], flat_values(layer["weights"][gk]))
            bnames.setdefault(gk, [f"b_{gk}_{u}" for u in units])
            self.params.declare(bnames[gk], layer["bias"][gk])
        h0 = nested(layer["state"]["h"])
        c0 = nested(layer["state"]["c"])
        cell = torch.nn.LSTMCell(n, H)

        def forward(x, leaves, ctx):
            W = torch.cat([torch.stack([torch.stack([leaves[m] for m in row]) for row in wn[gk]])
                           for gk in GATES])          # (4H, n + H)
            b = torch.cat([torch.stack([leaves[m] for m in bnames[gk]]) for gk in GATES])
            B = x.shape[0]
            h, c = torch.func.functional_call(
                cell, {"weight_ih": W[:, :n], "weight_hh": W[:, n:], "bias_ih": b,
                       "bias_hh": torch.zeros(4 * H)},
                (x, (h0.expand(B, H), c0.expand(B, H))))
            return [(units, h)], h

        self.layers.append(forward)
        return ("units", units)

    def add_gru(self, layer, kind):
        """A GRU over `steps` (torch.nn.GRUCell, gates r z n). The sources are split into
        `steps` equal consecutive parts, one per step. Each gate's weight row: the step's
        sources, then the previous hidden units. Biases: r, z and n as bias_ih, and the
        optional hn as the hidden bias of n (bias_hh = [0, 0, b_hn]). Default names
        W<gate>_<unit>_x<i>, U<gate>_<unit>_<unit>, b<gate>_<unit>, bhn_<unit>."""
        steps = int(layer.get("steps", 1))
        sources = self.source_names(kind)
        units = list(layer["units"])
        n, H = len(sources) // steps, len(units)
        names = layer.get("names") or {}
        wn = dict(names.get("weights") or {})
        bnames = dict(names.get("bias") or {})
        columns = [f"x{i}" for i in range(1, n + 1)]
        for gk in GRU_GATES:
            wn.setdefault(gk, [[f"W{gk}_{u}_{c}" for c in columns] + [f"U{gk}_{u}_{v}" for v in units]
                               for u in units])
            self.params.declare([x for row in wn[gk] for x in row], flat_values(layer["weights"][gk]))
        bias_gates = [gk for gk in (*GRU_GATES, "hn") if gk in layer.get("bias", {})]
        for gk in bias_gates:
            bnames.setdefault(gk, [f"b{gk}_{u}" for u in units])
            self.params.declare(bnames[gk], layer["bias"][gk])
        h0 = nested((layer.get("state") or {}).get("h", [0] * H))
        cell = torch.nn.GRUCell(n, H)

        def forward(x, leaves, ctx):
            W = torch.cat([torch.stack([torch.stack([leaves[m] for m in row]) for row in wn[gk]])
                           for gk in GRU_GATES])          # (3H, n + H)
            zero = torch.zeros(H)
            bias = {gk: torch.stack([leaves[m] for m in bnames[gk]]) if gk in bnames else zero
                    for gk in (*GRU_GATES, "hn")}
            b_ih = torch.cat([bias["r"], bias["z"], bias["n"]])
            b_hh = torch.cat([zero, zero, bias["hn"]])
            B = x.shape[0]
            h = h0.expand(B, H)
            flat = x.reshape(B, -1)
            for t in range(steps):
                h = torch.func.functional_call(
                    cell, {"weight_ih": W[:, :n], "weight_hh": W[:, n:], "bias_ih": b_ih, "bias_hh": b_hh},
                    (flat[:, t * n:(t + 1) * n], h))
            return [(units, h)], h

        self.layers.append(forward)
        return ("units", units)

    def forward(self, leaves, batch, first_index):
        B = len(batch)
        ctx = {"indices": list(range(first_index, first_index + B))}
        if len(self.inputs) == 1 and next(iter(self.inputs.values())):
            (name, shape), = self.inputs.items()
            x = torch.stack([nested(s[name]) for s in batch]).requires_grad_()
            recorded = [(name, x)]
        else:
            x = torch.stack([torch.stack([nested(s[n]) for n in self.inputs]) for s in batch]).requires_grad_()
            recorded = [(list(self.inputs), x)]
        tgt = [(n, torch.stack([nested(s[n]) for s in batch])) for n in self.targets]
        for f in self.layers:
            out, x = f(x, leaves, ctx)
            recorded += out
        ctx["recorded"] = recorded          # batched, without the targets: what derivatives are taken of
        per_sample = [split_sample(recorded[:1] + tgt + recorded[1:], i) for i in range(B)]
        return per_sample, ctx


def split_sample(recorded, i):
    """[(name or [unit names], batched tensor)] -> [(scalar/grid name, tensor of sample i)]."""
    out = []
    for name, t in recorded:
        if isinstance(name, list):
            out += [(n, t[i, j]) for j, n in enumerate(name)]
        else:
            out.append((name, t[i]))
    return out


def max_pool_split_ties(x, size, stride):
    """Max pooling whose gradient goes to every maximum of a window in equal parts."""
    w = x.unfold(1, size, stride)
    if x.dim() == 3:
        w = w.unfold(2, size, stride).flatten(-2)
    top = (w == w.max(-1, keepdim=True).values).detach().to(x.dtype)
    return (w * top).sum(-1) / top.sum(-1)


def activation(act, z):
    if act == "linear":
        return z
    return TorchOps.funcs[act](z)


# ---------------------------------------------------------------- loss, gradients, training

def sample_losses(p, per_sample):
    if "objective" in p:
        return [dict(named)[p["objective"]] for named in per_sample]
    loss = p["loss"] if isinstance(p["loss"], str) else p["loss"]["name"]
    outputs = p.get("outputs") or None
    losses = []
    for named in per_sample:
        env = dict(named)
        if outputs is None:          # network: the last recorded tensor(s) are the outputs
            o = torch.cat([v.reshape(-1) for n, v in named[-network_output_count(p):]])
        else:
            o = torch.cat([env[n].reshape(-1) for n in outputs])
        t = torch.cat([env[n].reshape(-1) for n in target_names(p)])
        d = o - t
        losses.append({"mse": (d ** 2).mean(), "sse": (d ** 2).sum(),
                       "half_sse": 0.5 * (d ** 2).sum()}[loss])
    return losses


def target_names(p):
    return list(shapes_mapping(p["targets"]))


def network_output_count(p):
    """How many trailing recorded entries form the network output."""
    last = p["network"]["layers"][-1]
    return len(last["units"]) if isinstance(last["units"], list) else 1


def reduce(p, losses):
    red = "mean" if isinstance(p.get("loss", "mse"), str) else p["loss"].get("reduction", "mean")
    s = torch.stack(losses).sum()
    return s if red == "sum" else s / len(losses)


class Solver:
    def __init__(self, p):
        unsupported = [k for k in ("frozen", "arithmetic", "penalty") if k in p]
        unsupported += [k for k in ("steps", "update") if k in (p.get("training") or {})]
        if isinstance(p.get("loss"), dict) and ("penalty" in p["loss"] or "expr" in p["loss"]):
            unsupported.append("loss mapping with penalty/expr")
        if unsupported:
            raise ValueError(f"not supported by this oracle: {', '.join(unsupported)}")
        self.p = p
        self.prob = NetworkProblem(p) if "network" in p else ModelProblem(p)
        data = p.get("data") or {}
        self.data = [data] if isinstance(data, dict) else list(data)
        self.batchnorm = "network" in p and any(l.get("type") == "batchnorm" for l in p["network"]["layers"])
        self.dropout = "network" in p and any(l.get("type") == "dropout" for l in p["network"]["layers"])

    def evaluate(self, params, idx):
        """Forward + backward of the samples idx -> (samples JSON, batch loss, gradients)."""
        leaves = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        batch = [self.data[i] for i in idx]
        per_sample, ctx = self.prob.forward(leaves, batch, idx[0])
        losses = sample_losses(self.p, per_sample)
        L = reduce(self.p, losses)
        keys = list(leaves)
        g = torch.autograd.grad(L, [leaves[k] for k in keys], retain_graph=True, allow_unused=True)
        grads = {k: (0.0 if v is None else float(v)) for k, v in zip(keys, g)}
        if self.batchnorm:
            for x in ctx["batchnorm_inputs"]:
                dx, = torch.autograd.grad(L, x, retain_graph=True)
                col = dx.sum(0)
                assert torch.all(col.abs() <= 1e-14 * dx.abs().sum(0)), col     # sum to zero over the batch
                self.batchnorm_input_gradients = dx.tolist()
        samples = []
        for j, (i, named, loss) in enumerate(zip(idx, per_sample, losses)):
            entry = {"index": i + 1, "values": as_components(named), "loss": to_float(loss)}
            if not self.batchnorm:      # per-sample δ's are not defined when samples are coupled
                entry["derivatives"] = (self.batched_derivatives(ctx["recorded"], losses, j) if ctx
                                        else self.derivatives(named, losses, j))
            samples.append(entry)
        return samples, L, grads

    def derivatives(self, named, losses, j):
        """dE_j/d(every input, constant and node of sample j), its own tensors."""
        tgt = set(target_names(self.p)) if "targets" in self.p else set()
        wrt = [(n, v) for n, v in named if n not in tgt]
        d = torch.autograd.grad(losses[j], [v for _, v in wrt], retain_graph=True, allow_unused=True)
        return as_components([(n, torch.zeros_like(v) if dv is None else dv) for (n, v), dv in zip(wrt, d)])

    @staticmethod
    def batched_derivatives(recorded, losses, j):
        """The same on batched tensors: samples are independent (no batch norm),
        so row j of d(sum of E_s)/d(tensor) is dE_j/d(row j)."""
        total = torch.stack(losses).sum()
        d = torch.autograd.grad(total, [v for _, v in recorded], retain_graph=True, allow_unused=True)
        return as_components(split_sample([(n, torch.zeros_like(v) if dv is None else dv)
                                           for (n, v), dv in zip(recorded, d)], j))

    def visible(self, params):
        return {k: to_float(v) for k, v in params.items() if k not in self.prob.params.hidden}

    def solve(self):
        p = self.p
        params = dict(self.prob.params.initial)
        out = {"title": p["title"], "parameters": self.visible(params), "steps": []}
        tr = p.get("training") or {}
        N = len(self.data)
        epochs = int(tr.get("epochs", 1))
        bs = int(tr.get("batch_size", N))
        opt = optimizer_config(p, number)
        state = {k: {} for k in params}
        t = 0
        for epoch in range(1, epochs + 1):
            for start in range(0, N, bs):
                t += 1
                idx = list(range(start, min(start + bs, N)))
                lr = opt["lr"] * schedule_factor(opt, t, epoch, TorchOps, number)
                samples, L, grads = self.evaluate(params, idx)
                new = {k: float(opt_update(opt, params[k], grads[k], state[k], t, lr, TorchOps)) for k in params}
                out["steps"].append({
                    "step": t, "epoch": epoch, "batch": [i + 1 for i in idx], "lr": to_float(lr),
                    "samples": samples, "loss": to_float(L),
                    "gradients": self.visible(grads), "parameters": self.visible(new)})
                params = new
        out["final"] = {"parameters": self.visible(params)}
        if not self.dropout:            # whether masks apply after training is open
            samples, L, grads = self.evaluate(params, list(range(N)))
            out["final"].update({"samples": samples, "loss": to_float(L), "gradients": self.visible(grads)})
        return out


def as_components(named):
    """[(name, tensor)] -> {scalar component name: float}, grids row-major."""
    out = {}
    for n, v in named:
        v = v.detach()
        for cn, x in zip(component_names(n, list(v.shape)), v.reshape(-1).tolist()):
            out[cn] = x + 0.0
    return out


def load(path):
    return YAML(typ="safe").load(pathlib.Path(path).read_text())


def solve_file(path):
    return Solver(load(path)).solve()


def dumps(sol):
    return json.dumps(sol, indent=1, ensure_ascii=False) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("problems", nargs="+")
    ap.add_argument("--out", help="write <stem>.json into this folder")
    a = ap.parse_args(argv)
    for path in map(pathlib.Path, a.problems):
        text = dumps(solve_file(path))
        if a.out:
            (pathlib.Path(a.out) / (path.stem + ".json")).write_text(text)
            print(f"wrote {pathlib.Path(a.out) / (path.stem + '.json')}")
        else:
            sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
