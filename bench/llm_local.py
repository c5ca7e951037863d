"""`python -m bench.llm_local`: the packaged local models measured on this machine.

For each model (``--models``, default every packaged one): generation and
prompt speed on ``--threads`` cores (median of ``--repeat`` runs, with the load
average around them, since other processes share the machine), the peak RSS
of its ``llama-server``, accuracy on public word problems, and the agent loop
on calculator tasks with the real calculator tool.

Questions come from reasoning-gym 0.1.25 (PyPI, fetched pinned by sha256 into
``bench/results/cache``): ``gsm_symbolic`` (GSM8K problems as templates, seed
42) and ``basic_arithmetic`` (expressions the tool must evaluate, seed 7).
Only its generator modules are loaded (its package imports are stubbed), so
none of its dependencies are installed. Not part of ``make bench`` (it runs
for tens of minutes); the figures go to docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import time
import types
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

import httpx

from agents.llm.agent_loop import AgentLoop
from agents.llm.gateway import LlmGateway, LlmLimits
from agents.llm.llama_server import LlamaServer
from agents.llm.llamaserver_chat_provider import LlamaServerChatProvider
from agents.llm.local_models import CATALOG, materialize
from agents.llm.model_registry import ModelRegistry
from agents.llm.ports import ToolResult, ToolSpec
from agents.llm.tiktoken_token_counter import TiktokenTokenCounter
from enginedge_streams.testing.fakes import InMemoryRateLimiter

RG_VERSION = "0.1.25"
RG_SHA256 = "7f17a3eddb13c015d7d4a755ed576a061df889faf9468bcc2cca334ebe9e0435"
CACHE = Path(__file__).resolve().parent / "results" / "cache"
SPEED_PROMPT = "Write a short paragraph about the history of Paris."


# -- public questions ------------------------------------------------------------------


def reasoning_gym_wheel() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    wheel = CACHE / f"reasoning_gym-{RG_VERSION}-py3-none-any.whl"
    if not wheel.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary",
             ":all:", f"reasoning-gym=={RG_VERSION}", "-d", str(CACHE)],
            check=True,
        )  # fmt: skip
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != RG_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest}, expected {RG_SHA256}")
    return wheel


def _load(name: str, source: str) -> types.ModuleType:
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source, name, "exec"), module.__dict__)  # the pinned, checksummed wheel
    return module


def _stub_package(zf: zipfile.ZipFile) -> None:
    for pkg in ("reasoning_gym", "reasoning_gym.arithmetic", "reasoning_gym.arithmetic.gsm"):
        module = types.ModuleType(pkg)
        module.__path__ = []
        sys.modules[pkg] = module
    factory = types.ModuleType("reasoning_gym.factory")

    class ProceduralDataset:
        def __init__(self, config: Any, seed: int | None = None, size: int = 500) -> None:
            self.config, self.seed, self.size = config, seed, size

    factory.ProceduralDataset = ProceduralDataset  # type: ignore[attr-defined]
    factory.register_dataset = lambda *a, **k: None  # type: ignore[attr-defined]
    coaching = types.ModuleType("reasoning_gym.coaching")
    coaching.BaseCurriculum = object  # type: ignore[attr-defined]
    coaching.RangeAttributeDefinition = lambda *a, **k: None  # type: ignore[attr-defined]
    coaching.ScalarAttributeDefinition = lambda *a, **k: None  # type: ignore[attr-defined]
    sys.modules["reasoning_gym.factory"] = factory
    sys.modules["reasoning_gym.coaching"] = coaching
    _load("reasoning_gym.utils", zf.read("reasoning_gym/utils.py").decode())


def gsm_symbolic(n: int, seed: int = 42) -> list[dict[str, Any]]:
    """Items ``0..n-1`` of reasoning-gym's ``gsm_symbolic`` dataset (its own seeding)."""
    with zipfile.ZipFile(reasoning_gym_wheel()) as zf:
        _stub_package(zf)
        base = "reasoning_gym/arithmetic/gsm_symbolic/"
        tasks = _load(
            "rg_gsm_tasks", zf.read(base + "gsm_symbolic.py").decode().split("@dataclass")[0]
        )
        gens: dict[int, Any] = {}
        for part in ("generators_00_49", "generators_50_99"):
            mod = _load(f"rg_{part}", zf.read(f"{base}{part}.py").decode())
            gens |= {int(k[9:]): getattr(mod, k) for k in dir(mod) if k.startswith("generate_")}
    indices = Random(seed).choices(tasks.tasks_ok, k=n)
    out = []
    for idx in range(n):
        item = gens[indices[idx]](Random(seed + idx), 1.0)
        out.append({"question": item["question"], "answer": float(item["answer"])})
    return out


def basic_arithmetic(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Items of reasoning-gym's ``basic_arithmetic`` (4-6 terms of 2-4 digits)."""
    with zipfile.ZipFile(reasoning_gym_wheel()) as zf:
        _stub_package(zf)
        src = zf.read("reasoning_gym/arithmetic/basic_arithmetic.py").decode()
        src = src.replace("from ..coaching", "from reasoning_gym.coaching")
        src = src.replace("from ..factory", "from reasoning_gym.factory")
        mod = _load("rg_basic_arithmetic", src.split("class BasicArithmeticCurriculum")[0])
    config = mod.BasicArithmeticDatasetConfig(
        min_terms=4, max_terms=6, min_digits=2, max_digits=4, seed=seed, size=n,
        allow_parentheses=True, allow_negation=False,
    )  # fmt: skip
    dataset = mod.BasicArithmeticDataset(config)
    items = [dataset[i] for i in range(n)]
    return [{"question": it["question"], "answer": float(it["answer"])} for it in items]


def time_intervals(n: int, seed: int = 11) -> list[dict[str, Any]]:
    """Items of reasoning-gym's ``time_intervals``, task type ``date`` (days between two dates
    in its own mixed formats, at most 100 days apart): tasks for the ``datetime`` tool."""
    with zipfile.ZipFile(reasoning_gym_wheel()) as zf:
        _stub_package(zf)
        src = zf.read("reasoning_gym/arithmetic/time_intervals.py").decode()
        src = src.replace("from ..coaching", "from reasoning_gym.coaching")
        src = src.replace("from ..factory", "from reasoning_gym.factory")
        mod = _load("rg_time_intervals", src.split("class TimeIntervalsCurriculum")[0])
    config = mod.TimeIntervalsConfig(task_types=["date"], seed=seed, size=n)
    dataset = mod.TimeIntervalsDataset(config)
    items = [dataset[i] for i in range(n)]
    return [{"question": it["question"], "answer": float(it["answer"].split()[0])} for it in items]


# -- measuring -------------------------------------------------------------------------

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def last_number(text: str) -> float | None:
    marked = re.search(r"####\s*(-?[\d,]*\.?\d+)", text)
    found = [marked.group(1)] if marked else NUMBER.findall(text)
    for raw in reversed(found):
        try:
            return float(raw.replace(",", ""))
        except ValueError:
            continue
    return None


def right(value: float | None, answer: float) -> bool:
    return value is not None and abs(value - answer) <= 1e-6 * max(1.0, abs(answer))


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def chat(client: httpx.AsyncClient, url: str, prompt: str, max_tokens: int) -> dict[str, Any]:
    body = {
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": 0,
    }
    resp = await client.post(f"{url}/chat/completions", json=body, timeout=900)
    resp.raise_for_status()
    out: dict[str, Any] = resp.json()
    return out


class InProcessWorkers:
    """What a bus tool calls, answered in process by the real worker's handler: the spaCy
    worker's ``nlp.analyze`` on its default pipeline (the bus itself is in the tests)."""

    def __init__(self) -> None:
        from agents.spacy.settings import SpacySettings
        from agents.spacy.spacy_nlp import SpacyNlpEngine

        self.nlp = SpacyNlpEngine(SpacySettings().spacy_model)

    async def call(
        self, worker: str, command: str, payload: dict[str, Any], *, timeout: float
    ) -> Any:
        from agents.spacy.handlers import handle_analyze
        from agents.spacy.messages import AnalyzeText

        if (worker, command) != ("spacy", "nlp.analyze"):
            raise ValueError(f"{worker} {command}: not served in the bench")
        await self.nlp.start()
        return await asyncio.wait_for(
            handle_analyze(AnalyzeText.model_validate(payload), nlp=self.nlp), timeout
        )


class OfflineToolRunner:
    """The agent tool worker's offline tools run in process, their arguments checked against
    the tool's JSON Schema first as the tool worker does (the bus path is in the tests)."""

    workers: InProcessWorkers | None = None  # one spaCy pipeline for every bus-tool task

    def __init__(self, names: tuple[str, ...] = ("calculator",)) -> None:
        from agents.agent_tool.tools.calculator import CalculatorTool
        from agents.agent_tool.tools.datetime_tool import DateTimeTool
        from agents.agent_tool.tools.json_query import JsonQueryTool
        from agents.agent_tool.tools.nlp_analyze import NlpAnalyzeTool

        every: dict[str, Any] = {
            "calculator": CalculatorTool,
            "datetime": DateTimeTool,
            "json_query": JsonQueryTool,
        }
        self.tools = {n: every[n]() for n in names if n in every}
        if "nlp_analyze" in names:
            if OfflineToolRunner.workers is None:
                OfflineToolRunner.workers = InProcessWorkers()
            self.tools["nlp_analyze"] = NlpAnalyzeTool(OfflineToolRunner.workers, 60.0)  # type: ignore[arg-type]

    async def list_tools(self) -> list[ToolSpec]:
        return [ToolSpec(n, t.description, t.args_schema) for n, t in self.tools.items()]

    async def execute(
        self, tool: str, args: dict[str, Any], *, call_id: str, budget_key: str, timeout: float
    ) -> ToolResult:
        from jsonschema import Draft202012Validator

        from agents.agent_tool.ports import ToolContext
        from enginedge_streams.errors import EnginEdgeError

        impl = self.tools[tool]
        problems = [e.message for e in Draft202012Validator(impl.args_schema).iter_errors(args)]
        if problems:
            return ToolResult(False, None, "TOOL_ARGS_INVALID", "; ".join(problems))
        try:
            return ToolResult(True, await impl.run(args, ToolContext(budget_key, call_id, timeout)))
        except (EnginEdgeError, KeyError, ValueError) as exc:
            return ToolResult(False, None, "TOOL_ERROR", str(exc))


#: A task: (task, tools offered, the exact number, or a text the answer must contain).
Task = tuple[str, tuple[str, ...], float | str]

#: Tasks for the other offline tools: (task, tools offered, the exact answer).
OTHER_TASKS: list[Task] = [
    ("How many days are there from 2024-01-15T00:00:00 to 2024-03-01T00:00:00?", ("datetime",), 46),
    ("How many days are there from 2023-12-25T00:00:00 to 2024-02-29T00:00:00?", ("datetime",), 66),
    ("How many hours are there from 2024-06-01T08:00:00 to 2024-06-03T20:00:00? Answer in hours.",
     ("datetime",), 60),
    ('In the JSON document {"items": [{"name": "pen", "price": 3}, {"name": "book", "price": 12}, '
     '{"name": "lamp", "price": 25}]}, what is the price of the item named book? Use json_query.',
     ("json_query",), 12),
    ('In the JSON document {"people": [{"name": "Ann", "age": 31}, {"name": "Bob", "age": 45}]}, '
     "how old is Bob? Use json_query.", ("json_query",), 45),
]  # fmt: skip

#: Tasks for a tool answered by another worker (``nlp_analyze``: the spaCy worker), ours.
NLP_TASKS: list[Task] = [
    ("Use nlp_analyze to find the organisation named in: 'Tim Cook said on Monday that Apple "
     "will open a new campus in Austin.' Answer with the organisation's name only.",
     ("nlp_analyze",), "Apple"),
    ("Use nlp_analyze to find the city named in: 'The European Central Bank left its rates "
     "unchanged at its meeting in Frankfurt on Thursday.' Answer with the city only.",
     ("nlp_analyze",), "Frankfurt"),
    ("How many sentences does nlp_analyze find in: 'It rained all morning. We stayed inside. "
     "The match was cancelled at noon.'? Answer with the number.", ("nlp_analyze",), 3),
    ("Use nlp_analyze to find the person named in: 'In 1911 Marie Curie received the Nobel "
     "Prize in Chemistry.' Answer with the person's name only.", ("nlp_analyze",), "Marie Curie"),
    ("Use nlp_analyze on: 'The treaty was signed in Paris on 3 September 1783 by delegates of "
     "Britain and the United States.' Which date entity does it find? Answer with the date.",
     ("nlp_analyze",), "1783"),
]  # fmt: skip


def task_right(final: str | None, answer: float | str) -> bool:
    if (final or "").startswith("ERROR "):  # a tool's refusal echoed (its text may hold the number)
        return False
    if isinstance(answer, str):
        return answer.lower() in (final or "").lower()
    return right(last_number(final or ""), answer)


@dataclass
class Agent:
    """One protocol's agent runs on one task set."""

    right: int = 0
    with_calls: int = 0
    total: int = 0
    calls: int = 0
    bad_calls: int = 0
    call_replies: int = 0
    unparsed: int = 0
    seconds: float = 0.0

    def parse_rate(self) -> str:
        tried = self.call_replies + self.unparsed
        return f"{self.call_replies}/{tried}" if tried else "-"


@dataclass
class Result:
    model: str
    gen_tps: float = 0.0
    prompt_tps: float = 0.0
    load: str = ""
    rss_mib: float = 0.0
    qa_right: int = 0
    qa_total: int = 0
    qa_timeouts: int = 0
    #: (protocol, task set) -> figures
    agents: dict[tuple[str, str], Agent] = field(default_factory=dict)


async def measure(model: str, args: argparse.Namespace) -> Result:
    res = Result(model)
    server = LlamaServer(materialize(model), n_ctx=4096, n_threads=args.threads)
    await server.start()
    try:
        async with httpx.AsyncClient() as client:
            gen, pre, loads = [], [], []
            for _ in range(args.repeat):
                loads.append(os.getloadavg()[0])
                t = (await chat(client, server.base_url, SPEED_PROMPT, 128))["timings"]
                gen.append(t["predicted_per_second"])
                pre.append(t["prompt_per_second"])
            if args.repeat:  # --repeat 0: no speed probe (a run for the other figures)
                res.gen_tps, res.prompt_tps = statistics.median(gen), statistics.median(pre)
                res.load = f"{min(loads):.1f}-{max(loads):.1f}"
                if args.verbose:
                    print(json.dumps({"model": model, "gen_tps": gen, "prompt_tps": pre,
                                      "load": loads}), flush=True)  # fmt: skip
            for i, item in enumerate(gsm_symbolic(args.qa) if args.qa else []):
                if i < args.qa_skip:  # done in an earlier, cut run (its -v lines count)
                    continue
                res.qa_total += 1
                started = time.perf_counter()
                try:
                    out = await chat(client, server.base_url, item["question"] + QA_SUFFIX, 320)
                except httpx.TimeoutException:  # a loaded machine: counted as wrong, reported
                    res.qa_timeouts += 1
                    continue
                text = out["choices"][0]["message"]["content"] or ""
                ok = right(last_number(text), item["answer"])
                res.qa_right += ok
                if args.verbose:  # the raw reply, so a cut run still counts
                    print(json.dumps({"model": model, "qa": i, "answer": item["answer"],
                                      "got": last_number(text), "right": ok,
                                      "load": os.getloadavg()[0],
                                      "s": round(time.perf_counter() - started, 1),
                                      "tokens": out.get("usage", {}).get("completion_tokens"),
                                      "reply": text}), flush=True)  # fmt: skip
        assert server._proc is not None
        res.rss_mib = status_kib(server._proc.pid, "VmHWM") / 1024
    finally:
        await server.stop()
    if args.tasks or args.other or args.dates or args.nlp:
        await agent_tasks(model, args, res)
    return res


QA_SUFFIX = " Think step by step, then give the final number on the last line as '#### <number>'."


def task_sets(args: argparse.Namespace) -> dict[str, list[Task]]:
    calc: list[Task] = [
        (item["question"].replace("Put your final answer after '=' without additional text.",
                                  "").strip(), ("calculator",), item["answer"])
        for item in basic_arithmetic(args.tasks)
    ]  # fmt: skip
    dates: list[Task] = [
        (item["question"], ("datetime",), item["answer"]) for item in time_intervals(args.dates)
    ]
    sets: dict[str, list[Task]] = {"calculator": calc, "datetime (time_intervals)": dates}
    sets["other tools (ours)"] = OTHER_TASKS[: args.other]
    sets["nlp_analyze, the spaCy worker's (ours)"] = NLP_TASKS[: args.nlp]
    return {name: tasks for name, tasks in sets.items() if tasks}


async def agent_tasks(model: str, args: argparse.Namespace, res: Result) -> None:
    provider = LlamaServerChatProvider(n_ctx=4096, n_threads=args.threads, timeout_s=900)
    registry = ModelRegistry.from_config("", local_context=4096)
    gateway = LlmGateway(
        {"local": provider},
        registry,
        TiktokenTokenCounter(),
        InMemoryRateLimiter(),
        LlmLimits(request_timeout_s=900, requests_per_minute=10_000),
        default_model=model,
    )
    try:
        for set_name, tasks in task_sets(args).items():
            for i, (task, names, answer) in enumerate(tasks):
                runner = OfflineToolRunner(names)
                specs = await runner.list_tools()
                for protocol in args.protocols.split(","):  # same task, both protocols
                    agent = res.agents.setdefault((protocol, set_name), Agent())
                    started = time.perf_counter()
                    loop = AgentLoop(
                        gateway, runner, f"bench-{model}-{set_name}-{i}", tool_timeout_s=30,
                        local_protocol=protocol,
                    )  # fmt: skip
                    run = await loop.run(
                        task, registry.models[model], specs, max_steps=4, max_tokens=256,
                        temperature=0,
                    )  # fmt: skip
                    agent.seconds += time.perf_counter() - started
                    agent.total += 1
                    agent.calls += len(run.steps)
                    agent.bad_calls += sum(1 for s in run.steps if not s.ok)
                    agent.call_replies += run.call_replies
                    agent.unparsed += run.unparsed_call_replies
                    ok = task_right(run.final_answer, answer)
                    agent.right += ok
                    agent.with_calls += ok and any(s.ok for s in run.steps)
                    if args.verbose:
                        print(json.dumps({"model": model, "set": set_name, "protocol": protocol,
                                          "task": task, "answer": answer, "right": ok,
                                          "final": run.final_answer, "stop": run.stop_reason,
                                          "load": os.getloadavg()[0],
                                          "s": round(time.perf_counter() - started, 1),
                                          "call_replies": run.call_replies,
                                          "unparsed": run.unparsed_call_replies,
                                          "steps": [(s.tool, s.args, s.ok) for s in run.steps]}),
                              flush=True)  # fmt: skip
    finally:
        await provider.stop()
        if OfflineToolRunner.workers is not None:
            await OfflineToolRunner.workers.nlp.stop()
            OfflineToolRunner.workers = None


def table(results: list[Result], args: argparse.Namespace) -> str:
    lines = [
        f"2 cores shared with other work; {args.threads} threads; median of {args.repeat} runs.",
        "",
        "| model | gen tok/s | prompt tok/s | load avg | peak RSS MiB | word problems right |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.model} | {r.gen_tps:.1f} | {r.prompt_tps:.1f} | {r.load} | {r.rss_mib:.0f} "
            f"| {r.qa_right}/{r.qa_total}{f' ({r.qa_timeouts} timed out)' if r.qa_timeouts else ''} |"
        )
    lines += [
        "",
        "| model | protocol | tasks | right (with a real tool call) | tool-call replies parsed "
        "/ tried | tool calls ok / made | s per task |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for (protocol, set_name), a in r.agents.items():
            lines.append(
                f"| {r.model} | {protocol} | {set_name} | {a.right}/{a.total} ({a.with_calls}) "
                f"| {a.parse_rate()} | {a.calls - a.bad_calls}/{a.calls} "
                f"| {a.seconds / max(1, a.total):.0f} |"
            )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(CATALOG))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--qa", type=int, default=100, help="gsm_symbolic items per model")
    parser.add_argument(
        "--qa-skip", type=int, default=0, help="skip the first N items (resume a cut run)"
    )
    parser.add_argument("--tasks", type=int, default=10, help="calculator tasks per model")
    parser.add_argument(
        "--dates", type=int, default=10, help="datetime tasks (reasoning-gym time_intervals)"
    )
    parser.add_argument(
        "--other", type=int, default=len(OTHER_TASKS), help="other-tool tasks (ours)"
    )
    parser.add_argument(
        "--nlp", type=int, default=len(NLP_TASKS), help="nlp_analyze tasks (ours; spaCy in process)"
    )
    parser.add_argument(
        "--protocols", default="grammar,tools", help="local tool protocols to compare, same run"
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    results = []
    for model in args.models.split(","):
        results.append(await measure(model, args))
        print(table(results[-1:], args), flush=True)
    out = table(results, args)
    print(out)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    (CACHE.parent / "llm_local.md").write_text(out + "\n")


if __name__ == "__main__":
    asyncio.run(main())
