"""Invalid workflow definitions are rejected with messages that point at the problem."""

from __future__ import annotations

import copy

import pytest

from agents.orchestrator.catalog import RegistryWorkerCatalog
from agents.orchestrator.library import BUILTIN_DIR, WorkflowLibrary, load_file
from agents.orchestrator.validation import WorkflowError, compile_workflow
from enginedge_streams.errors import ConfigError
from tests.unit.orchestrator.conftest import CATALOG

GOOD = {
    "name": "good",
    "steps": [
        {"id": "a", "worker": "alpha", "command": "echo.say", "payload": {"text": "hi"}},
        {
            "id": "b",
            "worker": "beta",
            "command": "echo.say",
            "payload": {"text": {"$ref": "steps.a.result.text"}},
        },
        {"id": "c", "worker": "beta", "command": "system.ping", "needs": ["a"]},
        {
            "id": "d",
            "worker": "alpha",
            "command": "echo.say",
            "for_each": "steps.b.result.items",
            "payload": {
                "text": {"$text": "${item} ${steps.c.result.pong}"},
                "n": {"$ref": "index"},
            },
            "aggregate": "length(results)",
        },
    ],
    "output": {"count": {"$ref": "steps.d.result"}},
}


def test_a_valid_workflow_compiles_with_inferred_dependencies():
    wf = compile_workflow(GOOD, CATALOG)
    assert wf.order == ("a", "b", "c", "d")
    assert wf.steps["b"].deps == {"a"}
    assert wf.steps["d"].deps == {"b", "c"}  # from for_each and the $text reference
    assert wf.sinks == ("d",)


def _problems(mutate) -> list[str]:
    data = copy.deepcopy(GOOD)
    mutate(data)
    with pytest.raises(WorkflowError) as info:
        compile_workflow(data, CATALOG, source="wf.yaml")
    assert info.value.code == "INVALID_WORKFLOW"
    assert info.value.message.startswith("wf.yaml: invalid workflow: ")
    return info.value.problems


def _set(path, value):
    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            _set(["steps", 0, "worker"], "alpah"),
            "steps[0] (a).worker: unknown worker type 'alpah' (did you mean 'alpha'?)",
        ),
        (
            _set(["steps", 0, "worker"], "orchestrator"),
            "steps[0] (a).worker: a workflow cannot call the orchestrator itself",
        ),
        (
            _set(["steps", 0, "command"], "echo.sya"),
            "steps[0] (a).command: alpha has no command 'echo.sya' (did you mean 'echo.say'?)",
        ),
        (
            _set(["steps", 0, "payload"], {"txt": "x"}),
            "steps[0] (a).payload.txt: not a field of this command (did you mean 'text'?)",
        ),
        (_set(["steps", 0, "payload"], {}), "steps[0] (a).payload: missing required field 'text'"),
        (
            _set(["steps", 1, "payload", "text"], {"$ref": "steps.a.reslt"}),
            "steps[1] (b).payload.text: 'steps.a.reslt': steps.a has no 'reslt' (did you mean 'result'?)",
        ),
        (
            _set(["steps", 1, "payload", "text"], {"$ref": "steps.zz.result"}),
            "steps[1] (b).payload.text: 'steps.zz.result': unknown step 'zz'",
        ),
        (
            _set(["steps", 1, "payload", "text"], {"$ref": "steps.b.result"}),
            "a step cannot read its own result",
        ),
        (
            _set(["steps", 1, "payload", "text"], {"$ref": "stepz.a"}),
            "unknown name 'stepz' (did you mean 'steps'?)",
        ),
        (
            _set(["steps", 1, "payload", "text"], {"$ref": "item"}),
            "unknown name 'item' (item and index exist only in a fan-out step)",
        ),
        (
            _set(["steps", 1, "payload", "text"], {"$ref": "steps.a.result["}),
            "steps[1] (b).payload.text: invalid JMESPath 'steps.a.result['",
        ),
        (
            _set(["steps", 1, "payload", "text"], {"$ref": "@"}),
            "`@` at the top reads the whole context",
        ),
        (
            _set(
                ["steps", 1, "payload", "text"],
                {"$ref": "steps.a.result | join(',', steps.a.result)"},
            ),
            "steps.a.result is read from the current element (after a projection or pipe)",
        ),
        (_set(["steps", 2, "needs"], ["nope"]), "steps[2] (c).needs: unknown step 'nope'"),
        (
            _set(["steps", 2, "aggregate"], "results"),
            "steps[2] (c).aggregate: only for a fan-out step",
        ),
        (
            _set(["steps", 3, "for_each"], "steps.b.result.items[?"),
            "steps[3] (d).for_each: invalid JMESPath",
        ),
        (
            _set(["steps", 3, "aggregate"], "reslts"),
            "steps[3] (d).aggregate: 'reslts': unknown name 'reslts' (did you mean 'results'?)",
        ),
        (_set(["steps", 1, "id"], "a"), "steps[1] (a).id: duplicate step id 'a'"),
        (
            _set(["output"], {"x": {"$ref": "steps.q.result"}}),
            "workflow.output.x: 'steps.q.result': unknown step 'q'",
        ),
        (_set(["input_schema"], {"type": "nonsense"}), "input_schema: not a valid JSON Schema"),
        (
            _set(["steps", 0, "worker"], {"$ref": "steps.b.result"}),
            "steps[0] (a).worker: a dynamic target may only read input or request",
        ),
        (
            _set(["steps", 0, "retries"], 99),
            "steps[0] (a).retries: Input should be less than or equal to 20",
        ),
        (_set(["steps", 0, "speed"], 3), "steps[0] (a).speed: unknown field"),
        (lambda d: d["steps"][0].pop("worker"), "steps[0] (a).worker: missing required field"),
        (_set(["name"], "Bad Name"), "name: String should match pattern"),
        (_set(["steps"], []), "steps: List should have at least 1 item"),
    ],
)
def test_invalid_definitions_point_at_the_problem(mutate, expected):
    problems = _problems(mutate)
    assert any(expected in p for p in problems), problems


def test_a_cycle_is_reported_with_its_path():
    def mutate(data):
        data["steps"][0]["payload"] = {"text": {"$ref": "steps.c.result.echo"}}

    problems = _problems(mutate)
    assert problems == ["steps: dependency cycle a -> c -> a"]


def test_every_problem_is_reported_at_once():
    def mutate(data):
        data["steps"][0]["worker"] = "nope"
        data["steps"][1]["payload"]["text"] = {"$ref": "steps.x.result"}
        data["steps"][2]["needs"] = ["y"]

    assert len(_problems(mutate)) == 3


def test_a_worker_whose_commands_are_unknown_is_not_checked_further():
    wf = {"name": "g", "steps": [{"id": "a", "worker": "gamma", "command": "any.cmd"}]}
    assert compile_workflow(wf, CATALOG).order == ("a",)


def test_builtin_workflows_are_valid_against_the_real_workers():
    lib = WorkflowLibrary.load(RegistryWorkerCatalog())
    assert lib.unavailable == {}
    assert set(lib.workflows) == {
        "resume-build",
        "expert-research",
        "conversation-context",
        "single-worker",
    }
    assert lib.workflows["resume-build"].order == (
        "parse",
        "evaluate",
        "improve",
        "ground",
        "render",
        "compile",
    )
    assert lib.workflows["expert-research"].steps["synthesise"].deps == {"search", "pages"}


def test_yaml_syntax_errors_name_line_and_column(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nsteps:\n  - id: a\n    worker: [alpha\n")
    with pytest.raises(WorkflowError) as info:
        load_file(path, CATALOG)
    assert f"{path}:5:1" in info.value.message or f"{path}:4:" in info.value.message
    assert "YAML syntax" in info.value.message


def test_a_custom_directory_with_problems_stops_the_start(tmp_path):
    (tmp_path / "one.yaml").write_text(
        "name: dup\nsteps:\n  - {id: a, worker: alpha, command: echo.say, payload: {text: x}}\n"
    )
    (tmp_path / "two.yml").write_text(
        "name: dup\nsteps:\n  - {id: a, worker: alpha, command: echo.say, payload: {text: x}}\n"
    )
    (tmp_path / "three.yaml").write_text(
        "name: fine\nsteps:\n  - {id: a, worker: alpha, command: system.ping}\n"
        "---\nname: other\nsteps:\n  - {id: a, worker: alfa, command: echo.say}\n"
    )
    lib = WorkflowLibrary(CATALOG)
    with pytest.raises(ConfigError) as info:
        lib.load_custom(tmp_path)
    text = str(info.value)
    assert "workflow 'dup' is already defined in" in text
    assert "workflow 'other': steps[0] (a).worker: unknown worker type 'alfa'" in text
    assert str(tmp_path / "three.yaml") in text


def test_custom_workflows_load_and_can_replace_a_builtin(tmp_path):
    (tmp_path / "single.yaml").write_text(
        "name: single-worker\nsteps:\n  - {id: only, worker: alpha, command: system.ping}\n"
    )
    lib = WorkflowLibrary.load(CATALOG, tmp_path)  # built-ins need real workers: unavailable here
    assert lib.get("single-worker").order == ("only",)
    assert "resume-build" in lib.unavailable
    assert BUILTIN_DIR.is_dir()


def test_the_example_workflows_in_the_repository_are_valid():
    lib = WorkflowLibrary.load(RegistryWorkerCatalog(), BUILTIN_DIR.parents[2] / "workflows")
    assert {"rank-candidates", "keyword-digest"} <= set(lib.workflows)
    assert lib.workflows["rank-candidates"].steps["match"].deps == {"posting"}
