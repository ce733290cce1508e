"""tutor's benchmarks, measured side by side in one run (not part of the tests).

    .venv/bin/python benchmarks/run.py [--repeat 5] [--only start mazur ...]

Each row runs its commands interleaved, `--repeat` times, and reports medians,
the ratio to its baseline, the target, and the peak memory (max RSS) of each
command. Numbers depend on the machine: record them in benchmarks/RESULTS.md
with the machine described.
"""

from __future__ import annotations

import argparse
import json
import importlib.util
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PY = sys.executable
TUTOR = str(BIN / "tutor")


TIME = shutil.which("time") or "/usr/bin/time"

# Commands run as installed: with their bytecode cached (the warm-up run writes it).
# Under PYTHONDONTWRITEBYTECODE every run would compile tutor's modules from source
# again, while SymPy's bytecode, written when it was installed, is read.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(command: list[str]) -> tuple[float, float]:
    """CPU seconds (user + system) and peak memory (MiB) of one run, output discarded.
    Both are read by GNU time: a child's own max RSS counter starts from its parent's
    at fork, so this (large) process cannot read it reliably itself; CPU time, unlike
    wall time, does not depend on what else the machine is running."""
    with open(os.devnull, "wb") as null:
        proc = subprocess.run([TIME, "-f", "%U %S %M", *command], stdout=null, stderr=subprocess.PIPE, cwd=ROOT,
                              env=ENV)
    if proc.returncode not in (0, 1):  # 1: a diverged training still prints its solution
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{proc.stderr.decode()}")
    user, system, kib = proc.stderr.decode().strip().splitlines()[-1].split()
    return float(user) + float(system), int(kib) / 1024


def side_by_side(commands: dict[str, list[str]], repeat: int) -> dict[str, tuple[float, float]]:
    times: dict[str, list[float]] = {k: [] for k in commands}
    memory: dict[str, float] = {k: 0.0 for k in commands}
    for name, command in commands.items():  # warm the file cache once
        run_once(command)
    for _ in range(repeat):
        for name, command in commands.items():
            seconds, mib = run_once(command)
            times[name].append(seconds)
            memory[name] = max(memory[name], mib)
    return {k: (statistics.median(v), memory[k]) for k, v in times.items()}


def row(label: str, seconds: float, mib: float, base: float | None = None, target: str = "") -> str:
    ratio = f"{seconds / base:6.2f}×" if base else "      "
    return f"  {label:<44} {seconds:8.3f} s {ratio} {target:>8} {mib:8.0f} MiB"


def bench_start_up(repeat: int) -> list[str]:
    problem = "problems/relu-2-2-2-one-step.yaml"
    result = side_by_side({
        "floor": [PY, "-c", "import sympy"],
        "json": [TUTOR, "solve", problem, "--format", "json"],
        "text": [TUTOR, "solve", problem],
    }, repeat)
    base = result["floor"][0]
    return ["1. cold start on relu-2-2-2-one-step.yaml",
            row('python -c "import sympy" (peer)', *result["floor"]),
            row("tutor solve --format json", *result["json"], base, "≤ 1.0×"),
            row("tutor solve (terminal)", *result["text"], base)]


def with_epochs(source: Path, epochs: int, tmp: str, extra: str = "") -> str:
    text = source.read_text()
    changed = re.sub(r"training: \{epochs: \d+", f"training: {{epochs: {epochs}", text)
    assert changed != text or f"epochs: {epochs}" in text
    path = Path(tmp) / f"{source.stem}-{epochs}{extra and '-'}{extra.split(':')[0]}.yaml"
    path.write_text(changed + extra)
    return str(path)


def bench_mazur(repeat: int) -> list[str]:
    result = side_by_side({
        "peer": [PY, str(HERE / "peer_mazur.py"), "10000"],
        "tutor": [TUTOR, "solve", str(HERE / "problems" / "mazur-10k.yaml"), "--format", "json"],
    }, repeat)
    base = result["peer"][0]
    return ["2. Mazur 2-2-2, 10,000 SGD steps, every step's numbers as JSON",
            row("hand-derived plain Python (peer_mazur.py)", *result["peer"]),
            row("tutor solve --format json", *result["tutor"], base, "≤ 2.0×")]


def bench_memory(repeat: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = with_epochs(HERE / "problems" / "mazur-10k.yaml", 100_000, tmp)
        small = with_epochs(HERE / "problems" / "mazur-10k.yaml", 1_000, tmp)
        result = side_by_side({"1k": [TUTOR, "solve", small, "--format", "json", "--yes"],
                               "100k": [TUTOR, "solve", path, "--format", "json", "--yes"]}, max(1, repeat // 3))
    return ["3. peak memory, Mazur 100,000 steps as JSON (streamed)",
            row("tutor solve --format json, 1,000 steps (peer)", *result["1k"]),
            row("tutor solve --format json, 100,000 steps", *result["100k"], None, "≤ 100 MiB")]


def bench_exact(repeat: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = with_epochs(ROOT / "problems" / "sigmoid-neuron-sgd.yaml", 5, tmp)  # 2 samples: 10 steps
        xor = {n: with_epochs(ROOT / "problems" / "xor-bce-adam-minibatch.yaml", n // 2, tmp) for n in (40, 160)}
        result = side_by_side({"float": [TUTOR, "solve", path, "--format", "json"],
                               "exact": [TUTOR, "solve", path, "--format", "json", "--exact"],
                               **{n: [TUTOR, "solve", xor[n], "--format", "json", "--exact", "--yes"] for n in xor}},
                              repeat)
    base = result["float"][0]
    per_step = {n: (result[n][0] - base) / n for n in xor}  # beyond start-up (a small float solve)
    return ["4. exact arithmetic, sigmoid neuron, 10 steps; xor-bce-adam-minibatch exact, 40 and 160 steps",
            row("tutor solve --format json, float (peer)", *result["float"]),
            row("tutor solve --format json --exact", *result["exact"], base, "≤ 1 s"),
            row(f"xor exact, 40 steps: {1000 * per_step[40]:.1f} ms/step", *result[40]),
            row(f"xor exact, 160 steps: {1000 * per_step[160]:.1f} ms/step", *result[160])]


def bench_terminal(repeat: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = with_epochs(HERE / "problems" / "mazur-10k.yaml", 1000, tmp)
        result = side_by_side({"json": [TUTOR, "solve", path, "--format", "json"],
                               "text": [TUTOR, "solve", path, "--all", "--steps", ",".join(map(str, range(1, 1001)))],
                               }, max(1, repeat // 3))
    base = result["json"][0]
    return ["5. every step in full, Mazur 1,000 steps (measured only: the printers' rebuild)",
            row("tutor solve --format json (peer)", *result["json"]),
            row("tutor solve --all --steps 1..1000 (terminal)", *result["text"], base, "≤ 8 s")]


def bench_check(repeat: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = with_epochs(HERE / "problems" / "mazur-10k.yaml", 1000, tmp)
        answers = Path(tmp) / "answers.yaml"
        answers.write_text(answered(path))
        result = side_by_side({"json": [TUTOR, "solve", path, "--format", "json"],
                               "check": [TUTOR, "check", path, str(answers)]}, max(1, repeat // 3))
    base = result["json"][0]
    return ["7. tutor check, Mazur 1,000 steps, every step fully answered (measured only: the checker's rebuild)",
            row("tutor solve --format json (peer)", *result["json"]),
            row("tutor check, 1,000 answered steps", *result["check"], base, "≤ 6 s")]


def answered(problem: str) -> str:
    """An answers file holding the solution's own numbers for every step of a Mazur run."""
    solution = json.loads(subprocess.run([TUTOR, "solve", problem, "--format", "json"], capture_output=True,
                                         check=True).stdout)
    leaves, frozen = {"i1", "i2", "t1", "t2"}, {"b1", "b2"}
    lines = ["answers:"]
    for st in solution["steps"]:
        for sample in st["samples"]:
            values = {k: v for k, v in sample["values"].items() if k not in leaves}
            lines.append(f"  - {{step: {st['step']}, sample: {sample['index']}, values: {json.dumps(values)}}}")
        lines.append(f"  - {{step: {st['step']}, loss: {st['loss']!r}}}")
        lines.append(f"  - {{step: {st['step']}, gradient: {json.dumps(st['gradients'])}}}")
        updated = {k: v for k, v in st["parameters"].items() if k not in frozen}
        lines.append(f"  - {{step: {st['step']}, parameters: {json.dumps(updated)}}}")
    return "\n".join(lines) + "\n"


def bench_fan_in(repeat: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        commands = {"floor": [TUTOR, "solve", str(ROOT / "problems" / "sigmoid-neuron-sgd.yaml"), "--format", "json"]}
        for n in (1024, 4096):
            path = Path(tmp) / f"fan-in-{n}.yaml"
            path.write_text(fan_in_yaml(n))
            commands[n] = [TUTOR, "solve", str(path), "--format", "json"]
        result = side_by_side(commands, repeat)
    floor = result["floor"][0]
    work = {n: result[n][0] - floor for n in (1024, 4096)}
    return ["6. derivation: one sigmoid unit of fan-in 1024 and 4096, one step (start-up: a small solve)",
            row("tutor solve, sigmoid-neuron-sgd (start-up)", *result["floor"]),
            row(f"fan-in 1024: {work[1024]:.3f} s beyond start-up", *result[1024]),
            row(f"fan-in 4096: {work[4096]:.3f} s beyond start-up, {work[4096] / work[1024]:.1f}× 1024's",
                *result[4096], None, "≤ 5×")]


def fan_in_yaml(n: int) -> str:
    inputs = [f"x{i}" for i in range(n)]
    weights = [[round((i * 7919 % 1000) / 1000 - 0.5, 3) for i in range(n)]]
    sample = ", ".join(f"{x}: {(i * 104729 % 200) / 100 - 1}" for i, x in enumerate(inputs))
    return "\n".join(["title: fan-in benchmark", "network:", f"  inputs: [{', '.join(inputs)}]", "  layers:",
                      "    - units: [o]", "      activation: sigmoid", f"      weights: {weights}",
                      "      bias: [0.1]", "targets: [t]", f"data: {{{sample}, t: 0.5}}", "loss: half_sse",
                      "optimizer: {name: sgd, lr: 0.01}", "training: {epochs: 1}"]) + "\n"


def bench_long_training(repeat: int) -> list[str]:
    if importlib.util.find_spec("torch") is None:  # not imported here: see run_once
        return ["2. 10,000 steps: skipped (torch is not installed)"]
    result = side_by_side({
        "torch": [PY, str(HERE / "torch_sigmoid_2_2_2.py"), "10000"],
        "tutor": [TUTOR, "solve", str(HERE / "problems" / "sigmoid-2-2-2-10k.yaml"), "--format", "json"],
    }, repeat)
    base = result["torch"][0]
    return ["2. 10,000 SGD steps of a 2-2-2 sigmoid network, every number printed",
            row("PyTorch float64 script (baseline)", *result["torch"]),
            row("tutor solve --format json", *result["tutor"], base, "≤ 0.5×")]


def bench_depth(repeat: int) -> list[str]:
    sys.path.insert(0, str(HERE))
    from depth import network_yaml  # the same generator as benchmarks/depth.py

    lines = ["3. depth scaling: tanh networks 8 wide, 20 steps (time per parameter should stay flat)"]
    with tempfile.TemporaryDirectory() as tmp:
        commands = {}
        for depth in (2, 4, 8, 16):
            path = Path(tmp) / f"depth-{depth}.yaml"
            path.write_text(network_yaml(depth, steps=20))
            commands[depth] = [TUTOR, "solve", str(path), "--format", "json"]
        floor = side_by_side({"floor": [PY, "-c", "import sympy, numpy"]}, repeat)["floor"][0]
        result = side_by_side(commands, repeat)
    params = {2: 81, 4: 225, 8: 513, 16: 1089}
    for depth, (seconds, mib) in result.items():
        work = seconds - floor
        lines.append(row(f"depth {depth:>2}: {params[depth]:>4} parameters, {1000 * work / params[depth]:.2f} ms/param "
                         f"beyond start-up", seconds, mib))
    return lines


def bench_key(repeat: int) -> list[str]:
    problems = sorted(str(p) for p in (ROOT / "problems").glob("*.yaml"))
    chosen = (problems * 3)[:30]
    with tempfile.TemporaryDirectory() as tmp:
        probe = subprocess.run([TUTOR, "key", "--help"], capture_output=True)
        if probe.returncode != 0:
            return ["4. tutor key: skipped (no key command)"]
        key = [TUTOR, "key", *chosen, "-o", str(Path(tmp) / "key.tex"), "--force"]
        single = [TUTOR, "solve", chosen[0]]
        result = side_by_side({"single": single, "key": key}, repeat)
    thirty = 30 * result["single"][0]
    return ["4. tutor key over 30 problems to .tex, against 30 single solves",
            row("30 × tutor solve (one problem each)", thirty, result["single"][1]),
            row("tutor key, 30 problems, one process", *result["key"], thirty, "≤ 0.25×")]


def bench_key_every_problem(repeat: int) -> list[str]:
    """The answer key over every shipped problem, to .md and .tex (issue 11: the rebuilt printers
    no slower than before). TUTOR_BASELINE=DIR (a checkout's directory holding `tutor/`, e.g.
    `git archive <commit> tutor | tar -x -C DIR`) measures that version beside this one, both over
    the problems the baseline reads (an older version rejects newer problem formats): the ratio
    compares the same work."""
    problems = sorted(str(p) for p in (ROOT / "problems").glob("*.yaml"))
    baseline = os.environ.get("TUTOR_BASELINE")
    # -P: the baseline's tutor, not the one in the current directory
    before = ["env", f"PYTHONPATH={baseline}", PY, "-P", "-m", "tutor"] if baseline else None
    shared = _readable_by(before, problems) if before else problems
    with tempfile.TemporaryDirectory() as tmp:
        commands = {}
        for fmt in ("md", "tex"):
            out = ["-o", str(Path(tmp) / f"key.{fmt}"), "--force"]
            if before:
                commands[f"{fmt} before"] = [*before, "key", *shared, *out]
            commands[fmt] = [TUTOR, "key", *shared, *out]
        result = side_by_side(commands, repeat)
    lines = [f"13. tutor key over every shipped problem, as .md and .tex"]
    if before:
        lines[0] += f": the {len(shared)} of {len(problems)} the baseline reads (tutor validate)"
    else:
        lines[0] += f" ({len(problems)})"
    for fmt in ("md", "tex"):
        base = result.get(f"{fmt} before")
        if base:
            lines.append(row(f"tutor key -o key.{fmt}, baseline", *base))
        lines.append(row(f"tutor key -o key.{fmt}", *result[fmt], base[0] if base else None,
                         "≤ 0.95×" if base else ""))
    return lines


def _readable_by(tutor: list[str], problems: list[str]) -> list[str]:
    """The problems a (baseline) tutor reads: those its `validate` reports ok."""
    proc = subprocess.run([*tutor, "validate", *problems], capture_output=True, text=True, cwd=ROOT, env=ENV)
    ok = {line.split(": ok", 1)[0] for line in proc.stdout.splitlines() if ": ok" in line}
    return [p for p in problems if p in ok]


def bench_class(repeat: int) -> list[str]:
    """Issue 17: 200 variants of one problem, then their answer key, in under a minute."""
    problem = str(ROOT / "problems" / "vary" / "relu-2-2-2-one-step.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "variants"
        vary = [TUTOR, "vary", problem, "-n", "200", "--seed", "7", "-o", str(out), "--force"]
        run_once(vary)
        key = [TUTOR, "key", *sorted(map(str, out.glob("*.yaml"))), "-o", str(Path(tmp) / "key.tex"), "--force"]
        result = side_by_side({"vary": vary, "key": key}, repeat)
    total = result["vary"][0] + result["key"][0]
    return ["5. a class: 200 variants of relu-2-2-2-one-step (vary/), then their key (.tex)",
            row("tutor vary -n 200", *result["vary"]),
            row("tutor key over the 200 variants", *result["key"]),
            row("both", total, max(result["vary"][1], result["key"][1]), None, "< 60 s")]


def bench_circuit(repeat: int) -> list[str]:
    result = side_by_side({
        "relu": [TUTOR, "solve", "problems/relu-2-2-2-one-step.yaml"],
        "circuit": [TUTOR, "solve", "problems/circuit-cs231n.yaml"],
        "circuit json": [TUTOR, "solve", "problems/circuit-cs231n.yaml", "--format", "json"],
    }, repeat)
    base = result["relu"][0]
    return ["6. an objective: the CS231n circuit f = (x + y)z, against relu-2-2-2-one-step",
            row("tutor solve relu-2-2-2-one-step (baseline)", *result["relu"]),
            row("tutor solve circuit-cs231n (terminal)", *result["circuit"], base, "≤ 1.0×"),
            row("tutor solve circuit-cs231n --format json", *result["circuit json"], base, "≤ 1.0×")]


def bench_pictures(repeat: int) -> list[str]:
    """What plot and compare add over the solves they draw: the drawing itself."""
    problem = "problems/momentum-ema-3-2-1.yaml"
    optimizers = ["sgd", "momentum", "rmsprop", "adam"]
    with tempfile.TemporaryDirectory() as tmp:
        variants = []
        text = (ROOT / problem).read_text()
        own = "optimizer: {name: momentum, form: ema, momentum: 0.8, lr: 0.9}"
        for name in optimizers:   # the same problem, a file per optimizer (as tests/test_pictures.py writes them)
            path = Path(tmp) / f"{name}.yaml"
            path.write_text(text.replace(own, own if name == "momentum" else f"optimizer: {{name: {name}, lr: 0.9}}"))
            variants.append(path)
        commands = {
            "solve": [TUTOR, "solve", problem, "--format", "json"],
            "plot": [TUTOR, "plot", problem, "-o", str(Path(tmp) / "loss.svg"), "--force"],
            "compare": [TUTOR, "compare", problem, "--optimizer", ",".join(optimizers), "-o",
                        str(Path(tmp) / "compare.svg"), "--force"],
            **{f"solve-{p.stem}": [TUTOR, "solve", str(p), "--format", "json"] for p in variants},
        }
        result = side_by_side(commands, repeat)
    solves = sum(result[f"solve-{p.stem}"][0] for p in variants)
    memory = max(result[f"solve-{p.stem}"][1] for p in variants)
    return ["8. pictures on momentum-ema-3-2-1.yaml: plot and compare over the solves they draw",
            row("tutor solve --format json", *result["solve"]),
            row("tutor plot -o loss.svg", *result["plot"], result["solve"][0], "+ < 1 s"),
            row(f"{len(optimizers)} × tutor solve --format json", solves, memory),
            row(f"tutor compare, {len(optimizers)} optimizers", *result["compare"], solves, "+ < 1 s")]


def bench_matrix(repeat: int) -> list[str]:
    """Issue 14: a 16×16 dense layer written with vectors and matrices (notation: matrix) expands
    to scalar equations; it must stay within 2× of the same layer written out by hand."""
    with tempfile.TemporaryDirectory() as tmp:
        matrix, scalar = Path(tmp) / "dense-16-matrix.yaml", Path(tmp) / "dense-16-scalar.yaml"
        matrix.write_text(dense_layer_yaml(16, matrix_form=True))
        scalar.write_text(dense_layer_yaml(16, matrix_form=False))
        result = side_by_side({
            "scalar json": [TUTOR, "solve", str(scalar), "--format", "json"],
            "matrix json": [TUTOR, "solve", str(matrix), "--format", "json"],
            "scalar text": [TUTOR, "solve", str(scalar)],
            "matrix text": [TUTOR, "solve", str(matrix)],
        }, repeat)
    return ["10. a 16×16 dense sigmoid layer, one step: matrix notation against its scalar twin",
            row("scalar equations, --format json (baseline)", *result["scalar json"]),
            row("W @ x + b, notation: matrix, --format json", *result["matrix json"], result["scalar json"][0],
                "≤ 2.0×"),
            row("scalar equations, terminal (baseline)", *result["scalar text"]),
            row("W @ x + b, notation: matrix, terminal", *result["matrix text"], result["scalar text"][0], "≤ 2.0×")]


def dense_layer_yaml(n: int, matrix_form: bool) -> str:
    """One dense sigmoid layer n → n with mse against n targets, as matrices or written out."""
    weights = [[round(((i * n + j) * 7919 % 1000) / 1000 - 0.5, 3) for j in range(n)] for i in range(n)]
    bias = [round((i * 104729 % 200) / 1000 - 0.1, 3) for i in range(n)]
    x = [round((i * 31 % 20) / 10 - 1, 2) for i in range(n)]
    y = [round((i * 17 % 10) / 10, 1) for i in range(n)]
    title = f"title: a {n}x{n} dense layer " + ("(matrix notation)" if matrix_form else "(scalar twin)")
    common = ["loss: mse", "optimizer: {name: sgd, lr: 0.1}", "training: {epochs: 1}"]
    if matrix_form:
        return "\n".join([title, f"inputs: {{x: {n}}}", f"params: {{W: {weights}, b: {bias}}}", "model:",
                          "  z: W @ x + b", "  h: sigmoid(z)", "outputs: [h]", f"targets: {{y: {n}}}",
                          f"data: {{x: {x}, y: {y}}}", *common, "notation: matrix"]) + "\n"
    from tutor.problem.shapes import component_names as names  # the twin's names are the components'

    xs, ys, bs, hs = names("x", (n,)), names("y", (n,)), names("b", (n,)), names("h", (n,))
    ws = names("W", (n, n))
    params = {**dict(zip(ws, (w for r in weights for w in r))), **dict(zip(bs, bias))}
    model = [f"  z{'_' if n >= 10 else ''}{i + 1}: " + " + ".join(f"{ws[i * n + j]}*{xs[j]}" for j in range(n))
             + f" + {bs[i]}" for i in range(n)]
    zs = [line.split(":")[0].strip() for line in model]
    model += [f"  {h}: sigmoid({z})" for h, z in zip(hs, zs)]
    sample = ", ".join(f"{k}: {v}" for k, v in [*zip(xs, x), *zip(ys, y)])
    return "\n".join([title, f"inputs: [{', '.join(xs)}]",
                      "params: {" + ", ".join(f"{k}: {v}" for k, v in params.items()) + "}", "model:", *model,
                      f"outputs: [{', '.join(hs)}]", f"targets: [{', '.join(ys)}]", f"data: {{{sample}}}",
                      *common]) + "\n"


def bench_symbolic(repeat: int) -> list[str]:
    """arithmetic: symbolic: the CS229 2-3-1 derivation (every gradient of a batch of m) under 5 s."""
    problem = "problems/symbolic/cs229-2-3-1-symbolic.yaml"
    result = side_by_side({
        "floor": [PY, "-c", "import sympy"],
        "json": [TUTOR, "solve", problem, "--format", "json"],
        "text": [TUTOR, "solve", problem, "--all"],
    }, repeat)
    return ["9. symbolic: the CS229 2-3-1 derivation over a batch of m samples",
            row('python -c "import sympy" (peer)', *result["floor"]),
            row("tutor solve --format json (every formula)", *result["json"], result["floor"][0], "< 5 s"),
            row("tutor solve --all (terminal)", *result["text"], result["floor"][0], "< 5 s")]


def bench_cnn(repeat: int) -> list[str]:
    """Issue 15: a small CNN, expanded to its scalar equations, solved from a cold start."""
    problem = str(HERE / "problems" / "cnn-8x8-two-kernels.yaml")
    result = side_by_side({
        "json": [TUTOR, "solve", problem, "--format", "json"],
        "text": [TUTOR, "solve", problem],
    }, repeat)
    return ["11. an 8×8 image, two 3×3 kernels, 2×2 max pool, dense layer, one SGD step (cold)",
            row("tutor solve --format json", *result["json"], None, "< 3 s"),
            row("tutor solve (terminal)", *result["text"], None, "< 3 s")]


def machine() -> str:
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    return (f"{platform.machine()}, {os.cpu_count()} cores ({cpu or 'unknown CPU'}), Python {platform.python_version()},"
            f" {platform.system()} {platform.release()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (median reported)")
    parser.add_argument("--only", nargs="*", help="rows to run: start mazur memory exact terminal check fan-in torch depth key class "
                        "circuit pictures symbolic key-all matrix cnn")
    args = parser.parse_args()
    if not shutil.which(TUTOR):
        raise SystemExit("install tutor first: pip install -e .")
    print(f"machine: {machine()}")
    print(f"CPU time (user + system), medians of {args.repeat} runs; memory is the peak resident set\n")
    print(f"  {'command':<44} {'time':>10} {'ratio':>7} {'target':>8} {'memory':>12}")
    benches = {"start": bench_start_up, "mazur": bench_mazur, "memory": bench_memory, "exact": bench_exact,
               "terminal": bench_terminal, "check": bench_check, "fan-in": bench_fan_in, "torch": bench_long_training,
               "depth": bench_depth, "key": bench_key, "class": bench_class, "circuit": bench_circuit,
               "pictures": bench_pictures, "symbolic": bench_symbolic, "key-all": bench_key_every_problem,
               "matrix": bench_matrix, "cnn": bench_cnn}
    for name in args.only or benches:
        bench = benches[name]
        for line in bench(args.repeat):
            print(line)
        print()


if __name__ == "__main__":
    main()
