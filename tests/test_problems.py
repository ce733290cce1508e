"""Every problem in problems/ against its stored, independently computed solution."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tutor.api import solve_file

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))
SHARED = ROOT.parent / "shared" / "problems"


def mismatches(expected, got, where="") -> list[str]:
    """Every number of ``expected`` must be in ``got`` within rel 1e-9 (abs 1e-12)."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected a mapping, got {got!r}"]
        out = []
        for key, value in expected.items():
            if key not in got:
                out.append(f"{where}.{key}: missing")
            else:
                out.extend(mismatches(value, got[key], f"{where}.{key}"))
        return out
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return [f"{where}: expected {len(expected)} items, got {got!r:.80}"]
        return [m for i, (e, g) in enumerate(zip(expected, got)) for m in mismatches(e, g, f"{where}[{i}]")]
    if isinstance(expected, float) or (isinstance(expected, int) and isinstance(got, float)):
        if got is None or not math.isclose(expected, got, rel_tol=1e-9, abs_tol=1e-12):
            return [f"{where}: expected {expected!r}, got {got!r}"]
        return []
    return [] if expected == got else [f"{where}: expected {expected!r}, got {got!r}"]


def test_every_problem_has_an_expected_solution():
    missing = [p.name for p in PROBLEMS if not (p.parent / "expected" / f"{p.stem}.json").exists()]
    assert not missing
    assert len(PROBLEMS) >= 10


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_problem_matches_expected(path: Path):
    expected = json.loads((path.parent / "expected" / f"{path.stem}.json").read_text())
    got = solve_file(path)
    bad = mismatches(expected, got)
    assert not bad, "\n".join(bad[:20])


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not beside the project")
@pytest.mark.parametrize("name", sorted(p.name for p in SHARED.glob("*.yaml")) if SHARED.is_dir() else [])
def test_shared_copies_are_current(name: str):
    """problems/ keeps copies of the shared reference problems; they must not drift."""
    assert (ROOT / "problems" / name).read_bytes() == (SHARED / name).read_bytes()
    assert json.loads((ROOT / "problems/expected" / name.replace(".yaml", ".json")).read_text()) == json.loads(
        (SHARED / "expected" / name.replace(".yaml", ".json")).read_text())
