"""`targets: {label: y, classes: K}`: a class label per sample, read as one-hot targets
y_1 … y_K. The oracle is the twin problem with the one-hot targets written out, whose
numbers the oracle tests cover (softmax-cce-2-3-3.yaml)."""

from __future__ import annotations

from pathlib import Path

from tutor.api import solve_text

TWIN = (Path(__file__).resolve().parent.parent / "problems" / "softmax-cce-2-3-3.yaml").read_text()


def _with_labels(text: str) -> str:
    labelled = (text.replace("targets: [t1, t2, t3]", "targets: {label: t, classes: 3}")
                .replace("t1: 1, t2: 0, t3: 0}", "t: 1}").replace("t1: 0, t2: 0, t3: 1}", "t: 3}"))
    assert "t: 1}" in labelled and "t: 3}" in labelled and "t2:" not in labelled and "[t1" not in labelled
    return labelled


def _renamed(value):
    """The label run's JSON with its target names t_k written as the twin's tk."""
    if isinstance(value, dict):
        return {(k.replace("t_", "t") if k in ("t_1", "t_2", "t_3") else k): _renamed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v) for v in value]
    return value


def test_label_targets_give_the_numbers_of_the_explicit_one_hot_twin():
    twin = solve_text(TWIN, "twin.yaml")
    labelled = solve_text(_with_labels(TWIN), "labelled.yaml")
    assert labelled["steps"][0]["samples"][0]["values"]["t_1"] == 1.0
    assert labelled["steps"][1]["samples"][0]["values"]["t_3"] == 1.0
    assert _renamed(labelled) == twin


def test_label_targets_work_with_mse_too():
    twin = solve_text(TWIN.replace("loss: cce", "loss: mse"), "twin.yaml")
    labelled = solve_text(_with_labels(TWIN).replace("loss: cce", "loss: mse"), "labelled.yaml")
    assert _renamed(labelled) == twin
