#!/usr/bin/env python3
"""Second opinion on the oracle's optimizer formulas: replay each problem
whose optimizer has a torch.optim twin (sgd, momentum classic, nesterov
pytorch, adagrad, rmsprop, adadelta, adam with eps outside, adamw, and
adabelief when the adabelief-pytorch package is importable; no centralization) with torch.optim in float64, feeding each step the lr recorded
in the expected JSON, and compare every step's parameters with that JSON.

    .venv/bin/python tests/oracle/crosscheck_torch_optim.py problems/*.yaml
"""
import json
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import make_expected as m  # noqa: E402  (graph building and forward pass only)


def torch_optimizer(opt, params):
    n = opt["name"]
    wd = float(opt.get("weight_decay", 0))
    if n == "sgd":
        return torch.optim.SGD(params, lr=opt["lr"], weight_decay=wd)
    if n == "momentum" and opt["form"] == "classic":
        return torch.optim.SGD(params, lr=opt["lr"], momentum=opt["momentum"], weight_decay=wd)
    if n == "nesterov" and opt["form"] == "pytorch":
        return torch.optim.SGD(params, lr=opt["lr"], momentum=opt["momentum"], nesterov=True, weight_decay=wd)
    if n in ("adagrad", "rmsprop") and opt.get("eps_placement") == "inside":
        return None
    if n == "adagrad":
        return torch.optim.Adagrad(params, lr=opt["lr"], eps=opt["eps"], weight_decay=wd,
                                   initial_accumulator_value=opt["initial_accumulator"])
    if n == "rmsprop":
        return torch.optim.RMSprop(params, lr=opt["lr"], alpha=opt["alpha"], eps=opt["eps"], weight_decay=wd)
    if n == "adadelta":
        return torch.optim.Adadelta(params, lr=opt["lr"], rho=opt["rho"], eps=opt["eps"], weight_decay=wd)
    if n == "adam" and opt["eps_placement"] == "outside":
        return torch.optim.Adam(params, lr=opt["lr"], betas=tuple(opt["betas"]), eps=opt["eps"], weight_decay=wd)
    if n == "adamw" and opt["eps_placement"] == "outside":
        return torch.optim.AdamW(params, lr=opt["lr"], betas=tuple(opt["betas"]), eps=opt["eps"], weight_decay=wd)
    if n == "adabelief" and opt["eps_placement"] == "outside" and not wd:
        try:                       # optional: pip install --target DIR adabelief-pytorch==0.2.1; PYTHONPATH=DIR
            from adabelief_pytorch import AdaBelief
        except ImportError:
            return None
        return AdaBelief(params, lr=opt["lr"], betas=tuple(opt["betas"]), eps=opt["eps"], weight_decay=0,
                         amsgrad=False, weight_decouple=False, fixed_decay=False, rectify=False,
                         print_change_log=False)
    return None


def replay(path):
    p = m.load(path)
    if p.get("arithmetic", "float") != "float":
        return "skipped (exact)"
    s = m.Solver(p)
    opt = m.optimizer_config(p, s.num)
    if opt.get("centralize"):
        return "skipped (centralize)"
    if opt.get("state"):
        return "skipped (a given initial state)"
    frozen = set(p.get("frozen") or [])
    leaves = {k: torch.tensor(s.num(v), requires_grad=True) for k, v in s.g.params.items()}
    o = torch_optimizer(opt, [t for k, t in leaves.items() if k not in frozen])
    if o is None:
        return f"skipped (no torch.optim twin for {opt['name']}/{opt.get('form') or opt.get('eps_placement')})"
    exp = json.loads((path.parent / "expected" / (path.stem + ".json")).read_text())
    bad = []
    for st in exp["steps"]:
        for g in o.param_groups:
            g["lr"] = st["lr"]
        o.zero_grad()
        losses = [m.sample_loss(p, s.g, m.forward(s.g, leaves, s.samples[i - 1], s.consts, s.B), s.B)
                  for i in st["batch"]]
        m.reduce_losses(p, losses).backward()
        o.step()
        for k, t in leaves.items():
            if not m.close(st["parameters"][k], t.item()):
                bad.append(f"step {st['step']} {k}: json {st['parameters'][k]!r}, torch.optim {t.item()!r}")
    return "ok" if not bad else "FAIL\n  " + "\n  ".join(bad)


if __name__ == "__main__":
    rc = 0
    for f in sys.argv[1:]:
        r = replay(pathlib.Path(f))
        rc |= r.startswith("FAIL")
        print(f"{pathlib.Path(f).name}: {r}")
    sys.exit(rc)
