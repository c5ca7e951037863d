"""The LaTeX worker: sandboxed TeX Live compiles, math rendering, templates, diagnostics."""
