"""``files``: read, list and write files inside a sandbox root; escapes are refused.

Paths are relative to ``TOOL_SANDBOX_DIR``. Absolute paths, ``..`` components,
NUL bytes and symlinks (anywhere on the path) are refused, so a path can never
reach outside the root even if a link is planted inside it.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path, PurePosixPath
from typing import Any

from agents.agent_tool.ports import Tool, ToolContext, ToolDeps
from enginedge_streams.errors import LimitExceededError, NotFoundError, PermanentError


class PathRefusedError(PermanentError):
    code = "PATH_REFUSED"


def resolve_in_sandbox(root: Path, relative: str) -> Path:
    """The absolute path of ``relative`` under ``root``; refuses anything that could escape."""
    if "\x00" in relative or "\\" in relative:
        raise PathRefusedError(f"invalid characters in path {relative!r}")
    pure = PurePosixPath(relative)
    if pure.is_absolute():
        raise PathRefusedError(f"absolute paths are not allowed: {relative!r}")
    if any(part == ".." for part in pure.parts):
        raise PathRefusedError(f"'..' is not allowed in paths: {relative!r}")
    root = root.resolve()
    target = root.joinpath(*pure.parts) if pure.parts else root
    current = root
    for part in pure.parts:
        current = current / part
        if current.is_symlink():
            raise PathRefusedError(f"symbolic links are not followed: {relative!r}")
    if not target.resolve().is_relative_to(root):
        raise PathRefusedError(f"path escapes the sandbox: {relative!r}")
    return target


class FilesTool:
    name = "files"
    description = (
        "Files in the tool sandbox: `list` a directory, `read` a text file, `write` a text "
        "file (creating directories). Paths are relative to the sandbox root."
    )
    args_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "operation": {"enum": ["read", "list", "write"]},
            "path": {"type": "string", "maxLength": 1_000, "default": "."},
            "content": {"type": "string"},
            "overwrite": {"type": "boolean", "default": False},
        },
        "required": ["operation"],
        "additionalProperties": False,
        "if": {"properties": {"operation": {"const": "write"}}},
        "then": {"required": ["path", "content"]},
    }
    read_only = False
    cacheable = False

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> Any:
        return await asyncio.to_thread(self._run, args)

    def _run(self, args: dict[str, Any]) -> Any:
        self.root.mkdir(parents=True, exist_ok=True)
        op = args["operation"]
        rel = args.get("path", ".")
        path = resolve_in_sandbox(self.root, rel)
        if op == "list":
            if not path.is_dir():
                raise NotFoundError(f"no directory {rel!r} in the sandbox")
            entries = [
                {
                    "name": p.name,
                    "type": "dir" if p.is_dir() else "file",
                    "size": p.stat().st_size if p.is_file() else None,
                }
                for p in sorted(path.iterdir())
                if not p.is_symlink()
            ]
            return {"path": rel, "entries": entries[:1000]}
        if op == "read":
            if not path.is_file():
                raise NotFoundError(f"no file {rel!r} in the sandbox")
            size = path.stat().st_size
            if size > self.max_bytes:
                raise LimitExceededError(
                    f"{rel!r} has {size} bytes, over TOOL_FILES_MAX_BYTES={self.max_bytes}"
                )
            with _open_nofollow(path, os.O_RDONLY) as fh:
                data = fh.read(self.max_bytes + 1)
            return {"path": rel, "content": data.decode("utf-8", errors="replace"), "size": size}
        content = args["content"].encode()
        if len(content) > self.max_bytes:
            raise LimitExceededError(
                f"content of {len(content)} bytes is over TOOL_FILES_MAX_BYTES={self.max_bytes}"
            )
        if path == self.root.resolve() or path.is_dir():
            raise PathRefusedError(f"{rel!r} is a directory")
        if path.exists() and not args.get("overwrite", False):
            raise PermanentError(
                f"{rel!r} exists; pass overwrite=true to replace it", code="FILE_EXISTS"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        resolve_in_sandbox(self.root, rel)  # re-check after creating directories
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with _open_nofollow(path, flags) as fh:
            fh.write(content)
        return {"path": rel, "bytes_written": len(content)}


def _open_nofollow(path: Path, flags: int) -> Any:
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise PathRefusedError(f"cannot open {path.name!r}: {exc.strerror}") from None
    return os.fdopen(fd, "rb" if flags == os.O_RDONLY else "wb")


def create(deps: ToolDeps) -> Tool:
    return FilesTool(deps.sandbox_dir, deps.files_max_bytes)
