"""How a TeX child process is confined: environment, rlimits (prlimit) and bubblewrap.

Three layers, each enough to stop the hostile documents in the tests on its own
for pdflatex/xelatex, all applied together:

* TeX's own switches, set in the child's *environment* (kpathsea reads them,
  a document cannot change them): ``shell_escape=f`` (no ``\\write18``),
  ``openin_any=p`` / ``openout_any=p`` (no reading or writing by absolute path
  or ``..``), and ``-no-shell-escape`` on the command line. The environment is
  built from scratch, so no worker secret reaches TeX.
* rlimits via ``prlimit`` on the child (inherited by latexmk, the engine, BibTeX):
  CPU seconds, address space, largest file, open files, no core dumps.
* bubblewrap (``bwrap``): a mount namespace holding only the TeX installation
  (read-only) and the compile directory, no network, no host ``/etc/passwd``,
  an unprivileged uid. LuaTeX's Lua can open any file the process can see
  (``--safer`` does not stop ``io.lines``), so lualatex runs only inside it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

INSIDE_WORKDIR = "/work"
NOBODY = 65534

#: Read-only host paths the TeX installation needs (bound when they exist).
RO_PATHS = (
    "/usr",
    "/etc/texmf",
    "/etc/fonts",
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/papersize",
    "/etc/perl",
    "/var/lib/texmf",
    "/var/cache/fontconfig",
)


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int
    memory_bytes: int
    max_file_bytes: int
    max_open_files: int = 256


def child_env(workdir: str, texmf_var: str) -> dict[str, str]:
    """The whole environment of a TeX child (nothing inherited from the worker)."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TEXMFVAR": texmf_var,
        "TEXMFOUTPUT": workdir,
        "shell_escape": "f",
        "openin_any": "p",
        "openout_any": "p",
        # One log line per message: the diagnostics parser needs unwrapped lines.
        "max_print_line": "10000",
        "error_line": "254",
        "half_error_line": "238",
    }


def prlimit_argv(limits: Limits) -> list[str]:
    prlimit = shutil.which("prlimit") or "prlimit"
    return [
        prlimit,
        f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 2}",
        f"--as={limits.memory_bytes}",
        f"--fsize={limits.max_file_bytes}",
        f"--nofile={limits.max_open_files}",
        "--core=0",
        "--",
    ]


def bwrap_argv(workdir: Path) -> list[str]:
    """bubblewrap arguments: TeX read-only, ``workdir`` as /work, no network, uid nobody."""
    bwrap = shutil.which("bwrap") or "bwrap"
    argv = [bwrap, "--unshare-all", "--die-with-parent", "--hostname", "tex"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = f"/{name}"
        if os.path.islink(host):
            argv += ["--symlink", os.readlink(host), host]
        elif os.path.isdir(host):
            argv += ["--ro-bind", host, host]
    for path in RO_PATHS:
        argv += ["--ro-bind-try", path, path]
    argv += [
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",  # noqa: S108 - a private tmpfs inside the sandbox
        "--bind", str(workdir), INSIDE_WORKDIR,
        "--chdir", INSIDE_WORKDIR,
        "--uid", str(NOBODY),
        "--gid", str(NOBODY),
        "--",
    ]  # fmt: skip
    return argv


def bwrap_available() -> bool:
    return shutil.which("bwrap") is not None
