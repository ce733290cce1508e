"""Peer for the Mazur benchmark: the same training as benchmarks/problems/mazur-10k.yaml,
derived by hand in plain Python, printing the same JSON as `tutor solve --format json`
(every step's forward values, loss, ∂E/∂input and ∂E/∂node, gradients and parameters;
the final pass) with the same encoder.

    python benchmarks/peer_mazur.py [STEPS]
"""

import json
import math
import sys

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
i1, i2, t1, t2 = 0.05, 0.10, 0.01, 0.99
b1, b2, lr = 0.35, 0.60, 0.5  # the shared biases are frozen
w = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55}
names = ("w1", "w2", "b1", "w3", "w4", "w5", "w6", "b2", "w7", "w8")


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def forward(p):
    net_h1 = p["w1"] * i1 + p["w2"] * i2 + b1
    net_h2 = p["w3"] * i1 + p["w4"] * i2 + b1
    h1, h2 = sigmoid(net_h1), sigmoid(net_h2)
    net_o1 = p["w5"] * h1 + p["w6"] * h2 + b2
    net_o2 = p["w7"] * h1 + p["w8"] * h2 + b2
    o1, o2 = sigmoid(net_o1), sigmoid(net_o2)
    loss = 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2
    values = {"i1": i1, "i2": i2, "t1": t1, "t2": t2, "net_h1": net_h1, "net_h2": net_h2, "h1": h1, "h2": h2,
              "net_o1": net_o1, "net_o2": net_o2, "o1": o1, "o2": o2}
    return values, loss


def backward(p, v):
    """The sample's derivatives (∂E/∂input, ∂E/∂node) and the gradients."""
    e_o1, e_o2 = v["o1"] - t1, v["o2"] - t2
    d_o1, d_o2 = e_o1 * v["o1"] * (1 - v["o1"]), e_o2 * v["o2"] * (1 - v["o2"])
    e_h1, e_h2 = d_o1 * p["w5"] + d_o2 * p["w7"], d_o1 * p["w6"] + d_o2 * p["w8"]
    d_h1, d_h2 = e_h1 * v["h1"] * (1 - v["h1"]), e_h2 * v["h2"] * (1 - v["h2"])
    derivatives = {"i1": d_h1 * p["w1"] + d_h2 * p["w3"], "i2": d_h1 * p["w2"] + d_h2 * p["w4"],
                   "net_h1": d_h1, "net_h2": d_h2, "h1": e_h1, "h2": e_h2,
                   "net_o1": d_o1, "net_o2": d_o2, "o1": e_o1, "o2": e_o2}
    g = {"w1": d_h1 * i1, "w2": d_h1 * i2, "b1": d_h1 + d_h2, "w3": d_h2 * i1, "w4": d_h2 * i2,
         "w5": d_o1 * v["h1"], "w6": d_o1 * v["h2"], "b2": d_o1 + d_o2, "w7": d_o2 * v["h1"], "w8": d_o2 * v["h2"]}
    return derivatives, g


def parameters(p):
    return {n: p.get(n, b1 if n == "b1" else b2) for n in names}


out = []
for step in range(1, steps + 1):
    v, loss = forward(w)
    derivatives, g = backward(w, v)
    w = {n: w[n] - lr * g[n] for n in w}
    out.append({"step": step, "epoch": step, "batch": [1], "lr": lr,
                "samples": [{"index": 1, "values": v, "loss": loss, "derivatives": derivatives}], "loss": loss,
                "gradients": g, "state": {}, "parameters": parameters(w)})
final_values, final_loss = forward(w)
final_derivatives, final_gradients = backward(w, final_values)
sys.stdout.write(json.dumps({"title": "Mazur 10k (peer)", "arithmetic": "float", "parameters": parameters(w),
                             "steps": out, "final": {"parameters": parameters(w),
                                                     "samples": [{"index": 1, "values": final_values,
                                                                  "loss": final_loss,
                                                                  "derivatives": final_derivatives}],
                                                     "loss": final_loss, "gradients": final_gradients}},
                            ensure_ascii=False) + "\n")
