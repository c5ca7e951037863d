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


def pinned_deb(spec: str, filename: str, sha256: str, cache: Path) -> Path:
    """The Debian package ``spec`` (``name=version``) in ``cache``, verified against ``sha256``
    (``apt-get download``: the machine's Debian mirror, no other host)."""
    deb = cache / filename
    if not deb.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", "-q", spec], cwd=cache, check=True, timeout=900)
    digest = hashlib.sha256(deb.read_bytes()).hexdigest()
    if digest != sha256:
        deb.unlink()
        raise RuntimeError(f"{filename}: sha256 {digest} is not the pinned {sha256}")
    return deb


def deb_members(deb: Path, members: list[str], into: Path) -> Path:
    """``members`` (paths as ``./usr/...``) of the verified package unpacked under ``into``."""
    missing = [m for m in members if not (into / m).is_file()]
    if missing:
        into.mkdir(parents=True, exist_ok=True)
        with subprocess.Popen(
            ["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE
        ) as p:
            subprocess.run(["tar", "-x", "-C", str(into), *missing], stdin=p.stdout, check=True)
    return into
