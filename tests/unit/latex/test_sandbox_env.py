"""What the TeX child process is given: an environment built from scratch (no TeX run; the
hostile set against the real runner is tests/integration/latex/test_sandbox.py)."""

from __future__ import annotations

import os

from agents.latex.sandbox import child_env


def test_child_environment_is_built_from_scratch(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-in-tex")
    env = child_env("/work", "/work/.texmf-var")
    assert env["shell_escape"] == "f" and env["openin_any"] == "p" and env["openout_any"] == "p"
    assert "OPENAI_API_KEY" not in env and "sk-never-in-tex" not in env.values()
    assert set(env) <= {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "LC_ALL",
        "TEXMFVAR",
        "TEXMFOUTPUT",
        "shell_escape",
        "openin_any",
        "openout_any",
        "max_print_line",
        "error_line",
        "half_error_line",
    }
    assert os.environ.get("OPENAI_API_KEY") == "sk-never-in-tex"
