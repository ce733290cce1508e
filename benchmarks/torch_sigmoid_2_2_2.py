"""Baseline for the 10,000-step benchmark: the same training as
benchmarks/problems/sigmoid-2-2-2-10k.yaml in plain PyTorch float64, printing
the same numbers (every step's forward values, loss, gradients, parameters) as JSON."""

import json
import sys

import torch

torch.set_default_dtype(torch.float64)
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
x = torch.tensor([0.05, 0.10])
t = torch.tensor([0.01, 0.99])
w1 = torch.tensor([[0.15, 0.20], [0.25, 0.30]], requires_grad=True)
b1 = torch.tensor([0.35, 0.35], requires_grad=True)
w2 = torch.tensor([[0.40, 0.45], [0.50, 0.55]], requires_grad=True)
b2 = torch.tensor([0.60, 0.60], requires_grad=True)
params = [w1, b1, w2, b2]
opt = torch.optim.SGD(params, lr=0.5)
out = []
for step in range(1, steps + 1):
    opt.zero_grad()
    z1 = w1 @ x + b1
    h = torch.sigmoid(z1)
    z2 = w2 @ h + b2
    o = torch.sigmoid(z2)
    loss = 0.5 * ((t - o) ** 2).sum()
    loss.backward()
    record = {"step": step, "values": [v.tolist() for v in (z1, h, z2, o)], "loss": loss.item(),
              "gradients": [p.grad.tolist() for p in params]}
    opt.step()
    record["parameters"] = [p.tolist() for p in params]
    out.append(record)
json.dump(out, sys.stdout)
