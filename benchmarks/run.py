"""tutor's benchmarks, measured side by side in one run (not part of the tests).

    .venv/bin/python benchmarks/run.py [--repeat 5]

Each row runs its commands interleaved, `--repeat` times, and reports medians,
the ratio to its baseline, the target, and the peak memory (max RSS) of each
command. Numbers depend on the machine: record them in benchmarks/RESULTS.md
with the machine described.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
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


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB) of one run, output discarded. Memory is read
    by GNU time: a child's own max RSS counter starts from its parent's at fork, so
    this (large) process cannot read it reliably itself."""
    with open(os.devnull, "wb") as null:
        start = time.perf_counter()
        proc = subprocess.run([TIME, "-f", "%M", *command], stdout=null, stderr=subprocess.PIPE, cwd=ROOT)
        elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{proc.stderr.decode()}")
    return elapsed, int(proc.stderr.decode().strip().splitlines()[-1]) / 1024


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
        "floor": [PY, "-c", "import sympy, numpy"],
        "json": [TUTOR, "solve", problem, "--format", "json"],
        "text": [TUTOR, "solve", problem],
    }, repeat)
    base = result["floor"][0]
    return ["1. cold start on relu-2-2-2-one-step.yaml",
            row('python -c "import sympy, numpy" (floor)', *result["floor"]),
            row("tutor solve --format json", *result["json"], base, "≤ 1.3×"),
            row("tutor solve (terminal)", *result["text"], base, "≤ 1.6×")]


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
    return ["5. pictures on momentum-ema-3-2-1.yaml: plot and compare over the solves they draw",
            row("tutor solve --format json", *result["solve"]),
            row("tutor plot -o loss.svg", *result["plot"], result["solve"][0], "+ < 1 s"),
            row(f"{len(optimizers)} × tutor solve --format json", solves, memory),
            row(f"tutor compare, {len(optimizers)} optimizers", *result["compare"], solves, "+ < 1 s")]


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
    parser.add_argument("--only", type=int, default=None, help="run only this row (1-5)")
    args = parser.parse_args()
    if not shutil.which(TUTOR):
        raise SystemExit("install tutor first: pip install -e .")
    print(f"machine: {machine()}")
    print(f"medians of {args.repeat} runs; memory is the peak resident set (target ≤ 200 MiB each)\n")
    print(f"  {'command':<44} {'time':>10} {'ratio':>7} {'target':>8} {'memory':>12}")
    benches = (bench_start_up, bench_long_training, bench_depth, bench_key, bench_pictures)
    for bench in benches if args.only is None else benches[args.only - 1:args.only]:
        for line in bench(args.repeat):
            print(line)
        print()


if __name__ == "__main__":
    main()
