"""Every optimizer, form and schedule of the spec against an independent oracle.

The oracle never uses the engine's numbers:

* gradients and losses come from torch autograd in float64 on the same 2-3-2
  network (tanh hidden layer, sigmoid outputs, biases), the same samples and the
  spec's loss / reduction;
* where the spec's convention is PyTorch's, the update is done by `torch.optim`
  itself (sgd, momentum `classic`, nesterov `pytorch`, adagrad, rmsprop,
  adadelta, adam with eps outside, adamw, with and without `weight_decay`);
* where it is not (momentum `ema` and `sutskever`, nesterov `lookahead`, adam
  `eps_placement: inside`, adabelief), the update is written here by hand in
  numpy from the formulas of docs `problem-format.md` (Optimizer section);
* schedule factors are written by hand from the spec's table (and checked
  against `torch.optim.lr_scheduler` where torch has the same schedule);
* `centralize` is applied by hand to the gradient (after weight decay) and the
  result handed to `torch.optim` with weight_decay=0; `frozen` parameters keep
  their value while their raw gradient is still reported.

Each step's `lr`, `loss`, `gradients`, `parameters` (and `step`, `epoch`,
`batch`), the top-level `parameters` and the `final` parameters and loss are
compared with rel 1e-9 / abs 1e-12.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

F64 = torch.float64
RTOL = 1e-9
ATOL = 1e-12

# --------------------------------------------------------------------------
# The network and the data (the one source of numbers for torch and the YAML)
# --------------------------------------------------------------------------

INPUTS = ["x1", "x2"]
HIDDEN = ["h1", "h2", "h3"]
OUTPUTS = ["o1", "o2"]
TARGETS = ["t1", "t2"]

INIT = {
    "W1": [[0.15, -0.25], [0.4, 0.1], [-0.35, 0.3]],  # one row per hidden unit
    "B1": [0.05, -0.1, 0.2],
    "W2": [[0.3, -0.2, 0.45], [-0.5, 0.25, 0.1]],  # one row per output unit
    "B2": [-0.05, 0.15],
}
KEYS = ["W1", "B1", "W2", "B2"]
WEIGHT_KEYS = {"W1", "W2"}  # centralized (rows = units, columns = sources)

DATA = [  # (x1, x2), (t1, t2)
    ((0.5, -1.0), (0.9, 0.1)),
    ((1.0, 0.25), (0.2, 0.7)),
    ((-0.75, 0.5), (0.6, 0.4)),
    ((0.3, 0.8), (0.1, 0.95)),
    ((-0.2, -0.6), (0.8, 0.3)),
]


def explicit_names():
    return {
        "W1": [[f"v{j + 1}{i + 1}" for i in range(len(INPUTS))] for j in range(len(HIDDEN))],
        "B1": [f"bh{j + 1}" for j in range(len(HIDDEN))],
        "W2": [[f"w{k + 1}{j + 1}" for j in range(len(HIDDEN))] for k in range(len(OUTPUTS))],
        "B2": [f"bo{k + 1}" for k in range(len(OUTPUTS))],
    }


def default_names():
    """The spec's defaults: w_<unit>_<source> and b_<unit>."""
    return {
        "W1": [[f"w_{u}_{s}" for s in INPUTS] for u in HIDDEN],
        "B1": [f"b_{u}" for u in HIDDEN],
        "W2": [[f"w_{u}_{s}" for s in HIDDEN] for u in OUTPUTS],
        "B2": [f"b_{u}" for u in OUTPUTS],
    }


def flatten(arrays, names):
    """{key: array} -> {name: float}, in the network's order."""
    out = {}
    for key in KEYS:
        a = np.asarray(arrays[key], dtype=np.float64)
        n = np.asarray(names[key], dtype=object)
        for idx in np.ndindex(a.shape):
            out[n[idx]] = float(a[idx])
    return out


def mask_for(names, frozen):
    """{key: bool array}: True where the parameter is frozen."""
    frozen = set(frozen or ())
    return {k: np.vectorize(lambda s: s in frozen, otypes=[bool])(np.asarray(names[k], dtype=object))
            for k in KEYS}


# --------------------------------------------------------------------------
# Gradient oracle: torch autograd in float64
# --------------------------------------------------------------------------

def batch_loss_t(T, idx, loss):
    """The batch loss as a torch scalar; T maps key -> float64 tensor."""
    name, reduction = loss
    X = torch.tensor([DATA[i][0] for i in idx], dtype=F64)
    Y = torch.tensor([DATA[i][1] for i in idx], dtype=F64)
    H = torch.tanh(X @ T["W1"].T + T["B1"])
    O = torch.sigmoid(H @ T["W2"].T + T["B2"])
    if name == "mse":
        per_sample = ((O - Y) ** 2).mean(dim=1)  # (1/K) sum_k (o_k - t_k)^2
    elif name == "half_sse":
        per_sample = 0.5 * ((Y - O) ** 2).sum(dim=1)  # 1/2 sum_k (t_k - o_k)^2
    else:  # pragma: no cover - test set-up error
        raise ValueError(name)
    return per_sample.mean() if reduction == "mean" else per_sample.sum()


def loss_and_grads(theta, idx, loss):
    """theta: {key: ndarray} -> (batch loss, {key: dLoss/dkey ndarray})."""
    T = {k: torch.tensor(theta[k], dtype=F64, requires_grad=True) for k in KEYS}
    value = batch_loss_t(T, idx, loss)
    value.backward()
    return float(value.detach()), {k: T[k].grad.detach().numpy().copy() for k in KEYS}


def loss_only(theta, idx, loss):
    with torch.no_grad():
        T = {k: torch.tensor(theta[k], dtype=F64) for k in KEYS}
        return float(batch_loss_t(T, idx, loss))


# --------------------------------------------------------------------------
# Spec defaults and schedules (written from problem-format.md, not the engine)
# --------------------------------------------------------------------------

SPEC_DEFAULTS = {
    "sgd": {},
    "momentum": {"momentum": 0.9, "form": "classic"},
    "nesterov": {"momentum": 0.9, "form": "pytorch"},
    "adagrad": {"lr": 0.01, "eps": 1e-10, "initial_accumulator": 0.0},
    "rmsprop": {"lr": 0.01, "alpha": 0.99, "eps": 1e-8},
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
    "adam": {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-8, "eps_placement": "outside"},
    "adamw": {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-8, "eps_placement": "outside",
              "weight_decay": 0.01},
    "adabelief": {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-16},
}


def hyper(opt):
    h = {"weight_decay": 0.0, "centralize": False, "schedule": []}
    h.update(SPEC_DEFAULTS[opt["name"]])
    h.update(opt)
    if isinstance(h["schedule"], dict):
        h["schedule"] = [h["schedule"]]
    return h


def schedule_factor(s, n):
    name = s["name"]
    if name == "step":
        return s.get("gamma", 0.1) ** (n // s.get("every", 1))
    if name == "exponential":
        return s["gamma"] ** n
    if name == "inverse_time":
        return 1.0 / (1.0 + s["decay"] * n)
    if name == "warmup_linear":
        start = s.get("start", 0.1)
        return start + (1.0 - start) * min(n, s["steps"]) / s["steps"]
    if name == "cosine":
        mf = s.get("min_factor", 0.0)
        return mf + (1.0 - mf) * (1.0 + math.cos(math.pi * min(n, s["t_max"]) / s["t_max"])) / 2.0
    raise ValueError(name)  # pragma: no cover


def lr_at(h, t, epoch):
    lr = h["lr"]
    for s in h["schedule"]:
        n = epoch - 1 if s.get("unit", "step") == "epoch" else t - 1
        lr *= schedule_factor(s, n)
    return lr


def iterate_batches(n_samples, batch_size, epochs, cap=None):
    """(t, epoch, 0-based sample indices) for every update step."""
    t = 0
    for epoch in range(1, epochs + 1):
        for start in range(0, n_samples, batch_size):
            if cap is not None and t >= cap:
                return
            t += 1
            yield t, epoch, list(range(start, min(start + batch_size, n_samples)))


def centralize(g):
    """Gradient centralization: each unit's incoming weight gradients minus their mean."""
    return {k: (v - v.mean(axis=1, keepdims=True)) if k in WEIGHT_KEYS else v for k, v in g.items()}


# --------------------------------------------------------------------------
# A given initial optimizer state (the optimizer's `state:` key)
# --------------------------------------------------------------------------

TORCH_STATE_KEY = {  # (optimizer, state name) -> torch.optim's name for it
    ("momentum", "v"): "momentum_buffer", ("nesterov", "v"): "momentum_buffer",
    ("adagrad", "r"): "sum", ("rmsprop", "r"): "square_avg",
    ("adam", "m"): "exp_avg", ("adam", "v"): "exp_avg_sq",
}


def given_state(optimizer_name, var):
    """{key: ndarray}: a start value for state ``var`` of every parameter (made up, fixed)."""
    signed = var == "m" or optimizer_name in ("momentum", "nesterov")
    return {k: (0.5 * np.asarray(INIT[k]) - 0.03) if signed else (0.2 * np.asarray(INIT[k]) ** 2 + 0.01)
            for k in KEYS}


def state_arrays(case):
    """(state name -> {key: ndarray}, steps already taken) of a case's given state."""
    given = dict(case.get("state") or {})
    steps_done = given.pop("t", 0)
    return {var: given_state(case["optimizer"]["name"], var) for var in given}, steps_done


def state_yaml(case):
    arrays, steps_done = state_arrays(case)
    out = {var: flatten(a, case["names"]) for var, a in arrays.items()}
    if steps_done:
        out["t"] = steps_done
    return out


# --------------------------------------------------------------------------
# Oracle runs
# --------------------------------------------------------------------------

def _record(t, epoch, idx, lr, loss, grads, theta, names):
    return {
        "step": t,
        "epoch": epoch,
        "batch": [i + 1 for i in idx],
        "lr": lr,
        "loss": loss,
        "gradients": flatten(grads, names),
        "parameters": flatten(theta, names),
    }


def _final(theta, names, loss):
    all_idx = list(range(len(DATA)))
    return {"parameters": flatten(theta, names), "loss": loss_only(theta, all_idx, loss)}


def make_torch_optimizer(h, params, wd):
    name = h["name"]
    lr = h["lr"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if name == "momentum":
        assert h["form"] == "classic"
        return torch.optim.SGD(params, lr=lr, momentum=h["momentum"], dampening=0.0, weight_decay=wd)
    if name == "nesterov":
        assert h["form"] == "pytorch"
        return torch.optim.SGD(params, lr=lr, momentum=h["momentum"], dampening=0.0,
                               nesterov=True, weight_decay=wd)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, lr_decay=0.0, weight_decay=wd, eps=h["eps"],
                                   initial_accumulator_value=h["initial_accumulator"])
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=h["alpha"], eps=h["eps"], weight_decay=wd,
                                   momentum=0.0, centered=False)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=h["rho"], eps=h["eps"], weight_decay=wd)
    if name == "adam":
        assert h["eps_placement"] == "outside"
        return torch.optim.Adam(params, lr=lr, betas=tuple(h["betas"]), eps=h["eps"], weight_decay=wd,
                                amsgrad=False)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=tuple(h["betas"]), eps=h["eps"],
                                 weight_decay=h["weight_decay"], amsgrad=False)
    raise ValueError(name)  # pragma: no cover


def run_torch(case):
    """The update done by torch.optim (PyTorch conventions)."""
    h = hyper(case["optimizer"])
    names = case["names"]
    loss = case["loss"]
    frozen = mask_for(names, case.get("frozen"))
    decoupled = h["name"] == "adamw"
    wd = 0.0 if decoupled else h["weight_decay"]
    # With centralization the L2 term must be added before centralizing, so it is
    # added here by hand and torch gets weight_decay=0.
    torch_wd = 0.0 if h["centralize"] else wd
    T = {k: torch.tensor(INIT[k], dtype=F64, requires_grad=True) for k in KEYS}
    opt = make_torch_optimizer(h, [T[k] for k in KEYS], torch_wd)
    arrays, steps_done = state_arrays(case)
    for k in KEYS:  # a given state is torch's own state, as after `steps_done` steps
        for var, a in arrays.items():
            opt.state[T[k]][TORCH_STATE_KEY[h["name"], var]] = torch.tensor(a[k], dtype=F64)
        if (arrays or steps_done) and h["name"] in ("adagrad", "rmsprop", "adam"):
            opt.state[T[k]]["step"] = torch.tensor(float(steps_done))
            if h["name"] == "adam":  # a state torch.optim finds must be whole: zero moments unless given
                for key in ("exp_avg", "exp_avg_sq"):
                    opt.state[T[k]].setdefault(key, torch.zeros_like(T[k]))
    records = []
    for t, epoch, idx in iterate_batches(len(DATA), case["batch_size"], case["epochs"], case.get("steps")):
        lr = lr_at(h, t, epoch)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad()
        value = batch_loss_t(T, idx, loss)
        value.backward()
        before = {k: T[k].detach().numpy().copy() for k in KEYS}
        g = {k: T[k].grad.detach().numpy().copy() for k in KEYS}
        if wd:
            g = {k: g[k] + wd * before[k] for k in KEYS}  # what the optimizer uses
        if h["centralize"]:
            g = centralize(g)
            with torch.no_grad():
                for k in KEYS:
                    T[k].grad.copy_(torch.from_numpy(g[k]))
        with torch.no_grad():
            for k in KEYS:  # frozen: never updated, state never fed
                T[k].grad[torch.from_numpy(frozen[k])] = 0.0
        opt.step()
        with torch.no_grad():
            for k in KEYS:
                m = torch.from_numpy(frozen[k])
                T[k][m] = torch.from_numpy(before[k])[m]
        after = {k: T[k].detach().numpy().copy() for k in KEYS}
        records.append(_record(t, epoch, idx, lr, float(value.detach()), g, after, names))
    theta = {k: T[k].detach().numpy().copy() for k in KEYS}
    return records, _final(theta, names, loss)


def run_hand(case):
    """The update written by hand from the spec's formulas (numpy)."""
    h = hyper(case["optimizer"])
    names = case["names"]
    loss = case["loss"]
    frozen = mask_for(names, case.get("frozen"))
    name, form = h["name"], h.get("form")
    wd = h["weight_decay"]
    theta = {k: np.array(INIT[k], dtype=np.float64) for k in KEYS}
    zeros = lambda: {k: np.zeros_like(theta[k]) for k in KEYS}  # noqa: E731
    v, m, s, r = zeros(), zeros(), zeros(), zeros()
    if name == "adagrad":
        r = {k: np.full_like(theta[k], h["initial_accumulator"]) for k in KEYS}
    arrays, steps_done = state_arrays(case)
    given = {"v": v, "m": m, "r": r}
    for var, a in arrays.items():
        target = s if (name, var) == ("adam", "v") else given[var]
        target.update({k: np.array(a[k], dtype=np.float64) for k in KEYS})
    records = []
    for step, epoch, idx in iterate_batches(len(DATA), case["batch_size"], case["epochs"], case.get("steps")):
        lr = lr_at(h, step, epoch)
        t = steps_done + step  # the bias corrections' step count
        if name == "nesterov" and form == "lookahead":
            mu = h["momentum"]
            probe = {k: theta[k] + mu * v[k] for k in KEYS}
            _, g = loss_and_grads(probe, idx, loss)  # g taken at theta + mu*v
            value = loss_only(theta, idx, loss)  # the batch loss before the update
        else:
            value, g = loss_and_grads(theta, idx, loss)
        if wd:
            g = {k: g[k] + wd * theta[k] for k in KEYS}
        if h["centralize"]:
            g = centralize(g)
        new = {}
        for k in KEYS:
            th, gk = theta[k], g[k]
            if name == "sgd":
                new[k] = th - lr * gk
            elif name == "momentum" and form == "classic":
                v[k] = h["momentum"] * v[k] + gk
                new[k] = th - lr * v[k]
            elif name == "momentum" and form == "ema":
                mu = h["momentum"]
                v[k] = mu * v[k] + (1.0 - mu) * gk
                new[k] = th - lr * v[k]
            elif name == "momentum" and form == "sutskever":
                v[k] = h["momentum"] * v[k] - lr * gk
                new[k] = th + v[k]
            elif name == "nesterov" and form == "pytorch":
                mu = h["momentum"]
                v[k] = mu * v[k] + gk
                new[k] = th - lr * (gk + mu * v[k])
            elif name == "nesterov" and form == "lookahead":
                v[k] = h["momentum"] * v[k] - lr * gk
                new[k] = th + v[k]
            elif name == "adam":
                b1, b2 = h["betas"]
                eps = h["eps"]
                m[k] = b1 * m[k] + (1.0 - b1) * gk
                s[k] = b2 * s[k] + (1.0 - b2) * gk * gk
                m_hat = m[k] / (1.0 - b1 ** t)
                v_hat = s[k] / (1.0 - b2 ** t)
                if h["eps_placement"] == "inside":
                    new[k] = th - lr * m_hat / np.sqrt(v_hat + eps)
                else:
                    new[k] = th - lr * m_hat / (np.sqrt(v_hat) + eps)
            elif name == "adabelief":
                b1, b2 = h["betas"]
                eps = h["eps"]
                m[k] = b1 * m[k] + (1.0 - b1) * gk
                s[k] = b2 * s[k] + (1.0 - b2) * (gk - m[k]) ** 2 + eps
                m_hat = m[k] / (1.0 - b1 ** t)
                s_hat = s[k] / (1.0 - b2 ** t)
                new[k] = th - lr * m_hat / (np.sqrt(s_hat) + eps)
            elif name in ("adagrad", "rmsprop"):
                if name == "adagrad":
                    r[k] = r[k] + gk * gk
                else:
                    r[k] = h["alpha"] * r[k] + (1.0 - h["alpha"]) * gk * gk
                eps = h["eps"]
                inside = h.get("eps_placement", "outside") == "inside"
                new[k] = th - lr * gk / (np.sqrt(r[k] + eps) if inside else np.sqrt(r[k]) + eps)
            else:  # pragma: no cover
                raise ValueError((name, form))
            new[k] = np.where(frozen[k], th, new[k])
        theta = new
        records.append(_record(step, epoch, idx, lr, value, g, theta, names))
    return records, _final(theta, names, loss)


# --------------------------------------------------------------------------
# The YAML problem, generated from the same numbers
# --------------------------------------------------------------------------

def num(x):
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    text = repr(float(x))
    if "e" in text and "." not in text.split("e")[0]:  # 1e-08 -> 1.0e-08 (YAML 1.1 safe too)
        mant, exp = text.split("e")
        text = f"{mant}.0e{exp}"
    return text


def flow(x):
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in x.items()) + "}"
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in x) + "]"
    if isinstance(x, str):
        return x
    return num(x)


def problem_yaml(case):
    names = case["names"]
    lines = [
        f"title: {case['id']} against an independent oracle",
        "network:",
        f"  inputs: {flow(INPUTS)}",
        "  layers:",
        f"    - units: {flow(HIDDEN)}",
        "      activation: tanh",
        f"      weights: {flow(INIT['W1'])}",
        f"      bias: {flow(INIT['B1'])}",
    ]
    if case["explicit_names"]:
        lines.append(f"      names: {{weights: {flow(names['W1'])}, bias: {flow(names['B1'])}}}")
    lines += [
        f"    - units: {flow(OUTPUTS)}",
        "      activation: sigmoid",
        f"      weights: {flow(INIT['W2'])}",
        f"      bias: {flow(INIT['B2'])}",
    ]
    if case["explicit_names"]:
        lines.append(f"      names: {{weights: {flow(names['W2'])}, bias: {flow(names['B2'])}}}")
    lines.append(f"targets: {flow(TARGETS)}")
    lines.append("data:")
    for (x1, x2), (t1, t2) in DATA:
        lines.append(f"  - {flow({'x1': x1, 'x2': x2, 't1': t1, 't2': t2})}")
    loss_name, reduction = case["loss"]
    if case.get("loss_as_mapping", True):
        lines.append(f"loss: {flow({'name': loss_name, 'reduction': reduction})}")
    else:
        assert reduction == "mean"
        lines.append(f"loss: {loss_name}")
    optimizer = dict(case["optimizer"], **({"state": state_yaml(case)} if case.get("state") else {}))
    lines.append(f"optimizer: {flow(optimizer)}")
    training = {"epochs": case["epochs"], "batch_size": case["batch_size"]}
    if case.get("steps") is not None:
        training["steps"] = case["steps"]
    lines.append(f"training: {flow(training)}")
    if case.get("frozen"):
        lines.append(f"frozen: {flow(case['frozen'])}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# Cases: one test id per optimizer / form / schedule
# --------------------------------------------------------------------------

def C(id, oracle, optimizer, *, loss=("mse", "mean"), epochs=2, batch_size=2, steps=None,
      frozen=None, default_naming=False, loss_as_mapping=True, state=None):
    return {
        "id": id,
        "oracle": oracle,
        "optimizer": optimizer,
        "loss": loss,
        "epochs": epochs,
        "batch_size": batch_size,
        "steps": steps,
        "frozen": frozen,
        "explicit_names": not default_naming,
        "names": default_names() if default_naming else explicit_names(),
        "loss_as_mapping": loss_as_mapping,
        "state": state,  # {var: True, ..., "t": steps already taken}: a given initial state
    }


SGD = {"name": "sgd", "lr": 0.5}

CASES = [
    # ---- torch.optim: conventions coincide -------------------------------------
    C("sgd", "torch", SGD, loss_as_mapping=False),
    C("sgd-weight_decay", "torch", {"name": "sgd", "lr": 0.5, "weight_decay": 0.05}),
    C("sgd-half_sse-sum", "torch", {"name": "sgd", "lr": 0.3}, loss=("half_sse", "sum")),
    C("sgd-mse-sum-batch3", "torch", {"name": "sgd", "lr": 0.3}, loss=("mse", "sum"), batch_size=3),
    C("sgd-default-names", "torch", SGD, default_naming=True),
    C("sgd-steps-cap", "torch", SGD, epochs=3, steps=4),
    C("sgd-full-batch", "torch", {"name": "sgd", "lr": 0.8}, batch_size=5, epochs=4),
    C("momentum-classic", "torch", {"name": "momentum", "lr": 0.3, "momentum": 0.8, "form": "classic"}),
    C("momentum-defaults", "torch", {"name": "momentum", "lr": 0.2}),
    C("momentum-classic-weight_decay", "torch",
      {"name": "momentum", "lr": 0.3, "momentum": 0.7, "form": "classic", "weight_decay": 0.1}),
    C("nesterov-pytorch", "torch", {"name": "nesterov", "lr": 0.3, "momentum": 0.7, "form": "pytorch"}),
    C("nesterov-defaults", "torch", {"name": "nesterov", "lr": 0.2}),
    C("nesterov-pytorch-weight_decay", "torch",
      {"name": "nesterov", "lr": 0.3, "momentum": 0.8, "weight_decay": 0.05}, loss=("half_sse", "mean")),
    C("adagrad", "torch", {"name": "adagrad", "lr": 0.3}),
    C("adagrad-defaults", "torch", {"name": "adagrad"}),
    C("adagrad-initial_accumulator", "torch",
      {"name": "adagrad", "lr": 0.3, "initial_accumulator": 0.5}),
    C("adagrad-weight_decay", "torch", {"name": "adagrad", "lr": 0.3, "weight_decay": 0.1}),
    C("adagrad-weight_decay-eps", "torch",
      {"name": "adagrad", "lr": 0.3, "eps": 1e-3, "weight_decay": 0.1, "initial_accumulator": 0.1}),
    C("rmsprop", "torch", {"name": "rmsprop", "lr": 0.05, "alpha": 0.9}),
    C("rmsprop-defaults", "torch", {"name": "rmsprop"}),
    C("rmsprop-weight_decay-eps", "torch",
      {"name": "rmsprop", "lr": 0.05, "alpha": 0.8, "eps": 1e-4, "weight_decay": 0.1}),
    C("adadelta-defaults", "torch", {"name": "adadelta"}),
    C("adadelta", "torch", {"name": "adadelta", "lr": 0.5, "rho": 0.8, "eps": 1e-4}),
    C("adadelta-weight_decay", "torch",
      {"name": "adadelta", "lr": 2.0, "rho": 0.95, "weight_decay": 0.1}),
    C("adam-defaults", "torch", {"name": "adam"}),
    C("adam", "torch",
      {"name": "adam", "lr": 0.05, "betas": [0.8, 0.99], "eps": 1e-6, "eps_placement": "outside"}),
    C("adam-weight_decay", "torch", {"name": "adam", "lr": 0.05, "weight_decay": 0.1}),
    C("adamw-defaults", "torch", {"name": "adamw"}),
    C("adamw", "torch",
      {"name": "adamw", "lr": 0.05, "betas": [0.85, 0.995], "eps": 1e-6, "weight_decay": 0.2}),
    # ---- schedules (factor formulas by hand; torch.optim does the update) ------
    C("schedule-step", "torch", {**SGD, "schedule": {"name": "step", "every": 2, "gamma": 0.5}}),
    C("schedule-step-defaults", "torch", {**SGD, "schedule": {"name": "step"}}),
    C("schedule-exponential", "torch", {**SGD, "schedule": {"name": "exponential", "gamma": 0.8}}),
    C("schedule-inverse_time", "torch", {**SGD, "schedule": {"name": "inverse_time", "decay": 0.5}}),
    C("schedule-warmup_linear", "torch",
      {**SGD, "schedule": {"name": "warmup_linear", "steps": 4, "start": 0.25}}),
    C("schedule-warmup_linear-default-start", "torch",
      {**SGD, "schedule": {"name": "warmup_linear", "steps": 3}}),
    C("schedule-cosine", "torch", {**SGD, "schedule": {"name": "cosine", "t_max": 4, "min_factor": 0.1}}),
    C("schedule-cosine-default-min", "torch", {**SGD, "schedule": {"name": "cosine", "t_max": 5}}),
    C("schedule-epoch-step", "torch",
      {**SGD, "schedule": {"name": "step", "gamma": 0.5, "unit": "epoch"}}, epochs=3),
    C("schedule-epoch-exponential", "torch",
      {**SGD, "schedule": {"name": "exponential", "gamma": 0.7, "unit": "epoch"}}, epochs=3),
    C("schedule-epoch-inverse_time", "torch",
      {**SGD, "schedule": {"name": "inverse_time", "decay": 1.5, "unit": "epoch"}}, epochs=3),
    C("schedule-epoch-warmup_linear", "torch",
      {**SGD, "schedule": {"name": "warmup_linear", "steps": 2, "start": 0.2, "unit": "epoch"}}, epochs=3),
    C("schedule-epoch-cosine", "torch",
      {**SGD, "schedule": {"name": "cosine", "t_max": 2, "min_factor": 0.05, "unit": "epoch"}}, epochs=3),
    C("schedule-list-warmup-cosine", "torch",
      {**SGD, "schedule": [{"name": "warmup_linear", "steps": 3, "start": 0.2},
                           {"name": "cosine", "t_max": 6, "min_factor": 0.1}]}),
    C("schedule-list-step-and-epoch", "torch",
      {**SGD, "schedule": [{"name": "exponential", "gamma": 0.9},
                           {"name": "step", "gamma": 0.5, "unit": "epoch"}]}, epochs=3),
    C("schedule-momentum-exponential", "torch",
      {"name": "momentum", "lr": 0.3, "momentum": 0.8, "schedule": {"name": "exponential", "gamma": 0.7}}),
    C("schedule-nesterov-warmup", "torch",
      {"name": "nesterov", "lr": 0.3, "schedule": {"name": "warmup_linear", "steps": 3}}),
    C("schedule-adagrad-step", "torch",
      {"name": "adagrad", "lr": 0.3, "schedule": {"name": "step", "every": 3, "gamma": 0.3}}),
    C("schedule-rmsprop-inverse_time", "torch",
      {"name": "rmsprop", "lr": 0.05, "schedule": {"name": "inverse_time", "decay": 0.3}}),
    C("schedule-adadelta-cosine", "torch",
      {"name": "adadelta", "lr": 1.0, "schedule": {"name": "cosine", "t_max": 3}}),
    C("schedule-adam-cosine", "torch",
      {"name": "adam", "lr": 0.05, "schedule": {"name": "cosine", "t_max": 6, "min_factor": 0.2}}),
    C("schedule-adamw-epoch-step", "torch",
      {"name": "adamw", "lr": 0.05, "weight_decay": 0.1,
       "schedule": {"name": "step", "gamma": 0.5, "unit": "epoch"}}, epochs=3),
    # ---- centralize (by hand, after weight decay) + torch.optim ----------------
    C("centralize-sgd", "torch", {**SGD, "centralize": True}),
    C("centralize-momentum-weight_decay", "torch",
      {"name": "momentum", "lr": 0.3, "momentum": 0.8, "weight_decay": 0.1, "centralize": True}),
    C("centralize-adam", "torch", {"name": "adam", "lr": 0.05, "centralize": True}),
    C("centralize-adam-weight_decay", "torch",
      {"name": "adam", "lr": 0.05, "weight_decay": 0.1, "centralize": True}),
    C("centralize-rmsprop", "torch", {"name": "rmsprop", "lr": 0.05, "centralize": True}),
    # ---- frozen ----------------------------------------------------------------
    C("frozen-sgd", "torch", SGD, frozen=["v11", "bh2", "w23"]),
    C("frozen-momentum", "torch", {"name": "momentum", "lr": 0.3, "momentum": 0.8},
      frozen=["v11", "v12", "bo1"]),
    C("frozen-adam", "torch", {"name": "adam", "lr": 0.05}, frozen=["w11", "w12", "w13", "bo1"]),
    C("frozen-adagrad", "torch", {"name": "adagrad", "lr": 0.3}, frozen=["bh1", "bh2", "bh3"]),
    # ---- hand-written: conventions differ from torch ---------------------------
    C("momentum-ema", "hand", {"name": "momentum", "lr": 0.5, "momentum": 0.8, "form": "ema"}),
    C("momentum-ema-weight_decay", "hand",
      {"name": "momentum", "lr": 0.5, "momentum": 0.6, "form": "ema", "weight_decay": 0.1}),
    C("momentum-ema-schedule", "hand",
      {"name": "momentum", "lr": 0.5, "form": "ema", "schedule": {"name": "step", "every": 2, "gamma": 0.5}}),
    C("momentum-sutskever", "hand", {"name": "momentum", "lr": 0.3, "momentum": 0.8, "form": "sutskever"}),
    C("momentum-sutskever-weight_decay", "hand",
      {"name": "momentum", "lr": 0.3, "form": "sutskever", "weight_decay": 0.05}),
    C("momentum-sutskever-schedule", "hand",
      {"name": "momentum", "lr": 0.3, "momentum": 0.8, "form": "sutskever",
       "schedule": {"name": "exponential", "gamma": 0.6}}),
    C("nesterov-lookahead", "hand", {"name": "nesterov", "lr": 0.3, "momentum": 0.8, "form": "lookahead"}),
    C("nesterov-lookahead-defaults", "hand", {"name": "nesterov", "lr": 0.2, "form": "lookahead"},
      loss=("half_sse", "sum")),
    C("nesterov-lookahead-schedule", "hand",
      {"name": "nesterov", "lr": 0.3, "momentum": 0.7, "form": "lookahead",
       "schedule": {"name": "inverse_time", "decay": 0.5}}),
    C("adam-eps-inside", "hand", {"name": "adam", "lr": 0.05, "eps": 1e-3, "eps_placement": "inside"}),
    C("adam-eps-inside-defaults", "hand", {"name": "adam", "eps_placement": "inside"}),
    C("adam-eps-inside-weight_decay", "hand",
      {"name": "adam", "lr": 0.05, "betas": [0.8, 0.99], "eps": 1e-4, "eps_placement": "inside",
       "weight_decay": 0.1}),
    C("adabelief-defaults", "hand", {"name": "adabelief"}),
    C("adabelief", "hand", {"name": "adabelief", "lr": 0.05, "betas": [0.8, 0.99], "eps": 1e-4}),
    C("adabelief-weight_decay", "hand",
      {"name": "adabelief", "lr": 0.05, "eps": 1e-8, "weight_decay": 0.1}),
    C("adabelief-schedule", "hand",
      {"name": "adabelief", "lr": 0.05, "schedule": {"name": "cosine", "t_max": 4}}),
    C("centralize-momentum-ema", "hand",
      {"name": "momentum", "lr": 0.5, "momentum": 0.8, "form": "ema", "centralize": True}),
    C("centralize-adabelief", "hand",
      {"name": "adabelief", "lr": 0.05, "eps": 1e-8, "centralize": True}),
    C("frozen-sutskever", "hand", {"name": "momentum", "lr": 0.3, "form": "sutskever"},
      frozen=["v21", "w12", "bo2"]),
    C("frozen-adabelief", "hand", {"name": "adabelief", "lr": 0.05}, frozen=["v31", "v32"]),
    # ---- eps_placement of adagrad and rmsprop (torch has eps outside) -----------
    C("adagrad-eps-outside", "torch", {"name": "adagrad", "lr": 0.3, "eps": 1e-3, "eps_placement": "outside"}),
    C("rmsprop-eps-outside", "torch", {"name": "rmsprop", "lr": 0.05, "eps": 1e-3, "eps_placement": "outside"}),
    C("adagrad-eps-inside", "hand",
      {"name": "adagrad", "lr": 0.3, "eps": 1e-3, "initial_accumulator": 0.1, "eps_placement": "inside"}),
    C("rmsprop-eps-inside", "hand", {"name": "rmsprop", "lr": 0.05, "alpha": 0.9, "eps": 1e-3,
                                     "eps_placement": "inside"}),
    C("rmsprop-eps-inside-defaults", "hand", {"name": "rmsprop", "eps_placement": "inside"}),
    # ---- a given initial state (torch: loaded into torch.optim's own state) ----
    C("state-momentum-classic", "torch", {"name": "momentum", "lr": 0.3, "momentum": 0.8}, state={"v": True}),
    C("state-nesterov-pytorch", "torch", {"name": "nesterov", "lr": 0.3, "momentum": 0.7}, state={"v": True}),
    C("state-adagrad", "torch", {"name": "adagrad", "lr": 0.3}, state={"r": True}),
    C("state-rmsprop", "torch", {"name": "rmsprop", "lr": 0.05, "alpha": 0.9}, state={"r": True}),
    C("state-adam-resumed", "torch", {"name": "adam", "lr": 0.05}, state={"m": True, "v": True, "t": 3}),
    C("state-adam-t-only", "torch", {"name": "adam", "lr": 0.05}, state={"t": 2}),
    C("state-momentum-sutskever", "hand", {"name": "momentum", "lr": 0.3, "momentum": 0.8, "form": "sutskever"},
      state={"v": True}),
    C("state-momentum-ema", "hand", {"name": "momentum", "lr": 0.5, "momentum": 0.8, "form": "ema"},
      state={"v": True}),
    C("state-nesterov-lookahead", "hand", {"name": "nesterov", "lr": 0.3, "momentum": 0.8, "form": "lookahead"},
      state={"v": True}),
    C("state-adam-inside-resumed", "hand", {"name": "adam", "lr": 0.05, "eps": 1e-3, "eps_placement": "inside"},
      state={"m": True, "v": True, "t": 5}),
    C("state-rmsprop-inside", "hand", {"name": "rmsprop", "lr": 0.05, "eps": 1e-3, "eps_placement": "inside"},
      state={"r": True}),
]


# --------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------

def _close(a, e):
    return isinstance(a, (int, float)) and not isinstance(a, bool) and math.isclose(
        a, e, rel_tol=RTOL, abs_tol=ATOL)


def is_lookahead(case):
    return case["optimizer"]["name"] == "nesterov" and case["optimizer"].get("form") == "lookahead"


def compare(sol, records, final, case, check_step_loss=True):
    names = flatten(INIT, case["names"])  # name -> initial value
    errors = []

    def check(label, actual, expected):
        if not _close(actual, expected):
            errors.append(f"{label}: engine {actual!r}, oracle {expected!r}")

    assert set(sol["parameters"]) == set(names), sol["parameters"].keys()
    for n, x in names.items():
        check(f"parameters[{n}]", sol["parameters"][n], x)
    got_steps = sol["steps"]
    assert len(got_steps) == len(records), (
        f"{len(got_steps)} steps from the engine, expected {len(records)}")
    for got, exp in zip(got_steps, records):
        t = exp["step"]
        assert (got["step"], got["epoch"], list(got["batch"])) == (exp["step"], exp["epoch"], exp["batch"]), (
            f"step {t}: engine (step, epoch, batch) = {(got['step'], got['epoch'], got['batch'])}, "
            f"expected {(exp['step'], exp['epoch'], exp['batch'])}")
        check(f"step {t} lr", got["lr"], exp["lr"])
        if check_step_loss:
            check(f"step {t} loss", got["loss"], exp["loss"])
        assert set(got["gradients"]) == set(names), f"step {t} gradients keys {sorted(got['gradients'])}"
        assert set(got["parameters"]) == set(names), f"step {t} parameters keys {sorted(got['parameters'])}"
        for n in names:
            check(f"step {t} gradients[{n}]", got["gradients"][n], exp["gradients"][n])
        for n in names:
            check(f"step {t} parameters[{n}]", got["parameters"][n], exp["parameters"][n])
    for n in names:
        check(f"final parameters[{n}]", sol["final"]["parameters"][n], final["parameters"][n])
    check("final loss", sol["final"]["loss"], final["loss"])
    if errors:
        pytest.fail(f"{len(errors)} mismatch(es) for {case['id']}:\n" + "\n".join(errors[:30]))


def _solve(text):
    from tutor.api import solve_text  # imported here so the oracle self-checks run without the engine

    return solve_text(text, path="test_optimizers_vs_torch.yaml")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_optimizer_matches_oracle(case):
    records, final = (run_torch if case["oracle"] == "torch" else run_hand)(case)
    assert len(records) >= 3
    text = problem_yaml(case)
    sol = _solve(text)
    # The step loss of nesterov `lookahead` is checked on its own below, so that
    # the question "at θ or at θ + μv" gets one test id of its own.
    compare(sol, records, final, case, check_step_loss=not is_lookahead(case))


LOOKAHEAD_CASES = [c for c in CASES if is_lookahead(c)]


@pytest.mark.parametrize("case", LOOKAHEAD_CASES, ids=[c["id"] for c in LOOKAHEAD_CASES])
def test_nesterov_lookahead_step_loss_is_at_the_parameters_before_the_update(case):
    """solution-json.md: a step's `loss` is "the batch loss before the update" and its
    samples are "computed with the parameters *before* the update", i.e. at θ (the
    previous step's `parameters`), not at the look-ahead point θ + μv where only the
    gradient is taken (problem-format.md, Optimizer)."""
    # Independent of whether the engine's trajectory is right: the expected loss is
    # torch's loss at the engine's own parameters before each step.
    sol = _solve(problem_yaml(case))
    names = case["names"]
    before = sol["parameters"]
    errors = []
    for got in sol["steps"]:
        theta = {k: np.vectorize(lambda n: before[n], otypes=[float])(np.asarray(names[k], dtype=object))
                 for k in KEYS}
        expected = loss_only(theta, [i - 1 for i in got["batch"]], case["loss"])
        if not _close(got["loss"], expected):
            errors.append(f"step {got['step']} loss: engine {got['loss']!r}, torch at θ {expected!r}")
        before = got["parameters"]
    assert not errors, "\n".join(errors)


# --------------------------------------------------------------------------
# Self-checks of the oracle itself (need no engine): they make sure the
# hand-written loop and formulas are trustworthy where torch can vouch for them.
# --------------------------------------------------------------------------

def _assert_runs_equal(a, b, what):
    (ra, fa), (rb, fb) = a, b
    assert len(ra) == len(rb)
    for x, y in zip(ra, rb):
        assert x["lr"] == pytest.approx(y["lr"], rel=1e-12)
        assert x["loss"] == pytest.approx(y["loss"], rel=1e-12)
        for key in ("gradients", "parameters"):
            for n in x[key]:
                assert x[key][n] == pytest.approx(y[key][n], rel=1e-10, abs=1e-13), (what, x["step"], key, n)
    for n in fa["parameters"]:
        assert fa["parameters"][n] == pytest.approx(fb["parameters"][n], rel=1e-10, abs=1e-13)


@pytest.mark.parametrize("optimizer", [
    {"name": "sgd", "lr": 0.5, "weight_decay": 0.05, "schedule": {"name": "exponential", "gamma": 0.8}},
    {"name": "momentum", "lr": 0.3, "momentum": 0.8, "form": "classic", "weight_decay": 0.1},
    {"name": "nesterov", "lr": 0.3, "momentum": 0.7, "form": "pytorch"},
    {"name": "adam", "lr": 0.05, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1},
    {"name": "adam", "lr": 0.05, "centralize": True, "schedule": {"name": "cosine", "t_max": 4}},
], ids=["sgd", "momentum-classic", "nesterov-pytorch", "adam-outside", "adam-centralize"])
def test_oracle_hand_loop_agrees_with_torch(optimizer):
    case = C("self-check", "hand", optimizer, frozen=["v11", "bo2"])
    _assert_runs_equal(run_hand(case), run_torch(case), optimizer["name"])


def test_oracle_sutskever_equals_classic_at_constant_lr():
    # v_sutskever = -lr * v_classic when lr is constant: same parameter trajectory.
    hand = run_hand(C("s", "hand", {"name": "momentum", "lr": 0.3, "momentum": 0.8, "form": "sutskever"}))
    ref = run_torch(C("c", "torch", {"name": "momentum", "lr": 0.3, "momentum": 0.8, "form": "classic"}))
    _assert_runs_equal(hand, ref, "sutskever")


@pytest.mark.parametrize("optimizer, state", [
    ({"name": "adagrad", "lr": 0.3, "initial_accumulator": 0.1}, None),
    ({"name": "rmsprop", "lr": 0.05, "alpha": 0.9}, None),
    ({"name": "momentum", "lr": 0.3, "momentum": 0.8, "form": "classic"}, {"v": True}),
    ({"name": "nesterov", "lr": 0.3, "momentum": 0.7, "form": "pytorch"}, {"v": True}),
    ({"name": "rmsprop", "lr": 0.05, "alpha": 0.9}, {"r": True}),
    ({"name": "adam", "lr": 0.05}, {"m": True, "v": True, "t": 3}),
], ids=["adagrad", "rmsprop", "state-momentum", "state-nesterov", "state-rmsprop", "state-adam"])
def test_oracle_hand_loop_agrees_with_torch_with_state(optimizer, state):
    """The hand loop's adagrad/rmsprop and its given state, vouched for by torch.optim."""
    case = C("self-check", "hand", optimizer, state=state)
    _assert_runs_equal(run_hand(case), run_torch(case), optimizer["name"])


def test_oracle_rmsprop_inside_differs_from_outside():
    """The hand loop's eps_placement matters (a large eps makes the two visibly different)."""
    inside = run_hand(C("i", "hand", {"name": "rmsprop", "lr": 0.05, "eps": 0.1, "eps_placement": "inside"}))
    outside = run_torch(C("o", "torch", {"name": "rmsprop", "lr": 0.05, "eps": 0.1}))
    with pytest.raises(AssertionError):
        _assert_runs_equal(inside, outside, "rmsprop eps 0.1")


def test_oracle_adam_inside_equals_outside_without_eps():
    inside = run_hand(C("i", "hand", {"name": "adam", "lr": 0.05, "eps": 0.0, "eps_placement": "inside"}))
    ref = run_torch(C("o", "torch", {"name": "adam", "lr": 0.05, "eps": 0.0}))
    _assert_runs_equal(inside, ref, "adam eps 0")


@pytest.mark.parametrize("sched, make", [
    ({"name": "step", "every": 2, "gamma": 0.5},
     lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    ({"name": "exponential", "gamma": 0.8},
     lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8)),
    ({"name": "warmup_linear", "steps": 4, "start": 0.25},
     lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4)),
    ({"name": "cosine", "t_max": 6, "min_factor": 0.1},
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.5 * 0.1)),
    ({"name": "inverse_time", "decay": 0.5},
     lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda n: 1.0 / (1.0 + 0.5 * n))),
], ids=["step", "exponential", "warmup_linear", "cosine", "inverse_time"])
def test_oracle_schedule_factors_agree_with_torch_schedulers(sched, make):
    p = torch.zeros(1, dtype=F64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.5)
    scheduler = make(opt)
    h = hyper({"name": "sgd", "lr": 0.5, "schedule": sched})
    for n in range(7):  # within t_max for the cosine (torch's restarts beyond it; the spec clamps)
        assert opt.param_groups[0]["lr"] == pytest.approx(lr_at(h, n + 1, 1), rel=1e-12, abs=1e-15), n
        opt.step()
        scheduler.step()


def test_oracle_schedule_clamps_and_units():
    h = hyper({"name": "sgd", "lr": 1.0, "schedule": [
        {"name": "cosine", "t_max": 2}, {"name": "step", "gamma": 0.5, "unit": "epoch"}]})
    assert lr_at(h, 1, 1) == 1.0
    assert lr_at(h, 2, 1) == pytest.approx(0.5)
    assert lr_at(h, 3, 2) == pytest.approx(0.0)  # cosine clamped at t_max
    h = hyper({"name": "sgd", "lr": 1.0, "schedule": {"name": "warmup_linear", "steps": 2}})
    assert [lr_at(h, t, 1) for t in (1, 2, 3, 4)] == pytest.approx([0.1, 0.55, 1.0, 1.0])


def test_adam_state_holds_the_bias_corrected_values_of_each_step():
    """solution-json.md (v2): Adam's `state` also holds m_hat and v_hat, the values the step
    used: m/(1 − β₁ᵗ) and v/(1 − β₂ᵗ), t counting the steps the given state says were taken."""
    case = C("adam-resumed", "torch", {"name": "adam", "lr": 0.05, "betas": [0.8, 0.99]},
             state={"m": True, "v": True, "t": 3})
    sol = _solve(problem_yaml(case))
    for got in sol["steps"]:
        t = 3 + got["step"]
        state = got["state"]
        for n in state["m"]:
            assert _close(state["m_hat"][n], state["m"][n] / (1 - 0.8 ** t)), (got["step"], n)
            assert _close(state["v_hat"][n], state["v"][n] / (1 - 0.99 ** t)), (got["step"], n)
