"""docs/problem.schema.json, the JSON Schema editors validate problems with, and
docs/problem-format.md, the format reference: both agree with what tutor accepts."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tutor.errors import ProblemError
from tutor.ops import LAYER_ACTIVATIONS, LOSSES
from tutor.optim import OPTIMIZERS, SCHEDULES, STATE_KEY, STEP_COUNT_STATE
from tutor.problem import ASK_WORDS, LAYER_KEYS, TOP_KEYS, parse_problem

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SCHEMA = json.loads((DOCS / "problem.schema.json").read_text(encoding="utf-8"))
DEFS = SCHEMA["definitions"]
SHARED = ROOT.parent / "shared" / "problems"
SHIPPED = sorted((ROOT / "problems").glob("*.yaml")) + sorted(SHARED.glob("*.yaml"))
GUIDE = (DOCS / "problem-format.md").read_text(encoding="utf-8")
validator = jsonschema.Draft7Validator(SCHEMA)


def load(text: str):
    return YAML(typ="safe", pure=True).load(text)


def errors(document) -> list[str]:
    return [error.message for error in validator.iter_errors(document)]


def test_the_schema_is_a_valid_draft_7_schema():
    jsonschema.Draft7Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_every_shipped_problem_is_valid(path):
    assert errors(load(path.read_text(encoding="utf-8"))) == []


MAZUR = load((ROOT / "problems" / "mazur-2-2-2.yaml").read_text(encoding="utf-8"))
QUADRATIC = load((ROOT / "problems" / "quadratic-momentum.yaml").read_text(encoding="utf-8"))


def changed(problem, edit):
    document = copy.deepcopy(problem)
    edit(document)
    return document


OBVIOUS_ERRORS = {
    "unknown top-level key": (MAZUR, lambda d: d.update(optimiser={"name": "sgd", "lr": 0.1})),
    "missing title": (MAZUR, lambda d: d.pop("title")),
    "title not text": (MAZUR, lambda d: d.update(title=["a", "b"])),
    "both network and model": (MAZUR, lambda d: d.update(model={"z": "1"})),
    "neither network nor model": (MAZUR, lambda d: d.pop("network")),
    "inputs beside network": (MAZUR, lambda d: d.update(inputs=["x"])),
    "model without params": (QUADRATIC, lambda d: d.pop("params")),
    "unknown loss": (MAZUR, lambda d: d.update(loss="msee")),
    "unknown reduction": (MAZUR, lambda d: d.update(loss={"name": "mse", "reduction": "total"})),
    "unknown optimizer": (MAZUR, lambda d: d.update(optimizer={"name": "sgdm", "lr": 0.1})),
    "key of another optimizer": (MAZUR, lambda d: d.update(optimizer={"name": "sgd", "lr": 0.1, "betas": [0.9, 0.9]})),
    "sgd without lr": (MAZUR, lambda d: d.update(optimizer={"name": "sgd"})),
    "unknown momentum form": (QUADRATIC, lambda d: d["optimizer"].update(form="nesterov")),
    "betas of one number": (MAZUR, lambda d: d.update(optimizer={"name": "adam", "betas": 0.9})),
    "schedule without its key": (MAZUR, lambda d: d.update(optimizer={"name": "sgd", "lr": 1,
                                                                      "schedule": {"name": "exponential"}})),
    "epochs as text": (MAZUR, lambda d: d.update(training={"epochs": "2"})),
    "batch_size 0": (MAZUR, lambda d: d.update(training={"batch_size": 0})),
    "unknown training key": (MAZUR, lambda d: d.update(training={"epoch": 2})),
    "unknown activation": (MAZUR, lambda d: d["network"]["layers"][0].update(activation="sigmoidal")),
    "slope on relu": (MAZUR, lambda d: d["network"]["layers"][0].update(activation={"name": "relu", "slope": 1})),
    "unknown layer key": (MAZUR, lambda d: d["network"]["layers"][0].update(threshold=[1, 2])),
    "both bias and thresholds": (MAZUR, lambda d: d["network"]["layers"][0].update(thresholds=[1, 2])),
    "penalty without l2 or l1": (MAZUR, lambda d: d.update(loss={"name": "mse", "penalty": {"on": "all"}})),
    "state of another optimizer": (MAZUR, lambda d: d.update(optimizer={"name": "adam", "state": {"r": {}}})),
    "state on sgd": (MAZUR, lambda d: d.update(optimizer={"name": "sgd", "lr": 0.1, "state": {"v": {}}})),
    "eps_placement on adadelta": (MAZUR, lambda d: d.update(optimizer={"name": "adadelta", "eps_placement": "inside"})),
    "weights not a matrix": (MAZUR, lambda d: d["network"]["layers"][0].update(weights=[0.1, 0.2])),
    "a name with a dash": (QUADRATIC, lambda d: d.update(inputs=["x-1", "x2"])),
    "a sample value not a number": (QUADRATIC, lambda d: d["data"][0].update(x1={"a": 1})),
    "empty data": (QUADRATIC, lambda d: d.update(data=[])),
    "unknown ask word": (MAZUR, lambda d: d.update(ask=["forward", "backward"])),
    "two keys in one ask item": (MAZUR, lambda d: d.update(ask=[{"gradient": ["w1"], "update": ["w1"]}])),
    "step 0": (MAZUR, lambda d: d.update(ask=[{"steps": [0]}])),
    "unknown arithmetic": (MAZUR, lambda d: d.update(arithmetic="symbolic")),
    "round as text": (MAZUR, lambda d: d.update(arithmetic={"round": "3"})),
    "round over 15": (MAZUR, lambda d: d.update(arithmetic={"round": 16})),
    "significant 0": (MAZUR, lambda d: d.update(arithmetic={"significant": 0})),
    "significant over 15": (MAZUR, lambda d: d.update(arithmetic={"significant": 16})),
    "significant not whole": (MAZUR, lambda d: d.update(arithmetic={"significant": 2.5})),
    "frozen not a list": (MAZUR, lambda d: d.update(frozen="w1")),
    "check without a tolerance": (MAZUR, lambda d: d.update(check={})),
    "digits and rel": (MAZUR, lambda d: d.update(check={"tolerance": {"digits": 3, "rel": 0.1}})),
    "rel of 1": (MAZUR, lambda d: d.update(check={"tolerance": {"rel": 1}})),
    "unknown tolerance key": (MAZUR, lambda d: d.update(check={"tolerance": {"relative": 0.1}})),
}


@pytest.mark.parametrize("case", OBVIOUS_ERRORS)
def test_the_schema_rejects_what_tutor_rejects(case):
    problem, edit = OBVIOUS_ERRORS[case]
    assert errors(problem) == []
    document = changed(problem, edit)
    assert errors(document), f"the schema accepts: {case}"
    with pytest.raises(ProblemError):  # and tutor too: the schema is never stricter than tutor
        parse_problem(json.dumps(document), "problem.yaml")


def enum(schema) -> list:
    """The values an `enum`, or a `oneOf` of enums and consts, allows."""
    if "enum" in schema:
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    return [value for option in schema.get("oneOf", []) for value in enum(option)]


def test_the_schema_names_what_tutor_knows():
    assert list(SCHEMA["properties"]) == list(TOP_KEYS)
    assert list(DEFS["layer"]["properties"]) == list(LAYER_KEYS)
    assert enum(DEFS["loss"]["oneOf"][0]) == list(LOSSES)
    assert enum(DEFS["activation"]["oneOf"][0]) == list(LAYER_ACTIVATIONS)
    assert enum(DEFS["ask"]["items"]["oneOf"][0]) == list(ASK_WORDS)
    optimizers = {v["properties"]["name"]["const"]: v for v in DEFS["optimizer"]["oneOf"]}
    assert list(optimizers) == list(OPTIMIZERS)
    for name, spec in OPTIMIZERS.items():
        keys = {"name", "weight_decay", "centralize", "schedule", *(h.key for h in spec.hypers)}
        if spec.form_key:
            keys.add(spec.form_key)
            assert optimizers[name]["properties"][spec.form_key]["enum"] == list(spec.forms)
        if spec.keeps_state:
            keys.add(STATE_KEY)
            state = {n for form in spec.forms for n in spec.state_names(form)}
            state |= {STEP_COUNT_STATE} if any(spec.counts_steps(form) for form in spec.forms) else set()
            assert set(optimizers[name]["properties"][STATE_KEY]["properties"]) == state, name
        assert set(optimizers[name]["properties"]) == keys, name
        assert set(optimizers[name]["required"]) == {"name"} | {h.key for h in spec.hypers if h.default is None}
    schedules = {v["properties"]["name"]["const"]: v for v in DEFS["schedule"]["oneOf"]}
    assert list(schedules) == list(SCHEDULES)
    for name, spec in SCHEDULES.items():
        assert set(schedules[name]["properties"]) == {"name", "unit", *spec.keys}, name


# ---------------------------------------------------------------- the format reference

def yaml_blocks(markdown: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", markdown, flags=re.S)


def test_the_guide_names_every_key_and_value():
    """Every key (top level, layer, optimizer, schedule, training) and every loss,
    optimizer, form, schedule and activation appears in the guide as `code`."""
    code = re.findall(r"`([^`\n]+)`", GUIDE) + yaml_blocks(GUIDE)
    words = {word for text in code for word in re.findall(r"[A-Za-z_]+", text)}
    expected = set(TOP_KEYS) | set(LAYER_KEYS) | set(LOSSES) | set(LAYER_ACTIVATIONS) | set(ASK_WORDS)
    expected |= set(DEFS["training"]["properties"]) | {"reduction", "mean", "sum", "expr", "slope", "alpha"}
    expected |= {"tolerance", *DEFS["tolerance"]["oneOf"][0]["properties"], *DEFS["tolerance"]["oneOf"][1]["properties"]}
    for name, spec in OPTIMIZERS.items():
        expected |= {name, *(h.key for h in spec.hypers), *spec.forms} | ({spec.form_key} if spec.form_key else set())
    expected.discard("plain")  # the form of the optimizers that have only one: never written in a file
    for name, spec in SCHEDULES.items():
        expected |= {name, "unit", *spec.keys}
    assert sorted(expected - words) == []


def test_the_guide_stays_inside_the_repository():
    for target in re.findall(r"\]\(([^)]+)\)", GUIDE):
        if not target.startswith("#"):
            assert (DOCS / target).is_file(), target
    assert "../shared" not in GUIDE


def test_the_guide_examples_are_valid():
    """Complete problems (a block with a title) pass tutor and the schema; every
    other block is a valid value of its keys, top level or layer."""
    blocks = yaml_blocks(GUIDE)
    complete = [b for b in blocks if re.match(r"(#.*\n)*title:", b) and "targets:" in b]
    assert complete
    for block in complete:
        parse_problem(block, "example.yaml")
        assert errors(load(block)) == []
    for block in blocks:
        if block in complete:
            continue
        for key, value in load(block).items():
            where = SCHEMA["properties"] if key in SCHEMA["properties"] else DEFS["layer"]["properties"]
            assert key in where, key
            sub = jsonschema.Draft7Validator({**where[key], "definitions": DEFS})
            assert [e.message for e in sub.iter_errors(value)] == [], block


def test_the_readme_links_the_guide_and_points_nowhere_outside():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/problem-format.md)" in readme
    assert "../" not in readme
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        assert (ROOT / target).exists(), target
