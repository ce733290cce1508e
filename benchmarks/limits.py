"""The estimate against the real cost: every command on every case, side by side.

    .venv/bin/python benchmarks/limits.py [--quick] [--only NAME]

For each case (the problems in problems/ and benchmarks/problems/, and the grown
cases of tests/test_limits.py at sizes that finish) and each command (solve as
JSON, solve for the terminal, export to Markdown, check), runs `tutor` in a
subprocess and prints tutor.limits' estimate, the measured CPU time (user + sys
of the child: steady even when other work shares the machine) and wall time,
and their ratio. The acceptance bound is a factor of 3 either way.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_limits import diamond_chain, product, sigmoid_steps, softmax  # noqa: E402

from tutor.limits import CHECK, JSON, Rendering, estimate  # noqa: E402
from tutor.problem import load_problem  # noqa: E402

TUTOR = str(Path(sys.executable).with_name("tutor"))
GROWN = {
    "diamond-95-unused": diamond_chain(95, used=False),
    "diamond-95-used": diamond_chain(95, used=True),
    "product-100": product(100),
    "product-200": product(200),
    "softmax-20": softmax(20),
    "softmax-40": softmax(40),
    "sigmoid-20k-steps": sigmoid_steps(20_000),
}
COMMANDS = {
    "json": (JSON, ["solve", "{p}", "-f", "json"]),
    "terminal": (Rendering("terminal"), ["solve", "{p}"]),
    "export": (Rendering("export"), ["export", "{p}", "-o", "{out}", "--force"]),
    "check": (CHECK, ["check", "{p}", "{answers}"]),
}


def measure(args: list[str]) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([TUTOR, *args, "--yes"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="only the shipped problems")
    parser.add_argument("--grown", action="store_true", help="only the grown cases of tests/test_limits.py")
    parser.add_argument("--only", help="only cases whose name contains one of these (comma-separated)")
    parser.add_argument("--commands", default=",".join(COMMANDS), help="e.g. json,check (default: all)")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tutor-limits-"))
    cases = {} if options.grown else {p.stem: p for p in sorted((ROOT / "problems").glob("*.yaml"))}
    if not options.grown:
        cases |= {p.stem: p for p in sorted((ROOT / "benchmarks" / "problems").glob("*.yaml"))}
    if not options.quick:
        for name, text in GROWN.items():
            (work / f"{name}.yaml").write_text(text)
            cases[name] = work / f"{name}.yaml"
    answers = work / "answers.yaml"
    answers.write_text("answers:\n  - {final: {loss: 0.123}}\n")
    print(f"{'case':28} {'command':9} {'estimate':>9} {'cpu':>8} {'wall':>8} {'cpu/est':>8}")
    worst = 1.0
    for name, path in cases.items():
        if options.only and not any(part in name for part in options.only.split(",")):
            continue
        problem = load_problem(path)
        for command, (rendering, template) in COMMANDS.items():
            if command not in options.commands.split(","):
                continue
            args = [a.format(p=path, out=work / "out.md", answers=answers) for a in template]
            guess = estimate(problem, rendering).seconds
            cpu, wall, code = measure(args)
            ratio = cpu / guess
            worst = max(worst, ratio, 1 / ratio)
            flag = "" if 1 / 3 <= ratio <= 3 else "  <-- outside 3x"
            print(f"{name:28} {command:9} {guess:8.2f}s {cpu:7.2f}s {wall:7.2f}s {ratio:7.2f}x"
                  f"{'' if code in (0, 1) else f'  (exit {code})'}{flag}", flush=True)
    print(f"worst factor: {worst:.2f}")
    os.system(f"rm -rf {work}")


if __name__ == "__main__":
    main()
